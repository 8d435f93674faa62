/**
 * Target health shared by a region's environments: several runtimes (each
 * with its own breakers) share a health table in the embedded DynamoDB,
 * through the real SDK client; the Bedrock emulator plays the targets.
 */
import { DeleteTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tool } from 'ai';
import { z } from 'zod';
import { defineAgent } from '../../lambda/agent/agent/definition';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AgentServer } from '../../local/agent-server';
import { BedrockEmulator } from '../../local/bedrock-emulator';
import { LOCAL_CREDENTIALS, LocalDynamoDb } from '../../local/dynamodb';
import { CircuitBreakers } from '../../lambda/agent/chain/circuit-breaker';
import { FallbackChain } from '../../lambda/agent/chain/fallback-chain';
import { LatencyTracker } from '../../lambda/agent/chain/latency-tracker';
import { systemClock, targetKey } from '../../lambda/agent/chain/types';
import { validateRuntimeConfig, type ChainTarget, type RuntimeConfigInput } from '../../lambda/agent/config';
import { DynamoHealthStore } from '../../lambda/agent/health/dynamo-health-store';
import { SharedTargetHealth } from '../../lambda/agent/health/shared-target-health';
import { DynamoFaultProxy } from './dynamodb-faults';
import { CapturedOutput, CLAUDE, EU_CENTRAL, EU_WEST, euConfig, postMessage, TABLE, US_EAST } from './harness';
import { eventually } from '../eventually';

const HEALTH_TABLE = 'agent-target-health';
const PRIMARY = targetKey({ modelId: CLAUDE, region: EU_WEST });
const REFRESH_MS = 1000;

let emulator: BedrockEmulator;
let dynamo: LocalDynamoDb;
let output: CapturedOutput;
let fleet: AgentServer[] = [];

beforeEach(async () => {
  output = new CapturedOutput();
  emulator = await BedrockEmulator.start({ regions: [EU_WEST, EU_CENTRAL, US_EAST] });
  dynamo = await LocalDynamoDb.start();
  await dynamo.createConversationTable(TABLE);
  await dynamo.createHealthTable(HEALTH_TABLE);
});

afterEach(async () => {
  for (const server of fleet) await server.close();
  fleet = [];
  await emulator.close();
  await dynamo.close();
  output.restore();
});

/** `count` environments of the EU runtime in eu-west-1, sharing the health table. */
async function startFleet(count: number, overrides: Partial<RuntimeConfigInput> = {}): Promise<AgentServer[]> {
  for (let index = 0; index < count; index += 1) {
    const config = euConfig(emulator, dynamo, {
      sharedHealth: { tableName: HEALTH_TABLE, refreshMs: REFRESH_MS },
      breaker: { failureThreshold: 1, cooldownMs: 2000 },
      ...overrides,
    });
    fleet.push(await AgentServer.start({ config: validateRuntimeConfig(config) }));
  }
  return fleet;
}

