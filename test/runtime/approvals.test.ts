/**
 * Tool approvals across the regions of a jurisdiction: an answer pauses
 * before a tool that needs approval, and the owner's answer resumes it in
 * whichever region takes it. Two runtimes (eu-west-1 and eu-central-1) over
 * one embedded DynamoDB table, the real SDK clients against the Bedrock
 * emulator, and an agent of this test's own: a refund that needs approval
 * (counting its runs), a lookup that does not.
 */
import { z } from 'zod';
import { AgentServer } from '../../local/agent-server';
import { LambdaEmulator } from '../../local/lambda-emulator';
import type { LambdaToolEvent } from '../../lambda/agent/agent/asset-layout';
import { validateRuntimeConfig } from '../../lambda/agent/config';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import {
  CLAUDE,
  EU_CENTRAL,
  EU_WEST,
  euConfig,
  parseSse,
  postMessage,
  readConversation,
  startHarness,
  tableItems,
  type Harness,
  type SseEvent,
} from './harness';

const DAY_MS = 86_400_000;
const OTHER_OWNER = 'arn:aws:iam::123456789012:role/someone-else';

let harness: Harness;
let frankfurt: AgentServer;
let lambda: LambdaEmulator;
/** What the Lambda tool cancel_subscription was invoked with. */
const cancellations: LambdaToolEvent[] = [];
/** Frankfurt's clock runs this far ahead: an approval answered there can be past its expiry. */
let frankfurtAheadMs = 0;
const refunds: Array<{ orderId: string; cents: number; region: string }> = [];
/** Held refunds finish when released: two answers racing are both in flight while the first runs. */
let refundGate: Promise<void> = Promise.resolve();

const agent = defineAgent({
  tools: {
    refund_order: tool({
      description: 'Refunds an order',
      inputSchema: z.object({ orderId: z.string(), cents: z.number().int() }),
      // Per call: refunds of 100 cents or more wait for the owner.
      needsApproval: async ({ cents }) => cents >= 100,
      execute: async ({ orderId, cents }, context) => {
        await refundGate;
        refunds.push({ orderId, cents, region: context.region });
        return { refunded: cents, at: new Date('2026-12-06T10:00:00Z'), amount: 12.5 };
      },
    }),
    lookup_order: tool({
      description: 'Looks an order up',
      inputSchema: z.object({ orderId: z.string() }),
      execute: async ({ orderId }) => ({ orderId, status: 'delivered' }),
    }),
  },
});

beforeAll(async () => {
  lambda = await LambdaEmulator.start();
  const functionArn = lambda.register('arn:aws:lambda:eu-west-1:123456789012:function:cancel', async (event: unknown) => {
    cancellations.push(event as LambdaToolEvent);
    return { cancelled: true };
  });
  // A Lambda tool that needs approval, as AgentTool.fromFunction({ needsApproval: true }) writes it into lambda-tools.json.
  const lambdaTools = {
    specs: [
      {
        name: 'cancel_subscription',
        description: 'Cancels a subscription',
        inputSchema: { type: 'object', properties: { plan: { type: 'string' } }, required: ['plan'] },
        timeoutMs: 5000,
        needsApproval: true,
      },
    ],
    functionArns: { cancel_subscription: functionArn },
  };
  const config = (emulator: Harness['emulator'], dynamo: Harness['dynamo']) => {
    const base = euConfig(emulator, dynamo);
    return { ...base, endpoints: { ...base.endpoints, lambda: lambda.endpoint } };
  };
  harness = await startHarness(config, { overrides: { agent, lambdaTools } });
  frankfurt = await AgentServer.start({
    config: validateRuntimeConfig({ ...config(harness.emulator, harness.dynamo), region: EU_CENTRAL }),
    overrides: { agent, lambdaTools, clock: { now: () => Date.now() + frankfurtAheadMs } },
  });
});

afterAll(async () => {
  await frankfurt.close();
  await harness.close();
  await lambda.close();
});

beforeEach(() => {
  refunds.length = 0;
  frankfurtAheadMs = 0;
  refundGate = Promise.resolve();
  harness.emulator.clearFaults();
});

