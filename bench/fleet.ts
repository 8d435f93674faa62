/**
 * Fleet benchmark: a region's execution environments as N real runtime
 * instances in one process (each with its own breakers, latency tracker,
 * retry budget and SDK clients), sharing the embedded DynamoDB (in a child
 * process, with the Bedrock emulator in another). Open-loop traffic goes to
 * a random idle environment, as Lambda sends each request to an idle one.
 *
 *   npm run bench:fleet              (about five minutes)
 *
 * Cases, each without shared health (today's behaviour, the baseline) and
 * with it, in the same run:
 * - one dead primary (503 on every call): calls that reach it, per cooldown;
 * - every target dead: calls per target per cooldown;
 * - breakers held closed, so that only the retry budget bounds fallbacks:
 *   a primary failing half or all of its calls with a healthy fallback
 *   (nothing may be refused), and with every fallback throttling too (the
 *   fallback calls in each window of the budget, against what it allows:
 *   its floor, or 20 % of the window's messages), at the default rate and
 *   at one request per second for the region, and with a floor of 1 a
 *   second, so that the ratio binds.
 *
 * Time is scaled down by TIME_SCALE (4): 60 s of traffic become 15 s, the
 * 30 s cooldown 7.5 s, the 3 s refresh 1 s (the least it may be, so the
 * sharing is measured at 4 s in real terms: slower than its default), the
 * retry budget's 10 s window 2.5 s, its region's floor per second 4× the
 * real one (so that a window's floor is the same), and the request rate is
 * 4× the real one. Counts per cooldown and per window do not depend on the
 * scale.
 */
import { BedrockClients, bedrockInvoker } from '../lambda/agent/bedrock';
import { validateRuntimeConfig, type RuntimeConfigInput } from '../lambda/agent/config';
import { createAgentRuntime, type AgentRuntime } from '../lambda/agent/runtime';
import { targetKey, type InvokeTarget } from '../lambda/agent/chain/types';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { hostEmulators, type HostedEmulators } from './emulator-host';
import { CLAUDE, EU_CHAIN, euRuntimeConfig, FALLBACK, PRIMARY, quietRuntimeOutput, sendMessage, TABLE } from './fixtures';
import { printTable } from './report';

const HEALTH_TABLE = 'bench-target-health';
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 50);
const TIME_SCALE = 4;
const TRAFFIC_MS = 60_000 / TIME_SCALE;
const COOLDOWN_MS = 30_000 / TIME_SCALE;
const REFRESH_MS = 1000;
/** Requests per second of wall-clock time: 5 per real second. */
const REQUESTS_PER_SECOND = 20;
const FAILURE_THRESHOLD = 3;
/** A threshold no run reaches: breakers stay closed, so only the retry budget (20 % of the window's requests) bounds fallbacks. */
const HELD_CLOSED = 100_000;
const BUDGET_WINDOW_MS = 10_000 / TIME_SCALE;
/** The region's floor of fallback calls per real second (Finagle's default). */
const REGION_FLOOR_PER_SECOND = 10;

quietRuntimeOutput('ERROR');

const TARGETS = EU_CHAIN;

interface RunOptions {
  failureThreshold?: number;
  /** The region's floor of fallback calls per real second. */
  floorPerSecond?: number;
  /** Requests per real second for the region. */
  realRate?: number;
}

function configOf(emulators: HostedEmulators, shared: boolean, options: RunOptions): RuntimeConfigInput {
  return euRuntimeConfig(emulators, {
    deadlines: { firstTokenTimeoutMs: 5000 / TIME_SCALE },
    breaker: { failureThreshold: options.failureThreshold ?? FAILURE_THRESHOLD, cooldownMs: COOLDOWN_MS },
    retryBudget: { windowMs: BUDGET_WINDOW_MS, regionMinPerSecond: (options.floorPerSecond ?? REGION_FLOOR_PER_SECOND) * TIME_SCALE },
    ...(shared ? { sharedHealth: { tableName: HEALTH_TABLE, refreshMs: REFRESH_MS } } : {}),
  });
}

/** Every model call of the fleet, by target and time since the traffic began. */
class CallLog {
  readonly calls: Array<{ key: string; at: number }> = [];
  startedAt = 0;

  wrap(invoke: InvokeTarget): InvokeTarget {
    return (target, request, signal) => {
      this.calls.push({ key: targetKey(target), at: Date.now() - this.startedAt });
      return invoke(target, request, signal);
    };
  }

  /** Calls to one target in each cooldown-long window of the traffic. */
  perCooldown(key: string): number[] {
    const windows = Array.from({ length: Math.ceil(TRAFFIC_MS / COOLDOWN_MS) }, () => 0);
    for (const call of this.calls) if (call.key === key && call.at >= 0 && call.at < TRAFFIC_MS) windows[Math.floor(call.at / COOLDOWN_MS)] += 1;
    return windows;
  }

