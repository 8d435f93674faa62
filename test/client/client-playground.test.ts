/**
 * The typed client against the local playground with SigV4 checked by the
 * front door (an independent signer recomputes each signature): sending,
 * reading the history, and failing over from a region that is down to the
 * jurisdiction's other region with the same Idempotency-Key.
 */
import * as http from 'node:http';
import { AgentAuth, AgentClient, AgentClientError, type AgentEvent } from 'cdk-multi-region-agent/client';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { listen } from '../../local/listen';
import { Playground } from '../../local/playground';
import { LOCAL_SIGNING_KEY } from '../../local/sigv4-verifier';
import { sharedExampleRegions } from '../local/example-assembly';

let playground: Playground;

beforeAll(async () => {
  playground = await Playground.start({ ...(await sharedExampleRegions()), port: 0, signingKey: LOCAL_SIGNING_KEY });
  // The example synthesizes with bundling first (once per run, shared by the files that run it).
}, EXAMPLE_SYNTH_TIMEOUT_MS);

afterEach(async () => {
  playground.emulator.clearFaults();
  for (const region of playground.regions) region.server.available = true;
});

afterAll(async () => {
  await playground.close();
});

/** Every request the client sends: where, and with which Idempotency-Key. */
function recordingFetch(): { fetch: typeof fetch; sent: Array<{ url: string; method: string; idempotencyKey: string | null }> } {
  const sent: Array<{ url: string; method: string; idempotencyKey: string | null }> = [];
  return {
    sent,
    fetch: async (input, init) => {
      sent.push({ url: String(input), method: init?.method ?? 'GET', idempotencyKey: new Headers(init?.headers).get('idempotency-key') });
      return fetch(input, init);
    },
  };
}

function client(options: Partial<ConstructorParameters<typeof AgentClient>[0]> = {}): AgentClient {
  return new AgentClient({ endpoints: playground.frontDoor.endpoints(), jurisdiction: 'eu', auth: AgentAuth.sigv4(LOCAL_SIGNING_KEY), ...options });
}

test('a signed client creates a conversation, streams typed events, awaits an answer and reads the history', async () => {
  // GIVEN
  const agent = client();
  const { conversationId, jurisdiction } = await agent.createConversation();

  // WHEN
  const events: AgentEvent[] = [];
  for await (const event of agent.send(conversationId, 'Where is my order? lookup_order orderId=NW-10042')) events.push(event);
  const second = await agent.ask(conversationId, 'thanks');
  const turns = await agent.history(conversationId);

  // THEN
  expect(jurisdiction).toBe('eu');
  expect(conversationId.startsWith('eu.')).toBe(true);
  expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['start', 'tool_call', 'tool_result', 'step', 'delta', 'done']));
  expect(events[0]).toMatchObject({ type: 'start', data: { conversationId, turn: 1, path: 'primary' } });
  expect(events.at(-1)).toMatchObject({ type: 'done', data: { stored: true, steps: [expect.anything(), expect.anything()] } });
  expect(second.start.turn).toBe(2);
  expect(second.text).toMatch(/\S/);
  expect(turns.map((turn) => [turn.turn, turn.role])).toEqual([
    [1, 'user'],
    [1, 'assistant'],
    [2, 'user'],
    [2, 'assistant'],
  ]);
  expect(turns[3].text).toBe(second.text);
});

test('a region that is down: the client goes on to the jurisdiction’s other region with the same Idempotency-Key, and one exchange is stored', async () => {
  // GIVEN the jurisdiction's name does not answer (a closed port, as a name whose region is gone) and eu-west-1 is down
  const endpoints = playground.frontDoor.endpoints();
  const closed = http.createServer();
  const deadUrl = await listen(closed, 0, '127.0.0.1');
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const recorder = recordingFetch();
  const agent = client({ endpoints: { eu: { ...endpoints.eu, url: deadUrl } }, fetch: recorder.fetch });
  const { conversationId } = await agent.createConversation();
  playground.regions.find((region) => region.region === 'eu-west-1')!.server.available = false;
  recorder.sent.length = 0;

  // WHEN
  const stream = agent.send(conversationId, 'where am I served?');
  const answer = await stream.answer();

  // THEN eu-west-1 was tried and refused, eu-central-1 answered, both with the one key
  const posts = recorder.sent.filter((request) => request.method === 'POST');
  expect(posts.map((request) => request.url)).toEqual([
    `${endpoints.eu.regions['eu-west-1']}/v1/conversations/${conversationId}/messages`,
    `${endpoints.eu.regions['eu-central-1']}/v1/conversations/${conversationId}/messages`,
  ]);
  expect(new Set(posts.map((request) => request.idempotencyKey))).toEqual(new Set([stream.idempotencyKey]));
  expect((await stream.headers).get('x-agent-runtime-region')).toBe('eu-central-1');
  expect(answer.start.turn).toBe(1);

  // AND the same send again (same key) is the stored exchange, not a second one
  playground.regions.find((region) => region.region === 'eu-west-1')!.server.available = true;
  const again = await agent.ask(conversationId, 'where am I served?', { idempotencyKey: stream.idempotencyKey });
  expect(again.start.replayed).toBe(true);
  expect(again.text).toBe(answer.text);
  expect((await agent.history(conversationId)).map((turn) => [turn.turn, turn.role])).toEqual([
    [1, 'user'],
    [1, 'assistant'],
  ]);
});

