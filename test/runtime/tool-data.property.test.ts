/**
 * Property: whatever a tool returns and whatever input a model gives it, the
 * exchange is stored, and reads back as the model was sent it; or the tool's
 * result is an error result (what JSON cannot say: BigInt, cycles). Never
 * `stored: false` while the table answers, and no item written breaks
 * DynamoDB's documented limits (which the embedded table does not all
 * enforce: they are checked here on every write as sent).
 *
 * Through the real runtime (HTTP, loop, store, DynamoDB SDK client against
 * the embedded table); the model is scripted, so that its tool input can be
 * any JSON. fast-check prints the seed and the shrunk case on failure; set
 * FAST_CHECK_SEED to replay one.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import type { InvokeTarget, ModelEvent, ModelRequest } from '../../lambda/agent/chain/types';
import { euConfig, UNHURRIED_STATE, postMessage, readConversation, startHarness, type Harness } from './harness';
import { DynamoFaultProxy, sortKeyOf } from './dynamodb-faults';
import { DYNAMO_ITEM_LIMIT_BYTES, DYNAMO_MAX_DEPTH, wireItemBytes, wireItemDepth } from './dynamo-limits';

const SEED = Number(process.env.FAST_CHECK_SEED ?? 20261206);
const RUNS = 25;

/** What the next exchange's model asks for and its tool returns. */
let next: { input: unknown; result: () => unknown } = { input: {}, result: () => null };
const requests: ModelRequest[] = [];
let harness: Harness;
let proxy: DynamoFaultProxy;

/** Step 1 asks for `echo` with the case's input (streamed in two fragments); step 2 answers. */
const model: InvokeTarget = async function* (_target, request): AsyncGenerator<ModelEvent> {
  requests.push(request);
  if (request.messages.some((message) => message.content.some((block) => block.type === 'toolResult'))) {
    yield { type: 'delta', text: 'Done.' };
    yield { type: 'stop', stopReason: 'end_turn' };
    return;
  }
  yield { type: 'delta', text: 'Let me look.' };
  yield { type: 'blockStop' };
  yield { type: 'toolUse', toolUseId: 'tooluse_echo', name: 'echo' };
  const json = JSON.stringify(next.input);
  yield { type: 'toolInput', input: json.slice(0, Math.floor(json.length / 2)) };
  yield { type: 'toolInput', input: json.slice(Math.floor(json.length / 2)) };
  yield { type: 'blockStop' };
  yield { type: 'stop', stopReason: 'tool_use' };
};

beforeAll(async () => {
  const agent = defineAgent({
    tools: { echo: tool({ inputSchema: z.record(z.string(), z.unknown()), execute: async () => next.result() }) },
  });
  harness = await startHarness(
    async (emulator, dynamo) => {
      proxy = await DynamoFaultProxy.start(dynamo.endpoint);
      const config = euConfig(emulator, dynamo);
      return { ...config, endpoints: { ...config.endpoints, dynamodb: proxy.endpoint }, deadlines: { ...config.deadlines!, ...UNHURRIED_STATE } };
    },
    { overrides: { agent, invoke: model } },
  );
});

afterAll(async () => {
  await proxy.idle();
  await harness.close();
  await proxy.close();
});

/** Text as tools return it: any code point (lone surrogates included), escapes, empty, and now and then long. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '"\\\n\u0000\u2028', '__proto__', 'constructor', '€😀') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }), fc.integer({ min: 1000, max: 6000 }))
      .map(([unit, times]) => unit.repeat(times)),
  },
);

/** Numbers DynamoDB's own number type refuses or distorts. */
const number = fc.oneof(fc.double(), fc.constantFrom(2 ** 53 + 2, -(2 ** 60), 1e300, Number.MIN_VALUE, -0, NaN, Infinity));

/** Values tools return: JSON, and what JSON makes something of (dates, class instances, toJSON, undefined fields). */
class Decimal {
  constructor(readonly digits: string) {}
}
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.string({ maxLength: 6 }).map((digits) => new Decimal(digits)),
    tie('value').map((inner) => ({ toJSON: () => inner })),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
}));

