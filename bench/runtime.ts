/**
 * Runtime benchmark: time to first token (TTFT) through the agent runtime
 * against baselines measured in the same run, on the local emulators (in a
 * child process, so they do not share the runtime's event loop).
 *
 *   npm run bench:runtime            (about two minutes)
 *
 * Cases:
 * - added TTFT: the runtime (in process: validation, DynamoDB read and
 *   exchange claim, chain, telemetry) vs a direct ConverseStream call to the
 *   same emulator endpoint;
 * - failover with the primary answering 503 / 429: runtime TTFT vs a direct
 *   call to the fallback target; the same cases for the common naive client
 *   (try/catch around the primary with the SDK's default retries, falling
 *   back on 429/503/504);
 * - a stalled primary: the runtime fails over at its first-token deadline,
 *   the naive client waits;
 * - a dead primary with the breaker open vs closed.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConversationStore } from '../lambda/agent/store/dynamo-conversation-store';
import { DynamoHealthStore } from '../lambda/agent/health/dynamo-health-store';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { hostEmulators, type HostedEmulators } from './emulator-host';
import { CLAUDE, FALLBACK, NOVA, PRIMARY, quietRuntimeOutput, TABLE } from './fixtures';
import { fmt, percentile, printTable, ratioRow } from './report';
import { validateRuntimeConfig, type RuntimeConfigInput } from '../lambda/agent/config';
import { createAgentRuntime, type AgentRuntime } from '../lambda/agent/runtime';
import { runtimeTtft as measureTtft, sample } from './measure';

const MODEL_TTFT_MS = 50;
const FIRST_TOKEN_DEADLINE_MS = 500;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 40);
const NAIVE_STALL_CAP_MS = 5_000;
const HEALTH_TABLE = 'bench-target-health';
/** The least refresh interval: a request that follows the last read by this much reads again on arrival. */
const SHARED_REFRESH_MS = 1000;
const SHARED_SAMPLES = 20;

quietRuntimeOutput();

const question = { messages: [{ role: 'user' as const, content: [{ text: 'how far is the moon' }] }] };

function client(emulators: HostedEmulators, region: string, maxAttempts?: number): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region, endpoint: emulators.bedrock[region], credentials: LOCAL_CREDENTIALS, ...(maxAttempts ? { maxAttempts } : {}) });
}

/** TTFT of one direct ConverseStream call, reading the whole answer like the runtime does. */
async function directTtft(bedrock: BedrockRuntimeClient, modelId = CLAUDE): Promise<number> {
  const started = performance.now();
  const output = await bedrock.send(new ConverseStreamCommand({ modelId, ...question }));
  let first: number | undefined;
  for await (const event of output.stream!) if (first === undefined && event.contentBlockDelta) first = performance.now() - started;
  return first!;
}