test('the front door refuses a request signed with another secret, and an unsigned one, as API Gateway’s IAM authorization does', async () => {
  const forged = client({ auth: AgentAuth.sigv4({ accessKeyId: LOCAL_SIGNING_KEY.accessKeyId, secretAccessKey: 'not-the-secret' }) });
  const unsigned = client({ auth: AgentAuth.none() });

  await expect(forged.createConversation()).rejects.toMatchObject({
    code: 'unauthenticated',
    status: 403,
    message: expect.stringMatching(/signature does not match/),
  });
  await expect(unsigned.createConversation()).rejects.toMatchObject({
    code: 'unauthenticated',
    status: 403,
    message: expect.stringMatching(/missing authentication/),
  });
});

test('a signature for another region than the one the request reaches is refused', async () => {
  // GIVEN a client whose eu-west-1 name is really eu-central-1's
  const endpoints = playground.frontDoor.endpoints();
  const agent = client({ endpoints: { eu: { url: endpoints.eu.regions['eu-central-1'], regions: { 'eu-west-1': endpoints.eu.regions['eu-central-1'] } } } });

  await expect(agent.createConversation()).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/scoped to a valid region/) });
});

test('a conversation of another jurisdiction is refused before any request', async () => {
  const recorder = recordingFetch();
  const agent = client({ endpoints: { eu: playground.frontDoor.endpoints().eu }, fetch: recorder.fetch });

  expect(() => agent.send('us.abc', 'hello')).toThrow(AgentClientError);
  expect(() => agent.send('us.abc', 'hello')).toThrow(/names jurisdiction "us", but this client has endpoints only for eu/);
  await expect(agent.history('apac.abc')).rejects.toMatchObject({ code: 'unknown_jurisdiction' });
  expect(recorder.sent).toEqual([]);
});

test('abort by signal ends the stream with an aborted error', async () => {
  // GIVEN slow tokens
  const agent = client();
  const { conversationId } = await agent.createConversation();
  await playground.emulator.injectFault({ region: 'eu-west-1', fault: { tokenDelayMs: 200 } });
  const controller = new AbortController();

  // WHEN the caller aborts after the first text
  const seen: string[] = [];
  const reading = (async () => {
    for await (const event of agent.send(conversationId, 'tell me a long story', { signal: controller.signal })) {
      seen.push(event.type);
      if (event.type === 'delta') controller.abort();
    }
  })();

  // THEN
  await expect(reading).rejects.toMatchObject({ code: 'aborted' });
  expect(seen).toContain('delta');
  expect(seen).not.toContain('done');
  // The runtime stores the cut answer after the client left: wait for it, so that nothing writes once the playground closes.
  await expect(storedAnswer(agent, conversationId)).resolves.toMatchObject({ role: 'assistant', incomplete: true });
});

async function storedAnswer(agent: AgentClient, conversationId: string) {
  for (let poll = 0; poll < 100; poll++) {
    const answer = (await agent.history(conversationId)).find((turn) => turn.role === 'assistant');
    if (answer) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

test('the client lists the caller’s conversations page by page, deletes one, exports and erases the rest', async () => {
  // GIVEN a caller of its own with three conversations, each with an exchange
  const agent = client({ headers: { 'x-local-principal': `arn:aws:iam::123456789012:user/lister-${Date.now()}` } });
  const created: string[] = [];
  for (const text of ['first', 'second', 'third']) {
    const { conversationId } = await agent.createConversation();
    await agent.ask(conversationId, text);
    created.push(conversationId);
  }

  // WHEN
  const pages = [];
  for await (const page of agent.listConversations({ limit: 2 })) pages.push(page.conversations.map((conversation) => conversation.conversationId));
  await agent.deleteConversation(created[0]);
  const exported = await agent.exportAll();
  const erased = await agent.eraseAll();
  const after = [];
  for await (const page of agent.listConversations()) after.push(...page.conversations);

  // THEN
  expect(pages.flat().sort()).toEqual([...created].sort());
  expect(pages[0]).toHaveLength(2);
  expect(exported.conversations.map((conversation) => conversation.conversationId).sort()).toEqual(created.slice(1).sort());
  expect(exported.conversations.every((conversation) => conversation.turns.length === 2)).toBe(true);
  expect(erased).toEqual({ deleted: 2 });
  expect(after).toEqual([]);
  await expect(agent.history(created[0])).rejects.toMatchObject({ code: 'not_found', status: 404 });
});
