/**
 * The user's agent through the whole runtime: HTTP in, the real Bedrock
 * Runtime and Lambda clients against the emulators, DynamoDB for the
 * state. The agent is the example support agent (its AI SDK tool in code,
 * its Lambda tool run by the Lambda emulator) unless a test brings its own.
 */
import { tool } from 'ai';
import { z } from 'zod';
import supportAgent from '../../examples/support-agent/agent';
import { handler as lookupOrder } from '../../examples/support-agent/order-lookup';
import { defineAgent } from '../../lambda/agent/agent/definition';
import type { LambdaToolSpec } from '../../lambda/agent/agent/asset-layout';
import { validateRuntimeConfig } from '../../lambda/agent/config';
import { AgentServer } from '../../local/agent-server';
import { LambdaEmulator, type LambdaHandler } from '../../local/lambda-emulator';
import type { AgentDefinition } from '../../lambda/agent/agent/definition';
import {
  answerOf,
  CLAUDE,
  EU_CENTRAL,
  EU_WEST,
  euConfig,
  NOVA,
  postMessage,
  readConversation,
  startHarness,
  tableItems,
  type Harness,
  type SseEvent,
} from './harness';

let harness: Harness;
let lambda: LambdaEmulator;
const servers: AgentServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await harness?.close();
  await lambda?.close();
});

const LOOKUP_ORDER_SPEC: LambdaToolSpec = {
  name: 'lookup_order',
  description: 'Looks an order up by its id',
  inputSchema: { type: 'object', properties: { orderId: { type: 'string', pattern: '^NW-\\d{5}$' } }, required: ['orderId'], additionalProperties: false },
  timeoutMs: 5000,
};

/** The EU runtime with an agent; lookup_order is a Lambda function of eu-west-1 unless the agent is given without it. */
async function startAgent(
  agent: AgentDefinition = supportAgent,
  options: { lambdaTool?: boolean; historyBytes?: number; lookupHandler?: LambdaHandler } = {},
): Promise<void> {
  lambda = await LambdaEmulator.start();
  const functionArn = lambda.register('arn:aws:lambda:eu-west-1:123456789012:function:lookup-order', options.lookupHandler ?? (lookupOrder as LambdaHandler));
  const lambdaTools = options.lambdaTool === false ? undefined : { specs: [LOOKUP_ORDER_SPEC], functionArns: { lookup_order: functionArn } };
  harness = await startHarness(
    (emulator, dynamo) => {
      const config = euConfig(
        emulator,
        dynamo,
        options.historyBytes ? { table: { name: 'agent-conversations-eu', homeRegion: EU_WEST, historyBytes: options.historyBytes } } : {},
      );
      return { ...config, endpoints: { ...config.endpoints, lambda: lambda.endpoint } };
    },
    { overrides: { agent, lambdaTools } },
  );
}

const eventsOf = (events: SseEvent[], name: string) => events.filter((event) => event.event === name).map((event) => event.data);
const doneOf = (events: SseEvent[]) => events.find((event) => event.event === 'done')?.data;
const ORDER_QUESTION = 'Where is my order? lookup_order orderId=NW-10042';

