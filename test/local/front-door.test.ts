/**
 * The front door's proxying over real connections: what a client sees when
 * a region's connection drops mid-stream, and which host a request target
 * can reach.
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { listen } from '../../local/listen';
import { Playground } from '../../local/playground';
import { sharedExampleRegions } from './example-assembly';

let playground: Playground;
/** The open connections into us-east-1's agent server, the front door's included. */
const regionSockets = new Set<Socket>();

beforeAll(async () => {
  // Slow tokens, so that a stream is still open when its region's connection drops.
  playground = await Playground.start({ ...(await sharedExampleRegions()), port: 0, firstTokenDelayMs: 0, tokenDelayMs: 100 });
  const usEast1 = playground.regions.find((region) => region.region === 'us-east-1')!;
  usEast1.server['server'].on('connection', (socket: Socket) => {
    regionSockets.add(socket);
    socket.on('close', () => regionSockets.delete(socket));
  });
  // The example synthesizes with bundling, as `npm run local` runs it.
}, EXAMPLE_SYNTH_TIMEOUT_MS);

afterAll(async () => {
  await playground.close();
});

type Outcome = { outcome: 'ended' | 'cut' | 'hung'; body: string };

/** Streams an answer from us-east-1 through the front door and drops the region's connection after the first token. */
function streamAndDrop(drop: (socket: Socket) => void): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let body = '';
    const request = http.request(`${playground.url}/v1/conversations/us.drop-${Date.now()}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-local-location': 'us' },
    });
    request.on('response', (response) => {
      const hung = setTimeout(() => resolve({ outcome: 'hung', body }), 3000);
      response.on('data', (chunk: Buffer) => {
        const first = !body.includes('event: delta');
        body += String(chunk);
        if (first && body.includes('event: delta')) regionSockets.forEach(drop);
      });
      response.on('error', () => undefined);
      response.on('close', () => {
        clearTimeout(hung);
        resolve({ outcome: response.complete ? 'ended' : 'cut', body });
      });
    });
    request.on('error', reject);
    request.end(JSON.stringify({ text: 'tell me a long story' }));
  });
}

test.each([
  ['closes', (socket: Socket) => socket.destroy()],
  ['resets', (socket: Socket) => socket.resetAndDestroy()],
])("when the region's connection %s mid-stream, the client's stream is cut, with nothing appended", async (_how, drop) => {
  const { outcome, body } = await streamAndDrop(drop);

  expect(outcome).toBe('cut');
  expect(body).toContain('event: delta');
  expect(body).not.toContain('region_unreachable');
});

describe('a request target naming another host', () => {
  let other: http.Server;
  let otherUrl: URL;
  let otherHits = 0;

  beforeAll(async () => {
    other = http.createServer((_request, response) => {
      otherHits += 1;
      response.end('other host');
    });
    otherUrl = new URL(await listen(other, 0, '127.0.0.1'));
  });

  afterAll(async () => {
    await new Promise((resolve) => other.close(resolve));
  });

  test.each([
    ['absolute-form', () => `http://${otherUrl.host}/health`],
    ['scheme-relative', () => `//${otherUrl.host}/health`],
  ])('in %s is served by the routed region, never forwarded to that host', async (_form, target) => {
    const answer = await new Promise<{ status: number; routedTo: string; body: string }>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: new URL(playground.url).port, path: target(), headers: { 'x-local-location': 'us' } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += String(chunk)));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, routedTo: String(response.headers['x-local-routed-to']), body }));
        },
      );
      request.on('error', reject).end();
    });

    expect(otherHits).toBe(0);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok', region: answer.routedTo });
  });
});
