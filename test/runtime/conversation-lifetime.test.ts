/**
 * Conversations that cannot leak, fork or vanish: expiry scoped to the
 * conversation's lifetime, minted ids, owners that survive a session change,
 * writes whose answer was lost, and retried requests.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { DynamoFaultProxy, sortKeyOf } from './dynamodb-faults';
import {
  answerOf,
  CLAUDE,
  EU_WEST,
  euConfig,
  postMessage,
  readConversation,
  sentMessages,
  startHarness,
  TABLE,
  tableItems,
  UNHURRIED_MODEL,
  type Harness,
} from './harness';
import { eventually } from '../eventually';

let harness: Harness;
let table: DynamoDBClient;

afterEach(async () => {
  table?.destroy();
  await harness?.close();
});

const DAY_MS = 86_400_000;

/** The runtime's clock, movable forward: expiry is judged by it. */
function movableClock() {
  let offset = 0;
  return { clock: { now: () => Date.now() + offset }, advance: (ms: number) => (offset += ms) };
}

async function start(options: Parameters<typeof startHarness>[1] = {}, configure: Parameters<typeof startHarness>[0] = euConfig): Promise<void> {
  harness = await startHarness(configure, options);
  table = new DynamoDBClient({ region: EU_WEST, endpoint: harness.dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
}

const doneOf = (result: { events: Array<{ event: string; data: Record<string, unknown> }> }) => result.events.find((event) => event.event === 'done')?.data;

describe('expiry', () => {
  test("an expired conversation's turns never reach the next caller of its id, who starts a new conversation that is stored", async () => {
    // GIVEN alice's conversation, and 31 days later (ttlDays 30)
    const time = movableClock();
    await start({ overrides: { clock: time.clock } });
    await postMessage(harness.server.url, 'eu.c-reused', { text: 'my secret plan' }, { principal: 'alice' });
    time.advance(31 * DAY_MS);
    harness.emulator.clearCalls();

    // WHEN bob uses the same id
    const result = await postMessage(harness.server.url, 'eu.c-reused', { text: 'hello' }, { principal: 'bob' });

    // THEN the model saw only bob's message, and bob's exchange is turn 1, stored, state ok
    expect(sentMessages(harness.emulator.calls()[0])).toEqual([['user', 'hello']]);
    expect(doneOf(result)).toMatchObject({ turn: 1, stored: true, state: 'ok' });
    // AND reading the conversation shows bob his own turns only, and alice nothing
    const forBob = await readConversation(harness.server.url, 'eu.c-reused', 'bob');
    expect(forBob.turns.map((turn) => turn.text)).toEqual(['hello', answerOf(result.events)]);
    expect((await readConversation(harness.server.url, 'eu.c-reused', 'alice')).status).toBe(404);
  });

  test('a conversation item deleted ahead of its turns (TTL deletes in any order) leaves them unreachable', async () => {
    // GIVEN alice's conversation whose conversation item TTL has just deleted
    await start();
    await postMessage(harness.server.url, 'eu.c-orphans', { text: 'my secret plan' }, { principal: 'alice' });
    await table.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'conversation#eu.c-orphans' }, sk: { S: '~conversation' } } }));
    harness.emulator.clearCalls();

    // WHEN bob uses the same id
    const result = await postMessage(harness.server.url, 'eu.c-orphans', { text: 'hello' }, { principal: 'bob' });

    // THEN alice's turns are not history, bob's turn is stored, and only his turns read back
    expect(sentMessages(harness.emulator.calls()[0])).toEqual([['user', 'hello']]);
    expect(doneOf(result)).toMatchObject({ turn: 1, stored: true, state: 'ok' });
    expect((await readConversation(harness.server.url, 'eu.c-orphans', 'bob')).turns.map((turn) => turn.text)).toEqual(['hello', answerOf(result.events)]);
  });

  test('turns past their own expiry are left out while the conversation lives on', async () => {
    // GIVEN exchange 1 on day 0 and exchange 2 on day 20 (each turn expires 30 days after its write)
    const time = movableClock();
    await start({ overrides: { clock: time.clock } });
    await postMessage(harness.server.url, 'eu.c-aging', { text: 'day zero' });
    time.advance(20 * DAY_MS);
    await postMessage(harness.server.url, 'eu.c-aging', { text: 'day twenty' });
    time.advance(15 * DAY_MS);
    harness.emulator.clearCalls();

    // WHEN a message comes on day 35
    await postMessage(harness.server.url, 'eu.c-aging', { text: 'day thirty-five' });

    // THEN only exchange 2 is history, and reads leave exchange 1 out
    expect(sentMessages(harness.emulator.calls()[0]).map(([, text]) => text)).toEqual([
      'day twenty',
      harness.emulator.expectedAnswer(CLAUDE, EU_WEST, 'day twenty'),
      'day thirty-five',
    ]);
    const { turns } = await readConversation(harness.server.url, 'eu.c-aging');
    expect(turns.map((turn) => turn.turn)).toEqual([2, 2, 3, 3]);
  });

  test('a turn that could not be written makes the answer stored: false with a degraded state', async () => {
    // GIVEN exchange 2's answer slot already taken by another request's item
    await start();
    await postMessage(harness.server.url, 'eu.c-taken', { text: 'first' });
    const items = (await tableItems(harness.dynamo)) as Array<Record<string, AttributeValue>>;
    const generation = items.find((item) => item.sk.S === '~conversation')!.generation.S!;
    await table.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'conversation#eu.c-taken' },
          sk: { S: `turn#${generation}#0000000002#2` },
          requestId: { S: 'another-request' },
          generation: { S: generation },
        },
      }),
    );

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-taken', { text: 'second' });

    // THEN
    expect(doneOf(result)).toMatchObject({ turn: 2, stored: false, state: 'degraded' });
    expect(harness.output.sum('StateDegraded')).toBe(1);
  });
});