test('a message that needs a tool: the model asks for the Lambda tool, the runtime runs it once, and the model answers with its result', async () => {
  await startAgent();

  const result = await postMessage(harness.server.url, 'eu.c-tool', { text: ORDER_QUESTION });

  // THEN the events: start, the tool call with its input and its result, the second step, the answer
  expect(result.events.map((event) => event.event).filter((name) => name !== 'delta')).toEqual(['start', 'tool_call', 'tool_result', 'step', 'done']);
  const [call] = eventsOf(result.events, 'tool_call');
  expect(call).toMatchObject({ name: 'lookup_order', input: { orderId: 'NW-10042' }, step: 1 });
  expect(eventsOf(result.events, 'tool_result')[0]).toMatchObject({ id: call.id, name: 'lookup_order', ok: true, durationMs: expect.any(Number), step: 1 });
  // AND the answer used the function's result, which the Lambda emulator ran once through the real LambdaClient
  const [invocation] = lambda.calls();
  expect(lambda.calls()).toHaveLength(1);
  expect(invocation.payload).toMatchObject({
    tool: 'lookup_order',
    input: { orderId: 'NW-10042' },
    toolUseId: call.id,
    conversationId: 'eu.c-tool',
    caller: 'local-user',
    region: EU_WEST,
  });
  const final = harness.emulator.expectedToolAnswer(CLAUDE, EU_WEST, ORDER_QUESTION, [
    { tool: 'lookup_order', result: await lookupOrder(invocation.payload as never) },
  ]);
  expect(answerOf(result.events)).toBe(`Looking up lookup_order.\n\n${final}`);
  // AND done lists each step with what served it
  expect(doneOf(result.events)).toMatchObject({
    stopReason: 'end_turn',
    stored: true,
    steps: [
      { step: 1, path: 'primary', model: CLAUDE, region: EU_WEST, stopReason: 'tool_use', toolCalls: [{ id: call.id, name: 'lookup_order', ok: true }] },
      { step: 2, path: 'primary', model: CLAUDE, region: EU_WEST, stopReason: 'end_turn', toolCalls: [] },
    ],
  });
  // AND the model's instructions came from the agent (its Markdown file), with a cache point after them
  const firstCall = harness.emulator.calls()[0].request as { system: Array<{ text?: string; cachePoint?: unknown }> };
  expect(firstCall.system[0].text).toContain('Northwind Outfitters');
  expect(harness.output.sum('ToolCalls', ['Region', 'Tool'], { Tool: 'lookup_order' })).toBe(1);
  expect(harness.output.sum('Steps')).toBe(2);
  // AND reading the conversation shows the answer's steps, the tool's input and result included
  const { turns } = await readConversation(harness.server.url, 'eu.c-tool');
  expect((turns[1] as unknown as { steps: unknown[] }).steps[0]).toMatchObject({
    step: 1,
    toolCalls: [{ name: 'lookup_order', ok: true, input: { orderId: 'NW-10042' }, result: { found: true, orderId: 'NW-10042', status: 'shipped' } }],
  });
});

test('a tool written with the AI SDK (the example refund_policy, zod schema) runs unchanged, in the second step of a two-step loop', async () => {
  await startAgent();
  const question =
    'Can I return it? lookup_order orderId=NW-10057 then refund_policy reason=changed-mind category=sleeping-bags daysSinceDelivery=12 opened=true';

  const result = await postMessage(harness.server.url, 'eu.c-two-steps', { text: question });

  const calls = eventsOf(result.events, 'tool_call');
  expect(calls.map((call) => [call.name, call.step])).toEqual([
    ['lookup_order', 1],
    ['refund_policy', 2],
  ]);
  expect(calls[1].input).toEqual({ reason: 'changed-mind', category: 'sleeping-bags', daysSinceDelivery: 12, opened: true });
  expect(answerOf(result.events)).toContain(
    'refund_policy={"eligible":false,"outcome":"none","why":"Opened sleeping bags cannot be returned, for hygiene reasons."}',
  );
  expect(doneOf(result.events)?.steps).toHaveLength(3);
});

test('tools asked for together run in parallel in one step', async () => {
  await startAgent();

  const result = await postMessage(harness.server.url, 'eu.c-parallel', {
    text: 'lookup_order orderId=NW-10063 refund_policy reason=damaged category=tents daysSinceDelivery=1 opened=false',
  });

  const steps = doneOf(result.events)?.steps as Array<{ toolCalls: Array<{ name: string }> }>;
  expect(steps[0].toolCalls.map((call) => call.name).sort()).toEqual(['lookup_order', 'refund_policy']);
  expect(steps).toHaveLength(2);
});