let conversations = 0;

/** A new conversation id in the EU jurisdiction. */
function newConversation(): string {
  conversations += 1;
  return `eu.approvals-${conversations}-${Date.now()}`;
}

const REFUND_QUESTION = 'Please refund_order orderId=NW-7 cents=2500 and lookup_order orderId=NW-7';

/** Sends the refund question and returns the paused answer's approval event. */
async function pause(conversationId: string): Promise<{ events: SseEvent[]; approval: Record<string, unknown> }> {
  const answer = await postMessage(harness.server.url, conversationId, { text: REFUND_QUESTION });
  expect(answer.status).toBe(200);
  const approval = answer.events.find((event) => event.event === 'approval_required');
  return { events: answer.events, approval: approval!.data };
}

/** POST .../approvals/{toolUseId} to one region, read whole. */
async function answerApproval(
  server: AgentServer,
  conversationId: string,
  toolUseId: string,
  body: unknown,
  options: { principal?: string; raw?: string } = {},
): Promise<{ status: number; events: SseEvent[]; json?: { error?: Record<string, unknown> } & Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${server.url}/v1/conversations/${encodeURIComponent(conversationId)}/approvals/${encodeURIComponent(toolUseId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.principal ? { 'x-local-principal': options.principal } : {}) },
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream'))
    return { status: response.status, events: parseSse(text), headers: response.headers };
  return { status: response.status, events: [], json: JSON.parse(text), headers: response.headers };
}

function eventsNamed(events: SseEvent[], name: string): Array<Record<string, unknown>> {
  return events.filter((event) => event.event === name).map((event) => event.data);
}

test('a tool call that needs approval stops the answer before it runs; the step’s other call runs and its result is held', async () => {
  // GIVEN a conversation
  const conversationId = newConversation();

  // WHEN the model asks for a refund of 2500 cents (which needs approval) and a lookup (which does not)
  const { events, approval } = await pause(conversationId);

  // THEN the refund has not run, the lookup has, and the answer ends waiting for the owner
  expect(refunds).toEqual([]);
  expect(eventsNamed(events, 'tool_result')).toEqual([expect.objectContaining({ name: 'lookup_order', ok: true })]);
  expect(approval).toEqual({
    toolUseId: expect.stringMatching(/^tooluse_/),
    tool: 'refund_order',
    input: { orderId: 'NW-7', cents: 2500 },
    step: 1,
    expiresAt: expect.any(String),
  });
  // AND the default expiry is 24 hours
  expect(Date.parse(String(approval.expiresAt)) - Date.now()).toBeGreaterThan(DAY_MS - 60_000);
  const done = eventsNamed(events, 'done')[0];
  expect(done).toMatchObject({ stopReason: 'approval_required', stored: true, approvals: [expect.objectContaining({ toolUseId: approval.toolUseId })] });
  // AND the paused answer is stored with the calls as they stand
  const stored = await readConversation(harness.server.url, conversationId);
  const calls = (stored.body.turns as Array<{ steps?: Array<{ toolCalls: Array<Record<string, unknown>> }> }>)[1].steps![0].toolCalls;
  expect(calls).toEqual([
    expect.objectContaining({ name: 'refund_order', awaitingApproval: true }),
    expect.objectContaining({ name: 'lookup_order', ok: true, result: { orderId: 'NW-7', status: 'delivered' } }),
  ]);
});

test('a new message while an approval waits is refused with 409 naming the call, and stores nothing', async () => {
  // GIVEN a paused answer
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);
  const before = await tableItems(harness.dynamo);

  // WHEN the owner sends another message, in either region
  const here = await postMessage(harness.server.url, conversationId, { text: 'hello?' }, { accept: 'application/json' });
  const there = await postMessage(frankfurt.url, conversationId, { text: 'hello?' }, { accept: 'application/json' });

  // THEN both are refused, naming the waiting call, and nothing was written
  for (const refused of [here, there]) {
    expect(refused.status).toBe(409);
    expect(refused.json!.error).toMatchObject({ code: 'approval_pending', pending: [{ toolUseId: approval.toolUseId, tool: 'refund_order' }] });
  }
  expect(await tableItems(harness.dynamo)).toEqual(before);
});