describe('conversation ids', () => {
  test('POST /v1/conversations mints an id carrying the jurisdiction, owned by the caller, ready for messages', async () => {
    await start();

    // WHEN
    const response = await fetch(`${harness.server.url}/v1/conversations`, { method: 'POST', headers: { 'x-local-principal': 'alice' } });
    const minted = (await response.json()) as { conversationId: string; jurisdiction: string };

    // THEN a new prefixed id, and the conversation exists, empty, for alice only
    expect(response.status).toBe(201);
    expect(minted.conversationId).toMatch(/^eu\.[A-Za-z0-9_-]{22}$/);
    expect(minted.jurisdiction).toBe('eu');
    expect(response.headers.get('location')).toBe(`/v1/conversations/${minted.conversationId}`);
    expect(await readConversation(harness.server.url, minted.conversationId, 'alice')).toMatchObject({ status: 200, turns: [] });
    expect((await readConversation(harness.server.url, minted.conversationId, 'bob')).status).toBe(404);
    // AND the first message is its turn 1
    const result = await postMessage(harness.server.url, minted.conversationId, { text: 'hello' }, { principal: 'alice' });
    expect(doneOf(result)).toMatchObject({ turn: 1, stored: true });
    // AND every mint is a new id
    const again = (await (await fetch(`${harness.server.url}/v1/conversations`, { method: 'POST' })).json()) as { conversationId: string };
    expect(again.conversationId).not.toBe(minted.conversationId);
  });

  test('a restricted jurisdiction refuses to start a conversation under an id without its prefix, and processes nothing', async () => {
    await start();

    const result = await postMessage(harness.server.url, 'unprefixed-1', { text: 'hello' });

    expect(result.status).toBe(400);
    expect(result.json?.error).toMatchObject({ code: 'unprefixed_conversation_id' });
    expect((result.json?.error as { message: string }).message).toMatch(/restricted.*eu\..*POST \/v1\/conversations/);
    expect(harness.emulator.calls()).toEqual([]);
    expect(await tableItems(harness.dynamo)).toEqual([]);
  });

  test('a conversation stored before generations and prefixes existed stays readable and continues', async () => {
    // GIVEN items as the earlier runtime wrote them: an unprefixed id, no generation, turn#<N>#<role> keys
    await start();
    const item = (sk: string, attributes: Record<string, AttributeValue>) => ({ pk: { S: 'conversation#old-1' }, sk: { S: sk }, ...attributes });
    const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 86_400) };
    for (const legacy of [
      item('~conversation', {
        owner: { S: 'local-user' },
        jurisdiction: { S: 'eu' },
        createdAt: { S: '2026-11-01T00:00:00.000Z' },
        exchanges: { N: '1' },
        expiresAt,
      }),
      item('turn#0000000001#1', {
        exchange: { N: '1' },
        role: { S: 'user' },
        text: { S: 'old question' },
        time: { S: '2026-11-01T00:00:00.000Z' },
        region: { S: EU_WEST },
        requestId: { S: 'r0' },
        expiresAt,
      }),
      item('turn#0000000001#2', {
        exchange: { N: '1' },
        role: { S: 'assistant' },
        text: { S: 'old answer' },
        time: { S: '2026-11-01T00:00:01.000Z' },
        region: { S: EU_WEST },
        path: { S: 'primary' },
        model: { S: CLAUDE },
        stopReason: { S: 'end_turn' },
        requestId: { S: 'r0' },
        expiresAt,
      }),
    ]) {
      await table.send(new PutItemCommand({ TableName: TABLE, Item: legacy }));
    }

    // WHEN the conversation goes on
    const result = await postMessage(harness.server.url, 'old-1', { text: 'new question' });

    // THEN the model had the old exchange as history, and the new one is turn 2, stored beside it
    expect(sentMessages(harness.emulator.calls()[0])).toEqual([
      ['user', 'old question'],
      ['assistant', 'old answer'],
      ['user', 'new question'],
    ]);
    expect(doneOf(result)).toMatchObject({ turn: 2, stored: true });
    const { turns } = await readConversation(harness.server.url, 'old-1');
    expect(turns.map((turn) => [turn.turn, turn.text])).toEqual([
      [1, 'old question'],
      [1, 'old answer'],
      [2, 'new question'],
      [2, answerOf(result.events)],
    ]);
  });
});