test('a step that falls back mid-loop (regional, then to another model) carries the history over, and no tool runs twice', async () => {
  // GIVEN Claude in eu-west-1 fails step 2, and Claude everywhere fails step 3
  await startAgent();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, step: 2, fault: { status: 503 } });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, step: 3, fault: { status: 503 } });
  harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, step: 3, fault: { status: 503 } });
  const question = 'lookup_order orderId=NW-10057 then refund_policy reason=wrong-size category=socks daysSinceDelivery=40 opened=false';

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-mid-loop', { text: question });

  // THEN the steps name their targets; the answer is degraded once Nova served a step
  const steps = doneOf(result.events)?.steps as Array<{ path: string; region: string; model: string }>;
  expect(steps.map((step) => `${step.path} ${step.model}@${step.region}`)).toEqual([
    `primary ${CLAUDE}@${EU_WEST}`,
    `regional-fallback ${CLAUDE}@${EU_CENTRAL}`,
    `model-fallback ${NOVA}@${EU_WEST}`,
  ]);
  expect(eventsOf(result.events, 'step').map((step) => step.path)).toEqual(['regional-fallback', 'model-fallback']);
  expect(doneOf(result.events)).toMatchObject({ path: 'model-fallback', degraded: true });
  // AND the headers, sent at the first output, named the first step's target
  expect(result.headers.get('x-agent-path')).toBe('primary');
  // AND Nova was sent both rounds of tool use and results, and each tool ran once
  const novaCall = harness.emulator.calls({ modelId: NOVA })[0].request as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
  expect(novaCall.messages.flatMap((message) => message.content.filter((block) => 'toolResult' in block))).toHaveLength(2);
  expect(lambda.calls()).toHaveLength(1);
  expect(harness.output.sum('StepFallbacks')).toBe(2);
  expect(harness.output.sum('ModelFallbacks')).toBe(1);
});

test('maxSteps ends a loop that would not, with a clear final event and the exchange stored', async () => {
  await startAgent(defineAgent({ maxSteps: 3 }));

  const result = await postMessage(harness.server.url, 'eu.c-forever', { text: 'loop_forever lookup_order orderId=NW-10042' });

  expect(doneOf(result.events)).toMatchObject({ stopReason: 'max_steps', stored: true });
  expect(eventsOf(result.events, 'tool_call')).toHaveLength(3);
  expect(harness.emulator.calls()).toHaveLength(3);
  expect(lambda.calls()).toHaveLength(3);
});

test('input that violates the tool schema is an error result for the model, and the function is not invoked', async () => {
  await startAgent();

  const result = await postMessage(harness.server.url, 'eu.c-bad-input', { text: 'lookup_order orderId=12' });

  expect(eventsOf(result.events, 'tool_result')[0]).toMatchObject({ ok: false, error: expect.stringContaining('invalid input for lookup_order') });
  expect(lambda.calls()).toEqual([]);
  expect(answerOf(result.events)).toContain('lookup_order failed');
  expect(doneOf(result.events)).toMatchObject({ stopReason: 'end_turn', stored: true });
  expect(harness.output.sum('ToolErrors', ['Region', 'Tool'], { Tool: 'lookup_order' })).toBe(1);
});

test('a tool function that throws (a Lambda function error) is an error result for the model; the answer goes on and says so', async () => {
  await startAgent(supportAgent, {
    lookupHandler: () => {
      throw new Error('the order store is down');
    },
  });

  const result = await postMessage(harness.server.url, 'eu.c-throws', { text: ORDER_QUESTION });

  expect(eventsOf(result.events, 'tool_result')[0]).toMatchObject({ ok: false, error: 'lookup_order failed: the order store is down' });
  expect(answerOf(result.events)).toContain('lookup_order failed: "lookup_order failed: the order store is down"');
  expect(doneOf(result.events)).toMatchObject({ stopReason: 'end_turn', stored: true });
});

test("a Lambda tool's 300 KB error message (a stack, an HTML page) reaches the events, the model and the store cut to 8 KB", async () => {
  // GIVEN a function failing with a whole error page as its errorMessage
  const page = `<!doctype html><pre>${'at OrderStore.lookup (/var/task/index.js:1:1) "quoted"\n'.repeat(5500)}</pre>`;
  await startAgent(supportAgent, {
    lookupHandler: () => {
      throw new Error(page);
    },
  });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-throws-page', { text: ORDER_QUESTION });

  // THEN the error is cut, marked, within 8 KB of JSON, and the exchange stored
  const [toolResult] = eventsOf(result.events, 'tool_result');
  expect(toolResult).toMatchObject({ ok: false, truncated: true, error: expect.stringContaining('lookup_order failed: <!doctype html>') });
  expect(Buffer.byteLength(JSON.stringify(toolResult.error))).toBeLessThanOrEqual(8192);
  expect(JSON.stringify(harness.emulator.calls()[1].request).length).toBeLessThan(20_000);
  expect(doneOf(result.events)).toMatchObject({ stopReason: 'end_turn', stored: true });
});