const primaryCalls = () => emulator.calls({ region: EU_WEST, modelId: CLAUDE }).length;
const health = (server: AgentServer) => server.runtime.sharedHealth!;
const client = () => new DynamoDBClient({ region: EU_WEST, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
const store = () => new DynamoHealthStore({ client: DynamoDBDocumentClient.from(client()), tableName: HEALTH_TABLE, callTimeoutMs: 1000 });

/**
 * A read of the region's records that started after the test's writes: a
 * read under way may have started before them (the first one, or the
 * background refresh), and a refresh asked for meanwhile would only join it.
 */
async function readAfterWrites(server: AgentServer): Promise<void> {
  await health(server).flush();
  await health(server).refresh();
}

/** One environment's shared health outside a runtime, with its breakers (three failures in a row), after its first read. */
async function standaloneEnvironment(targets: string[]) {
  const shared = new SharedTargetHealth({
    store: store(),
    scope: EU_WEST,
    environmentId: 'standalone',
    targets,
    settings: {
      refreshMs: REFRESH_MS,
      graceMs: 3000,
      latencyShareMs: 60_000,
      latencyMaxAgeMs: 600_000,
      recordTtlMs: 3_600_000,
      failureThreshold: 3,
      failureRunMs: 30_000,
      budgetWindowMs: 10_000,
    },
    clock: systemClock,
    reporter: { invalidHealthRecord: () => undefined, healthStoreFailed: () => undefined, openedOnRegionFailures: () => undefined },
  });
  const breakers = new CircuitBreakers({ failureThreshold: 3, cooldownMs: 30_000 }, systemClock, shared);
  const latency = new LatencyTracker(10);
  shared.start(breakers, latency);
  await shared.refresh();
  shared.stop();
  return { shared, breakers, latency };
}

/** The primary's record, as stored. */
async function primaryRecord(): Promise<Record<string, unknown> | undefined> {
  const db = client();
  try {
    const items = ((await db.send(new ScanCommand({ TableName: HEALTH_TABLE }))).Items ?? []).map((item) => unmarshall(item));
    return items.find((item) => item.target === PRIMARY);
  } finally {
    db.destroy();
  }
}

test("one environment's breaker opening reaches the others in the background, and they stop calling the dead target", async () => {
  // GIVEN three environments and a dead primary, its breaker held open longer than a busy machine takes to run this test
  const [first, second, third] = await startFleet(3, { breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

  // WHEN the first environment's request fails on the primary and opens its breaker
  const opening = await postMessage(first.url, 'eu.c-shared-1', { text: 'one' });
  // AND the others' background refresh runs (no request of theirs reads the table)
  await eventually(() => health(second).heldOpenUntil(PRIMARY) !== undefined && health(third).heldOpenUntil(PRIMARY) !== undefined);

  // THEN the others skip the primary without calling it: the region paid one call to learn it is dead
  const others = [];
  for (const server of [second, third, second, third]) others.push(await postMessage(server.url, 'eu.c-shared-2', { text: 'two' }));
  expect(opening.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(others.map((result) => result.headers.get('x-agent-path'))).toEqual(Array(4).fill('regional-fallback'));
  expect(primaryCalls()).toBe(1);
  expect(output.sum('SharedBreakerSkips')).toBe(4);
  // AND the record says who holds it open, and carries no user data
  const record = await primaryRecord();
  expect(record).toMatchObject({ scope: EU_WEST, target: PRIMARY, state: 'open', until: expect.any(Number), by: expect.any(String) });
  const allowed = ['at', 'by', 'expiresAt', 'failedAt', 'failures', 'firstTokenMs', 'measuredAt', 'scope', 'state', 'target', 'until'];
  expect(Object.keys(record!).filter((name) => !allowed.includes(name))).toEqual([]);
});

test("failures add up across the region's environments: three that each failed a dead target once open it for the region", async () => {
  // GIVEN three environments whose breakers open at three failures in a row, and a dead primary
  const [first, second, third] = await startFleet(3, { breaker: { failureThreshold: 3, cooldownMs: 30_000 } });
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

  // WHEN each environment's request fails on the primary once (none of them has three failures of its own)
  for (const [index, server] of [first, second, third].entries()) {
    await postMessage(server.url, `eu.c-run-${index}`, { text: 'one' });
    await health(server).flush();
  }
  await Promise.all([first, second].map((server) => health(server).refresh()));
  const later = [];
  for (const server of [first, second, third]) later.push(await postMessage(server.url, 'eu.c-run-later', { text: 'two' }));

  // THEN the third failure in a row of the region opened a breaker, and no environment calls the primary again
  expect(primaryCalls()).toBe(3);
  expect(later.map((result) => result.headers.get('x-agent-path'))).toEqual(Array(3).fill('regional-fallback'));
  expect(output.sum('BreakerOpened')).toBe(1);
  expect(await primaryRecord()).toMatchObject({ state: 'open' });
  expect(await primaryRecord()).not.toHaveProperty('failures');
});

test('a success anywhere in the region ends its run of failures', async () => {
  // GIVEN three environments (three failures in a row open a breaker) and a primary that fails twice
  const [first, second, third] = await startFleet(3, { breaker: { failureThreshold: 3, cooldownMs: 30_000 } });
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 2 });
  for (const server of [first, second]) {
    await postMessage(server.url, 'eu.c-broken-run', { text: 'one' });
    await health(server).flush();
  }
  expect(await primaryRecord()).toMatchObject({ failures: 2 });

  // WHEN the third environment's call succeeds (the success reads nothing by itself: a run its view shows ends at once, one
  // it does not at its next read), its next read comes, and then the primary fails once more
  const success = await postMessage(third.url, 'eu.c-broken-run-2', { text: 'two' });
  await health(third).flush();
  await health(third).refresh();
  await health(third).flush();
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
  await postMessage(first.url, 'eu.c-broken-run-3', { text: 'three' });
  await health(first).flush();
  const afterRestart = await primaryRecord();
  await health(second).refresh();
  const next = await postMessage(second.url, 'eu.c-broken-run-4', { text: 'four' });

  // THEN the run started again at one: no breaker opened, and the primary still serves
  expect(success.headers.get('x-agent-path')).toBe('primary');
  expect(afterRestart).toMatchObject({ failures: 1 });
  expect(afterRestart).not.toHaveProperty('state');
  expect(next.headers.get('x-agent-path')).toBe('primary');
  expect(output.sum('BreakerOpened')).toBe(0);
});

test('a success reads nothing by itself: the next read ends a run that began before it, and leaves one that began after it', async () => {
  // GIVEN an environment whose view, read before, shows no run, and two failures of the region added since
  const { shared, breakers } = await standaloneEnvironment([PRIMARY]);
  const expiresAt = Math.ceil(Date.now() / 1000) + 3600;
  for (let failure = 0; failure < 2; failure += 1) await store().addFailure(EU_WEST, PRIMARY, Date.now(), Date.now() - 30_000, expiresAt);

  // WHEN its call succeeds
  breakers.recordSuccess(PRIMARY);
  await shared.flush();

  // THEN nothing was cleared yet (no read was made for it); its next read ends the run, which began before the success
  expect(await primaryRecord()).toMatchObject({ failures: 2 });
  await shared.refresh();
  await shared.flush();
  expect(await primaryRecord()).not.toHaveProperty('failures');
  // AND a run that began after the success is left to count
  breakers.recordSuccess(PRIMARY);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await store().addFailure(EU_WEST, PRIMARY, Date.now(), Date.now() - 30_000, expiresAt);
  await shared.refresh();
  await shared.flush();
  expect(await primaryRecord()).toMatchObject({ failures: 1 });
});

test("scattered failures among successes do not open the region's breaker", async () => {
  // GIVEN three environments (three failures in a row open a breaker)
  const servers = await startFleet(3, { breaker: { failureThreshold: 3, cooldownMs: 30_000 } });

  // WHEN six requests, one after another, fail and succeed alternately; the successes are all the second
  // environment's, which never failed; it reads the region's records before each success, as an environment
  // whose view is due does on arrival (a success reads nothing by itself: a run its view shows ends at once)
  const paths = [];
  for (const [index, server] of [0, 1, 2, 1, 0, 1].map((which) => servers[which]).entries()) {
    if (index % 2 === 0) emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
    else await health(server).refresh();
    paths.push((await postMessage(server.url, `eu.c-scattered-${index}`, { text: 'one' })).headers.get('x-agent-path'));
    await health(server).flush();
  }

  // THEN three failures, but never two in a row: no breaker opened, and the primary kept serving
  expect(paths).toEqual(['regional-fallback', 'primary', 'regional-fallback', 'primary', 'regional-fallback', 'primary']);
  expect(output.sum('BreakerOpened')).toBe(0);
  expect(await primaryRecord()).not.toHaveProperty('state');
});

test('a failure written to the table tells its writer at once that another environment opened the target meanwhile', async () => {
  // GIVEN an environment that read the table before another opened the primary
  const { shared, breakers } = await standaloneEnvironment([PRIMARY]);
  await store().writeState(EU_WEST, PRIMARY, { state: 'open', until: Date.now() + 30_000, at: Date.now(), by: 'another' }, Math.ceil(Date.now() / 1000) + 3600);

  // WHEN its own call to the primary fails (its breaker stays closed: one failure of three)
  breakers.recordFailure(PRIMARY);
  await shared.flush();

  // THEN it skips the primary from now on, without waiting for its next read
  expect(breakers.state(PRIMARY)).toBe('closed');
  expect(shared.heldOpenUntil(PRIMARY)).toBeGreaterThan(Date.now());
});

test("an environment whose view is due reads the region's records when a request arrives, before its model call", async () => {
  // GIVEN an environment frozen between requests (no background refresh, as Lambda freezes an idle one) whose view is due
  // (the breaker's cooldown outlasts the wait by far: a busy machine must not see it end before the request)
  const [first, thawed] = await startFleet(2, { breaker: { failureThreshold: 1, cooldownMs: 30_000 } });
  health(thawed).stop();
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  await postMessage(first.url, 'eu.c-thawed-1', { text: 'one' });
  await health(first).flush();
  await new Promise((resolve) => setTimeout(resolve, REFRESH_MS + 100));

  // WHEN a request arrives at it
  const result = await postMessage(thawed.url, 'eu.c-thawed-2', { text: 'two' });

  // THEN it skipped the dead primary on the region's word, read while its conversation was read
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(primaryCalls()).toBe(1);
  expect(output.sum('SharedBreakerSkips')).toBe(1);
});

test("the retry budget counts the region's requests, fallbacks and overloads, not only each environment's", async () => {
  // GIVEN three environments whose own floors allow three fallback calls a minute each, in a region allowed 20 % (at least
  // its floor of two a minute), a primary failing every call and a regional fallback throttling every call, with
  // breakers that never open
  const servers = await startFleet(3, {
    chain: [
      { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
      { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
    ],
    breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
    retryBudget: { ratio: 0.2, minPerWindow: 3, windowMs: 60_000, regionMinPerSecond: 2 / 60 },
  });
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 429 } });

  // WHEN nine requests come, three to each environment in turn, each after the environment's view is read (as on
  // arrival, when due) and its counts written after it (as at its next refresh)
  for (let index = 0; index < 9; index += 1) {
    const server = servers[index % 3];
    await health(server).refresh();
    await postMessage(server.url, `eu.c-budget-${index}`, { text: 'one' });
    await health(server).flush();
    await health(server).refresh();
    await health(server).flush();
  }

  // THEN the first fell back before any overload was known, the second within the region's floor of two; then the
  // region refused the seven others (20 % of nine is less), though each environment's own floor had room
  expect(emulator.calls({ region: EU_CENTRAL }).length).toBe(2);
  expect(output.sum('RetryBudgetRefusals')).toBe(7);
});

test("a fallback found overloaded reaches the region's ledger at once, not at its environment's next refresh", async () => {
  // GIVEN two environments, a primary failing every call and a regional fallback throttling every call, breakers that
  // never open, and a region allowed only its floor of one fallback call a minute
  const [first, second] = await startFleet(2, {
    chain: [
      { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
      { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
    ],
    breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
    retryBudget: { ratio: 0.2, minPerWindow: 3, windowMs: 60_000, regionMinPerSecond: 1 / 60 },
  });
  for (const server of fleet) health(server).stop();
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 429 } });

  // WHEN the first environment's message falls back and is throttled, and the first does not refresh again
  await postMessage(first.url, 'eu.c-published-1', { text: 'one' });
  await health(first).flush();
  // AND the second environment reads the region's records, then a message of its own fails over
  await health(second).refresh();
  const refused = await postMessage(second.url, 'eu.c-published-2', { text: 'two' });

  // THEN the second knew of the overload and the region's one fallback call: it refused its own
  expect((refused.json?.error as { code: string }).code).toBe('fallback_budget_spent');
  expect(emulator.calls({ region: EU_CENTRAL })).toHaveLength(1);
});

test("a slot of the ledger turning over under two environments at once keeps both environments' counts", async () => {
  // GIVEN a slot holding a bucket of the ring's last turn, and two environments adding to its new bucket at once: the
  // second takes the slot over between the first's failed ADD and its own take-over
  const bucket = Math.floor(Date.now() / 12_000);
  const key = `~retry-budget#${bucket % 7}`;
  const expiresAt = Math.ceil(Date.now() / 1000) + 600;
  const documents = DynamoDBDocumentClient.from(client());
  const second = store();
  await second.addToLedger(EU_WEST, { key, bucket: bucket - 7, requests: 50, fallbacks: 5, overloads: 1 }, expiresAt);
  let interleaved = false;
  const interleaving = {
    send: async (command: UpdateCommand, options?: object) => {
      if (!interleaved && String(command.input.UpdateExpression).startsWith('SET #bucket')) {
        interleaved = true;
        await second.addToLedger(EU_WEST, { key, bucket, requests: 3, fallbacks: 1, overloads: 0 }, expiresAt);
      }
      return documents.send(command, options);
    },
  } as unknown as DynamoDBDocumentClient;
  const first = new DynamoHealthStore({ client: interleaving, tableName: HEALTH_TABLE, callTimeoutMs: 1000 });

  // WHEN the first environment adds its counts
  const added = await first.addToLedger(EU_WEST, { key, bucket, requests: 4, fallbacks: 2, overloads: 1 }, expiresAt);

  // THEN they were added to the second's: the slot holds both, not the second's alone
  expect(interleaved).toBe(true);
  expect(added).toBe(true);
  const slot = (await first.read(EU_WEST)).find((item) => (item as { target: string }).target === key);
  expect(slot).toMatchObject({ bucket, requests: 7, fallbacks: 3, overloads: 1 });
});

describe('DynamoDB calls per message', () => {
  let proxy: DynamoFaultProxy;

  afterEach(async () => {
    await proxy.close();
  });

  /** The health table's operations of one message, arriving when the environment's view is due. */
  async function callsOf(server: AgentServer, text: string) {
    // A refresh interval since the last read: the message's arrival reads the region's records.
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS + 50));
    proxy.seen.length = 0;
    const result = await postMessage(server.url, `eu.c-calls-${text.length}`, { text });
    await health(server).flush();
    const onHealth = (operation: string, ledger?: boolean) =>
      proxy.seen.filter(
        (call) =>
          call.operation === operation &&
          call.body.TableName === HEALTH_TABLE &&
          (ledger === undefined || String((call.body.Key as { target: { S: string } }).target.S).startsWith('~retry-budget#') === ledger),
      ).length;
    return { result, during: { queries: onHealth('Query'), ledgerWrites: onHealth('UpdateItem', true), recordWrites: onHealth('UpdateItem', false) } };
  }

  test('a 1-step and a 10-step message each read the health table once on arrival, and count as one request in one ledger write', async () => {
    // GIVEN an environment whose health-table calls go through a counting proxy, and an agent with an in-process tool
    proxy = await DynamoFaultProxy.start(dynamo.endpoint);
    const config = euConfig(emulator, dynamo, { sharedHealth: { tableName: HEALTH_TABLE, refreshMs: REFRESH_MS } });
    const agent = defineAgent({
      maxSteps: 10,
      tools: { ping: tool({ description: 'Pings', inputSchema: z.object({}), execute: async () => ({ pong: true }) }) },
    });
    const server = await AgentServer.start({
      config: validateRuntimeConfig({ ...config, endpoints: { ...config.endpoints, dynamodb: proxy.endpoint } }),
      overrides: { agent },
    });
    fleet.push(server);
    health(server).stop();
    await health(server).refresh();

    // WHEN a 1-step message comes, then a 10-step one
    const oneStep = await callsOf(server, 'hello');
    const tenSteps = await callsOf(server, 'loop_forever ping');

    // THEN each read the region's records once on arrival, and the refresh that read wrote one ledger slot (the message's
    // count with the others since the last refresh) and at most one first-token time (shared at most once a minute per
    // target); nothing else was written while the message ran, all its calls succeeding
    expect(tenSteps.result.events.filter((event) => event.event === 'tool_call')).toHaveLength(10);
    for (const calls of [oneStep, tenSteps]) {
      expect(calls.during.queries).toBe(1);
      expect(calls.during.ledgerWrites).toBe(1);
      expect(calls.during.recordWrites).toBeLessThanOrEqual(1);
    }
    // AND the ledger counted two requests, not eleven model calls
    const ledger = (await store().read(EU_WEST)).filter((item) => String((item as { target: string }).target).startsWith('~retry-budget#'));
    expect(ledger.reduce((sum: number, item) => sum + (item as { requests: number }).requests, 0)).toBe(2);
  });
});

