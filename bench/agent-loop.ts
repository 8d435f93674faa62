/**
 * Agent-loop benchmark: what the runtime's tool loop costs per step over a
 * direct tool loop written with the SDK, both against the same Bedrock
 * emulator (in a child process, so it does not share their event loop), in
 * the same run; and the size of the code asset with the example agent.
 *
 *   npm run bench:agent-loop          (about a minute)
 *
 * One message asks for a tool five times in a row, then for the answer: six
 * model calls, five tool runs. The direct loop is the least a client can do:
 * ConverseStream, collect the tool uses from the stream, run the tool, send
 * the results, again. The runtime's loop adds its fallback chain (ordering,
 * breakers, deadlines), the tool runner (schema validation, timeouts,
 * bounding the result), the assembly of each step's message, and the events
 * it reports; not the state, which the runtime benchmark measures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BedrockRuntimeClient, ConverseStreamCommand, type ContentBlock, type Message } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { createExampleApp } from '../bin/app';
import { AgentLoop, type LoopHooks } from '../lambda/agent/agent/agent-loop';
import { defineAgent } from '../lambda/agent/agent/definition';
import { ToolRunner } from '../lambda/agent/agent/tool-runner';
import { BedrockClients, bedrockInvoker } from '../lambda/agent/bedrock';
import { CircuitBreakers } from '../lambda/agent/chain/circuit-breaker';
import { FallbackChain } from '../lambda/agent/chain/fallback-chain';
import { LatencyTracker } from '../lambda/agent/chain/latency-tracker';
import { systemClock } from '../lambda/agent/chain/types';
import { LOCAL_CREDENTIALS } from '../local/dynamodb';
import { hostEmulators } from './emulator-host';

const CLAUDE = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';
const REGION = 'eu-west-1';
const MODEL_TTFT_MS = 20;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);
const TOOL_STEPS = 5;
const QUESTION = Array.from({ length: TOOL_STEPS }, (_, index) => `echo n=${index + 1}`).join(' then ');
const MODEL_CALLS = TOOL_STEPS + 1;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ECHO_SCHEMA = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false };
const echo = (input: unknown) => ({ echoed: input });

/** The least a client does: stream, collect tool uses, run them, send the results, until the model ends its turn. */
async function directLoop(bedrock: BedrockRuntimeClient): Promise<number> {
  const started = performance.now();
  const messages: Message[] = [{ role: 'user', content: [{ text: QUESTION }] }];
  const toolConfig = { tools: [{ toolSpec: { name: 'echo', description: 'Echoes its input', inputSchema: { json: ECHO_SCHEMA } } }] };
  for (;;) {
    const output = await bedrock.send(new ConverseStreamCommand({ modelId: CLAUDE, messages, toolConfig: toolConfig as never }));
    const content: ContentBlock[] = [];
    let input = '';
    let use: { toolUseId: string; name: string } | undefined;
    let text = '';
    let stopReason: string | undefined;
    for await (const event of output.stream!) {
      if (event.contentBlockStart?.start?.toolUse)
        use = { toolUseId: event.contentBlockStart.start.toolUse.toolUseId!, name: event.contentBlockStart.start.toolUse.name! };
      else if (event.contentBlockDelta?.delta?.toolUse) input += event.contentBlockDelta.delta.toolUse.input ?? '';
      else if (event.contentBlockDelta?.delta?.text) text += event.contentBlockDelta.delta.text;
      else if (event.contentBlockStop && use) {
        content.push({ toolUse: { ...use, input: JSON.parse(input || '{}') } });
        use = undefined;
        input = '';
      } else if (event.messageStop) stopReason = event.messageStop.stopReason;
    }
    if (text) content.unshift({ text });
    messages.push({ role: 'assistant', content });
    if (stopReason !== 'tool_use') return performance.now() - started;
    const results = content.flatMap((block) =>
      block.toolUse ? [{ toolResult: { toolUseId: block.toolUse.toolUseId, content: [{ json: echo(block.toolUse.input) as never }] } }] : [],
    );
    messages.push({ role: 'user', content: results });
  }
}

