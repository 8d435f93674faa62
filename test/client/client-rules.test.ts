/**
 * The client's rules against a local STUB server that answers in the API's
 * documented shapes (README, "HTTP API"; the owners' routes as agreed for
 * issue 18): which answers are retried and after how long, which names are
 * tried, what a broken stream becomes, and the end-user header.
 */
import * as http from 'node:http';
import { AgentAuth, AgentClient, AgentClientError } from 'cdk-multi-region-agent/client';
import { listen } from '../../local/listen';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const servers: http.Server[] = [];

/** A stub answering each request with the next handler (the last one repeats), recording what it received. */
async function stub(...handlers: Handler[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    handlers[Math.min(received.length, handlers.length) - 1](request, response);
  });
  servers.push(server);
  return { url: await listen(server, 0, '127.0.0.1'), received };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

const AGENT = { 'x-agent-runtime-region': 'eu-west-1' };

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json', ...AGENT, ...headers }).end(JSON.stringify(body));

const sse =
  (body: string): Handler =>
  (_request, response) =>
    response.writeHead(200, { 'content-type': 'text/event-stream', ...AGENT }).end(body);

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

const START = { conversationId: 'eu.c1', turn: 1, path: 'primary', model: 'm', region: 'eu-west-1', degraded: false, state: 'ok', requestId: 'r' };
const DONE = { ...START, stopReason: 'end_turn', usage: null, latencyMs: 5, timeToFirstTokenMs: 1, stored: true, steps: [] };
const ANSWER = event('start', START) + event('delta', { text: 'Bonjour' }) + event('done', DONE);

function client(urls: { url: string; regions?: Record<string, string> }, options: Partial<ConstructorParameters<typeof AgentClient>[0]> = {}): AgentClient {
  return new AgentClient({ endpoints: { eu: { url: urls.url, regions: urls.regions ?? {} } }, auth: AgentAuth.none(), ...options });
}

test('an answer marked retryable is retried on the same name after its retry-after, with the same Idempotency-Key', async () => {
  const server = await stub(
    json(503, { error: { code: 'all_targets_failed', message: 'every target failed', retryable: true } }, { 'retry-after': '1' }),
    sse(ANSWER),
  );

  const answer = await client(server).ask('eu.c1', 'hello');

  expect(answer.text).toBe('Bonjour');
  expect(server.received).toHaveLength(2);
  expect(server.received[0].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(server.received[1].headers['idempotency-key']).toBe(server.received[0].headers['idempotency-key']);
});

test('409 request_in_flight is waited out and retried; a 400 is not retried', async () => {
  const inFlight = await stub(
    json(409, { error: { code: 'request_in_flight', message: 'still answering', retryable: true } }, { 'retry-after': '1' }),
    sse(ANSWER),
  );
  const refused = await stub(json(400, { error: { code: 'invalid_request', message: 'text: must be a non-empty string' } }));

  await expect(client(inFlight).ask('eu.c1', 'hello')).resolves.toMatchObject({ text: 'Bonjour' });
  await expect(client(refused).ask('eu.c1', 'hello')).rejects.toMatchObject({ code: 'invalid_request', status: 400, retryable: false });
  expect(inFlight.received).toHaveLength(2);
  expect(refused.received).toHaveLength(1);
});

test('a retry-after longer than the client waits is the caller’s error, not a long sleep', async () => {
  const server = await stub(json(429, { error: { code: 'throttled', message: 'every target throttled', retryable: true } }, { 'retry-after': '120' }));

  await expect(client(server, { maxRetryAfterMs: 5000 }).ask('eu.c1', 'hello')).rejects.toMatchObject({ code: 'throttled', status: 429, retryable: true });
  expect(server.received).toHaveLength(1);
});

test('a 5xx the agent did not write (the gateway’s) and a name that never answers move on to the next regional name; no name outside the jurisdiction is tried', async () => {
  // GIVEN the jurisdiction's name answers a gateway 502, eu-west-1 never answers, eu-central-1 answers
  const gateway = await stub((_request, response) =>
    response.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}'),
  );
  const silent = await stub(() => undefined);
  const healthy = await stub(sse(ANSWER));
  const other = await stub(sse(ANSWER));
  const agent = new AgentClient({
    endpoints: {
      eu: { url: gateway.url, regions: { 'eu-west-1': silent.url, 'eu-central-1': healthy.url } },
      us: { url: other.url, regions: {} },
    },
    auth: AgentAuth.none(),
    firstByteTimeoutMs: 300,
  });

  // WHEN
  const answer = await agent.ask('eu.c1', 'hello');

  // THEN
  expect(answer.text).toBe('Bonjour');
  expect([gateway, silent, healthy].map((server) => server.received.length)).toEqual([1, 1, 1]);
  expect(new Set([gateway, silent, healthy].map((server) => server.received[0].headers['idempotency-key'])).size).toBe(1);
  expect(other.received).toEqual([]);
});

