/**
 * A Lambda tool's input schema in the runtime: its validator
 * (@cfworker/json-schema) is imported when the runtime has Lambda tools, and
 * made at the first call; the answers are those of a validator made at once.
 */
import { Validator } from '@cfworker/json-schema';
import type { LambdaToolSpec } from '../../lambda/agent/agent/asset-layout';
import { jsonSchemaInput } from '../../lambda/agent/agent/json-schema-input';
import { LambdaClients, lambdaTools } from '../../lambda/agent/agent/lambda-tools';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:book-room';

function spec(inputSchema: Record<string, unknown>): LambdaToolSpec {
  return { name: 'book_room', description: 'Books a meeting room', inputSchema, timeoutMs: 5000 };
}

const toolOf = (schema: Record<string, unknown>) => lambdaTools([spec(schema)], { book_room: ARN }, new LambdaClients({ connectTimeoutMs: 1000 }))[0];

const ROOM_SCHEMA = {
  type: 'object',
  properties: {
    room: { type: 'string', minLength: 1 },
    from: { type: 'string', format: 'date-time' },
    seats: { type: 'integer', minimum: 1, maximum: 40 },
    budget: { type: 'number', multipleOf: 0.01 },
    attendees: { type: 'array', items: { type: 'object', properties: { email: { type: 'string', format: 'email' } }, required: ['email'] } },
  },
  required: ['room', 'from'],
  additionalProperties: false,
};

test.each([
  ['valid input, decimals and a date included', { room: 'Kepler', from: '2026-12-07T09:30:00.000Z', seats: 12, budget: 149.99 }, true],
  ['a missing required field', { from: '2026-12-07T09:30:00Z' }, false],
  ['a date that is not one', { room: 'Kepler', from: 'tomorrow' }, false],
  ['a nested item that breaks its schema', { room: 'Kepler', from: '2026-12-07T09:30:00Z', attendees: [{ email: 'ana@example.com' }, { name: 'Bo' }] }, false],
  ['an unknown field', { room: 'Kepler', from: '2026-12-07T09:30:00Z', floor: 3 }, false],
  ['not an object', ['Kepler'], false],
])('%s: the first call validates as a validator made at once does', async (_case, input, valid) => {
  // GIVEN a Lambda tool and the same schema validated at once
  const tool = toolOf(ROOM_SCHEMA);
  const eager = jsonSchemaInput(ROOM_SCHEMA, Validator);

  // WHEN its first input is validated
  const result = await tool.validate(input);

  // THEN the answer is the same
  expect(result.ok).toBe(valid);
  expect(result).toEqual(await eager.validate(input));
  expect(tool.inputSchema).toBe(ROOM_SCHEMA);
});

test('calls after the first, in parallel, share the validator and answer each their own', async () => {
  const tool = toolOf(ROOM_SCHEMA);

  const results = await Promise.all([
    tool.validate({ room: 'Kepler', from: '2026-12-07T09:30:00Z' }),
    tool.validate({ room: '', from: '2026-12-07T09:30:00Z' }),
    tool.validate({ room: 'Halley', from: '2026-12-08T14:00:00Z', seats: 41 }),
  ]);

  expect(results.map((result) => result.ok)).toEqual([true, false, false]);
});

test('a schema that does not describe an object still fails when the tools are made, before any call', () => {
  expect(() => toolOf({ type: 'array', items: { type: 'string' } })).toThrow(/must describe an object \(type: "object"\), got type: "array"/);
});

test('a schema the validator cannot use fails the first call, naming why (the tool runner tells the model)', async () => {
  // GIVEN a schema with two subschemas of the same $id (synthesis refuses it; a hand-edited asset could hold it)
  const tool = toolOf({
    type: 'object',
    properties: { a: { $id: 'https://example.com/room', type: 'string' }, b: { $id: 'https://example.com/room', type: 'string' } },
  });

  // WHEN / THEN its first call is refused, naming why
  await expect(tool.validate({ a: 'x' })).rejects.toThrow(/not a valid JSON Schema: Duplicate schema URI/);
});
