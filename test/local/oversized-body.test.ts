/**
 * A body over the local server's limit is answered 413 before it has been
 * read. The rest of it is still on its way, so the connection cannot carry
 * another request: the server must close it, gracefully enough that the
 * client reads the 413 rather than a reset. Node's fetch (undici) reuses a
 * keep-alive connection, which is how the next request used to be reset.
 * The requests go through Node's global fetch with a dispatcher of the
 * undici release it bundles (pinned in devDependencies).
 */
import { Agent } from 'undici';
import { EU_WEST, euConfig, startHarness, UNHURRIED_MODEL, type Harness } from '../runtime/harness';

const OVERSIZED = 'x'.repeat(2 * 1024 * 1024);
const ROUNDS = 5;

let harness: Harness;
let dispatcher: Agent;

beforeAll(async () => {
  // This test is about the connection, not deadlines: under CI load the 1 s first-token deadline was outlasted and the answer came from the fallback region.
  harness = await startHarness((emulator, dynamo) => {
    const config = euConfig(emulator, dynamo);
    return { ...config, deadlines: { ...config.deadlines!, ...UNHURRIED_MODEL } };
  });
  // The undici release Node 20 bundles, so that its global fetch takes this dispatcher. One connection, kept alive: every request of a round goes over the connection the 413 was sent on, if it stays open.
  dispatcher = new Agent({ connections: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 });
});

afterAll(async () => {
  await dispatcher?.close();
  await harness?.close();
});

function post(conversationId: string, body: string): Promise<Response> {
  return fetch(`${harness.server.url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    // @ts-expect-error -- undici's fetch option, absent from the DOM RequestInit type.
    dispatcher,
  });
}

test(`an oversized body gets a JSON 413, and the next two requests on the same keep-alive client succeed (${ROUNDS} rounds)`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    // GIVEN / WHEN a 2 MB body, over the 1 MB limit
    const refused = await post(`eu.big-${round}`, OVERSIZED);

    // THEN the client reads the refusal, as JSON, and is told the connection closes
    expect(refused.status).toBe(413);
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toEqual({ error: { code: 'too_large', message: expect.any(String) } });

    // AND two small messages right after it are answered
    for (const index of [1, 2]) {
      const answered = await post(`eu.small-${round}-${index}`, JSON.stringify({ text: 'hello' }));
      expect(answered.status).toBe(200);
      expect(await answered.json()).toMatchObject({ conversationId: `eu.small-${round}-${index}`, region: EU_WEST });
    }
  }
});