test('when every name fails the error lists each name and why', async () => {
  const down = await stub((_request, response) => response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"region_down"}}'));

  const failure = await client({ url: down.url, regions: { 'eu-west-1': down.url } })
    .ask('eu.c1', 'hello')
    .catch((error: unknown) => error);

  expect(failure).toBeInstanceOf(AgentClientError);
  expect(failure).toMatchObject({
    code: 'regions_unreachable',
    details: { attempts: [{ failure: '503 before the agent' }, { failure: '503 before the agent' }] },
  });
});

test.each([
  ['a data line that is not JSON', event('start', START) + 'event: delta\ndata: {"text": "Bon\n\n', 'malformed_stream'],
  ['a stream cut before done', event('start', START) + event('delta', { text: 'Bon' }), 'truncated_stream'],
  ['a body that is no event stream at all', '<html>upstream error</html>', 'truncated_stream'],
])('%s is a typed error, never a hang', async (_name, body, code) => {
  const server = await stub(sse(body));

  await expect(client(server).ask('eu.c1', 'hello')).rejects.toMatchObject({ code });
});

test('the stream’s error event rejects the answer with its code and the partial text', async () => {
  const server = await stub(
    sse(event('start', START) + event('delta', { text: 'Bon' }) + event('error', { code: 'stream_interrupted', message: 'cut', retryable: true })),
  );

  await expect(client(server).ask('eu.c1', 'hello')).rejects.toMatchObject({
    code: 'stream_interrupted',
    retryable: true,
    details: { body: { partialText: 'Bon' } },
  });
});

test('SigV4 without credentials anywhere is a clear error naming the chain tried, before any request', async () => {
  // GIVEN no credentials in the environment, the files or the instance metadata
  const server = await stub(sse(ANSWER));
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
  Object.assign(process.env, {
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  try {
    const agent = client({ url: server.url, regions: { 'eu-west-1': server.url } }, { auth: AgentAuth.sigv4() });

    await expect(agent.ask('eu.c1', 'hello')).rejects.toMatchObject({
      code: 'missing_credentials',
      message: expect.stringMatching(/default chain in Node \(environment variables, SSO and shared config\/credentials files.*EC2 instance metadata\)/),
    });
  } finally {
    process.env = saved;
  }
  // The jurisdiction's /health is asked which region it routes to; no agent route was called.
  expect(server.received.filter((request) => request.url !== '/health')).toEqual([]);
});

test('a backend’s end user goes out as x-agent-end-user; conversations are listed page by page, deleted, exported and erased', async () => {
  // GIVEN a stub of the owners' routes
  const server = await stub(
    json(200, {
      conversations: [{ conversationId: 'eu.b', title: 'Second', turns: 1, lastActivity: '2026-12-02T00:00:00Z', createdAt: '2026-12-02T00:00:00Z' }],
      nextCursor: 'c2',
    }),
    json(200, {
      conversations: [{ conversationId: 'eu.a', title: 'First', turns: 3, lastActivity: '2026-12-01T00:00:00Z', createdAt: '2026-12-01T00:00:00Z' }],
    }),
    (_request, response) => response.writeHead(204, AGENT).end(),
    json(200, {
      owner: 'app|alice',
      exportedAt: '2026-12-06T00:00:00Z',
      conversations: [{ conversationId: 'eu.a', createdAt: '2026-12-01T00:00:00Z', turns: [] }],
    }),
    json(200, { deleted: 1 }),
  );
  const agent = client(server, { endUser: 'alice' });

  // WHEN
  const pages = [];
  for await (const page of agent.listConversations({ limit: 1 })) pages.push(page);
  await agent.deleteConversation('eu.b');
  const exported = await agent.exportAll();
  const erased = await agent.eraseAll();

  // THEN
  expect(pages.map((page) => page.conversations.map((conversation) => conversation.conversationId))).toEqual([['eu.b'], ['eu.a']]);
  expect(exported.owner).toBe('app|alice');
  expect(erased).toEqual({ deleted: 1 });
  expect(server.received.map((request) => `${request.method} ${request.url}`)).toEqual([
    'GET /v1/conversations?limit=1',
    'GET /v1/conversations?limit=1&cursor=c2',
    'DELETE /v1/conversations/eu.b',
    'GET /v1/export',
    'DELETE /v1/conversations',
  ]);
  expect(server.received.every((request) => request.headers['x-agent-end-user'] === 'alice')).toBe(true);
});
