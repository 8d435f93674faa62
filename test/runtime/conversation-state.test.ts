import * as http from 'node:http';
import * as net from 'node:net';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { answerOf, CLAUDE, EU_WEST, euConfig, postMessage, readConversation, startHarness, TABLE, tableItems, UNHURRIED_STATE, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const history = (conversationId: string, principal?: string) => readConversation(harness.server.url, conversationId, principal);

test('a conversation is stored turn by turn and sent back to the model as history', async () => {
  // GIVEN
  harness = await startHarness();

  // WHEN
  await postMessage(harness.server.url, 'eu.c-history', { text: 'first question' });
  await postMessage(harness.server.url, 'eu.c-history', { text: 'second question' });

  // THEN the second call carried the first exchange
  const [, second] = harness.emulator.calls();
  expect(
    (second.request as { messages: Array<{ role: string; content: Array<{ text: string }> }> }).messages.map((message) => [
      message.role,
      message.content[0].text,
    ]),
  ).toEqual([
    ['user', 'first question'],
    ['assistant', harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'first question')],
    ['user', 'second question'],
  ]);
  // AND the history reads back oldest first, each turn saying what served it
  const { status, turns } = await history('eu.c-history');
  expect(status).toBe(200);
  expect(turns.map((turn) => [turn.turn, turn.role, turn.text, turn.path, turn.model])).toEqual([
    [1, 'user', 'first question', null, null],
    [1, 'assistant', harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'first question'), 'primary', CLAUDE],
    [2, 'user', 'second question', null, null],
    [2, 'assistant', harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'second question'), 'primary', CLAUDE],
  ]);
  expect(turns.every((turn) => turn.region === EU_WEST && !Number.isNaN(Date.parse(turn.time)))).toBe(true);
});

test('10 concurrent messages on one conversation are all stored once, in order, none lost', async () => {
  // GIVEN slow tokens, so that the ten requests overlap, and DynamoDB calls given time: ten claims racing on one item
  // (each write also updating the owner index) are slow to answer on a busy machine, and this test is about order, not timeouts
  harness = await startHarness((emulator, dynamo) => {
    const config = euConfig(emulator, dynamo);
    return { ...config, deadlines: { ...config.deadlines!, ...UNHURRIED_STATE } };
  });
  harness.emulator.setLatency({ firstTokenDelayMs: 20, tokenDelayMs: 5 });
  const questions = Array.from({ length: 10 }, (_, index) => `question number ${index + 1}`);

  // WHEN
  const results = await Promise.all(questions.map((text) => postMessage(harness.server.url, 'eu.c-concurrent', { text })));

  // THEN every request was acknowledged with its own turn
  const done = results.map((result) => result.events.find((event) => event.event === 'done')?.data);
  expect(done.every((data) => data?.stored === true)).toBe(true);
  expect(new Set(done.map((data) => data?.turn)).size).toBe(10);
  // AND the table holds 10 exchanges, numbered 1..10, each answer beside its own question
  const { turns } = await history('eu.c-concurrent');
  expect(turns).toHaveLength(20);
  expect(turns.map((turn) => turn.turn)).toEqual(Array.from({ length: 10 }, (_, index) => [index + 1, index + 1]).flat());
  for (let index = 0; index < turns.length; index += 2) {
    expect(turns[index].role).toBe('user');
    expect(turns[index + 1]).toMatchObject({ role: 'assistant', text: harness.emulator.expectedAnswer(CLAUDE, EU_WEST, turns[index].text) });
  }
  expect(
    turns
      .filter((turn) => turn.role === 'user')
      .map((turn) => turn.text)
      .sort(),
  ).toEqual([...questions].sort());
});