describe('owners', () => {
  const role = 'arn:aws:sts::111122223333:assumed-role/orders-app';

  test('another session of the same role (another task or instance) reaches the conversation', async () => {
    await start();
    await postMessage(harness.server.url, 'eu.c-role', { text: 'from task one' }, { principal: `${role}/task-1` });

    const second = await postMessage(harness.server.url, 'eu.c-role', { text: 'from task two' }, { principal: `${role}/task-2` });

    expect(doneOf(second)).toMatchObject({ turn: 2, stored: true });
    expect((await readConversation(harness.server.url, 'eu.c-role', `${role}/task-3`)).turns).toHaveLength(4);
    expect((await readConversation(harness.server.url, 'eu.c-role', 'arn:aws:sts::111122223333:assumed-role/other-app/task-1')).status).toBe(404);
    // AND the log keeps the full session ARN
    expect(
      harness.output
        .logs()
        .filter((line) => line.message === 'message completed')
        .map((line) => line.caller),
    ).toEqual([`${role}/task-1`, `${role}/task-2`]);
  });

  test('a conversation stored under a full session ARN stays reachable by that session', async () => {
    // GIVEN a conversation item written before owners were reduced to the role
    await start();
    const expiresAt = { N: String(Math.floor(Date.now() / 1000) + 86_400) };
    await table.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'conversation#eu.c-session' },
          sk: { S: '~conversation' },
          owner: { S: `${role}/task-1` },
          jurisdiction: { S: 'eu' },
          exchanges: { N: '0' },
          expiresAt,
        },
      }),
    );

    const same = await postMessage(harness.server.url, 'eu.c-session', { text: 'hello' }, { principal: `${role}/task-1` });
    const other = await postMessage(harness.server.url, 'eu.c-session', { text: 'hello' }, { principal: `${role}/task-2` });

    expect(doneOf(same)).toMatchObject({ turn: 1, stored: true });
    expect(other.status).toBe(404);
  });
});

