/**
 * Fleet benchmark: a region's execution environments as N real runtime
 * instances in one process (each with its own breakers, latency tracker,
 * retry budget and SDK clients), sharing the embedded DynamoDB (in a child
 * process, with the Bedrock emulator in another). Open-loop traffic goes to
 * a random idle environment, as Lambda sends each request to an idle one.
 *
 *   npm run bench:fleet              (about three minutes)
 *
 * Cases, each without shared health (today's behaviour, the baseline) and
 * with it, in the same run:
 * - one dead primary (503 on every call): calls that reach it, per cooldown;
 * - every target dead: calls per target per cooldown;
 * - a primary failing half its calls, breakers held closed: the fallback
 *   calls the retry budget lets through, per environment or per region.
 *
 * Time is scaled down by TIME_SCALE (4): 60 s of traffic become 15 s, the
 * 30 s cooldown 7.5 s, the 3 s refresh 1 s (the least it may be, so the
 * sharing is measured at 4 s in real terms: slower than its default), the
 * retry budget's 10 s window 2.5 s, and the request rate is 4× the real one.
 * Counts per cooldown do not depend on the scale.
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

quietRuntimeOutput('ERROR');

const TARGETS = EU_CHAIN;

function configOf(emulators: HostedEmulators, shared: boolean, failureThreshold = FAILURE_THRESHOLD): RuntimeConfigInput {
  return euRuntimeConfig(emulators, {
    deadlines: { firstTokenTimeoutMs: 5000 / TIME_SCALE },
    breaker: { failureThreshold, cooldownMs: COOLDOWN_MS },
    retryBudget: { windowMs: 10_000 / TIME_SCALE },
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
}

interface Environment {
  runtime: AgentRuntime;
  busy: boolean;
}

/** Open-loop traffic for TRAFFIC_MS: each request goes to a random idle environment (a new one would start cold; all are warm here). */
async function traffic(fleet: Environment[]): Promise<{ requests: number; statuses: Record<number, number> }> {
  const statuses: Record<number, number> = {};
  const pending: Array<Promise<void>> = [];
  const intervalMs = 1000 / REQUESTS_PER_SECOND;
  const started = Date.now();
  for (let index = 0; Date.now() - started < TRAFFIC_MS; index += 1) {
    const idle = fleet.filter((environment) => !environment.busy);
    const environment = idle[Math.floor(Math.random() * idle.length)];
    if (environment) {
      environment.busy = true;
      pending.push(
        sendMessage(environment.runtime).then((status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          environment.busy = false;
        }),
      );
    }
    const next = started + (index + 1) * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(pending);
  return { requests: pending.length, statuses };
}

async function run(
  emulators: HostedEmulators,
  shared: boolean,
  failureThreshold?: number,
): Promise<{ log: CallLog; requests: number; statuses: Record<number, number> }> {
  const log = new CallLog();
  const clients = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 10_000, endpoints: emulators.bedrock, credentials: LOCAL_CREDENTIALS });
  const invoke = log.wrap(bedrockInvoker(clients));
  const config = validateRuntimeConfig(configOf(emulators, shared, failureThreshold));
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
  const { requests, statuses } = await traffic(fleet);
  await Promise.all(fleet.map((environment) => environment.runtime.sharedHealth?.flush()));
  for (const environment of fleet) environment.runtime.destroy();
  clients.destroy();
  return { log, requests, statuses };
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

  // 3. A primary failing half its calls with breakers held closed: the retry budget alone bounds the fallbacks.
  await emulators.injectFault({ region: PRIMARY, model: CLAUDE, fault: { status: 503 }, probability: 0.5 });
  const budgetRows: string[][] = [];
  for (const shared of [false, true]) {
    await emptiedHealthTable(emulators);
    const { log, requests, statuses } = await run(emulators, shared, HELD_CLOSED);
    const fallbackCalls = log.calls.filter((call) => call.key !== primaryKey).length;
    budgetRows.push([
      'primary failing 50 %, breakers held closed',
      shared ? 'shared health (region ledger)' : 'today (per environment)',
      String(requests),
      `${fallbackCalls} (${((100 * fallbackCalls) / requests).toFixed(0)} %)`,
      `${statuses[200] ?? 0} answered, ${statuses[503] ?? 0} refused (503)`,
    ]);
  }
  await emulators.clearFaults();
  process.stdout.write('\n');
  printTable(['case', 'environments share', 'requests', 'fallback calls (of requests)', 'answers'], budgetRows);
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
