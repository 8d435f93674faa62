/**
 * Hedging benchmark: time to first token through the runtime with a
 * heavy-tailed primary (the Bedrock emulator makes a share of its first
 * tokens wait 3 s), hedging off (the baseline) and on, in the same run.
 *
 *   npm run bench:hedging            (about a minute)
 *
 * Reports p50 and p99 TTFT and the extra model calls (calls beyond one per
 * request): the price of hedging. Requests run a few at a time, each on its
 * own runtime instance (a Lambda environment serves one request at a time).
 */
import { performance } from 'node:perf_hooks';
import { BedrockClients, bedrockInvoker } from '../lambda/agent/bedrock';
import { validateRuntimeConfig } from '../lambda/agent/config';
import { createAgentRuntime, type AgentRuntime } from '../lambda/agent/runtime';
import type { InvokeTarget } from '../lambda/agent/chain/types';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { hostEmulators, type HostedEmulators } from './emulator-host';
import { CLAUDE, euRuntimeConfig, FALLBACK, PRIMARY, quietRuntimeOutput, sendMessage, TABLE } from './fixtures';
import { percentile, printTable } from './report';

const MODEL_TTFT_MS = 50;
const TAIL_MS = 3000;
const HEDGE_AFTER_MS = 200;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENCY = 8;

quietRuntimeOutput('ERROR');

async function ttft(runtime: AgentRuntime): Promise<number> {
  const started = performance.now();
  let first: number | undefined;
  await sendMessage(runtime, (chunk) => {
    if (first === undefined && chunk.startsWith('event: delta')) first = performance.now() - started;
  });
  if (first === undefined) throw new Error('no token');
  return first;
}

async function run(emulators: HostedEmulators, hedging: boolean): Promise<{ sorted: number[]; extraCalls: number }> {
  let calls = 0;
  const clients = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 10_000, endpoints: emulators.bedrock, credentials: LOCAL_CREDENTIALS });
  const counted: InvokeTarget = (target, request, signal) => {
    calls += 1;
    return bedrockInvoker(clients)(target, request, signal);
  };
  const config = validateRuntimeConfig(euRuntimeConfig(emulators, hedging ? { hedge: { afterMs: HEDGE_AFTER_MS } } : {}));
  const runtimes = Array.from({ length: CONCURRENCY }, () => createAgentRuntime(config, { credentials: LOCAL_CREDENTIALS, invoke: counted }));
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    runtimes.map(async (runtime) => {
      while (next < REQUESTS) {
        next += 1;
        samples.push(await ttft(runtime));
      }
    }),
  );
  for (const runtime of runtimes) runtime.destroy();
  clients.destroy();
  return { sorted: samples.sort((a, b) => a - b), extraCalls: calls - REQUESTS };
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function main(): Promise<void> {
  const emulators = await hostEmulators({ regions: [PRIMARY, FALLBACK], firstTokenDelayMs: MODEL_TTFT_MS, tables: [TABLE] });
  const rows: string[][] = [];
  for (const tailShare of [0.1, 0.05]) {
    await emulators.clearFaults();
    await emulators.injectFault({ region: PRIMARY, model: CLAUDE, fault: { stallMs: TAIL_MS }, probability: tailShare });
    const off = await run(emulators, false);
    const on = await run(emulators, true);
    const tail = `${tailShare * 100} % of first tokens after ${TAIL_MS / 1000} s`;
    rows.push([tail, 'off', fmt(percentile(off.sorted, 50)), fmt(percentile(off.sorted, 99)), `${off.extraCalls}`, '']);
    rows.push([
      tail,
      `on, after ${HEDGE_AFTER_MS} ms`,
      fmt(percentile(on.sorted, 50)),
      fmt(percentile(on.sorted, 99)),
      `${on.extraCalls} (${((on.extraCalls / REQUESTS) * 100).toFixed(1)} %)`,
      `p99 ${(percentile(off.sorted, 99) / percentile(on.sorted, 99)).toFixed(1)}× lower`,
    ]);
  }
  await emulators.clearFaults();
  printTable(['primary', 'hedging', 'TTFT p50', 'TTFT p99', 'extra calls', 'ratio'], rows);
  process.stderr.write(
    `\n${REQUESTS} requests per case, ${CONCURRENCY} at a time, emulator TTFT ${MODEL_TTFT_MS} ms, hedge cap 10 %, Node ${process.version}\n`,
  );
  await emulators.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
