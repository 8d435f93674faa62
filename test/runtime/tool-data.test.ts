/**
 * What tools hand the runtime, through the whole runtime: HTTP in, the real
 * Bedrock Runtime client against the emulator (or a scripted model), the
 * real DynamoDB client against the embedded table behind a proxy that sees
 * every write as sent and can lose answers. Tools return what tools really
 * return (dates, big numbers, class instances, deep rows, HTML error pages),
 * and every exchange they take part in is stored as the model read it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { defineAgent, tool, type AgentDefinition } from '../../lambda/agent/agent/definition';
import type { InvokeTarget, ModelEvent, ModelRequest } from '../../lambda/agent/chain/types';
import { openAi } from '../../lambda/agent/providers/openai';
import {
  CLAUDE,
  EU_WEST,
  euConfig,
  UNHURRIED_STATE,
  UNHURRIED_MODEL,
  TABLE,
  postMessage,
  readConversation,
  startHarness,
  type Harness,
  type SseEvent,
} from './harness';
import { DynamoFaultProxy, sortKeyOf } from './dynamodb-faults';
import { DYNAMO_ITEM_LIMIT_BYTES, DYNAMO_MAX_DEPTH, wireItemBytes, wireItemDepth } from './dynamo-limits';

let harness: Harness | undefined;
let proxy: DynamoFaultProxy | undefined;

afterEach(async () => {
  // A write whose answer was lost may still be reaching the table: let it land before the table closes.
  await proxy?.idle();
  await harness?.close();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

const ORDER_QUESTION = 'Where is my order? lookup_order orderId=NW-10042';

/** The EU runtime with `agent`, its table behind a fault proxy; a scripted model instead of the emulator when `invoke` is given. */
async function start(
  agent: AgentDefinition,
  options: { invoke?: InvokeTarget; toolResultBytes?: number } = {},
): Promise<{ harness: Harness; proxy: DynamoFaultProxy }> {
  let started!: DynamoFaultProxy;
  harness = await startHarness(
    async (emulator, dynamo) => {
      started = await DynamoFaultProxy.start(dynamo.endpoint);
      const config = euConfig(emulator, dynamo);
      return {
        ...config,
        endpoints: { ...config.endpoints, dynamodb: started.endpoint },
        deadlines: { ...config.deadlines!, ...UNHURRIED_STATE, ...UNHURRIED_MODEL },
        ...(options.toolResultBytes ? { limits: { toolResultBytes: options.toolResultBytes } } : {}),
      };
    },
    { overrides: { agent, ...(options.invoke ? { invoke: options.invoke } : {}) } },
  );
  proxy = started;
  return { harness, proxy };
}

/** An agent whose one tool, lookup_order, does `execute` (and counts its runs). */
function agentWith(execute: () => unknown): { agent: AgentDefinition; runs: () => number } {
  let runs = 0;
  const agent = defineAgent({
    tools: {
      lookup_order: tool({
        inputSchema: z.object({ orderId: z.string() }),
        execute: async () => {
          runs += 1;
          return execute();
        },
      }),
    },
  });
  return { agent, runs: () => runs };
}

/** A scripted model: at each step it writes `texts[step - 1]`, and asks for lookup_order until the last step, where it ends its turn. */
function scriptedModel(texts: string[]): InvokeTarget {
  return async function* (_target, request: ModelRequest): AsyncGenerator<ModelEvent> {
    const step = 1 + request.messages.filter((message) => message.content.some((block) => block.type === 'toolResult')).length;
    yield { type: 'delta', text: texts[step - 1] };
    if (step === texts.length) {
      yield { type: 'stop', stopReason: 'end_turn' };
      return;
    }
    yield { type: 'blockStop' };
    yield { type: 'toolUse', toolUseId: `tooluse_step_${step}`, name: 'lookup_order' };
    yield { type: 'toolInput', input: `{"orderId":"NW-${step}"}` };
    yield { type: 'blockStop' };
    yield { type: 'stop', stopReason: 'tool_use' };
  };
}

const eventsOf = (events: SseEvent[], name: string) => events.filter((event) => event.event === name).map((event) => event.data);
const doneOf = (events: SseEvent[]) => events.find((event) => event.event === 'done')?.data;

/** Every turn the runtime wrote, as DynamoDB received it. */
function turnWrites(faults: DynamoFaultProxy): Array<Record<string, Record<string, unknown>>> {
  return faults.seen
    .filter((call) => call.operation === 'PutItem' && sortKeyOf(call.body).startsWith('turn#'))
    .map((call) => call.body.Item as Record<string, Record<string, unknown>>);
}

/** The tool results of the Converse request the emulator received for the loop's second step. */
function toolResultsSent(request: unknown): unknown[] {
  const messages = (request as { messages: Array<{ content: Array<{ toolResult?: { content: unknown[] } }> }> }).messages;
  return messages.flatMap((message) => message.content.flatMap((block) => (block.toolResult ? block.toolResult.content : [])));
}