test('a stream failing after its first token ends with an SSE error event and an incomplete turn is stored', async () => {
  // GIVEN a primary that fails after 3 tokens
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { failAfterTokens: 3 }, times: 1 });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-midstream', { text: 'tell me a story about rivers' });

  // THEN the client saw the partial answer and an error, never a silent switch to another target
  expect(result.status).toBe(200);
  expect(result.events.map((event) => event.event)).toEqual(['start', 'delta', 'delta', 'delta', 'error']);
  expect(result.events.at(-1)?.data).toMatchObject({ code: 'stream_interrupted', retryable: true, stored: true, path: 'primary' });
  expect(harness.emulator.calls()).toHaveLength(1);
  // AND the partial answer is stored, marked incomplete
  const { turns } = await history('eu.c-midstream');
  expect(turns[1]).toMatchObject({ role: 'assistant', text: answerOf(result.events), incomplete: true });
  expect(harness.output.sum('FailedRequests')).toBe(1);

  // WHEN the conversation goes on
  await postMessage(harness.server.url, 'eu.c-midstream', { text: 'try again' });

  // THEN the incomplete exchange is not sent to the model as history
  expect(harness.emulator.calls()[1].messages).toBe(1);
});

test("someone else's conversation is answered 404, and nothing is processed", async () => {
  // GIVEN alice's conversation
  harness = await startHarness();
  await postMessage(harness.server.url, 'eu.c-alice', { text: 'private' }, { principal: 'alice' });
  harness.emulator.clearCalls();
  const before = await tableItems(harness.dynamo);

  // WHEN bob writes to it and reads it
  const write = await postMessage(harness.server.url, 'eu.c-alice', { text: 'let me in' }, { principal: 'bob' });
  const read = await history('eu.c-alice', 'bob');

  // THEN
  expect(write.status).toBe(404);
  expect(read.status).toBe(404);
  expect(harness.emulator.calls()).toEqual([]);
  expect(await tableItems(harness.dynamo)).toEqual(before);
});

test('a conversation id of another jurisdiction is answered 409 naming its host, once: Node fetch does not resend it, and nothing is processed', async () => {
  // GIVEN a proxy counting the requests that reach the runtime
  harness = await startHarness();
  const counter = await CountingProxy.start(harness.server.url);

  // WHEN Node's fetch posts a US conversation to the EU runtime
  const result = await postMessage(counter.url, 'us.c-123', { text: 'hello' });

  // THEN one request, one JSON answer naming where to go; a 421 here would be resent by fetch on a new connection
  expect(result.status).toBe(409);
  expect(result.json?.error).toMatchObject({ code: 'wrong_jurisdiction', jurisdiction: 'us', host: 'us.agent.example.com' });
  expect(counter.requests).toBe(1);
  expect(harness.emulator.calls()).toEqual([]);
  expect(await tableItems(harness.dynamo)).toEqual([]);
  await counter.close();
});

test('a conversation recorded by another jurisdiction is answered 409, even without a prefix', async () => {
  // GIVEN a conversation item written by a US runtime sharing the table
  harness = await startHarness();
  const client = new DynamoDBClient({ region: EU_WEST, endpoint: harness.dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: 'conversation#c-us' }, sk: { S: '~conversation' }, owner: { S: 'local-user' }, jurisdiction: { S: 'us' }, exchanges: { N: '1' } },
    }),
  );
  client.destroy();

  // WHEN
  const result = await postMessage(harness.server.url, 'c-us', { text: 'hello' });

  // THEN
  expect(result.status).toBe(409);
  expect(result.json?.error).toMatchObject({ code: 'wrong_jurisdiction', host: 'us.agent.example.com' });
  expect(harness.emulator.calls()).toEqual([]);
});

test('Accept: application/json gets the same result as one JSON body, with the same headers', async () => {
  harness = await startHarness();

  const result = await postMessage(harness.server.url, 'eu.c-json', { text: 'hello json' }, { accept: 'application/json' });

  expect(result.status).toBe(200);
  expect(result.headers.get('content-type')).toBe('application/json');
  expect(result.headers.get('x-agent-path')).toBe('primary');
  expect(result.json).toMatchObject({
    conversationId: 'eu.c-json',
    turn: 1,
    text: harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'hello json'),
    path: 'primary',
    model: CLAUDE,
    region: EU_WEST,
    degraded: false,
    stopReason: 'end_turn',
    stored: true,
    usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
  });
});