/** The naive client: the primary with the SDK's default retries, then the fallback on 429/503/504. */
async function naiveTtft(primary: BedrockRuntimeClient, fallback: BedrockRuntimeClient): Promise<number> {
  const started = performance.now();
  const firstToken = async (bedrock: BedrockRuntimeClient) => {
    const output = await bedrock.send(new ConverseStreamCommand({ modelId: CLAUDE, ...question }));
    let first: number | undefined;
    for await (const event of output.stream!) if (first === undefined && event.contentBlockDelta) first = performance.now() - started;
    return first!;
  };
  try {
    return await firstToken(primary);
  } catch (error) {
    if (![429, 503, 504].includes((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0)) throw error;
    return firstToken(fallback);
  }
}

const runtimeTtft = (runtime: AgentRuntime) => measureTtft(runtime, 'eu', question.messages[0].content[0].text);

async function main(): Promise<void> {
  const emulator = await hostEmulators({ regions: [PRIMARY, FALLBACK], firstTokenDelayMs: MODEL_TTFT_MS, tables: [TABLE], healthTables: [HEALTH_TABLE] });
  const config = (breaker: { failureThreshold: number; cooldownMs: number }): RuntimeConfigInput => ({
    region: PRIMARY,
    jurisdiction: { name: 'eu', regions: [PRIMARY, FALLBACK], geography: 'eu', restricted: true },
    chain: [
      { modelId: CLAUDE, region: PRIMARY, tier: 'primary' },
      { modelId: CLAUDE, region: FALLBACK, tier: 'regional-fallback' },
      { modelId: NOVA, region: PRIMARY, tier: 'model-fallback' },
    ],
    table: { name: TABLE, homeRegion: PRIMARY },
    deadlines: { firstTokenTimeoutMs: FIRST_TOKEN_DEADLINE_MS },
    breaker,
    // Every request here fails over on purpose, to measure failover: the retry budget would refuse most of them.
    retryBudget: { enabled: false },
    endpoints: { bedrock: emulator.bedrock, dynamodb: emulator.dynamodb },
  });
  // Breakers are set so they never open, except in the breaker case.
  const runtime = createAgentRuntime(validateRuntimeConfig(config({ failureThreshold: 1_000_000, cooldownMs: 1 })), { credentials: LOCAL_CREDENTIALS });
  const direct = { primary: client(emulator, PRIMARY, 1), fallback: client(emulator, FALLBACK, 1) };
  const naive = { primary: client(emulator, PRIMARY), fallback: client(emulator, FALLBACK) };
  const rows: string[][] = [];
  const report = (name: string, measured: number[], baseline: number[], note = '') => rows.push(ratioRow(name, measured, baseline, note));

  // 1. Added TTFT on the happy path.
  const baseline = await sample(SAMPLES, () => directTtft(direct.primary));
  const healthy = await sample(SAMPLES, () => runtimeTtft(runtime));
  report('healthy primary: runtime vs direct call', healthy, baseline, `added ${fmt(percentile(healthy, 50) - percentile(baseline, 50))} at the median`);
  // The one read the design puts before the model call, measured alone against the same table.
  const store = new DynamoConversationStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: PRIMARY, endpoint: emulator.dynamodb, credentials: LOCAL_CREDENTIALS })),
    tableName: TABLE,
    ttlDays: 1,
    clock: { now: () => Date.now() },
    callTimeoutMs: 2000,
  });
  const read = await sample(SAMPLES, async () => {
    // Spaced like the runtime's reads, which each follow a model call: back-to-back reads run warmer.
    await new Promise((resolve) => setTimeout(resolve, MODEL_TTFT_MS));
    const started = performance.now();
    await store.load(`eu.bench-${randomUUID()}`, { turns: 20 });
    return performance.now() - started;
  });
  rows.push([
    '  of which the state read (dynalite, consistent query)',
    fmt(percentile(read, 50)),
    fmt(percentile(read, 99)),
    '',
    '',
    `runtime's own: ${fmt(percentile(healthy, 50) - percentile(baseline, 50) - percentile(read, 50))}`,
  ]);

  // The same with shared health, as deployed: each request arrives at a frozen environment whose view is due, so it reads
  // the region's records beside its conversation read, and reads them again after its success.
  const shared = createAgentRuntime(
    validateRuntimeConfig({
      ...config({ failureThreshold: 1_000_000, cooldownMs: 1 }),
      sharedHealth: { tableName: HEALTH_TABLE, refreshMs: SHARED_REFRESH_MS },
    }),
    { credentials: LOCAL_CREDENTIALS },
  );
  shared.sharedHealth!.stop();
  // Both spaced a refresh interval apart (connections idle as long), so that the read is all that differs.
  const spaced = (measured: AgentRuntime) =>
    sample(SHARED_SAMPLES, async () => {
      await new Promise((resolve) => setTimeout(resolve, SHARED_REFRESH_MS));
      return runtimeTtft(measured);
    });
  const withoutSharedHealth = await spaced(runtime);
  const withSharedHealth = await spaced(shared);
  report(
    'healthy primary, shared health read on arrival: runtime with vs without',
    withSharedHealth,
    withoutSharedHealth,
    `${SHARED_SAMPLES} samples each, one a second`,
  );
  shared.destroy();
  // The embedded DynamoDB answers one request at a time: measure how much of that the conversation read waits.
  const healthStore = new DynamoHealthStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: PRIMARY, endpoint: emulator.dynamodb, credentials: LOCAL_CREDENTIALS })),
    tableName: HEALTH_TABLE,
    callTimeoutMs: 2000,
  });
  const readBeside = await sample(SAMPLES, async () => {
    await new Promise((resolve) => setTimeout(resolve, MODEL_TTFT_MS));
    const started = performance.now();
    const healthRead = healthStore.read(PRIMARY);
    await store.load(`eu.bench-${randomUUID()}`, { turns: 20 });
    const elapsed = performance.now() - started;
    await healthRead;
    return elapsed;
  });
  rows.push([
    '  of which the state read, beside the health read',
    fmt(percentile(readBeside, 50)),
    fmt(percentile(readBeside, 99)),
    fmt(percentile(read, 50)),
    '',
    'dynalite answers one request at a time',
  ]);

  // 2. Failover on 503 and 429, runtime and naive, against a direct call to the fallback.
  const fallbackBaseline = await sample(SAMPLES, () => directTtft(direct.fallback));
  for (const status of [503, 429]) {
    await emulator.injectFault({ region: PRIMARY, model: CLAUDE, fault: { status } });
    report(`primary ${status}: runtime vs direct fallback`, await sample(SAMPLES, () => runtimeTtft(runtime)), fallbackBaseline);
    report(
      `primary ${status}: naive vs direct fallback`,
      await sample(Math.min(SAMPLES, 10), () => naiveTtft(naive.primary, naive.fallback)),
      fallbackBaseline,
      'SDK default retries, then fallback',
    );
    await emulator.clearFaults();
  }

  // 3. A stalled primary: the runtime fails over at its deadline; the naive client is cut off at a cap.
  await emulator.injectFault({ region: PRIMARY, model: CLAUDE, fault: { stallMs: 60_000 } });
  const stalled = await sample(Math.min(SAMPLES, 10), () => runtimeTtft(runtime));
  report('primary stalled: runtime vs direct fallback', stalled, fallbackBaseline, `first-token deadline ${FIRST_TOKEN_DEADLINE_MS} ms`);
  const cappedNaive = await Promise.race([
    naiveTtft(naive.primary, naive.fallback).then((ms) => `answered after ${fmt(ms)}`),
    new Promise<string>((resolve) => setTimeout(() => resolve(`no token after ${NAIVE_STALL_CAP_MS} ms (never fails over)`), NAIVE_STALL_CAP_MS)),
  ]);
  rows.push(['primary stalled: naive', cappedNaive, '', '', '', 'the SDK has no first-token deadline']);

  // 4. A dead (stalled) primary with the breaker open: requests skip it at no cost.
  const withBreaker = createAgentRuntime(validateRuntimeConfig(config({ failureThreshold: 1, cooldownMs: 600_000 })), { credentials: LOCAL_CREDENTIALS });
  await runtimeTtft(withBreaker); // this request opens the breaker
  report(
    'primary dead, breaker open: runtime vs direct fallback',
    await sample(SAMPLES, () => runtimeTtft(withBreaker)),
    fallbackBaseline,
    'the dead primary costs nothing',
  );
  report('primary dead, no breaker: runtime vs direct fallback', stalled, fallbackBaseline, 'each request waits out the deadline');

  printTable(['case', 'TTFT p50', 'TTFT p99', 'baseline p50', 'ratio', 'note'], rows);
  process.stderr.write(`\n${SAMPLES} samples per case (10 for naive and stall cases), emulator TTFT ${MODEL_TTFT_MS} ms, Node ${process.version}\n`);

  await emulator.clearFaults();
  for (const bedrock of [...Object.values(direct), ...Object.values(naive)]) bedrock.destroy();
  runtime.destroy();
  withBreaker.destroy();
  await emulator.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