/** The runtime's loop: its chain (one primary target), its tool runner and its Bedrock invoker, without HTTP or state. */
function runtimeLoop(endpoints: Record<string, string>): { run(): Promise<number>; close(): void } {
  const clients = new BedrockClients({ connectTimeoutMs: 1000, streamIdleTimeoutMs: 10_000, endpoints, credentials: LOCAL_CREDENTIALS });
  const chain = new FallbackChain({
    targets: [{ modelId: CLAUDE, region: REGION, tier: 'primary' }],
    jurisdiction: { name: 'eu', regions: [REGION], geography: 'eu', restricted: true },
    firstTokenTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    invoke: bedrockInvoker(clients),
    breakers: new CircuitBreakers({ failureThreshold: 3, cooldownMs: 30_000 }, systemClock),
    latency: new LatencyTracker(20),
    clock: systemClock,
    reporter: { targetFailed: () => undefined, breakerOpened: () => undefined, residencyRefused: () => undefined },
  });
  const agent = defineAgent({ tools: { echo: { description: 'Echoes its input', inputSchema: ECHO_SCHEMA, execute: echo } }, maxSteps: MODEL_CALLS });
  const tools = new ToolRunner(agent.tools, { resultBytes: 32_768, clock: systemClock, reporter: { toolCompleted: () => undefined } });
  const loop = new AgentLoop(chain, tools);
  const hooks: LoopHooks = {
    onFirstOutput: async () => undefined,
    onStep: () => undefined,
    onText: () => undefined,
    onToolCall: () => undefined,
    onToolResult: () => undefined,
  };
  return {
    run: async () => {
      const started = performance.now();
      const outcome = await loop.run(
        {
          history: [],
          text: QUESTION,
          maxTokens: 1024,
          maxSteps: MODEL_CALLS,
          budgetEnd: Date.now() + 60_000,
          signal: new AbortController().signal,
          toolContext: { conversationId: 'eu.bench', caller: 'bench', region: REGION },
        },
        hooks,
      );
      if (outcome.kind !== 'answered' || outcome.steps.length !== MODEL_CALLS)
        throw new Error(`the loop ended ${outcome.kind} after ${'steps' in outcome ? outcome.steps.length : 0} steps`);
      return performance.now() - started;
    },
    close: () => clients.destroy(),
  };
}

const median = (values: number[]) => values[Math.floor(values.length / 2)];
const p90 = (values: number[]) => values[Math.min(values.length - 1, Math.floor(values.length * 0.9))];
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** The example app's EU runtime asset, synthesized with bundling as `cdk synth` does: its files' sizes. */
function assetSizes(): Array<[string, number]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-agent-asset-'));
  try {
    process.env.CDK_OUTDIR = outdir;
    createExampleApp().app.synth();
    type FunctionResource = { Type: string; Properties: { Code?: { S3Key?: string }; Environment?: { Variables?: Record<string, unknown> } } };
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'support-agent-eu-west-1.template.json'), 'utf8')) as {
      Resources: Record<string, FunctionResource>;
    };
    const fn = Object.values(template.Resources).find(
      (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment?.Variables?.AGENT_CONFIG,
    )!;
    const directory = path.join(outdir, `asset.${String(fn.Properties.Code?.S3Key).replace(/\.zip$/, '')}`);
    return fs.readdirSync(directory).map((file) => [file, fs.statSync(path.join(directory, file)).size]);
  } finally {
    delete process.env.CDK_OUTDIR;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const emulators = await hostEmulators({ regions: [REGION], firstTokenDelayMs: MODEL_TTFT_MS, tables: [] });
  const direct = new BedrockRuntimeClient({
    region: REGION,
    endpoint: emulators.bedrock[REGION],
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
    // The same HTTP/2 transport as the runtime's clients.
    requestHandler: new NodeHttp2Handler({ requestTimeout: 10_000, sessionTimeout: 300_000 }),
  });
  const runtime = runtimeLoop(emulators.bedrock);
  try {
    // Interleaved, so that both see the same machine load.
    const directTimes: number[] = [];
    const loopTimes: number[] = [];
    for (let warmup = 0; warmup < 5; warmup++) {
      await directLoop(direct);
      await runtime.run();
    }
    for (let index = 0; index < SAMPLES; index++) {
      directTimes.push(await directLoop(direct));
      loopTimes.push(await runtime.run());
    }
    directTimes.sort((a, b) => a - b);
    loopTimes.sort((a, b) => a - b);
    const perStep = (median(loopTimes) - median(directTimes)) / MODEL_CALLS;
    const lines = [
      `| case | median | p90 | per model call (median) |`,
      `|---|---|---|---|`,
      `| direct SDK tool loop (${MODEL_CALLS} model calls, ${TOOL_STEPS} tool runs) | ${ms(median(directTimes))} | ${ms(p90(directTimes))} | ${ms(median(directTimes) / MODEL_CALLS)} |`,
      `| runtime's agent loop, same message | ${ms(median(loopTimes))} | ${ms(p90(loopTimes))} | ${ms(median(loopTimes) / MODEL_CALLS)} |`,
      `| the loop's own cost per step | | | ${ms(perStep)} (target ≤ 2 ms) |`,
      '',
      `${SAMPLES} samples each, interleaved; emulated model ${MODEL_TTFT_MS} ms to first token; Node ${process.version}`,
      '',
      '| file of the code asset (example agent) | size |',
      '|---|---|',
      ...assetSizes().map(([file, bytes]) => `| ${file} | ${(bytes / 1024).toFixed(0)} KB |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    runtime.close();
    direct.destroy();
    await emulators.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