/** A TCP relay in front of the embedded DynamoDB that can drop every connection, or hold new ones unanswered, like a region outage. */
class OutageRelay {
  static async start(target: string): Promise<OutageRelay> {
    const relay = new OutageRelay(new URL(target));
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', () => resolve()));
    return relay;
  }

  private readonly sockets = new Set<net.Socket>();
  private isDown = false;
  private isStalled = false;
  private readonly server: net.Server;

  private constructor(target: URL) {
    this.server = net.createServer((client) => {
      if (this.isDown) return void client.destroy();
      if (this.isStalled) {
        this.sockets.add(client);
        client.on('error', () => undefined);
        return;
      }
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  down(): void {
    this.isDown = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Connections are accepted and never answered: the SDK waits until its own limits end the call. */
  stall(): void {
    this.isStalled = true;
    for (const socket of this.sockets) socket.destroy();
  }

  up(): void {
    this.isDown = false;
    this.isStalled = false;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts the harness with its table behind an OutageRelay and the given stateTimeoutMs. */
async function startBehindRelay(stateTimeoutMs: number): Promise<OutageRelay> {
  let relay!: OutageRelay;
  harness = await startHarness(async (emulator, dynamo) => {
    relay = await OutageRelay.start(dynamo.endpoint);
    const config = euConfig(emulator, dynamo, { deadlines: { stateTimeoutMs } });
    return { ...config, endpoints: { ...config.endpoints, dynamodb: relay.endpoint } };
  });
  return relay;
}

test('when the home region is unreachable the answer is degraded visibly, and acknowledged turns survive', async () => {
  // GIVEN a runtime whose table sits behind a relay that can go down, and one acknowledged exchange
  const relay = await startBehindRelay(500);
  const acknowledged = await postMessage(harness.server.url, 'eu.c-outage', { text: 'remember this' });

  // WHEN the home region goes away
  relay.down();
  const degraded = await postMessage(harness.server.url, 'eu.c-outage', { text: 'and this?' });

  // THEN the answer still comes, flagged: a header, the events and a metric say it was not stored
  expect(acknowledged.events.at(-1)?.data).toMatchObject({ stored: true });
  expect(degraded.status).toBe(200);
  expect(degraded.headers.get('x-agent-state')).toBe('degraded');
  expect(degraded.events[0].data).toMatchObject({ state: 'degraded', turn: null });
  expect(degraded.events.at(-1)).toMatchObject({ event: 'done', data: { stored: false, state: 'degraded' } });
  expect(harness.output.sum('StateDegraded')).toBe(1);

  // WHEN the region comes back
  relay.up();
  const { turns } = await history('eu.c-outage');

  // THEN the acknowledged exchange is intact and the unacknowledged one was never half-written
  expect(turns.map((turn) => turn.text)).toEqual(['remember this', harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'remember this')]);
  await relay.close();
});

test('a home region that hangs costs a request one stateTimeoutMs, its retry included', async () => {
  // GIVEN a runtime whose table stops answering (connections accepted, never served); each call is bounded by 1 s
  const relay = await startBehindRelay(1000);
  await postMessage(harness.server.url, 'eu.c-hang', { text: 'warm up' });
  relay.stall();

  try {
    // WHEN a message is sent
    const started = Date.now();
    const degraded = await postMessage(harness.server.url, 'eu.c-hang', { text: 'still there?' });
    const elapsedMs = Date.now() - started;

    // THEN it is answered, degraded, after one bounded read (about 1 s): neither the SDK's retry (another
    // second and a backoff) nor a second call to the unreachable table (the exchange claim) was waited for
    expect(degraded.events.at(-1)).toMatchObject({ event: 'done', data: { stored: false, state: 'degraded' } });
    expect(elapsedMs).toBeLessThan(1800);
  } finally {
    await relay.close();
  }
});

/** An HTTP proxy in front of the runtime that counts the requests it passes on. */
class CountingProxy {
  static async start(target: string): Promise<CountingProxy> {
    const proxy = new CountingProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', () => resolve()));
    return proxy;
  }

  requests = 0;
  private readonly server: http.Server;

  private constructor(target: URL) {
    this.server = http.createServer((request, response) => {
      this.requests += 1;
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(upstream);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
