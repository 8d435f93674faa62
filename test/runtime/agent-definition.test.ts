import { jsonSchema, tool as aiTool } from 'ai';
import { z } from 'zod';
import { agentOf, defineAgent, tool, type ToolContext } from '../../lambda/agent/agent/definition';

const context = (): ToolContext => ({
  toolCallId: 'tooluse_1',
  abortSignal: new AbortController().signal,
  messages: [],
  conversationId: 'eu.c-1',
  caller: 'alice',
  region: 'eu-west-1',
  remainingTimeMs: () => 1000,
});

test('a tool written for the AI SDK (tool() from ai, with a zod schema) is used unchanged: JSON Schema, validation and execute', async () => {
  // GIVEN an AI SDK tool, as its users write it
  const weather = aiTool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string(), unit: z.enum(['c', 'f']).optional() }),
    execute: async ({ city }, { toolCallId }) => ({ city, temperature: 21, toolCallId }),
  });

  // WHEN it is part of an agent
  const agent = defineAgent({ tools: { weather } });
  const [runnable] = agent.tools;

  // THEN Bedrock gets its JSON Schema, inputs are validated by zod, and execute gets the AI SDK's options
  expect(runnable).toMatchObject({ name: 'weather', description: 'The weather in a city', timeoutMs: 10_000 });
  expect(runnable.inputSchema).toMatchObject({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
  expect(await runnable.validate({ city: 'Lyon' })).toEqual({ ok: true, value: { city: 'Lyon' } });
  expect(await runnable.validate({ city: 42 })).toMatchObject({ ok: false, message: expect.stringContaining('city') });
  expect(await runnable.execute({ city: 'Lyon' }, context())).toEqual({ city: 'Lyon', temperature: 21, toolCallId: 'tooluse_1' });
});

test("the AI SDK's jsonSchema() and plain JSON Schema objects are validated too", async () => {
  const agent = defineAgent({
    tools: {
      with_ai_schema: aiTool({
        inputSchema: jsonSchema<{ id: string }>({ type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }),
        execute: async () => 'ok',
      }),
      with_plain_schema: { inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] }, execute: async () => 'ok' },
    },
  });

  const [aiSchemaTool, plainTool] = agent.tools;
  expect(await aiSchemaTool.validate({ id: 'x' })).toMatchObject({ ok: true });
  expect(await aiSchemaTool.validate({})).toMatchObject({ ok: false });
  expect(await plainTool.validate({ n: 3 })).toMatchObject({ ok: true });
  expect(await plainTool.validate({ n: 0 })).toMatchObject({ ok: false, message: expect.stringContaining('/n') });
});

test('our own tool() types execute from the schema and passes the runtime context', async () => {
  const lookup = tool({
    description: 'Look an order up',
    inputSchema: z.object({ orderId: z.string() }),
    execute: (input, { conversationId, caller, region }) => ({ orderId: input.orderId, conversationId, caller, region }),
  });

  const [runnable] = defineAgent({ tools: { lookup_order: lookup } }).tools;

  expect(await runnable.execute({ orderId: 'A-1' }, context())).toEqual({ orderId: 'A-1', conversationId: 'eu.c-1', caller: 'alice', region: 'eu-west-1' });
});

test('the manifest is plain data: what synthesis checks', () => {
  const agent = defineAgent({
    instructions: 'x'.repeat(150_000),
    maxSteps: 4,
    tools: { a: tool({ inputSchema: z.object({}), execute: () => 1, timeoutMs: 500 }) },
  });

  expect(JSON.parse(JSON.stringify(agent.manifest()))).toMatchObject({
    kind: 'cdk-multi-region-agent/agent@1',
    instructionsBytes: 150_000,
    maxSteps: 4,
    toolTimeoutMs: 10_000,
    tools: [{ name: 'a', description: 'a', timeoutMs: 500, inputSchema: { type: 'object' } }],
  });
});

test.each([
  ['a name Bedrock refuses', { tools: { 'look up': tool({ inputSchema: z.object({}), execute: () => 1 }) } }, /tool 'look up': Bedrock accepts tool names/],
  ['a name over 64 characters', { tools: { ['t'.repeat(65)]: tool({ inputSchema: z.object({}), execute: () => 1 }) } }, /Bedrock accepts tool names of 1-64/],
  [
    'a schema that is not an object',
    { tools: { t: tool({ inputSchema: z.string(), execute: () => 1 }) } },
    /tool 't': inputSchema: the input schema must describe an object/,
  ],
  [
    'a JSON Schema that is not an object',
    { tools: { t: { inputSchema: { type: 'array' }, execute: () => 1 } } },
    /must describe an object \(type: "object"\), got type: "array"/,
  ],
  ['a tool without execute', { tools: { t: aiTool({ inputSchema: z.object({}) }) } }, /tool 't': has no execute function/],
  ['maxSteps of 0', { maxSteps: 0 }, /maxSteps must be an integer from 1 to 50, got 0/],
  [
    'a tool timeout that is not a number of ms',
    { tools: { t: tool({ inputSchema: z.object({}), execute: () => 1, timeoutMs: 1.5 }) } },
    /tool 't': timeoutMs must be an integer/,
  ],
])('defineAgent refuses %s, naming it', (_case, props, message) => {
  expect(() => defineAgent(props as Parameters<typeof defineAgent>[0])).toThrow(message);
});

test('an entry module exports its agent as default or as `agent`; anything else is no agent', () => {
  const agent = defineAgent({});

  expect(agentOf({ default: agent })).toBe(agent);
  expect(agentOf({ agent })).toBe(agent);
  expect(agentOf({ default: { instructions: 'not made by defineAgent' } })).toBeUndefined();
});