/** Nesting past DynamoDB's 32 levels, around any value. */
const deep = fc.tuple(fc.integer({ min: 30, max: 45 }), value).map(([levels, leaf]) => {
  let nested: unknown = leaf;
  for (let level = 0; level < levels; level += 1) nested = level % 2 === 0 ? { [`l${level}`]: nested } : [nested];
  return nested;
});

/** What JSON refuses: the tool's result must become an error result. */
const notJson = fc.oneof(
  fc.bigInt().map((big) => ({ id: big })),
  fc.constant(null).map(() => {
    const cycle: Record<string, unknown> = { name: 'cycle' };
    cycle.self = cycle;
    return cycle;
  }),
);

/** A model's tool input: an object of any JSON (as the loop parses it from the stream). */
const input = fc.oneof(
  fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  deep.map((nested) => ({ nested: JSON.parse(JSON.stringify(nested) ?? 'null') })),
);

interface StoredCall {
  input: unknown;
  ok: boolean;
  result?: unknown;
  error?: string;
}

test('every exchange is stored and reads back as the model was sent it, or the tool result is an error', async () => {
  let conversation = 0;
  await fc.assert(
    fc.asyncProperty(
      input,
      fc.oneof({ weight: 6, arbitrary: value }, { weight: 2, arbitrary: deep }, { weight: 1, arbitrary: notJson }),
      async (toolInput, result) => {
        // GIVEN the model asks with this input, and the tool returns this result
        conversation += 1;
        const id = `eu.c-property-${conversation}`;
        next = { input: toolInput, result: () => result };
        requests.length = 0;
        proxy.seen.length = 0;

        // WHEN
        const answer = await postMessage(harness.server.url, id, { text: 'look it up' });

        // THEN stored, whatever the tool returned
        const done = answer.events.find((event) => event.event === 'done')?.data;
        expect(done).toMatchObject({ stored: true, state: 'ok' });
        // AND every item written is within DynamoDB's documented limits
        for (const call of proxy.seen.filter((seen) => seen.operation === 'PutItem' && sortKeyOf(seen.body).startsWith('turn#'))) {
          const item = call.body.Item as Record<string, Record<string, unknown>>;
          expect(wireItemBytes(item)).toBeLessThanOrEqual(DYNAMO_ITEM_LIMIT_BYTES);
          expect(wireItemDepth(item)).toBeLessThanOrEqual(DYNAMO_MAX_DEPTH);
        }
        // AND the stored call is what the model's second step was sent: its input, and its result or error
        const { turns } = await readConversation(harness.server.url, id);
        const [stored] = (turns[1] as unknown as { steps: Array<{ toolCalls: StoredCall[] }> }).steps[0].toolCalls;
        const sent = requests[1].messages.flatMap((message) => message.content);
        const use = sent.find((block) => block.type === 'toolUse');
        const given = sent.find((block) => block.type === 'toolResult');
        expect(JSON.stringify(stored.input)).toBe(JSON.stringify(use?.type === 'toolUse' ? use.input : undefined));
        if (given?.type !== 'toolResult') throw new Error('the second step was sent no tool result');
        if (stored.ok) {
          expect(given.status).toBe('success');
          expect(JSON.stringify(given.content[0])).toBe(JSON.stringify(contentAsSent(stored.result)));
        } else {
          expect(given).toMatchObject({ status: 'error', content: [{ text: stored.error }] });
          // An error result only for what JSON cannot say
          expect(sayableInJson(result)).toBe(false);
        }
      },
    ),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
});

/** How Converse carries a result: text as text, an object as JSON, anything else wrapped. */
function contentAsSent(result: unknown): unknown {
  if (typeof result === 'string') return { text: result };
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) return { json: result };
  return { json: { result } };
}

function sayableInJson(result: unknown): boolean {
  try {
    return result === undefined || JSON.stringify(result) !== undefined;
  } catch {
    return false;
  }
}
