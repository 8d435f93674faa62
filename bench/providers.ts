/**
 * Outside providers' benchmark, in one run:
 * - failover cost: time to first token through the runtime when every
 *   Bedrock target answers 503 (or 429, or stalls past the first-token
 *   deadline) and OpenAI answers as provider-fallback, against a direct
 *   streaming call to the same OpenAI emulator with the official `openai`
 *   SDK (the baseline); and the runtime with OpenAI as its only target, to
 *   separate the runtime's own cost from the failed Bedrock attempts;
 * - bundle size: the runtime bundle with what the providers add to it
 *   (their code, eventsource-parser, the Secrets Manager client), and what
 *   the official SDKs would have added instead.
 *
 *   npm run bench:providers            (about half a minute)
 *
 * The emulators run in child processes (bench/emulator-host.ts for Bedrock
 * and DynamoDB, bench/provider-host.ts for OpenAI and Secrets Manager), so
 * their work is not on the runtime's event loop.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import OpenAI from 'openai';
import { validateRuntimeConfig, type ChainTarget, type RuntimeConfigInput } from '../lambda/agent/config';
import { createAgentRuntime, type AgentRuntime } from '../lambda/agent/runtime';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { runtimeBuildOptions } from '../lib/runtime/runtime-bundle';
import { hostEmulators } from './emulator-host';
import { hostProviders, BENCH_PROVIDER_KEY } from './provider-host';
import { quietRuntimeOutput } from './fixtures';
import { runtimeTtft as measureTtft, sample } from './measure';
import { fmt, percentile, printTable, ratioRow } from './report';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const EAST = 'us-east-1';
const WEST = 'us-west-2';
const TABLE = 'bench-conversations';
const MODEL_TTFT_MS = 50;
const FIRST_TOKEN_DEADLINE_MS = 500;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);

quietRuntimeOutput();

const QUESTION = 'how far is the moon';

const runtimeTtft = (runtime: AgentRuntime) => measureTtft(runtime, 'us', QUESTION);

/** TTFT of a direct streaming Chat Completions call with the official SDK. */
async function directTtft(client: OpenAI): Promise<number> {
  const started = performance.now();
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: QUESTION }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let first: number | undefined;
  for await (const chunk of stream) if (first === undefined && chunk.choices[0]?.delta.content) first = performance.now() - started;
  return first!;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

/** Bytes of the minified runtime bundle, and of its inputs whose path matches each pattern. */
async function bundleBytes(patterns: Record<string, RegExp>): Promise<{ total: number; parts: Record<string, number> }> {
  const root = path.join(__dirname, '..');
  const result = await build({
    entryPoints: [path.join(root, 'lambda', 'agent', 'index.ts')],
    ...runtimeBuildOptions(),
    write: false,
    outfile: 'index.mjs',
    metafile: true,
  });
  const output = Object.values(result.metafile.outputs)[0];
  const parts = Object.fromEntries(
    Object.entries(patterns).map(([name, pattern]) => [
      name,
      Object.entries(output.inputs)
        .filter(([input]) => pattern.test(input))
        .reduce((sum, [, input]) => sum + input.bytesInOutput, 0),
    ]),
  );
  return { total: output.bytes, parts };
}

/** Bytes an SDK client adds when bundled alone, minified, as the runtime would bundle it. */
async function sdkBytes(source: string): Promise<number> {
  const result = await build({
    stdin: { contents: source, resolveDir: path.join(__dirname, '..'), loader: 'ts' },
    ...runtimeBuildOptions(),
    write: false,
    outfile: 'sdk.mjs',
    metafile: true,
  });
  return Object.values(result.metafile.outputs)[0].bytes;
}

