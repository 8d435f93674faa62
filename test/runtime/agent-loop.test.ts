/**
 * The agent loop as a unit: a real fallback chain and tool runner, a model
 * scripted per target and step, no HTTP and no SDK.
 */
import { z } from 'zod';
import { AgentLoop, type LoopHooks, type LoopOutcome } from '../../lambda/agent/agent/agent-loop';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import { ToolRunner } from '../../lambda/agent/agent/tool-runner';
import { CircuitBreakers } from '../../lambda/agent/chain/circuit-breaker';
import { FallbackChain } from '../../lambda/agent/chain/fallback-chain';
import { LatencyTracker } from '../../lambda/agent/chain/latency-tracker';
import { targetKey, type ChatMessage, type InvokeTarget, type ModelEvent, type ModelRequest } from '../../lambda/agent/chain/types';
import type { ChainTarget, JurisdictionConfig } from '../../lambda/agent/config';

const EU: JurisdictionConfig = { name: 'eu', regions: ['eu-west-1', 'eu-central-1'], geography: 'eu', restricted: true };
const primary: ChainTarget = { modelId: 'eu.anthropic.claude', region: 'eu-west-1', tier: 'primary' };
const frankfurt: ChainTarget = { modelId: 'eu.anthropic.claude', region: 'eu-central-1', tier: 'regional-fallback' };
const nova: ChainTarget = { modelId: 'eu.amazon.nova', region: 'eu-west-1', tier: 'model-fallback' };
const clock = { now: () => Date.now() };

/** What a scripted model does on one call: use tools, answer, or fail before its first output. */
type Turn = { tools: Array<{ id: string; name: string; input: unknown }>; text?: string } | { answer: string } | { fail: string };

interface Call {
  target: string;
  request: ModelRequest;
}

/** A model scripted by (target, step): step = 1 + the number of tool-result messages since the question. */
function scriptedModel(script: (target: ChainTarget, step: number) => Turn, calls: Call[]): InvokeTarget {
  return async function* (target, request): AsyncGenerator<ModelEvent> {
    calls.push({ target: targetKey(target), request });
    const step = 1 + request.messages.filter((message) => message.content.some((block) => block.type === 'toolResult')).length;
    const turn = script(target, step);
    if ('fail' in turn) throw Object.assign(new Error(turn.fail), { name: turn.fail, $metadata: { httpStatusCode: 503 } });
    if ('answer' in turn) {
      yield { type: 'delta', text: turn.answer };
      yield { type: 'stop', stopReason: 'end_turn' };
      return;
    }
    if (turn.text) yield { type: 'delta', text: turn.text };
    for (const use of turn.tools) {
      yield { type: 'blockStop' };
      yield { type: 'toolUse', toolUseId: use.id, name: use.name };
      const json = JSON.stringify(use.input);
      yield { type: 'toolInput', input: json.slice(0, 3) };
      yield { type: 'toolInput', input: json.slice(3) };
      yield { type: 'blockStop' };
    }
    yield { type: 'stop', stopReason: 'tool_use' };
    yield { type: 'usage', inputTokens: 10, outputTokens: 5 };
  };
}

function loopOf(targets: ChainTarget[], invoke: InvokeTarget, tools: Parameters<typeof defineAgent>[0]['tools'], resultBytes = 32_768) {
  const chain = new FallbackChain({
    targets,
    jurisdiction: EU,
    firstTokenTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    invoke,
    breakers: new CircuitBreakers({ failureThreshold: 3, cooldownMs: 30_000 }, clock),
    latency: new LatencyTracker(10),
    clock,
    reporter: { targetFailed: () => undefined, breakerOpened: () => undefined, residencyRefused: () => undefined },
  });
  const toolCalls: string[] = [];
  const runner = new ToolRunner(defineAgent({ tools }).tools, {
    resultBytes,
    clock,
    reporter: { toolCompleted: (name, ok) => toolCalls.push(`${name}:${ok}`) },
  });
  return { loop: new AgentLoop(chain, runner), toolCalls };
}

interface Seen {
  events: string[];
  text: string;
}