/** A decimal type, as database drivers return for NUMERIC columns: a class instance, not a plain object. */
class Decimal {
  constructor(readonly digits: string) {}
}

describe('tool results of any JSON shape', () => {
  test('a tool returning a Date, a number past 2^53, NaN and a class instance answers, and the exchange is stored as the model read it', async () => {
    // GIVEN a tool returning a database row as drivers give it
    const row = { dueOn: new Date('2026-12-24T09:30:00.000Z'), id: 2 ** 60, ratio: NaN, amount: new Decimal('12.30'), note: undefined };
    const { agent } = agentWith(() => row);
    const { harness } = await start(agent);

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-row', { text: ORDER_QUESTION });

    // THEN the exchange is stored, not degraded
    expect(doneOf(result.events)).toMatchObject({ stopReason: 'end_turn', stored: true, state: 'ok' });
    // AND the model read the row as JSON, and the stored exchange holds what it read
    const asJson = JSON.parse(JSON.stringify(row));
    expect(asJson).toEqual({ dueOn: '2026-12-24T09:30:00.000Z', id: 2 ** 60, ratio: null, amount: { digits: '12.30' } });
    expect(toolResultsSent(harness.emulator.calls()[1].request)).toEqual([{ json: asJson }]);
    const { turns } = await readConversation(harness.server.url, 'eu.c-row');
    const steps = (turns[1] as unknown as { steps: Array<{ toolCalls: Array<{ result: unknown }> }> }).steps;
    expect(steps[0].toolCalls[0].result).toEqual(asJson);
  });

  test('a result nested deeper than DynamoDB allows is stored, and no written item nests past 32 levels', async () => {
    // GIVEN a tool returning 40 levels of nesting
    let deep: unknown = { leaf: true };
    for (let level = 0; level < 40; level += 1) deep = { level, child: deep };
    const { agent } = agentWith(() => deep);
    const { harness, proxy } = await start(agent);

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-deep', { text: ORDER_QUESTION });

    // THEN stored, read back whole, and within the real table's nesting limit
    expect(doneOf(result.events)).toMatchObject({ stored: true, state: 'ok' });
    for (const item of turnWrites(proxy)) expect(wireItemDepth(item)).toBeLessThanOrEqual(DYNAMO_MAX_DEPTH);
    const { turns } = await readConversation(harness.server.url, 'eu.c-deep');
    expect((turns[1] as unknown as { steps: Array<{ toolCalls: Array<{ result: unknown }> }> }).steps[0].toolCalls[0].result).toEqual(deep);
  });
});

