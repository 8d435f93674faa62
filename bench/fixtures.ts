/** What the runtime benchmarks share: the EU chain on the emulators, quiet output, and a message sent through a runtime in process. */
import { randomUUID } from 'node:crypto';
import type { ChainTarget, RuntimeConfigInput } from '../lambda/agent/config';
import type { AgentRuntime } from '../lambda/agent/runtime';
import { tapRuntimeOutput } from '../local/metrics-board';
import type { HostedEmulators } from './emulator-host';

export const CLAUDE = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';
export const NOVA = 'eu.amazon.nova-pro-v1:0';
export const PRIMARY = 'eu-west-1';
export const FALLBACK = 'eu-central-1';
export const TABLE = 'bench-conversations';
export const QUESTION = 'how far is the moon';

/** Claude here, Claude in the other region, then Nova here (degraded). */
export const EU_CHAIN: ChainTarget[] = [
  { modelId: CLAUDE, region: PRIMARY, tier: 'primary' },
  { modelId: CLAUDE, region: FALLBACK, tier: 'regional-fallback' },
  { modelId: NOVA, region: PRIMARY, tier: 'model-fallback' },
];

/** The EU runtime in eu-west-1 on the hosted emulators, with `settings` over its defaults. */
export function euRuntimeConfig(emulators: HostedEmulators, settings: Partial<RuntimeConfigInput> = {}): RuntimeConfigInput {
  return {
    region: PRIMARY,
    jurisdiction: { name: 'eu', regions: [PRIMARY, FALLBACK], geography: 'eu', restricted: true },
    chain: EU_CHAIN,
    table: { name: TABLE, homeRegion: PRIMARY },
    endpoints: { bedrock: emulators.bedrock, dynamodb: emulators.dynamodb },
    ...settings,
  };
}

/** Keeps the runtime's JSON logs and EMF records (written as they would be in Lambda) out of the report. */
export function quietRuntimeOutput(logLevel = 'WARN'): void {
  tapRuntimeOutput(() => undefined);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= logLevel;
}

/** One message through the runtime's HTTP app in process, to a new conversation; resolves with the status. */
export async function sendMessage(runtime: AgentRuntime, onChunk: (chunk: string) => void = () => undefined): Promise<number> {
  let status = 0;
  await runtime.app.handle(
    {
      method: 'POST',
      path: `/v1/conversations/eu.bench-${randomUUID()}/messages`,
      headers: {},
      body: Buffer.from(JSON.stringify({ text: QUESTION })),
      caller: { arn: 'bench' },
      requestId: randomUUID(),
      remainingTimeMs: () => 60_000,
    },
    { start: (code) => (status = code), write: onChunk, end: () => undefined },
  );
  return status;
}