test('an approval sent to the other region of the jurisdiction resumes the answer there: the tool runs once, and the answer streams', async () => {
  // GIVEN an answer paused in eu-west-1
  const conversationId = newConversation();
  const { approval, events } = await pause(conversationId);
  const pausedText = eventsNamed(events, 'delta')
    .map((delta) => delta.text)
    .join('');

  // WHEN the owner approves through eu-central-1
  const resumed = await answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: true });

  // THEN the refund ran once, in eu-central-1, and the rest of the answer streamed from there
  expect(resumed.status).toBe(200);
  expect(resumed.headers.get('x-agent-runtime-region')).toBe(EU_CENTRAL);
  expect(refunds).toEqual([{ orderId: 'NW-7', cents: 2500, region: EU_CENTRAL }]);
  expect(eventsNamed(resumed.events, 'start')[0]).toMatchObject({ turn: 1, resumed: true });
  expect(eventsNamed(resumed.events, 'tool_result')).toEqual([expect.objectContaining({ name: 'refund_order', ok: true, step: 1 })]);
  const text = eventsNamed(resumed.events, 'delta')
    .map((delta) => delta.text)
    .join('');
  expect(text).toContain('refund_order={"refunded":2500,"at":"2026-12-06T10:00:00.000Z","amount":12.5}');
  expect(text).toContain('lookup_order={"orderId":"NW-7","status":"delivered"}');
  expect(eventsNamed(resumed.events, 'done')[0]).toMatchObject({ stopReason: 'end_turn', stored: true, turn: 1 });

  // AND the exchange is stored once, both steps in it, and the conversation takes new messages again
  const stored = await readConversation(harness.server.url, conversationId);
  expect(stored.turns.map((turn) => [turn.turn, turn.role])).toEqual([
    [1, 'user'],
    [1, 'assistant'],
  ]);
  // The answer's text is both requests' texts, as one answer's steps.
  expect(stored.turns[1].text).toBe(`${pausedText}\n\n${text}`);
  const next = await postMessage(harness.server.url, conversationId, { text: 'thanks' });
  expect(next.status).toBe(200);
  expect(refunds).toHaveLength(1);
});

test('two approvals racing from two regions run the tool once: one resumes (200), the other gets 409 saying what happened', async () => {
  // GIVEN a paused answer, and a refund that holds until both answers are in flight
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);
  let release!: () => void;
  refundGate = new Promise((resolve) => (release = resolve));

  // WHEN the owner's two devices approve at once, one through each region
  const racing = [
    answerApproval(harness.server, conversationId, String(approval.toolUseId), { approved: true }),
    answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: true }),
  ];
  // The winner's refund is held: the first answer back is the loser's.
  expect((await Promise.race(racing)).status).toBe(409);
  release();
  const answers = await Promise.all(racing);

  // THEN one resumed the answer and the other was told who did, and the refund ran once
  expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
  const refused = answers.find((answer) => answer.status === 409)!;
  const winner = answers.find((answer) => answer.status === 200)!;
  expect(refused.json!.error).toEqual({
    code: 'approval_answered',
    message: expect.stringContaining('approved'),
    toolUseId: approval.toolUseId,
    tool: 'refund_order',
    decision: 'approved',
    answeredAt: expect.any(String),
    answeredRegion: winner.headers.get('x-agent-runtime-region'),
  });
  expect(refunds).toHaveLength(1);
});

test('a model that fails between the approval and the resumed step falls back like any step', async () => {
  // GIVEN a paused answer
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);

  // WHEN the primary (Claude in eu-west-1) fails before the owner approves
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  const resumed = await answerApproval(harness.server, conversationId, String(approval.toolUseId), { approved: true });

  // THEN the resumed step is served by Claude in eu-central-1, and the refund ran once
  expect(resumed.status).toBe(200);
  expect(resumed.headers.get('x-agent-path')).toBe('regional-fallback');
  const done = eventsNamed(resumed.events, 'done')[0] as { steps: Array<{ step: number; path: string; region: string }> };
  expect(done.steps.map((step) => [step.step, step.path, step.region])).toEqual([
    [1, 'primary', EU_WEST],
    [2, 'regional-fallback', EU_CENTRAL],
  ]);
  expect(refunds).toHaveLength(1);
});

