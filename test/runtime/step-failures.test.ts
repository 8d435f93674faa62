/**
 * A model failure is told the same way whichever step of the loop met it:
 * the request's first model call answers with the failure's status and
 * error body; a later step's (the answer has begun, its tools have run)
 * ends the stream with an `error` event carrying the same code and the same
 * `retryable`. Each case runs once with the failure at step 1 and once at
 * step 2, through HTTP, the real Bedrock client and the emulator's faults.
 */
import { z } from 'zod';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import type { RuntimeConfigInput } from '../../lambda/agent/config';
import type { BedrockEmulator } from '../../local/bedrock-emulator';
import { CLAUDE, EU_CENTRAL, EU_WEST, euConfig, NOVA, postMessage, startHarness, type Harness } from './harness';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A stranger's agent: one tool in code, which the emulated model calls at step 1 of the question below. */
const agent = defineAgent({
  tools: {
    check_stock: tool({
      description: 'How many of a product are in stock',
      inputSchema: z.object({ sku: z.string() }),
      execute: ({ sku }) => ({ sku, inStock: 3, checkedAt: new Date('2026-12-06T06:00:00Z'), price: 249.95 }),
    }),
  },
});
const QUESTION = 'Is the tent in stock? check_stock sku=TENT-2P';

interface Case {
  name: string;
  config?: Partial<RuntimeConfigInput>;
  /** Makes the calls of `step` fail. */
  fail(emulator: BedrockEmulator, step: number): void;
  /** Messages sent before the one observed (the retry budget needs a spent window). */
  before?: number;
  code: string;
  retryable: boolean;
}

const everyTarget = (emulator: BedrockEmulator, step: number, fault: { status: number }) => {
  for (const region of [EU_WEST, EU_CENTRAL]) emulator.injectFault({ region, step, fault });
};

const cases: Case[] = [
  { name: 'every target throttles', fail: (emulator, step) => everyTarget(emulator, step, { status: 429 }), code: 'throttled', retryable: true },
  {
    name: 'every target times out (ModelTimeoutException)',
    fail: (emulator, step) => everyTarget(emulator, step, { status: 408 }),
    code: 'all_targets_failed',
    retryable: true,
  },
  {
    name: 'every target denies access (a misconfigured chain: sending again cannot help)',
    fail: (emulator, step) => everyTarget(emulator, step, { status: 403 }),
    code: 'all_targets_failed',
    retryable: false,
  },
  {
    // A primary failing, a fallback throttling, and a budget of 20 % (floor 1) over a minute: the first message spends
    // the window's one fallback call and shows the overload, so the second stops at the budget after its first call.
    name: "the region's fallback budget is spent",
    config: {
      chain: [
        { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
        { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
      ],
      breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
      retryBudget: { ratio: 0.2, minPerWindow: 1, windowMs: 60_000 },
    },
    fail: (emulator, step) => {
      emulator.injectFault({ region: EU_WEST, model: CLAUDE, step, fault: { status: 503 } });
      emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, step, fault: { status: 429 } });
    },
    before: 1,
    code: 'fallback_budget_spent',
    retryable: true,
  },
];

/** A fresh runtime, with `failure` at `step`, and the messages sent before the observed one. */
async function runtimeFailingAt(failure: Case, step: number): Promise<string> {
  harness = await startHarness((emulator, dynamo) => euConfig(emulator, dynamo, failure.config), { overrides: { agent } });
  failure.fail(harness.emulator, step);
  for (let index = 0; index < (failure.before ?? 0); index += 1) await postMessage(harness.server.url, `eu.c-before-${index}`, { text: QUESTION });
  return harness.server.url;
}

async function restart(): Promise<void> {
  await harness?.close();
  harness = undefined;
}

/** The code and `retryable` a message gets when its `step` fails: from the error body at step 1, from the `error` event later. */
async function failureAt(failure: Case, step: number): Promise<{ code: unknown; retryable: unknown; status: number; events: string[] }> {
  const result = await postMessage(await runtimeFailingAt(failure, step), 'eu.c-observed', { text: QUESTION });
  const error = result.json?.error ?? result.events.find((event) => event.event === 'error')?.data;
  const { code, retryable } = error as { code?: unknown; retryable?: unknown };
  return { code, retryable, status: result.status, events: result.events.map((event) => event.event).filter((name) => name !== 'delta') };
}

/** The same, with the answer asked for as the AI SDK's UI message stream: its `data-agent-error` chunk. */
async function uiStreamFailureAt(failure: Case, step: number): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${await runtimeFailingAt(failure, step)}/v1/conversations/eu.c-observed/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-vercel-ai-ui-message-stream': 'v1' },
    body: JSON.stringify({ text: QUESTION }),
  });
  const chunks = (await response.text())
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as { type: string; data?: Record<string, unknown> });
  return chunks.find((chunk) => chunk.type === 'data-agent-error')?.data;
}

test.each(cases)('$name: a failure at step 2 carries the code and retryable a failure at step 1 does', async (failure) => {
  // GIVEN the failure at the request's first model call
  const atFirst = await failureAt(failure, 1);
  await restart();

  // WHEN the same failure meets the second step, after the tool ran (as events, then as the UI message stream)
  const atSecond = await failureAt(failure, 2);
  await restart();
  const inUiStream = await uiStreamFailureAt(failure, 2);

  // THEN the first is an error answer; the second ends a begun answer with an error event; both say the same
  expect(atFirst.events).toEqual([]);
  expect(atSecond.status).toBe(200);
  expect(atSecond.events).toEqual(['start', 'tool_call', 'tool_result', 'error']);
  expect({ code: atSecond.code, retryable: atSecond.retryable }).toEqual({ code: failure.code, retryable: failure.retryable });
  expect({ code: atFirst.code, retryable: atFirst.retryable }).toEqual({ code: failure.code, retryable: failure.retryable });
  expect(inUiStream).toMatchObject({ code: failure.code, retryable: failure.retryable });
});

test("a later step's failure names the step in its message, after every target of the chain was tried for it", async () => {
  // GIVEN the default chain (Claude in two regions, then Nova), every target throttling at step 2
  harness = await startHarness((emulator, dynamo) => euConfig(emulator, dynamo), { overrides: { agent } });
  for (const model of [CLAUDE, NOVA])
    for (const region of [EU_WEST, EU_CENTRAL]) harness.emulator.injectFault({ region, model, step: 2, fault: { status: 429 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-step-2', { text: QUESTION });

  // THEN the error event says which step no target could serve, after every target of the chain was tried for it
  const error = result.events.find((event) => event.event === 'error')?.data;
  expect(error).toMatchObject({ code: 'throttled', retryable: true, message: expect.stringMatching(/^step 2: every model target is throttling/) });
  expect(
    harness.emulator
      .calls()
      .filter((call) => call.step === 2)
      .map((call) => `${call.modelId}@${call.region}`),
  ).toEqual([`${CLAUDE}@${EU_WEST}`, `${CLAUDE}@${EU_CENTRAL}`, `${NOVA}@${EU_WEST}`]);
});