test('only the environment holding the breaker open probes it; its recovery reaches the others', async () => {
  // GIVEN two environments; the primary fails once, then recovers
  const [first, second] = await startFleet(2);
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
  await postMessage(first.url, 'eu.c-recover-1', { text: 'one' });
  await health(first).flush();
  await health(second).refresh();

  // WHEN the cooldown passes: the second environment still skips (the first takes the probe), and the first probes
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const waiting = await postMessage(second.url, 'eu.c-recover-2', { text: 'two' });
  const probe = await postMessage(first.url, 'eu.c-recover-1', { text: 'three' });
  await health(first).flush();
  await health(second).refresh();
  const after = await postMessage(second.url, 'eu.c-recover-2', { text: 'four' });

  // THEN one failed call and one probe reached the primary; the recovery was learned without a call of its own
  expect(waiting.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(probe.headers.get('x-agent-path')).toBe('primary');
  expect(after.headers.get('x-agent-path')).toBe('primary');
  expect(primaryCalls()).toBe(3);
  expect(await primaryRecord()).toMatchObject({ state: 'closed', firstTokenMs: expect.any(Number) });
});

test('a recovery reported elsewhere closes a breaker of this environment that opened before it', async () => {
  // GIVEN an environment whose own breaker on the primary is open for a minute
  const [server] = await startFleet(1, { breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
  await postMessage(server.url, 'eu.c-elsewhere', { text: 'one' });
  await health(server).flush();

  // WHEN a prober reports the primary answering again
  await store().writeState(EU_WEST, PRIMARY, { state: 'closed', at: Date.now(), by: 'probe' }, Math.ceil(Date.now() / 1000) + 3600);
  await health(server).refresh();
  const next = await postMessage(server.url, 'eu.c-elsewhere', { text: 'two' });

  // THEN the primary serves again, long before the environment's own cooldown would have ended
  expect(next.headers.get('x-agent-path')).toBe('primary');
});

test('when the shared table is unreachable, each environment behaves as without sharing, and the failures are counted', async () => {
  // GIVEN two environments that share an opening
  const [first, second] = await startFleet(2);
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  await postMessage(first.url, 'eu.c-outage-1', { text: 'one' });
  await health(first).flush();
  await health(second).refresh();
  expect(health(second).heldOpenUntil(PRIMARY)).toBeDefined();

  // WHEN the table goes away and three refresh intervals pass
  const db = client();
  await db.send(new DeleteTableCommand({ TableName: HEALTH_TABLE }));
  db.destroy();
  await new Promise((resolve) => setTimeout(resolve, 3.5 * REFRESH_MS));
  const result = await postMessage(second.url, 'eu.c-outage-2', { text: 'two' });

  // THEN the second environment no longer trusts what it last read: it calls the primary itself, as today, and still answers
  expect(result.status).toBe(200);
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(primaryCalls()).toBe(2);
  expect(output.sum('SharedHealthErrors')).toBeGreaterThan(0);
  expect(output.logs().some((line) => line.message === 'shared target-health table unreachable; this environment relies on its own breakers')).toBe(true);
});

test('a record that fails to parse is ignored and counted; an expired one is ignored', async () => {
  // GIVEN a malformed record for the primary and an expired one for the regional fallback, both claiming "open"
  const [server] = await startFleet(1);
  const db = client();
  const future = String(Date.now() + 600_000);
  await db.send(
    new PutItemCommand({
      TableName: HEALTH_TABLE,
      Item: {
        scope: { S: EU_WEST },
        target: { S: PRIMARY },
        state: { S: 'open' },
        until: { S: 'soon' },
        by: { S: 'x' },
        at: { N: '1' },
        expiresAt: { N: '9999999999' },
      },
    }),
  );
  await db.send(
    new PutItemCommand({
      TableName: HEALTH_TABLE,
      Item: {
        scope: { S: EU_WEST },
        target: { S: targetKey({ modelId: CLAUDE, region: EU_CENTRAL }) },
        state: { S: 'open' },
        until: { N: future },
        by: { S: 'x' },
        at: { N: '1' },
        expiresAt: { N: String(Math.floor(Date.now() / 1000) - 60) },
      },
    }),
  );
  db.destroy();

  // WHEN the environment reads them and serves requests
  await readAfterWrites(server);
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
  const result = await postMessage(server.url, 'eu.c-bad-record', { text: 'one' });

  // THEN neither was trusted: the primary was called, then the regional fallback answered
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(primaryCalls()).toBe(1);
  expect(output.sum('SharedHealthInvalidRecords')).toBeGreaterThanOrEqual(1);
});

test("a retry-budget slot that fails to parse is ignored and counted, and the region's other counts still hold", async () => {
  // GIVEN a region whose ledger holds one malformed slot beside a valid one that has spent the region's floor of 2
  const [server] = await startFleet(1, {
    breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
    retryBudget: { ratio: 0.2, minPerWindow: 3, windowMs: 60_000, regionMinPerSecond: 2 / 60 },
  });
  // Buckets are a fifth of the window (12 s here), in a ring of seven slots.
  const bucket = Math.floor(Date.now() / 12_000);
  const expiresAt = { N: String(Math.ceil(Date.now() / 1000) + 600) };
  const db = client();
  await db.send(
    new PutItemCommand({
      TableName: HEALTH_TABLE,
      // In a slot of its own: in the valid one's (slot 0 one time in seven), the valid write would replace it.
      Item: {
        scope: { S: EU_WEST },
        target: { S: `~retry-budget#${(bucket + 3) % 7}` },
        bucket: { S: 'now' },
        requests: { N: '1' },
        fallbacks: { N: '0' },
        expiresAt,
      },
    }),
  );
  await db.send(
    new PutItemCommand({
      TableName: HEALTH_TABLE,
      Item: {
        scope: { S: EU_WEST },
        target: { S: `~retry-budget#${bucket % 7}` },
        bucket: { N: String(bucket) },
        requests: { N: '5' },
        fallbacks: { N: '2' },
        overloads: { N: '1' },
        expiresAt,
      },
    }),
  );
  db.destroy();
  emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

  // WHEN the environment reads them and a request fails over
  await readAfterWrites(server);
  const result = await postMessage(server.url, 'eu.c-bad-slot', { text: 'one' });

  // THEN the malformed slot was counted and not trusted, and the valid one refused the fallback (the environment alone would allow it)
  expect(output.sum('SharedHealthInvalidRecords')).toBe(1);
  expect(result.status).toBe(503);
  expect(output.sum('RetryBudgetRefusals')).toBe(1);
});

test('when the environment holding a breaker open is gone, exactly one other takes over its probe', async () => {
  // GIVEN a record held open by an environment that never reported its probe, long past its grace
  const [first, second] = await startFleet(2);
  const longAgo = Date.now() - 60_000;
  await store().writeState(EU_WEST, PRIMARY, { state: 'open', until: longAgo, at: longAgo, by: 'gone' }, Math.ceil(Date.now() / 1000) + 3600);

  // WHEN both environments refresh at once
  await Promise.all([health(first).refresh(), health(second).refresh()]);
  const record = await primaryRecord();

  // THEN one of them holds it now; the other skips the primary, the holder probes it and it answers
  const holder = fleet.find((server) => health(server).heldOpenUntil(PRIMARY) === undefined)!;
  const other = fleet.find((server) => server !== holder)!;
  expect(record?.by).not.toBe('gone');
  expect(health(other).heldOpenUntil(PRIMARY)).toBeDefined();
  const skipped = await postMessage(other.url, 'eu.c-takeover-1', { text: 'one' });
  const probed = await postMessage(holder.url, 'eu.c-takeover-2', { text: 'two' });
  expect(skipped.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(probed.headers.get('x-agent-path')).toBe('primary');
  expect(primaryCalls()).toBe(1);
});

test("a new environment orders a tier by the region's shared first-token times before measuring any", async () => {
  // GIVEN two regional fallbacks, the second one measured much faster by the region
  const paris: ChainTarget = { modelId: CLAUDE, region: 'eu-west-3', tier: 'regional-fallback' };
  const frankfurt: ChainTarget = { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' };
  const primary: ChainTarget = { modelId: CLAUDE, region: EU_WEST, tier: 'primary' };
  const expiresAt = Math.ceil(Date.now() / 1000) + 3600;
  await store().writeLatency(EU_WEST, targetKey(frankfurt), 900, Date.now(), expiresAt);
  await store().writeLatency(EU_WEST, targetKey(paris), 120, Date.now(), expiresAt);

  // WHEN a new environment has read them
  const { shared, breakers, latency } = await standaloneEnvironment([primary, frankfurt, paris].map(targetKey));
  const chain = new FallbackChain({
    targets: [primary, frankfurt, paris],
    jurisdiction: { name: 'eu', regions: [EU_WEST, EU_CENTRAL, 'eu-west-3'], geography: 'eu', restricted: true },
    firstTokenTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    invoke: () => (async function* () {})(),
    breakers,
    latency,
    clock: systemClock,
    reporter: { targetFailed: () => undefined, breakerOpened: () => undefined, residencyRefused: () => undefined },
    fleet: shared,
  });

  // THEN the faster one comes first in its tier
  expect(chain.order().map((target) => target.region)).toEqual([EU_WEST, 'eu-west-3', EU_CENTRAL]);
});