test('JSON answers carry the same steps in one body', async () => {
  await startAgent();

  const result = await postMessage(harness.server.url, 'eu.c-json-tools', { text: ORDER_QUESTION }, { accept: 'application/json' });

  expect(result.status).toBe(200);
  expect(result.json).toMatchObject({ stopReason: 'end_turn', steps: [{ toolCalls: [{ name: 'lookup_order', ok: true }] }, { toolCalls: [] }] });
  expect(result.json?.text).toContain('using lookup_order=');
});

test('the next message, in another region of the jurisdiction, gives the model the same history: the tool use and its result', async () => {
  // GIVEN an exchange with a tool call in eu-west-1
  await startAgent();
  await postMessage(harness.server.url, 'eu.c-moves', { text: ORDER_QUESTION });
  const frankfurt = await AgentServer.start({
    config: validateRuntimeConfig({
      ...euConfig(harness.emulator, harness.dynamo),
      region: EU_CENTRAL,
      endpoints: { bedrock: harness.emulator.endpoints, dynamodb: harness.dynamo.endpoint, lambda: lambda.endpoint },
    }),
    overrides: { agent: supportAgent },
  });
  servers.push(frankfurt);
  harness.emulator.clearCalls();

  // WHEN the user's next message reaches eu-central-1
  await postMessage(frankfurt.url, 'eu.c-moves', { text: 'thanks, and when will it arrive?' });

  // THEN the model there was sent the first exchange as it happened
  const sent = harness.emulator.calls()[0].request as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
  expect(sent.messages.map((message) => [message.role, message.content.map((block) => Object.keys(block)[0]).join('+')])).toEqual([
    ['user', 'text'],
    ['assistant', 'text+toolUse'],
    ['user', 'toolResult'],
    ['assistant', 'text'],
    ['user', 'text'],
  ]);
  expect(JSON.stringify(sent.messages[2])).toContain('Ridge rain jacket');
});

test('a large tool result is cut for the model and the store, visibly, and the exchange fits its item', async () => {
  // GIVEN a tool returning 1 MB
  const bulky = defineAgent({
    tools: { lookup_order: tool({ inputSchema: z.object({ orderId: z.string() }), execute: async () => ({ log: 'x'.repeat(1_000_000) }) }) },
  });
  await startAgent(bulky, { lambdaTool: false });

  const result = await postMessage(harness.server.url, 'eu.c-bulky', { text: ORDER_QUESTION });

  expect(eventsOf(result.events, 'tool_result')[0]).toMatchObject({ ok: true, truncated: true });
  expect(doneOf(result.events)).toMatchObject({ stored: true, steps: [{ toolCalls: [{ truncated: true }] }, {}] });
  const items = await tableItems(harness.dynamo);
  const answer = items.find((item) => JSON.stringify(item).includes('truncated'));
  expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(400_000);
});

test('history is bounded by bytes: an old long exchange is left out rather than making every later message too long', async () => {
  await startAgent(supportAgent, { historyBytes: 2000 });
  await postMessage(harness.server.url, 'eu.c-long', { text: `an old question ${'padding '.repeat(400)}` });
  await postMessage(harness.server.url, 'eu.c-long', { text: 'a short one' });
  harness.emulator.clearCalls();

  await postMessage(harness.server.url, 'eu.c-long', { text: 'and now?' });

  const sent = harness.emulator.calls()[0].request as { messages: Array<{ content: Array<{ text?: string }> }> };
  expect(sent.messages.map((message) => message.content[0].text?.split(' ').slice(0, 3).join(' '))).toEqual([
    'a short one',
    expect.stringMatching(/^Answer from/),
    'and now?',
  ]);
  expect((await readConversation(harness.server.url, 'eu.c-long')).turns).toHaveLength(6);
});