async function run(loop: AgentLoop, options: { maxSteps?: number; budgetMs?: number } = {}): Promise<{ outcome: LoopOutcome; seen: Seen }> {
  const seen: Seen = { events: [], text: '' };
  const hooks: LoopHooks = {
    onFirstOutput: async (target) => void seen.events.push(`start:${targetKey(target)}`),
    onStep: (step, target) => seen.events.push(`step ${step}:${targetKey(target)}`),
    onText: (text) => void (seen.text += text),
    onToolCall: (call) => seen.events.push(`call ${call.name}#${call.id}`),
    onToolResult: (result) => seen.events.push(`result ${result.name}#${result.id}:${result.ok ? 'ok' : result.error}`),
  };
  const outcome = await loop.run(
    {
      history: [],
      text: 'where is my order?',
      maxTokens: 100,
      maxSteps: options.maxSteps ?? 10,
      budgetEnd: Date.now() + (options.budgetMs ?? 10_000),
      signal: new AbortController().signal,
      toolContext: { conversationId: 'eu.c-1', caller: 'alice', region: 'eu-west-1' },
    },
    hooks,
  );
  return { outcome, seen };
}

const lookupOrder = (onRun: () => void = () => undefined) =>
  tool({
    description: 'Look an order up',
    inputSchema: z.object({ orderId: z.string() }),
    execute: ({ orderId }) => {
      onRun();
      return { orderId, status: 'shipped' };
    },
  });

/** The tool results the model was sent in a request, as [id, status, content]. */
function resultsSent(request: ModelRequest): Array<[string, string, unknown]> {
  return request.messages.flatMap((message: ChatMessage) =>
    message.content.flatMap((block) => (block.type === 'toolResult' ? [[block.toolUseId, block.status, block.content[0]] as [string, string, unknown]] : [])),
  );
}

test('a two-step loop: the model asks for a tool, gets its result, and answers', async () => {
  // GIVEN
  const calls: Call[] = [];
  const model = scriptedModel(
    (_target, step) =>
      step === 1 ? { text: 'Let me look.', tools: [{ id: 't1', name: 'lookup_order', input: { orderId: 'A-1' } }] } : { answer: 'It shipped.' },
    calls,
  );
  const { loop } = loopOf([primary], model, { lookup_order: lookupOrder() });

  // WHEN
  const { outcome, seen } = await run(loop);

  // THEN two model calls, the second carrying the tool use and its result
  expect(outcome).toMatchObject({ kind: 'answered', stopReason: 'end_turn', text: 'Let me look.\n\nIt shipped.' });
  expect(seen.events).toEqual([`start:${targetKey(primary)}`, 'call lookup_order#t1', 'result lookup_order#t1:ok', `step 2:${targetKey(primary)}`]);
  expect(seen.text).toBe('Let me look.\n\nIt shipped.');
  expect(calls).toHaveLength(2);
  expect(calls[1].request.messages.map((message) => [message.role, message.content.map((block) => block.type)])).toEqual([
    ['user', ['text']],
    ['assistant', ['text', 'toolUse']],
    ['user', ['toolResult']],
  ]);
  expect(resultsSent(calls[1].request)).toEqual([['t1', 'success', { json: { orderId: 'A-1', status: 'shipped' } }]]);
  expect(calls[0].request.tools).toEqual([{ name: 'lookup_order', description: 'Look an order up', inputSchema: expect.objectContaining({ type: 'object' }) }]);
});