test('a denial is an error result the model reads, with the owner’s reason; the tool never runs', async () => {
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);

  const resumed = await answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: false, reason: 'the customer kept the goods' });

  expect(resumed.status).toBe(200);
  expect(refunds).toEqual([]);
  expect(eventsNamed(resumed.events, 'tool_result')).toEqual([
    expect.objectContaining({ name: 'refund_order', ok: false, error: 'denied: the customer kept the goods' }),
  ]);
  expect(
    eventsNamed(resumed.events, 'delta')
      .map((delta) => delta.text)
      .join(''),
  ).toContain('refund_order failed');
  // AND answering again is a 409 naming the denial
  const again = await answerApproval(harness.server, conversationId, String(approval.toolUseId), { approved: true });
  expect(again.status).toBe(409);
  expect(again.json!.error).toMatchObject({ code: 'approval_answered', decision: 'denied', answeredRegion: EU_CENTRAL });
});

test('an approval past its expiry reads as denied ("denied: approval expired"), and the tool never runs', async () => {
  // GIVEN a paused answer, answered in a region whose clock reads 25 hours later
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);
  frankfurtAheadMs = DAY_MS + 3_600_000;

  // WHEN the owner approves there
  const resumed = await answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: true });

  // THEN the model read a denial, and the refund never ran
  expect(resumed.status).toBe(200);
  expect(refunds).toEqual([]);
  expect(eventsNamed(resumed.events, 'tool_result')).toEqual([expect.objectContaining({ name: 'refund_order', ok: false, error: 'denied: approval expired' })]);
});

test('after the expiry a new message is taken, and the unanswered call reads as denied in its history', async () => {
  const conversationId = newConversation();
  await pause(conversationId);
  frankfurtAheadMs = DAY_MS + 3_600_000;

  const next = await postMessage(frankfurt.url, conversationId, { text: 'any news?' });

  expect(next.status).toBe(200);
  const sent = harness.emulator.calls().at(-1)!.request as { messages: Array<{ content: Array<{ toolResult?: { content: Array<{ text?: string }> } }> }> };
  const results = sent.messages.flatMap((message) =>
    message.content.flatMap((block) => (block.toolResult ? [block.toolResult.content[0].text ?? 'json'] : [])),
  );
  expect(results).toEqual(['denied: approval expired', 'json']);
  expect(refunds).toEqual([]);
});

test('an approval by anyone but the owner is a 404, as reading the conversation is, and changes nothing', async () => {
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);
  const before = await tableItems(harness.dynamo);

  const stranger = await answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: true }, { principal: OTHER_OWNER });

  expect(stranger.status).toBe(404);
  expect(stranger.json!.error).toMatchObject({ code: 'not_found' });
  expect((await readConversation(frankfurt.url, conversationId, OTHER_OWNER)).status).toBe(404);
  expect(await tableItems(harness.dynamo)).toEqual(before);
  expect(refunds).toEqual([]);
});

test('an unknown tool use is a 404; a bad body is a 400 that stores nothing', async () => {
  const conversationId = newConversation();
  const { approval } = await pause(conversationId);
  const before = await tableItems(harness.dynamo);

  const unknown = await answerApproval(harness.server, conversationId, 'tooluse_unknown', { approved: true });
  expect(unknown.status).toBe(404);

  for (const raw of ['{"approved":"yes"}', '{"approved":true,"reason":"ok"}', '{}', 'not json', '{"approved":false,"reason":7}']) {
    const bad = await answerApproval(harness.server, conversationId, String(approval.toolUseId), undefined, { raw });
    expect([raw, bad.status]).toEqual([raw, 400]);
  }
  expect(await tableItems(harness.dynamo)).toEqual(before);
  expect(refunds).toEqual([]);
});