  /** The most calls to targets other than `primaryKey` in any budget window (sliding, from each call). */
  mostFallbacksInAWindow(primaryKey: string): number {
    const times = this.calls.filter((call) => call.key !== primaryKey).map((call) => call.at);
    let most = 0;
    for (let first = 0, last = 0; last < times.length; last += 1) {
      while (times[last] - times[first] >= BUDGET_WINDOW_MS) first += 1;
      most = Math.max(most, last - first + 1);
    }
    return most;
  }
}

interface Environment {
  runtime: AgentRuntime;
  busy: boolean;
}

/** Open-loop traffic for TRAFFIC_MS: each request goes to a random idle environment (a new one would start cold; all are warm here). */
/** What a run's requests got: statuses, and how many were refused by the retry budget (503 `fallback_budget_spent`). */
interface Answers {
  requests: number;
  statuses: Record<number, number>;
  budgetRefused: number;
}

async function traffic(fleet: Environment[], requestsPerSecond: number): Promise<Answers> {
  const statuses: Record<number, number> = {};
  let budgetRefused = 0;
  const pending: Array<Promise<void>> = [];
  const intervalMs = 1000 / requestsPerSecond;
  const started = Date.now();
  for (let index = 0; Date.now() - started < TRAFFIC_MS; index += 1) {
    const idle = fleet.filter((environment) => !environment.busy);
    const environment = idle[Math.floor(Math.random() * idle.length)];
    if (environment) {
      environment.busy = true;
      pending.push(
        sendMessage(environment.runtime, (chunk) => {
          if (chunk.includes('fallback_budget_spent')) budgetRefused += 1;
        }).then((status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          environment.busy = false;
        }),
      );
    }
    const next = started + (index + 1) * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(pending);
  return { requests: pending.length, statuses, budgetRefused };
}

async function run(emulators: HostedEmulators, shared: boolean, options: RunOptions = {}): Promise<{ log: CallLog } & Answers> {
  const log = new CallLog();
  const clients = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 10_000, endpoints: emulators.bedrock, credentials: LOCAL_CREDENTIALS });
  const invoke = log.wrap(bedrockInvoker(clients));
  const config = validateRuntimeConfig(configOf(emulators, shared, options));
  const fleet: Environment[] = Array.from({ length: ENVIRONMENTS }, () => ({
    runtime: createAgentRuntime(config, { credentials: LOCAL_CREDENTIALS, invoke }),
    busy: false,
  }));
  // Every environment has read the (empty) table once, as after its cold start, a refresh interval ago (at 5
  // requests/s over 50 environments, one serves a request every 10 s). No background timer runs from then on:
  // Lambda freezes an environment between its requests, so what it learns, it learns while serving one.
  await Promise.all(fleet.map((environment) => environment.runtime.sharedHealth?.refresh()));
  for (const environment of fleet) environment.runtime.sharedHealth?.stop();
  await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
  log.startedAt = Date.now();
  const answers = await traffic(fleet, options.realRate === undefined ? REQUESTS_PER_SECOND : options.realRate * TIME_SCALE);
  await Promise.all(fleet.map((environment) => environment.runtime.sharedHealth?.flush()));
  for (const environment of fleet) environment.runtime.destroy();
  clients.destroy();
  return { log, ...answers };
}

/** Leaves the health table empty between runs: each starts from "nothing known". */
async function emptiedHealthTable(emulators: HostedEmulators): Promise<void> {
  const { DynamoDBClient, ScanCommand, DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ region: PRIMARY, endpoint: emulators.dynamodb, credentials: LOCAL_CREDENTIALS });
  const items = (await client.send(new ScanCommand({ TableName: HEALTH_TABLE }))).Items ?? [];
  for (const item of items) await client.send(new DeleteItemCommand({ TableName: HEALTH_TABLE, Key: { scope: item.scope, target: item.target } }));
  client.destroy();
}

const windows = (counts: number[]) => counts.join(' / ');

interface BudgetCase {
  name: string;
  primaryFailing: number;
  fallbackThrottling: boolean;
  sharings: boolean[];
  options?: RunOptions;
}

const BUDGET_CASES: BudgetCase[] = [
  { name: 'primary failing 50 %, fallback healthy', primaryFailing: 0.5, fallbackThrottling: false, sharings: [false, true] },
  { name: 'primary failing 100 %, fallback healthy', primaryFailing: 1, fallbackThrottling: false, sharings: [false, true] },
  { name: 'primary failing 100 %, fallbacks throttling (429)', primaryFailing: 1, fallbackThrottling: true, sharings: [false, true] },
  {
    name: 'primary failing 100 %, fallbacks throttling, region floor 1/s',
    primaryFailing: 1,
    fallbackThrottling: true,
    sharings: [true],
    options: { floorPerSecond: 1 },
  },
  { name: '1 request/s: primary failing 100 %, fallback healthy', primaryFailing: 1, fallbackThrottling: false, sharings: [true], options: { realRate: 1 } },
  { name: '1 request/s: primary failing 100 %, fallbacks throttling', primaryFailing: 1, fallbackThrottling: true, sharings: [true], options: { realRate: 1 } },
];