test('several tools asked for at once run in parallel', async () => {
  // GIVEN two tools that each take 200 ms and note when they start and end
  const timeline: string[] = [];
  const slow = (name: string) =>
    tool({
      inputSchema: z.object({}),
      execute: async () => {
        timeline.push(`${name} started`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        timeline.push(`${name} ended`);
        return name;
      },
    });
  const model = scriptedModel(
    (_target, step) =>
      step === 1
        ? {
            tools: [
              { id: 'a', name: 'first', input: {} },
              { id: 'b', name: 'second', input: {} },
            ],
          }
        : { answer: 'done' },
    [],
  );
  const { loop } = loopOf([primary], model, { first: slow('first'), second: slow('second') });

  // WHEN
  const { outcome } = await run(loop);

  // THEN both had started before either ended
  expect(outcome.kind).toBe('answered');
  expect(timeline.slice(0, 2).sort()).toEqual(['first started', 'second started']);
});

test('a step that falls back (regionally, then to another model) gets the whole history and no tool runs again', async () => {
  // GIVEN the primary fails from step 2 on, and then the regional fallback too at step 3
  const calls: Call[] = [];
  let runs = 0;
  const model = scriptedModel((target, step) => {
    if (step === 2 && target === primary) return { fail: 'ServiceUnavailableException' };
    if (step === 3 && target.modelId === primary.modelId) return { fail: 'ServiceUnavailableException' };
    if (step < 3) return { tools: [{ id: `t${step}`, name: 'lookup_order', input: { orderId: `A-${step}` } }] };
    return { answer: 'All done.' };
  }, calls);
  const { loop } = loopOf([primary, frankfurt, nova], model, { lookup_order: lookupOrder(() => (runs += 1)) });

  // WHEN
  const { outcome, seen } = await run(loop);

  // THEN step 2 came from Frankfurt and step 3 from Nova, each sent both tool results, and each tool ran once
  expect(outcome.kind).toBe('answered');
  if (outcome.kind !== 'answered') return;
  expect(outcome.steps.map((step) => targetKey(step.target))).toEqual([targetKey(primary), targetKey(frankfurt), targetKey(nova)]);
  expect(seen.events.filter((event) => event.startsWith('step'))).toEqual([`step 2:${targetKey(frankfurt)}`, `step 3:${targetKey(nova)}`]);
  expect(runs).toBe(2);
  const novaCall = calls.find((call) => call.target === targetKey(nova))!;
  expect(resultsSent(novaCall.request).map(([id]) => id)).toEqual(['t1', 't2']);
});

test('a tool-use id the model repeats in a later step is not run again', async () => {
  let runs = 0;
  const model = scriptedModel(
    (_target, step) => (step <= 2 ? { tools: [{ id: 'same', name: 'lookup_order', input: { orderId: 'A-1' } }] } : { answer: 'ok' }),
    [],
  );
  const { loop } = loopOf([primary], model, { lookup_order: lookupOrder(() => (runs += 1)) });

  const { outcome } = await run(loop);

  expect(outcome.kind).toBe('answered');
  expect(runs).toBe(1);
});

test('a tool-use id repeated within one reply runs once, and both uses get its result', async () => {
  // GIVEN a model that repeats one id in a single reply (the parallel run must not start it twice)
  let runs = 0;
  const calls: Call[] = [];
  const twice = { id: 'dup', name: 'lookup_order', input: { orderId: 'A-1' } };
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [twice, twice] } : { answer: 'ok' }), calls);
  const { loop } = loopOf([primary], model, { lookup_order: lookupOrder(() => (runs += 1)) });

  // WHEN
  const { outcome, seen } = await run(loop);

  // THEN
  expect(outcome.kind).toBe('answered');
  expect(runs).toBe(1);
  expect(seen.events.filter((event) => event.startsWith('call '))).toEqual(['call lookup_order#dup']);
  expect(resultsSent(calls[1].request).map(([id, status]) => [id, status])).toEqual([
    ['dup', 'success'],
    ['dup', 'success'],
  ]);
});

test('maxSteps ends a loop that would go on forever, with stop reason max_steps, after the last step’s tools ran', async () => {
  let runs = 0;
  const model = scriptedModel((_target, step) => ({ tools: [{ id: `t${step}`, name: 'lookup_order', input: { orderId: 'A-1' } }] }), []);
  const { loop } = loopOf([primary], model, { lookup_order: lookupOrder(() => (runs += 1)) });

  const { outcome } = await run(loop, { maxSteps: 3 });

  expect(outcome).toMatchObject({ kind: 'answered', stopReason: 'max_steps' });
  if (outcome.kind === 'answered') expect(outcome.steps).toHaveLength(3);
  expect(runs).toBe(3);
});

test.each([
  ['throws', { inputSchema: z.object({}), execute: () => Promise.reject(new Error('database down')) }, {}, /failed: database down/],
  ['outlives its timeout', { inputSchema: z.object({}), timeoutMs: 50, execute: () => new Promise(() => undefined) }, {}, /did not finish within 50 ms/],
  [
    'gets input that violates its schema',
    { inputSchema: z.object({ quantity: z.number() }), execute: () => 1 },
    { quantity: 'many' },
    /invalid input for t: quantity: /,
  ],
  ['returns what is not JSON', { inputSchema: z.object({}), execute: () => ({ big: BigInt(1) }) }, {}, /result is not JSON/],
])('a tool that %s is an error result for the model, and the loop goes on', async (_case, definition, input, message) => {
  // GIVEN
  const calls: Call[] = [];
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'x', name: 't', input }] } : { answer: 'I could not look that up.' }), calls);
  const { loop, toolCalls } = loopOf([primary], model, { t: definition as never });

  // WHEN
  const { outcome, seen } = await run(loop);

  // THEN the model was told, and answered
  expect(outcome).toMatchObject({ kind: 'answered', text: 'I could not look that up.' });
  const [[, status, content]] = resultsSent(calls[1].request);
  expect(status).toBe('error');
  expect((content as { text: string }).text).toMatch(message);
  expect(seen.events.find((event) => event.startsWith('result'))).toMatch(message);
  expect(toolCalls).toEqual(['t:false']);
});