describe('retried writes and requests', () => {
  async function startBehindFaults(): Promise<DynamoFaultProxy> {
    let proxy!: DynamoFaultProxy;
    harness = await startHarness(async (emulator, dynamo) => {
      proxy = await DynamoFaultProxy.start(dynamo.endpoint);
      const config = euConfig(emulator, dynamo);
      return { ...config, endpoints: { ...config.endpoints, dynamodb: proxy.endpoint } };
    });
    return proxy;
  }

  test.each([
    ['question', '#1'],
    ['answer', '#2'],
  ])("the %s's turn, written but with its answer lost, is recognised as stored when the SDK's retry finds it", async (_turn, suffix) => {
    // GIVEN the table applies the first write of that turn and its answer is lost
    const proxy = await startBehindFaults();
    proxy.loseAnswers({ operation: 'PutItem', matches: (body) => sortKeyOf(body).startsWith('turn#') && sortKeyOf(body).endsWith(suffix), times: 1 });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-lost-answer', { text: 'hello' });

    // THEN the SDK wrote twice, the second failing its condition, and the exchange is acknowledged as stored
    const writes = proxy.seen.filter((call) => call.operation === 'PutItem' && sortKeyOf(call.body).endsWith(suffix));
    expect(writes.map((call) => call.answered)).toEqual([false, true]);
    expect(doneOf(result)).toMatchObject({ stored: true, state: 'ok' });
    expect((await readConversation(harness.server.url, 'eu.c-lost-answer')).turns).toHaveLength(2);
    await proxy.close();
  });

  test('a request retried with the same Idempotency-Key gets the stored exchange again, and the model is called once', async () => {
    await start();
    const first = await postMessage(harness.server.url, 'eu.c-retry', { text: 'hello' }, { idempotencyKey: 'key-1' });

    // WHEN the client resends it (it never saw the answer, say)
    const again = await postMessage(harness.server.url, 'eu.c-retry', { text: 'hello' }, { idempotencyKey: 'key-1' });
    const asJson = await postMessage(harness.server.url, 'eu.c-retry', { text: 'hello' }, { idempotencyKey: 'key-1', accept: 'application/json' });

    // THEN the same exchange, marked as a replay, and one exchange stored
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(answerOf(again.events)).toBe(answerOf(first.events));
    expect(doneOf(again)).toMatchObject({ turn: 1, stored: true, replayed: true, path: 'primary', model: CLAUDE });
    expect(asJson.json).toMatchObject({ turn: 1, text: answerOf(first.events), replayed: true });
    expect(harness.emulator.calls()).toHaveLength(1);
    expect((await readConversation(harness.server.url, 'eu.c-retry')).turns).toHaveLength(2);
    expect(harness.output.sum('ReplayedRequests')).toBe(2);
    // AND another key is another exchange
    expect(doneOf(await postMessage(harness.server.url, 'eu.c-retry', { text: 'hello' }, { idempotencyKey: 'key-2' }))).toMatchObject({ turn: 2 });
  });

  test('a retry while the first request is still being answered gets 409 request_in_flight, then the stored exchange', async () => {
    // GIVEN a slow answer in flight (a first token after 1.5 s, well within its deadline, so a busy machine keeps it in flight)
    await start({}, (emulator, dynamo) => euConfig(emulator, dynamo, { deadlines: { ...euConfig(emulator, dynamo).deadlines, ...UNHURRIED_MODEL } }));
    harness.emulator.setLatency({ firstTokenDelayMs: 1500, tokenDelayMs: 50 });
    const first = postMessage(harness.server.url, 'eu.c-in-flight', { text: 'one two three' }, { idempotencyKey: 'key-1' });
    // In flight once the model is answering it and its key's claim is stored (the claim is written beside the model call).
    await eventually(async () => harness.emulator.calls().length === 1 && (await tableItems(harness.dynamo)).length > 0);

    // WHEN the same request is retried meanwhile
    const during = await postMessage(harness.server.url, 'eu.c-in-flight', { text: 'one two three' }, { idempotencyKey: 'key-1' });
    const firstResult = await first;
    const after = await postMessage(harness.server.url, 'eu.c-in-flight', { text: 'one two three' }, { idempotencyKey: 'key-1' });

    // THEN
    expect(during.status).toBe(409);
    expect(during.json?.error).toMatchObject({ code: 'request_in_flight', retryable: true });
    expect(during.headers.get('retry-after')).toBe('1');
    expect(doneOf(after)).toMatchObject({ turn: 1, replayed: true });
    expect(answerOf(after.events)).toBe(answerOf(firstResult.events));
    expect(harness.emulator.calls()).toHaveLength(1);
  });

  test('a retry of a request that failed without an answer is answered anew, once', async () => {
    // GIVEN a first try that every target refused
    await start();
    for (const region of [EU_WEST, 'eu-central-1']) harness.emulator.injectFault({ region, fault: { status: 503 }, times: 2 });
    const failed = await postMessage(harness.server.url, 'eu.c-failed-first', { text: 'hello' }, { idempotencyKey: 'key-1' });

    // WHEN it is retried with the same key
    const retried = await postMessage(harness.server.url, 'eu.c-failed-first', { text: 'hello' }, { idempotencyKey: 'key-1' });

    // THEN
    expect(failed.status).toBe(503);
    expect(doneOf(retried)).toMatchObject({ stored: true });
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect((await readConversation(harness.server.url, 'eu.c-failed-first')).turns).toHaveLength(2);
  });

  test('an Idempotency-Key that cannot be stored as one is refused with 400 before anything happens', async () => {
    await start();

    const result = await postMessage(harness.server.url, 'eu.c-bad-key', { text: 'hello' }, { idempotencyKey: 'has#hash' });

    expect(result.status).toBe(400);
    expect(result.json?.error).toMatchObject({ code: 'invalid_idempotency_key' });
    expect(harness.emulator.calls()).toEqual([]);
  });
});