describe('every byte from a tool is bounded', () => {
  test('a tool throwing a 300 KB message: the events, the model and the store get at most 8 KB of it, and the exchange is stored', async () => {
    // GIVEN a tool that throws a whole HTML error page
    const page = `<html><body>${'<p>upstream error &amp; "details"</p>\n'.repeat(8000)}</body></html>`;
    const { agent } = agentWith(() => {
      throw new Error(page);
    });
    const { harness, proxy } = await start(agent);

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-html', { text: ORDER_QUESTION });

    // THEN the error result says the message was cut, within 8 KB of JSON wherever it goes
    const [toolResult] = eventsOf(result.events, 'tool_result');
    expect(toolResult).toMatchObject({ ok: false, truncated: true, error: expect.stringContaining('lookup_order failed: <html>') });
    expect(Buffer.byteLength(JSON.stringify(toolResult.error))).toBeLessThanOrEqual(8192);
    const [sent] = toolResultsSent(harness.emulator.calls()[1].request) as Array<{ text: string }>;
    expect(sent.text).toBe(toolResult.error);
    expect(doneOf(result.events)).toMatchObject({ stored: true, state: 'ok' });
    expect(Math.max(...turnWrites(proxy).map(wireItemBytes))).toBeLessThan(64 * 1024);
  });

  test("a tool's input echoed in tool_call is bounded like a result", async () => {
    // GIVEN a model asking with an input of 6 KB and a limit of 1 KB
    const { agent } = agentWith(() => ({ status: 'shipped' }));
    const { harness } = await start(agent, { toolResultBytes: 1024 });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-long-input', { text: `lookup_order orderId=${'"N'.repeat(3000)}` });

    // THEN the event carries a preview, within the limit
    const [call] = eventsOf(result.events, 'tool_call');
    expect(call.input).toMatchObject({ truncated: true, originalBytes: expect.any(Number) });
    expect(Buffer.byteLength(JSON.stringify(call.input))).toBeLessThanOrEqual(1024);
  });

  test('the answer text counts toward the item, once: two long steps and a tool fit the stored turn', async () => {
    // GIVEN a model writing 110 KB of text at each of two steps, around one tool call
    const { agent } = agentWith(() => ({ status: 'shipped' }));
    const longText = (step: number) => `step ${step}: ${'a river runs through it. '.repeat(4500)}`;
    const invoke = scriptedModel([longText(1), longText(2)]);
    const { harness, proxy } = await start(agent, { invoke });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-long-text', { text: 'tell me everything' });

    // THEN stored, the answer written once, within the real item limit
    expect(doneOf(result.events)).toMatchObject({ stored: true, state: 'ok' });
    const answer = turnWrites(proxy).find((item) => sortKeyOf({ Item: item }).endsWith('#2'));
    expect(wireItemBytes(answer ?? {})).toBeLessThanOrEqual(DYNAMO_ITEM_LIMIT_BYTES);
    const { turns } = await readConversation(harness.server.url, 'eu.c-long-text');
    expect(turns[1].text).toBe(`${longText(1)}\n\n${longText(2)}`);
  });

  test('tool data that does not fit the item is left out oldest first, each call marked, and the rest read back', async () => {
    // GIVEN three steps of tools returning 190 KB each, and the largest result limit
    const { agent } = agentWith(() => ({ rows: 'r'.repeat(190_000) }));
    const invoke = scriptedModel(['One.', 'Two.', 'Three.', 'Done.']);
    const { harness, proxy } = await start(agent, { toolResultBytes: 200_000, invoke });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-three-tools', { text: 'look all three up' });

    // THEN stored within the item limit; the earliest calls' data left out and marked, the latest kept
    expect(doneOf(result.events)).toMatchObject({ stored: true, state: 'ok' });
    for (const item of turnWrites(proxy)) expect(wireItemBytes(item)).toBeLessThanOrEqual(DYNAMO_ITEM_LIMIT_BYTES);
    const { turns } = await readConversation(harness.server.url, 'eu.c-three-tools');
    const calls = (turns[1] as unknown as { steps: Array<{ toolCalls: Array<{ result?: unknown; truncated?: boolean }> }> }).steps.flatMap(
      (step) => step.toolCalls,
    );
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({ truncated: true, result: { omitted: true } });
    expect(calls[2].truncated).toBeUndefined();
    expect(calls[2].result).toEqual({ rows: 'r'.repeat(190_000) });
    expect(turns[1].text).toBe('One.\n\nTwo.\n\nThree.\n\nDone.');
  });
});

describe('Idempotency-Key when the home region cannot be read or written', () => {
  test('a keyed request is answered 503 with retry-after before any model call when the state read fails; its tool never runs', async () => {
    // GIVEN every read of the table loses its answer
    const { agent, runs } = agentWith(() => ({ status: 'shipped' }));
    const { harness, proxy } = await start(agent);
    proxy.loseAnswers({ operation: 'Query', times: 100 });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-keyed-dark', { text: ORDER_QUESTION }, { idempotencyKey: 'key-1' });

    // THEN
    expect(result.status).toBe(503);
    expect(result.headers.get('retry-after')).toBe('1');
    expect(result.json?.error).toMatchObject({ code: 'state_unavailable', retryable: true });
    expect(harness.emulator.calls()).toHaveLength(0);
    expect(runs()).toBe(0);
  });

  test('without a key, the same request is answered in degraded mode, as before', async () => {
    const { agent, runs } = agentWith(() => ({ status: 'shipped' }));
    const { harness, proxy } = await start(agent);
    proxy.loseAnswers({ operation: 'Query', times: 100 });

    const result = await postMessage(harness.server.url, 'eu.c-unkeyed-dark', { text: ORDER_QUESTION });

    expect(result.status).toBe(200);
    expect(doneOf(result.events)).toMatchObject({ stored: false, state: 'degraded' });
    expect(runs()).toBe(1);
  });

  test('a keyed request whose claim cannot be written is answered 503 before any tool runs', async () => {
    // GIVEN the read works but every claim write loses its answer
    const { agent, runs } = agentWith(() => ({ status: 'shipped' }));
    const { harness, proxy } = await start(agent);
    proxy.loseAnswers({ operation: 'UpdateItem', times: 100 });
    proxy.loseAnswers({ operation: 'PutItem', times: 100 });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-keyed-unclaimed', { text: ORDER_QUESTION }, { idempotencyKey: 'key-1' });

    // THEN
    expect(result.status).toBe(503);
    expect(result.headers.get('retry-after')).toBe('1');
    expect(runs()).toBe(0);
  });

  test('a replayed interrupted answer says it is not retryable: the same key would replay the same cut answer', async () => {
    // GIVEN a keyed answer cut after its first tokens
    const { agent } = agentWith(() => ({ status: 'shipped' }));
    const { harness } = await start(agent);
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { failAfterTokens: 2 }, times: 1 });
    const first = await postMessage(harness.server.url, 'eu.c-cut-replay', { text: 'tell me a story' }, { idempotencyKey: 'key-1' });
    expect(eventsOf(first.events, 'error')[0]).toMatchObject({ code: 'stream_interrupted', stored: true });

    // WHEN the client retries with the same key
    const again = await postMessage(harness.server.url, 'eu.c-cut-replay', { text: 'tell me a story' }, { idempotencyKey: 'key-1' });

    // THEN the stored cut answer, marked not retryable
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(eventsOf(again.events, 'error')[0]).toMatchObject({ code: 'stream_interrupted', retryable: false, replayed: true });
  });
});