test('a tool the model names but the agent does not have is an error result', async () => {
  const calls: Call[] = [];
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'x', name: 'delete_everything', input: {} }] } : { answer: 'ok' }), calls);
  const { loop } = loopOf([primary], model, { lookup_order: lookupOrder() });

  await run(loop);

  expect(resultsSent(calls[1].request)).toEqual([['x', 'error', { text: "there is no tool named 'delete_everything'; the tools are lookup_order" }]]);
});

test('a result over the limit is cut, and the model is told it was', async () => {
  const calls: Call[] = [];
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'x', name: 'big', input: {} }] } : { answer: 'ok' }), calls);
  const { loop } = loopOf([primary], model, { big: tool({ inputSchema: z.object({}), execute: () => ({ rows: 'x'.repeat(5000) }) }) }, 1024);

  const { outcome } = await run(loop);

  const [[, status, content]] = resultsSent(calls[1].request);
  expect(status).toBe('success');
  expect(content).toMatchObject({ json: { truncated: true, originalBytes: Buffer.byteLength(JSON.stringify({ rows: 'x'.repeat(5000) })) } });
  expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThanOrEqual(1024);
  if (outcome.kind === 'answered') expect(outcome.steps[0].tools[0]).toMatchObject({ truncated: true });
});

test('a cut result fits the limit once encoded, even when its JSON is mostly escapes', async () => {
  // GIVEN a result of quotes and newlines, whose JSON doubles when encoded again
  const calls: Call[] = [];
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'q', name: 'quotes', input: {} }] } : { answer: 'ok' }), calls);
  const { loop } = loopOf([primary], model, { quotes: tool({ inputSchema: z.object({}), execute: () => ({ page: '"\n\\'.repeat(3000) }) }) }, 1024);

  // WHEN
  await run(loop);

  // THEN the result the model was sent, as JSON, is within the limit
  const [[, , content]] = resultsSent(calls[1].request);
  expect(content).toMatchObject({ json: { truncated: true } });
  expect(Buffer.byteLength(JSON.stringify(content))).toBeLessThanOrEqual(1024);
});

test('a result with a Date is given to the model and kept as its JSON (an ISO string), which DynamoDB can store', async () => {
  // GIVEN a tool returning what tools really return: a Date, a decimal, nested objects
  const calls: Call[] = [];
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'd', name: 'when', input: {} }] } : { answer: 'ok' }), calls);
  const shippedAt = new Date('2026-12-06T10:00:00Z');
  const { loop } = loopOf([primary], model, {
    when: tool({ inputSchema: z.object({}), execute: () => ({ shippedAt, price: 19.99, box: { at: shippedAt } }) }),
  });

  // WHEN
  const { outcome } = await run(loop);

  // THEN the model and the stored step see the same plain JSON
  const json = { shippedAt: '2026-12-06T10:00:00.000Z', price: 19.99, box: { at: '2026-12-06T10:00:00.000Z' } };
  expect(resultsSent(calls[1].request)).toEqual([['d', 'success', { json }]]);
  expect(outcome.kind === 'answered' && outcome.steps[0].tools[0].result).toEqual(json);
});

test('the request budget bounds the tools too: a tool gets what is left of it, not its own longer timeout', async () => {
  const model = scriptedModel((_target, step) => (step === 1 ? { tools: [{ id: 'x', name: 'slow', input: {} }] } : { answer: 'ok' }), []);
  const { loop } = loopOf([primary], model, { slow: tool({ inputSchema: z.object({}), timeoutMs: 60_000, execute: () => new Promise(() => undefined) }) });

  const { seen } = await run(loop, { budgetMs: 300 });

  expect(seen.events.find((event) => event.startsWith('result'))).toMatch(/did not finish within \d+ ms/);
});

test('a later step that no target can serve ends the begun answer with the failure, keeping the steps so far', async () => {
  const model = scriptedModel(
    (_target, step) =>
      step === 1 ? { text: 'Checking.', tools: [{ id: 'x', name: 'lookup_order', input: { orderId: 'A-1' } }] } : { fail: 'ServiceUnavailableException' },
    [],
  );
  const { loop } = loopOf([primary, frankfurt], model, { lookup_order: lookupOrder() });

  const { outcome } = await run(loop);

  expect(outcome).toMatchObject({ kind: 'interrupted', code: 'all_targets_failed', status: 503, text: 'Checking.' });
  if (outcome.kind === 'interrupted') expect(outcome.steps).toHaveLength(1);
});