async function main(): Promise<void> {
  const bedrock = await hostEmulators({ regions: [EAST, WEST], firstTokenDelayMs: MODEL_TTFT_MS, tables: [TABLE] });
  const providers = await hostProviders({ firstTokenDelayMs: MODEL_TTFT_MS });
  const openAiUs: ChainTarget = {
    modelId: 'gpt-4o',
    region: EAST,
    tier: 'provider-fallback',
    provider: { name: 'openai', residency: 'us', secret: 'openai-us' },
  };
  const config = (chain: ChainTarget[]): RuntimeConfigInput => ({
    region: EAST,
    jurisdiction: { name: 'us', regions: [EAST, WEST], geography: 'us', restricted: true },
    chain,
    table: { name: TABLE, homeRegion: EAST },
    deadlines: { firstTokenTimeoutMs: FIRST_TOKEN_DEADLINE_MS },
    // Breakers never open here: every request pays for the failed Bedrock attempts.
    breaker: { failureThreshold: 1_000_000, cooldownMs: 1 },
    // Every request here fails over on purpose, to measure failover: the retry budget would refuse most of them.
    retryBudget: { enabled: false },
    endpoints: {
      bedrock: bedrock.bedrock,
      dynamodb: bedrock.dynamodb,
      secretsmanager: providers.secretsmanager,
      providers: { 'openai:us': providers.openaiUs },
    },
  });
  const withBedrock = createAgentRuntime(
    validateRuntimeConfig(config([{ modelId: CLAUDE, region: EAST, tier: 'primary' }, { modelId: CLAUDE, region: WEST, tier: 'regional-fallback' }, openAiUs])),
    { credentials: LOCAL_CREDENTIALS },
  );
  const providerOnly = createAgentRuntime(validateRuntimeConfig(config([openAiUs])), { credentials: LOCAL_CREDENTIALS });
  const direct = new OpenAI({ apiKey: BENCH_PROVIDER_KEY, baseURL: providers.openaiUs, maxRetries: 0 });

  const rows: string[][] = [];
  const baseline = await sample(SAMPLES, () => directTtft(direct));
  const report = (name: string, measured: number[], note = '') => rows.push(ratioRow(name, measured, baseline, note));
  const only = await sample(SAMPLES, () => runtimeTtft(providerOnly));
  report('OpenAI the only target: runtime vs direct SDK call', only, `added ${fmt(percentile(only, 50) - percentile(baseline, 50))} at the median`);
  for (const status of [503, 429]) {
    for (const region of [EAST, WEST]) await bedrock.injectFault({ region, fault: { status } });
    report(
      `both Bedrock regions ${status}, OpenAI answers: runtime vs direct`,
      await sample(SAMPLES, () => runtimeTtft(withBedrock)),
      'two failed Bedrock attempts first',
    );
    await bedrock.clearFaults();
  }
  for (const region of [EAST, WEST]) await bedrock.injectFault({ region, fault: { stallMs: 60_000 } });
  report(
    'both Bedrock regions stalled: runtime vs direct',
    await sample(Math.min(SAMPLES, 10), () => runtimeTtft(withBedrock)),
    `two first-token deadlines of ${FIRST_TOKEN_DEADLINE_MS} ms`,
  );
  await bedrock.clearFaults();

  printTable(['case', 'TTFT p50', 'TTFT p99', 'direct p50', 'ratio', 'note'], rows);
  process.stdout.write('\n');

  const bundle = await bundleBytes({
    'providers code (lambda/agent/providers)': /lambda\/agent\/providers\//,
    'eventsource-parser': /node_modules\/eventsource-parser\//,
    '@aws-sdk/client-secrets-manager': /node_modules\/@aws-sdk\/client-secrets-manager\//,
  });
  const added = Object.values(bundle.parts).reduce((sum, bytes) => sum + bytes, 0);
  const openAiSdk = await sdkBytes(
    "import OpenAI from 'openai'; export const c = (k: string) => new OpenAI({ apiKey: k, maxRetries: 0 }).chat.completions.create({ model: 'x', messages: [], stream: true });",
  );
  const anthropicSdk = await sdkBytes(
    "import Anthropic from '@anthropic-ai/sdk'; export const c = (k: string) => new Anthropic({ apiKey: k, maxRetries: 0 }).messages.create({ model: 'x', max_tokens: 1, messages: [], stream: true });",
  );
  printTable(
    ['runtime bundle (minified)', 'bytes'],
    [
      ['whole bundle', kb(bundle.total)],
      ...Object.entries(bundle.parts).map(([name, bytes]) => [`  of which ${name}`, kb(bytes)]),
      ['  added by outside providers in all', `${kb(added)} (${((added / bundle.total) * 100).toFixed(1)}%)`],
      ['instead: the openai SDK alone (streaming chat)', kb(openAiSdk)],
      ['instead: the @anthropic-ai/sdk alone (streaming messages)', kb(anthropicSdk)],
    ],
  );
  process.stderr.write(`\n${SAMPLES} samples per case (10 for the stall), emulator TTFT ${MODEL_TTFT_MS} ms for Bedrock and OpenAI, Node ${process.version}\n`);

  withBedrock.destroy();
  providerOnly.destroy();
  await providers.close();
  await bedrock.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