test("an interrupted exchange's completed tool calls stay in the next message's history, marked interrupted", async () => {
  // GIVEN a message whose tool ran, and whose second step was cut after its first tokens
  const { agent, runs } = agentWith(() => ({ refunded: true }));
  const { harness } = await start(agent);
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, step: 2, fault: { failAfterTokens: 2 }, times: 1 });
  const first = await postMessage(harness.server.url, 'eu.c-cut-tools', { text: 'Refund me. lookup_order orderId=NW-10042' });
  expect(eventsOf(first.events, 'error')[0]).toMatchObject({ code: 'stream_interrupted' });
  expect(runs()).toBe(1);

  // WHEN the next message
  await postMessage(harness.server.url, 'eu.c-cut-tools', { text: 'did it work?' });

  // THEN the model was given the tool use, its result, and the note that the answer was interrupted
  const request = harness.emulator.calls().at(-1)?.request as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
  const blocks = request.messages.flatMap((message) => message.content);
  expect(blocks).toContainEqual({ toolUse: expect.objectContaining({ name: 'lookup_order', input: { orderId: 'NW-10042' } }) });
  expect(blocks).toContainEqual({ toolResult: expect.objectContaining({ status: 'success', content: [{ json: { refunded: true } }] }) });
  expect(JSON.stringify(request.messages)).toContain('interrupted');
  expect(runs()).toBe(1);
});

test('tool calls an OpenAI stream sends without ids get ids unique from step to step', () => {
  // GIVEN two steps' streams, each with one tool call at index 0 and no id
  const toolCallAt0 = { data: JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'lookup_order', arguments: '{}' } }] } }] }) };
  const idOf = () => {
    const events = openAi.decoder().decode(toolCallAt0);
    return events.flatMap((event) => (event.type === 'toolUse' ? [event.toolUseId] : []))[0];
  };

  // WHEN
  const ids = [idOf(), idOf()];

  // THEN each is an id of its own (the loop would answer the second from the first's result otherwise)
  expect(ids[0]).toMatch(/^call_/);
  expect(ids[1]).not.toBe(ids[0]);
});

test('an answer stored before steps were a string (native lists and maps, the text beside them) still reads back and is given to the model', async () => {
  // GIVEN an exchange with a tool, whose answer item is rewritten as the earlier code wrote it
  const { agent } = agentWith(() => ({ status: 'shipped' }));
  const { harness } = await start(agent);
  await postMessage(harness.server.url, 'eu.c-old-shape', { text: ORDER_QUESTION });
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: EU_WEST, endpoint: harness.dynamo.endpoint, credentials: LOCAL_CREDENTIALS }));
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  const answer = Items.find((item) => String(item.sk).startsWith('turn#') && String(item.sk).endsWith('#2'));
  const steps = JSON.parse(String(answer?.steps)) as Array<{ text: string; tools?: Array<{ id: string }> }>;
  const oldShape = {
    ...answer,
    text: 'Looking up lookup_order.\n\nIt shipped, as of old.',
    steps: steps.map((step, index) => (index === 1 ? { ...step, text: 'It shipped, as of old.' } : step)),
  };
  await documents.send(new PutCommand({ TableName: TABLE, Item: oldShape }));
  documents.destroy();

  // WHEN the conversation is read, and the next message sent
  const { turns } = await readConversation(harness.server.url, 'eu.c-old-shape');
  await postMessage(harness.server.url, 'eu.c-old-shape', { text: 'thanks' });

  // THEN both read the native steps and the stored text
  expect(turns[1].text).toBe('Looking up lookup_order.\n\nIt shipped, as of old.');
  expect((turns[1] as unknown as { steps: Array<{ toolCalls: Array<{ result: unknown }> }> }).steps[0].toolCalls[0].result).toEqual({ status: 'shipped' });
  const request = harness.emulator.calls().at(-1)?.request as { messages: Array<{ content: Array<Record<string, unknown>> }> };
  const blocks = request.messages.flatMap((message) => message.content);
  expect(blocks).toContainEqual({ toolUse: expect.objectContaining({ toolUseId: steps[0].tools?.[0].id }) });
  expect(blocks).toContainEqual({ text: 'It shipped, as of old.' });
});
