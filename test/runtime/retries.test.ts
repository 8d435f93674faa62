/**
 * Twenty concurrent messages on one conversation through an unreliable
 * network, from a client that retries on timeouts and resets with the same
 * Idempotency-Key: no exchange is lost, none is stored twice, and every
 * acknowledged one reads back.
 */
import * as net from 'node:net';
import { DynamoFaultProxy } from './dynamodb-faults';
import { answerOf, euConfig, parseSse, readConversation, startHarness, type Harness, type SseEvent } from './harness';

let harness: Harness;
let tableProxy: DynamoFaultProxy;
let relay: ResettingRelay;

afterEach(async () => {
  await relay?.close();
  await harness?.close();
  await tableProxy?.close();
});

/** A TCP relay that resets every `every`-th connection once `afterBytes` of the answer have passed. */
class ResettingRelay {
  static async start(target: string, options: { every: number; afterBytes: number }): Promise<ResettingRelay> {
    const relay = new ResettingRelay(new URL(target), options);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', () => resolve()));
    return relay;
  }

  resets = 0;
  private connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;

  private constructor(target: URL, options: { every: number; afterBytes: number }) {
    this.server = net.createServer((client) => {
      this.connections += 1;
      const doomed = this.connections % options.every === 0;
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      let passed = 0;
      upstream.on('data', (chunk: Buffer) => {
        passed += chunk.length;
        if (doomed && passed > options.afterBytes) {
          this.resets += 1;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        client.write(chunk);
      });
      upstream.on('end', () => client.end());
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Final {
  text: string;
  events: SseEvent[];
  attempts: number;
}

/** A client as a careful application writes it: one key per message, resent on resets, timeouts and 409 in flight. */
async function sendWithRetries(baseUrl: string, conversationId: string, text: string, key: string, firstTimeoutMs: number): Promise<Final> {
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}/v1/conversations/${conversationId}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(attempt === 1 ? firstTimeoutMs : 10_000),
      });
      const body = await response.text();
      if (response.status === 200) {
        const events = parseSse(body);
        if (events.some((event) => event.event === 'done' || event.event === 'error')) return { text, events, attempts: attempt };
      }
    } catch {
      // A reset or a timeout: the same request goes again, under the same key.
    }
    await new Promise((resolve) => setTimeout(resolve, 50 + 20 * attempt));
  }
  throw new Error(`no final answer for "${text}" after 20 attempts`);
}

test('20 concurrent messages with resets, timeouts and lost table answers: none lost, none duplicated, every acknowledged one readable', async () => {
  // GIVEN answers that take about 200 ms, a table that loses some of its answers (the SDK retries the
  // write), and a network that resets every third connection partway through the answer
  harness = await startHarness(async (emulator, dynamo) => {
    tableProxy = await DynamoFaultProxy.start(dynamo.endpoint);
    // The default state timeout: a claim whose answers were lost waits for the SDK's retry.
    const config = euConfig(emulator, dynamo, {
      deadlines: { firstTokenTimeoutMs: 1000, idleTimeoutMs: 2000, totalBudgetMs: 10_000, reserveMs: 2000, stateTimeoutMs: 2000 },
    });
    return { ...config, endpoints: { ...config.endpoints, dynamodb: tableProxy.endpoint } };
  });
  harness.emulator.setLatency({ firstTokenDelayMs: 40, tokenDelayMs: 15 });
  for (const operation of ['PutItem', 'UpdateItem']) tableProxy.loseAnswers({ operation, times: 4 });
  relay = await ResettingRelay.start(harness.server.url, { every: 3, afterBytes: 600 });
  const questions = Array.from({ length: 20 }, (_, index) => `question number ${index + 1}`);

  // WHEN every message is sent at once; a fifth of them time out on their first try, before any answer
  const finals = await Promise.all(
    questions.map((text, index) => sendWithRetries(relay.url, 'eu.c-retries', text, `key-${index + 1}`, index % 5 === 0 ? 20 : 10_000)),
  );

  // THEN the faults did happen
  expect(relay.resets).toBeGreaterThan(0);
  expect(tableProxy.seen.filter((call) => !call.answered)).toHaveLength(8);
  expect(finals.some((final) => final.attempts > 1)).toBe(true);
  // AND the conversation holds no question twice, each with its own answer right after it
  const { turns } = await readConversation(harness.server.url, 'eu.c-retries');
  const asked = turns.filter((turn) => turn.role === 'user').map((turn) => turn.text);
  expect(new Set(asked).size).toBe(asked.length);
  for (const question of turns.filter((turn) => turn.role === 'user')) {
    const answers = turns.filter((turn) => turn.role === 'assistant' && turn.turn === question.turn);
    expect(answers).toHaveLength(1);
  }
  // AND a question missing from it was never acknowledged: its client was told it was not stored
  for (const final of finals.filter((candidate) => !asked.includes(candidate.text))) {
    expect(final.events.at(-1)?.data).toMatchObject({ stored: false, state: 'degraded' });
  }
  // AND every exchange the client saw acknowledged reads back with the answer it was given
  const acknowledged = finals.filter((final) => final.events.some((event) => event.event === 'done' && event.data.stored === true));
  expect(acknowledged.length).toBeGreaterThan(0);
  for (const final of acknowledged) {
    const turn = Number(final.events.find((event) => event.event === 'done')?.data.turn);
    expect(turns.filter((stored) => stored.turn === turn).map((stored) => stored.text)).toEqual([final.text, answerOf(final.events)]);
  }
});