test('a refund under the approval threshold runs without waiting (needsApproval is decided per call)', async () => {
  const conversationId = newConversation();

  const answer = await postMessage(harness.server.url, conversationId, { text: 'Please refund_order orderId=NW-8 cents=50' });

  expect(eventsNamed(answer.events, 'approval_required')).toEqual([]);
  expect(eventsNamed(answer.events, 'done')[0]).toMatchObject({ stopReason: 'end_turn' });
  expect(refunds).toEqual([{ orderId: 'NW-8', cents: 50, region: EU_WEST }]);
});

test('the AI SDK UI message stream asks for the approval with its own chunk, tool-approval-request', async () => {
  const conversationId = newConversation();

  const response = await fetch(`${harness.server.url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-vercel-ai-ui-message-stream': 'v1' },
    body: JSON.stringify({ text: REFUND_QUESTION }),
  });
  const chunks = (await response.text())
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>);

  const request = chunks.find((chunk) => chunk.type === 'tool-approval-request');
  expect(request).toEqual({ type: 'tool-approval-request', approvalId: expect.stringMatching(/^tooluse_/), toolCallId: request!.approvalId });
  expect(chunks).toContainEqual({
    type: 'tool-input-available',
    toolCallId: request!.approvalId,
    toolName: 'refund_order',
    input: { orderId: 'NW-7', cents: 2500 },
  });
  expect(chunks.at(-1)).toEqual({ type: 'finish', finishReason: 'tool-calls' });
  expect(refunds).toEqual([]);
});

test('a Lambda tool with needsApproval waits too: its function is invoked once, after the approval, by the region that took it', async () => {
  const conversationId = newConversation();
  cancellations.length = 0;

  const paused = await postMessage(harness.server.url, conversationId, { text: 'Please cancel_subscription plan=pro' });
  const approval = eventsNamed(paused.events, 'approval_required')[0];
  expect(approval).toMatchObject({ tool: 'cancel_subscription', input: { plan: 'pro' } });
  expect(cancellations).toEqual([]);

  const resumed = await answerApproval(frankfurt, conversationId, String(approval.toolUseId), { approved: true });

  expect(resumed.status).toBe(200);
  expect(cancellations).toEqual([
    expect.objectContaining({ tool: 'cancel_subscription', input: { plan: 'pro' }, toolUseId: approval.toolUseId, region: EU_CENTRAL }),
  ]);
  expect(
    eventsNamed(resumed.events, 'delta')
      .map((delta) => delta.text)
      .join(''),
  ).toContain('cancel_subscription={"cancelled":true}');
});

test('with two calls waiting in one step, the first answer is recorded (202 naming the other) and the second resumes the answer', async () => {
  const conversationId = newConversation();
  cancellations.length = 0;
  const paused = await postMessage(harness.server.url, conversationId, { text: 'Please refund_order orderId=NW-9 cents=900 and cancel_subscription plan=pro' });
  const [refund, cancel] = eventsNamed(paused.events, 'approval_required');
  expect([refund.tool, cancel.tool]).toEqual(['refund_order', 'cancel_subscription']);

  const first = await answerApproval(frankfurt, conversationId, String(cancel.toolUseId), { approved: false, reason: 'keep the plan' });
  expect(first.status).toBe(202);
  expect(first.json).toEqual({ conversationId, toolUseId: cancel.toolUseId, decision: 'denied', reason: 'keep the plan', waitingFor: [refund.toolUseId] });
  expect([refunds, cancellations]).toEqual([[], []]);

  const second = await answerApproval(harness.server, conversationId, String(refund.toolUseId), { approved: true });
  expect(second.status).toBe(200);
  expect(refunds).toEqual([{ orderId: 'NW-9', cents: 900, region: EU_WEST }]);
  expect(cancellations).toEqual([]);
  expect(eventsNamed(second.events, 'tool_result').map((result) => [result.name, result.ok, result.error ?? null])).toEqual([
    ['refund_order', true, null],
    ['cancel_subscription', false, 'denied: keep the plan'],
  ]);
});