/**
 * What the budget allows in a window once it binds, for the region (shared) or each environment: the floor, or 20 %
 * of the window's messages. Each environment's own floor (3) adds up across the fleet without sharing.
 */
function allowedPerWindow(shared: boolean, options: RunOptions): string {
  const realRate = options.realRate ?? REQUESTS_PER_SECOND / TIME_SCALE;
  const messages = realRate * 10;
  if (!shared) return `3 per environment, ${Math.round(0.2 * messages)} at 20 %`;
  const floor = (options.floorPerSecond ?? REGION_FLOOR_PER_SECOND) * 10;
  return `${Math.max(floor, Math.floor(0.2 * messages))} for the region`;
}

async function budgetRows(emulators: HostedEmulators): Promise<string[][]> {
  const rows: string[][] = [];
  const primaryKey = targetKey(TARGETS[0]);
  for (const budgetCase of BUDGET_CASES) {
    await emulators.injectFault({ region: PRIMARY, model: CLAUDE, fault: { status: 503 }, probability: budgetCase.primaryFailing });
    if (budgetCase.fallbackThrottling) {
      for (const target of TARGETS.slice(1)) await emulators.injectFault({ region: target.region, model: target.modelId, fault: { status: 429 } });
    }
    for (const shared of budgetCase.sharings) {
      await emptiedHealthTable(emulators);
      const options = { ...budgetCase.options, failureThreshold: HELD_CLOSED };
      const { log, requests, statuses, budgetRefused } = await run(emulators, shared, options);
      const fallbackCalls = log.calls.filter((call) => call.key !== primaryKey).length;
      rows.push([
        budgetCase.name,
        shared ? 'shared health (region ledger)' : 'today (per environment)',
        String(requests),
        `${fallbackCalls} (${((100 * fallbackCalls) / requests).toFixed(0)} %)`,
        `${log.mostFallbacksInAWindow(primaryKey)} (${allowedPerWindow(shared, options)})`,
        `${statuses[200] ?? 0} answered, ${budgetRefused} refused (503 fallback_budget_spent), ${requests - (statuses[200] ?? 0) - budgetRefused} failed`,
      ]);
    }
    await emulators.clearFaults();
  }
  return rows;
}

async function main(): Promise<void> {
  const emulators = await hostEmulators({ regions: [PRIMARY, FALLBACK], firstTokenDelayMs: 50, tables: [TABLE], healthTables: [HEALTH_TABLE] });
  const rows: string[][] = [];
  const primaryKey = targetKey(TARGETS[0]);

  // 1. One dead primary.
  await emulators.injectFault({ region: PRIMARY, model: CLAUDE, fault: { status: 503 } });
  for (const shared of [false, true]) {
    await emptiedHealthTable(emulators);
    const { log, requests, statuses } = await run(emulators, shared);
    const perCooldown = log.perCooldown(primaryKey);
    rows.push([
      'dead primary',
      shared ? 'shared health' : 'today (per environment)',
      String(requests),
      `${perCooldown.reduce((sum, count) => sum + count, 0)}`,
      windows(perCooldown),
      `${statuses[200] ?? 0} answered, ${requests - (statuses[200] ?? 0)} refused`,
    ]);
  }
  await emulators.clearFaults();

  // 2. Every target dead.
  for (const region of [PRIMARY, FALLBACK]) await emulators.injectFault({ region, fault: { status: 503 } });
  for (const shared of [false, true]) {
    await emptiedHealthTable(emulators);
    const { log, requests } = await run(emulators, shared);
    for (const target of TARGETS) {
      const perCooldown = log.perCooldown(targetKey(target));
      rows.push([
        `every target dead: ${target.tier}`,
        shared ? 'shared health' : 'today (per environment)',
        String(requests),
        `${perCooldown.reduce((sum, count) => sum + count, 0)}`,
        windows(perCooldown),
        '',
      ]);
    }
  }
  await emulators.clearFaults();

  printTable(['case', 'environments share', 'requests', 'calls to the target', 'per cooldown (1st / 2nd)', 'answers'], rows);

  // 3. Breakers held closed: the retry budget alone bounds the fallbacks.
  process.stdout.write('\n');
  printTable(['case', 'environments share', 'requests', 'fallback calls (of requests)', 'most in a window (allowed)', 'answers'], await budgetRows(emulators));
  process.stderr.write(
    `\n${ENVIRONMENTS} environments, ${TRAFFIC_MS / 1000} s of traffic at ${REQUESTS_PER_SECOND} requests/s (time scaled 1/${TIME_SCALE}: ` +
      `60 s at ${REQUESTS_PER_SECOND / TIME_SCALE}/s), breaker threshold ${FAILURE_THRESHOLD}, cooldown ${COOLDOWN_MS} ms, refresh ${REFRESH_MS} ms, Node ${process.version}\n`,
  );
  await emulators.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
