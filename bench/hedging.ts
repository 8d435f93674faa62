/**
 * Hedging benchmark: time to first token through the runtime with a
 * heavy-tailed primary (the Bedrock emulator makes a share of its first
 * tokens wait), hedging off (the baseline) and on, in the same run.
 *
 *   npm run bench:hedging            (about 90 s)
 *
 * The slow share is drawn two ways: exact (`every`: one call in each run of
 * ten, at a random place in the run) and independent (`probability`: each
 * call with its chance, so the share itself varies). Reports p50 and p99
 * TTFT, the slow calls (those the emulator's fault applied to), the extra
 * model calls (calls beyond one per request: the price of hedging) and the
 * cap those may reach (burst per environment + maxRatio × requests).
 * Requests run a few at a time, each on its own runtime instance (a Lambda
 * environment serves one request at a time).
 */
import { performance } from 'node:perf_hooks';
import { BedrockClients, bedrockInvoker } from '../lambda/agent/bedrock';
import { validateRuntimeConfig } from '../lambda/agent/config';
import { createAgentRuntime, type AgentRuntime } from '../lambda/agent/runtime';
import type { InvokeTarget } from '../lambda/agent/chain/types';
import type { FaultRule } from '../local/bedrock-emulator';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { hostEmulators, type HostedEmulators } from './emulator-host';
import { CLAUDE, euRuntimeConfig, FALLBACK, PRIMARY, quietRuntimeOutput, sendMessage, TABLE } from './fixtures';
import { percentile, printTable } from './report';

const MODEL_TTFT_MS = 50;
const HEDGE_AFTER_MS = 200;
const MAX_RATIO = 0.1;
const BURST = 10;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
/** Hedging off, the p99 is the tail's whenever more than 1 % of first tokens are slow: fewer requests measure it. */
const BASELINE_REQUESTS = Number(process.env.BENCH_BASELINE_REQUESTS ?? 200);
const CONCURRENCY = 8;

interface Case {
  label: string;
  draw: 'exact' | 'independent';
  share: number;
  tailMs: number;
  requests: number;
  /** Whether to measure hedging off too (a primary mostly slow shows the cap, not a gain). */
  baseline: boolean;
}

const CASES: Case[] = [
  { label: '10 % of first tokens after 3 s', draw: 'exact', share: 0.1, tailMs: 3000, requests: REQUESTS, baseline: true },
  { label: '10 % of first tokens after 3 s', draw: 'independent', share: 0.1, tailMs: 3000, requests: REQUESTS, baseline: true },
  { label: '5 % of first tokens after 3 s', draw: 'independent', share: 0.05, tailMs: 3000, requests: REQUESTS, baseline: true },
  // A shorter tail, so that enough requests fit in the time for the ratio, not only the burst, to show.
  { label: '50 % of first tokens after 1 s', draw: 'exact', share: 0.5, tailMs: 1000, requests: Math.round(REQUESTS * 0.4), baseline: false },
];

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

interface Measured {
  sorted: number[];
  extraCalls: number;
  /** Primary calls the tail fault applied to, as the emulator counted them. */
  slowCalls: number;
}

async function run(emulators: HostedEmulators, requests: number, hedging: boolean): Promise<Measured> {
  let calls = 0;
  const clients = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 10_000, endpoints: emulators.bedrock, credentials: LOCAL_CREDENTIALS });
  const counted: InvokeTarget = (target, request, signal) => {
    calls += 1;
    return bedrockInvoker(clients)(target, request, signal);
  };
  const hedge = { afterMs: HEDGE_AFTER_MS, maxRatio: MAX_RATIO, burst: BURST };
  const config = validateRuntimeConfig(euRuntimeConfig(emulators, hedging ? { hedge } : {}));
  const runtimes = Array.from({ length: CONCURRENCY }, () => createAgentRuntime(config, { credentials: LOCAL_CREDENTIALS, invoke: counted }));
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    runtimes.map(async (runtime) => {
      while (next < requests) {
        next += 1;
        samples.push(await ttft(runtime));
      }
    }),
  );
  for (const runtime of runtimes) runtime.destroy();
  clients.destroy();
  return { sorted: samples.sort((a, b) => a - b), extraCalls: calls - requests, slowCalls: await emulators.faultedCalls() };
}

const ms = (value: number) => `${value.toFixed(0)} ms`;
const share = (count: number, of: number) => `${count} (${((count / of) * 100).toFixed(1)} %)`;

function tailFault(test: Case): FaultRule {
  const drawn = test.draw === 'exact' ? { every: Math.round(1 / test.share) } : { probability: test.share };
  return { region: PRIMARY, model: CLAUDE, fault: { stallMs: test.tailMs }, ...drawn };
}

async function measure(emulators: HostedEmulators, test: Case): Promise<string[][]> {
  await emulators.clearFaults();
  await emulators.injectFault(tailFault(test));
  const off = test.baseline ? await run(emulators, BASELINE_REQUESTS, false) : undefined;
  const on = await run(emulators, test.requests, true);
  const cap = BURST * CONCURRENCY + MAX_RATIO * test.requests;
  const row = (hedging: string, result: Measured, requests: number, rest: string[]) => [
    test.label,
    test.draw,
    hedging,
    `${requests}`,
    ms(percentile(result.sorted, 50)),
    ms(percentile(result.sorted, 99)),
    share(result.slowCalls, requests),
    ...rest,
  ];
  const ratio = off ? `p99 ${(percentile(off.sorted, 99) / percentile(on.sorted, 99)).toFixed(1)}× lower` : '';
  return [
    ...(off ? [row('off', off, BASELINE_REQUESTS, [`${off.extraCalls}`, '', ''])] : []),
    row(`on, after ${HEDGE_AFTER_MS} ms`, on, test.requests, [share(on.extraCalls, test.requests), share(cap, test.requests), ratio]),
  ];
}

async function main(): Promise<void> {
  const emulators = await hostEmulators({ regions: [PRIMARY, FALLBACK], firstTokenDelayMs: MODEL_TTFT_MS, tables: [TABLE] });
  const rows: string[][] = [];
  for (const test of CASES) rows.push(...(await measure(emulators, test)));
  await emulators.clearFaults();
  printTable(['primary', 'draw', 'hedging', 'requests', 'TTFT p50', 'TTFT p99', 'slow calls', 'extra calls', 'cap', 'ratio'], rows);
  process.stderr.write(
    `\n${CONCURRENCY} at a time, emulator TTFT ${MODEL_TTFT_MS} ms, cap: burst ${BURST} per environment + ${MAX_RATIO * 100} % of requests, Node ${process.version}\n`,
  );
  await emulators.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
