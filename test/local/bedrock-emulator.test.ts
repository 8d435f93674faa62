import * as http from 'node:http';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ContentBlock,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
  type Message,
  type Tool,
  type ToolInputSchema,
  type ToolResultStatus,
} from '@aws-sdk/client-bedrock-runtime';
import { BedrockEmulator } from '../../local/bedrock-emulator';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';

const EU_WEST = 'eu-west-1';
const EU_CENTRAL = 'eu-central-1';
const MODEL = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';
const OTHER_MODEL = 'eu.amazon.nova-pro-v1:0';

let emulator: BedrockEmulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  emulator = await BedrockEmulator.start({ regions: [EU_WEST, EU_CENTRAL] });
  client = new BedrockRuntimeClient({ region: EU_WEST, endpoint: emulator.endpoint(EU_WEST), credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});

afterEach(() => {
  emulator.clearFaults();
  emulator.clearCalls();
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
});

const question = (text: string, modelId = MODEL) => ({ modelId, messages: [{ role: 'user' as const, content: [{ text }] }] });

async function collect(
  stream: AsyncIterable<ConverseStreamOutput>,
): Promise<{ deltas: string[]; events: string[]; stopReason?: string; outputTokens?: number }> {
  const result: { deltas: string[]; events: string[]; stopReason?: string; outputTokens?: number } = { deltas: [], events: [] };
  for await (const event of stream) {
    const name = Object.keys(event).find((key) => (event as unknown as Record<string, unknown>)[key] !== undefined)!;
    result.events.push(name);
    if (event.contentBlockDelta?.delta?.text) result.deltas.push(event.contentBlockDelta.delta.text);
    if (event.messageStop) result.stopReason = event.messageStop.stopReason;
    if (event.metadata) result.outputTokens = event.metadata.usage?.outputTokens;
  }
  return result;
}

async function failureOf(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message };
  }
  throw new Error('expected the call to fail');
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  const { name, status } = await failureOf(promise);
  return { name, status };
}

test('a streamed answer parses into the deterministic deltas, stop reason and usage', async () => {
  // WHEN
  const output = await client.send(new ConverseStreamCommand(question('what is the capital of France')));
  const result = await collect(output.stream!);

  // THEN
  expect(result.deltas.join('')).toBe(emulator.expectedAnswer(MODEL, EU_WEST, 'what is the capital of France'));
  expect(result.deltas.length).toBeGreaterThan(3);
  expect(result.events[0]).toBe('messageStart');
  expect(result.events.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
  expect(result.stopReason).toBe('end_turn');
  expect(result.outputTokens).toBe(result.deltas.length);
});

test('answers name the model and region that produced them', () => {
  expect(emulator.expectedAnswer(MODEL, EU_WEST, 'hi')).not.toBe(emulator.expectedAnswer(MODEL, EU_CENTRAL, 'hi'));
  expect(emulator.expectedAnswer(MODEL, EU_WEST, 'hi')).not.toBe(emulator.expectedAnswer(OTHER_MODEL, EU_WEST, 'hi'));
});

test('Converse answers the same text as one JSON body over HTTP/2', async () => {
  const output = await client.send(new ConverseCommand(question('hello there')));

  expect(output.output?.message?.content?.[0].text).toBe(emulator.expectedAnswer(MODEL, EU_WEST, 'hello there'));
  expect(output.stopReason).toBe('end_turn');
  expect(emulator.calls()).toEqual([expect.objectContaining({ operation: 'Converse', transport: 'h2', status: 200, region: EU_WEST })]);
});

test('the same port serves HTTP/1.1 clients such as fetch', async () => {
  // WHEN
  const response = await fetch(`${emulator.endpoint(EU_CENTRAL)}/model/${encodeURIComponent(MODEL)}/converse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(question('via fetch')),
  });

  // THEN
  const body = (await response.json()) as { output: { message: { content: Array<{ text: string }> } } };
  expect(response.status).toBe(200);
  expect(body.output.message.content[0].text).toBe(emulator.expectedAnswer(MODEL, EU_CENTRAL, 'via fetch'));
  expect(emulator.calls({ region: EU_CENTRAL })).toEqual([expect.objectContaining({ transport: 'http1', modelId: MODEL })]);
});

test.each([
  [429, 'ThrottlingException'],
  [500, 'InternalServerException'],
  [503, 'ServiceUnavailableException'],
  [400, 'ValidationException'],
  [403, 'AccessDeniedException'],
  [404, 'ResourceNotFoundException'],
  [408, 'ModelTimeoutException'],
  [424, 'ModelErrorException'],
])('a %i fault surfaces in the SDK as %s', async (status, name) => {
  emulator.injectFault({ region: EU_WEST, fault: { status } });

  await expect(errorOf(client.send(new ConverseStreamCommand(question('hi'))))).resolves.toEqual({ name, status });
  expect(emulator.calls()).toEqual([expect.objectContaining({ status })]);
});

test('a 504 carries no modeled error type, like a gateway timeout', async () => {
  emulator.injectFault({ region: EU_WEST, fault: { status: 504 } });

  const failure = await errorOf(client.send(new ConverseStreamCommand(question('hi'))));

  expect(failure.status).toBe(504);
  expect(failure.name).not.toMatch(/Exception$/);
});

test('an explicit error type overrides the default for its status', async () => {
  emulator.injectFault({ region: EU_WEST, fault: { status: 429, errorType: 'ModelNotReadyException' } });

  await expect(errorOf(client.send(new ConverseStreamCommand(question('hi'))))).resolves.toEqual({ name: 'ModelNotReadyException', status: 429 });
});

test('times limits a fault to that many calls', async () => {
  emulator.injectFault({ region: EU_WEST, fault: { status: 503 }, times: 2 });

  for (let call = 0; call < 3; call++) {
    await client.send(new ConverseCommand(question('hi'))).catch(() => undefined);
  }

  expect(emulator.calls().map((call) => call.status)).toEqual([503, 503, 200]);
  expect(emulator.calls().map((call) => call.faulted)).toEqual([true, true, false]);
});

test('every: N applies a fault to exactly one call in each run of N, at a place drawn anew for each run', async () => {
  // GIVEN one call in ten fails
  emulator.injectFault({ region: EU_WEST, fault: { status: 503 }, every: 10 });

  // WHEN a hundred calls come
  for (let call = 0; call < 100; call++) await client.send(new ConverseCommand(question('hi'))).catch(() => undefined);

  // THEN each run of ten had exactly one failure, and not always at the same place (all ten alike: one chance in a billion)
  const statuses = emulator.calls().map((call) => call.status);
  const runs = Array.from({ length: 10 }, (_, run) => statuses.slice(run * 10, run * 10 + 10));
  expect(runs.map((run) => run.filter((status) => status === 503).length)).toEqual(Array(10).fill(1));
  expect(new Set(runs.map((run) => run.indexOf(503))).size).toBeGreaterThan(1);
});

test('every counts only the calls a rule matches: calls of another model leave its runs alone', async () => {
  // GIVEN one call in two of MODEL fails
  emulator.injectFault({ region: EU_WEST, model: MODEL, fault: { status: 503 }, every: 2 });

  // WHEN calls of the two models alternate
  for (let call = 0; call < 20; call++) {
    await client.send(new ConverseCommand(question('hi', call % 2 === 0 ? MODEL : OTHER_MODEL))).catch(() => undefined);
  }

  // THEN every call of the other model succeeded, and each pair of MODEL's calls had one failure
  expect(emulator.calls({ modelId: OTHER_MODEL }).map((call) => call.status)).toEqual(Array(10).fill(200));
  const statuses = emulator.calls({ modelId: MODEL }).map((call) => call.status);
  for (let pair = 0; pair < 5; pair++) expect(statuses.slice(pair * 2, pair * 2 + 2).sort()).toEqual([200, 503]);
});

test.each([
  ['every is not a positive integer', { every: 0 }, /fault every must be a positive integer, got 0/],
  ['probability is above 1', { probability: 1.5 }, /fault probability must be above 0 and at most 1, got 1.5/],
  ['both probability and every are given', { probability: 0.1, every: 10 }, /probability and every exclude each other/],
])('a fault rule is refused when %s', (_case, share, message) => {
  expect(() => emulator.injectFault({ region: EU_WEST, fault: { status: 503 }, ...share })).toThrow(message);
});

test('a fault for one model leaves other models and regions untouched', async () => {
  emulator.injectFault({ region: EU_WEST, model: MODEL, fault: { status: 503 } });
  const central = new BedrockRuntimeClient({ region: EU_CENTRAL, endpoint: emulator.endpoint(EU_CENTRAL), credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });

  await client.send(new ConverseCommand(question('hi'))).catch(() => undefined);
  await client.send(new ConverseCommand(question('hi', OTHER_MODEL)));
  await central.send(new ConverseCommand(question('hi')));
  central.destroy();

  expect(emulator.calls().map((call) => [call.region, call.modelId, call.status])).toEqual([
    [EU_WEST, MODEL, 503],
    [EU_WEST, OTHER_MODEL, 200],
    [EU_CENTRAL, MODEL, 200],
  ]);
});

test('failAfterTokens streams K deltas, then the SDK throws the exception event', async () => {
  emulator.injectFault({ region: EU_WEST, fault: { failAfterTokens: 2 } });
  const output = await client.send(new ConverseStreamCommand(question('tell me a long story')));
  const deltas: string[] = [];

  const failure = await errorOf(
    (async () => {
      for await (const event of output.stream!) if (event.contentBlockDelta?.delta?.text) deltas.push(event.contentBlockDelta.delta.text);
    })(),
  );

  expect(deltas).toHaveLength(2);
  expect(failure.name).toBe('ModelStreamErrorException');
});

test('a stall holds the first event back until the stall ends', async () => {
  // The SDK resolves ConverseStream only once the first event arrives, so the whole call waits.
  emulator.injectFault({ region: EU_WEST, fault: { stallMs: 300 } });
  const started = Date.now();

  const output = await client.send(new ConverseStreamCommand(question('hi')));
  const result = await collect(output.stream!);

  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  expect(result.deltas.join('')).toBe(emulator.expectedAnswer(MODEL, EU_WEST, 'hi'));
});

test('a stall in the headers phase keeps the SDK call itself pending', async () => {
  emulator.injectFault({ region: EU_WEST, fault: { stallMs: 300, phase: 'headers' } });
  const started = Date.now();

  const output = await client.send(new ConverseStreamCommand(question('hi')));

  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  await collect(output.stream!);
});

test('a client aborting a stalled call leaves the emulator serving', async () => {
  // GIVEN a call stalled for a minute
  emulator.injectFault({ region: EU_WEST, fault: { stallMs: 60_000 }, times: 1 });
  const abort = new AbortController();
  const stalled = (async () => {
    const output = await client.send(new ConverseStreamCommand(question('hi')), { abortSignal: abort.signal });
    return collect(output.stream!);
  })().then(
    (result) => `ended after ${result.deltas.length} deltas`,
    (error: Error) => error.name,
  );
  while (emulator.calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

  // WHEN the client gives up
  abort.abort();

  // THEN the call ends without an answer and the next one is answered
  expect(await stalled).toMatch(/^(AbortError|ended after 0 deltas)$/);
  const next = await client.send(new ConverseStreamCommand(question('again')));
  expect((await collect(next.stream!)).deltas.join('')).toBe(emulator.expectedAnswer(MODEL, EU_WEST, 'again'));
});

test('a request that does not alternate roles is refused like Bedrock refuses it', async () => {
  const messages = [
    { role: 'user' as const, content: [{ text: 'one' }] },
    { role: 'user' as const, content: [{ text: 'two' }] },
  ];

  await expect(errorOf(client.send(new ConverseCommand({ modelId: MODEL, messages })))).resolves.toEqual({ name: 'ValidationException', status: 400 });
});

test('calls are recorded with region, model, operation, status, transport and message count', async () => {
  await client.send(new ConverseCommand(question('hi')));

  expect(emulator.calls()).toEqual([
    expect.objectContaining({
      region: EU_WEST,
      modelId: MODEL,
      operation: 'Converse',
      status: 200,
      transport: 'h2',
      messages: 1,
      request: expect.objectContaining({ messages: expect.any(Array) }),
    }),
  ]);
});

test('unknown paths get a JSON 404 over HTTP/1.1', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    http
      .get(`${emulator.endpoint(EU_WEST)}/nope`, (response) => {
        response.resume();
        resolve(response.statusCode!);
      })
      .on('error', reject);
  });

  expect(status).toBe(404);
});

test('close ends stalled calls and stops listening', async () => {
  // GIVEN a call stalled for a minute
  const own = await BedrockEmulator.start({ regions: [EU_WEST] });
  own.injectFault({ region: EU_WEST, fault: { stallMs: 60_000 } });
  const ownClient = new BedrockRuntimeClient({ region: EU_WEST, endpoint: own.endpoint(EU_WEST), credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const pending = ownClient.send(new ConverseStreamCommand(question('hi'))).then(
    () => 'settled',
    () => 'settled',
  );
  while (own.calls().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const endpoint = own.endpoint(EU_WEST);

  // WHEN
  await own.close();

  // THEN the call settles at once and the port is gone
  await expect(pending).resolves.toBe('settled');
  await expect(fetch(`${endpoint}/model/m/converse`, { method: 'POST' })).rejects.toThrow();
  ownClient.destroy();
});

/** A JSON value as the SDK types it (a Smithy document). */
type DocumentType = ToolInputSchema.JsonMember['json'];

describe('tool use', () => {
  const LOOKUP_ORDER: Tool = {
    toolSpec: {
      name: 'lookup_order',
      description: 'Looks an order up by its id',
      inputSchema: { json: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } },
    },
  };
  const REFUND_POLICY: Tool = {
    toolSpec: {
      name: 'refund_policy',
      description: "A country's refund policy",
      inputSchema: { json: { type: 'object', properties: { country: { type: 'string', enum: ['FR', 'DE'] } }, required: ['country'] } },
    },
  };
  const toolConfig = { tools: [LOOKUP_ORDER, REFUND_POLICY] };

  /** The SDK's events, each as `{ <member>: value }`. */
  async function eventsOf(input: ConverseStreamCommandInput): Promise<ConverseStreamOutput[]> {
    const output = await client.send(new ConverseStreamCommand(input));
    const events: ConverseStreamOutput[] = [];
    for await (const event of output.stream!) events.push(event);
    return events;
  }

  /** The assistant message a runtime assembles from the stream: texts joined, tool inputs parsed, reasoning signed. */
  function assemble(events: ConverseStreamOutput[]): Message {
    const blocks = new Map<number, { text?: string; reasoning?: string; signature?: string; toolUse?: { toolUseId: string; name: string; input: string } }>();
    const at = (index: number) => blocks.get(index) ?? blocks.set(index, {}).get(index)!;
    for (const event of events) {
      const start = event.contentBlockStart;
      if (start?.start?.toolUse)
        at(start.contentBlockIndex!).toolUse = { toolUseId: start.start.toolUse.toolUseId!, name: start.start.toolUse.name!, input: '' };
      const delta = event.contentBlockDelta;
      if (!delta) continue;
      const block = at(delta.contentBlockIndex!);
      if (delta.delta?.text !== undefined) block.text = (block.text ?? '') + delta.delta.text;
      if (delta.delta?.toolUse) block.toolUse!.input += delta.delta.toolUse.input;
      if (delta.delta?.reasoningContent?.text !== undefined) block.reasoning = (block.reasoning ?? '') + delta.delta.reasoningContent.text;
      if (delta.delta?.reasoningContent?.signature !== undefined) block.signature = delta.delta.reasoningContent.signature;
    }
    const content: ContentBlock[] = [...blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, block]) => {
        if (block.toolUse) return { toolUse: { ...block.toolUse, input: JSON.parse(block.toolUse.input) as DocumentType } };
        if (block.reasoning !== undefined) return { reasoningContent: { reasoningText: { text: block.reasoning, signature: block.signature } } };
        return { text: block.text! };
      });
    return { role: 'assistant', content };
  }

  const toolUses = (message: Message) => (message.content ?? []).flatMap((block) => (block.toolUse ? [block.toolUse] : []));

  /** The user message answering every tool use of `assistant`, each with `results[name]` as JSON. */
  function resultsFor(assistant: Message, results: Record<string, DocumentType>, status: ToolResultStatus = 'success'): Message {
    return {
      role: 'user',
      content: toolUses(assistant).map((use) => ({ toolResult: { toolUseId: use.toolUseId, status, content: [{ json: results[use.name!] }] } })),
    };
  }

  const ask = (text: string): Message => ({ role: 'user', content: [{ text }] });

  test('a question naming a tool streams a text block, then the tool use as Bedrock frames it, and stops for tool_use', async () => {
    // WHEN
    const events = await eventsOf({ modelId: MODEL, messages: [ask('where is lookup_order orderId=A-1001')], toolConfig });

    // THEN
    const names = events.map((event) => Object.keys(event).find((key) => (event as unknown as Record<string, unknown>)[key] !== undefined));
    expect(names).toEqual([
      'messageStart',
      ...Array(3).fill('contentBlockDelta'),
      'contentBlockStop',
      'contentBlockStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    expect(events[5].contentBlockStart).toEqual({
      contentBlockIndex: 1,
      start: { toolUse: { toolUseId: expect.stringMatching(/^tooluse_[\w-]{22}$/), name: 'lookup_order' } },
    });
    expect(events.filter((event) => event.contentBlockDelta?.contentBlockIndex === 1).map((event) => event.contentBlockDelta!.delta!.toolUse!.input)).toEqual([
      expect.any(String),
      expect.any(String),
    ]);
    expect(assemble(events).content).toEqual([
      { text: 'Looking up lookup_order.' },
      { toolUse: expect.objectContaining({ name: 'lookup_order', input: { orderId: 'A-1001' } }) },
    ]);
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe('tool_use');
  });

  test('tool-use ids are the same for the same conversation, and differ by question', async () => {
    const first = assemble(await eventsOf({ modelId: MODEL, messages: [ask('lookup_order orderId=A-1')], toolConfig }));
    const again = assemble(await eventsOf({ modelId: MODEL, messages: [ask('lookup_order orderId=A-1')], toolConfig }));
    const other = assemble(await eventsOf({ modelId: MODEL, messages: [ask('lookup_order orderId=A-2')], toolConfig }));

    expect(toolUses(again)[0].toolUseId).toBe(toolUses(first)[0].toolUseId);
    expect(toolUses(other)[0].toolUseId).not.toBe(toolUses(first)[0].toolUseId);
  });

  test('tools named in one group are called in parallel in one message, in the order the text names them', async () => {
    const message = assemble(await eventsOf({ modelId: MODEL, messages: [ask('refund_policy country=DE and lookup_order orderId=B-7')], toolConfig }));

    expect(toolUses(message).map((use) => [use.name, use.input])).toEqual([
      ['refund_policy', { country: 'DE' }],
      ['lookup_order', { orderId: 'B-7' }],
    ]);
    expect(new Set(toolUses(message).map((use) => use.toolUseId)).size).toBe(2);
  });

  test('groups separated by "then" are called in successive steps, each after the previous results', async () => {
    // GIVEN step 1 called lookup_order and got its result
    const question = ask('lookup_order orderId=A-1001 then refund_policy');
    const first = assemble(await eventsOf({ modelId: MODEL, messages: [question], toolConfig }));
    const results = resultsFor(first, { lookup_order: { status: 'shipped' } });

    // WHEN
    const second = assemble(await eventsOf({ modelId: MODEL, messages: [question, first, results], toolConfig }));

    // THEN
    expect(toolUses(first).map((use) => use.name)).toEqual(['lookup_order']);
    expect(toolUses(second).map((use) => [use.name, use.input])).toEqual([['refund_policy', { country: 'FR' }]]);
    expect(emulator.calls().map((call) => call.step)).toEqual([1, 2]);
  });

  test("each step reads its tool's input from its own group first, then from the whole question", async () => {
    // GIVEN a tool named in three groups, with its own value in two of them
    const question = ask('lookup_order orderId=A-1 then lookup_order orderId=B-2 then refund_policy then lookup_order');
    const messages: Message[] = [question];

    // WHEN the loop runs its four steps
    for (let step = 1; step <= 4; step++) {
      const assistant = assemble(await eventsOf({ modelId: MODEL, messages, toolConfig }));
      messages.push(assistant, resultsFor(assistant, { lookup_order: {}, refund_policy: {} }));
    }

    // THEN a group's own value wins, a group without one takes the question's first
    expect(messages.filter((message) => message.role === 'assistant').map((message) => toolUses(message).map((use) => [use.name, use.input]))).toEqual([
      [['lookup_order', { orderId: 'A-1' }]],
      [['lookup_order', { orderId: 'B-2' }]],
      [['refund_policy', { country: 'FR' }]],
      [['lookup_order', { orderId: 'A-1' }]],
    ]);
  });

  test('once no group is left, the model answers in text quoting every result, as expectedToolAnswer computes it', async () => {
    // GIVEN two rounds of tools
    const text = 'lookup_order orderId=A-1001 then refund_policy';
    const messages: Message[] = [ask(text)];
    for (const result of [{ lookup_order: { status: 'shipped' } }, { refund_policy: { days: 30 } }] as Array<Record<string, DocumentType>>) {
      const assistant = assemble(await eventsOf({ modelId: MODEL, messages, toolConfig }));
      messages.push(assistant, resultsFor(assistant, result));
    }

    // WHEN
    const events = await eventsOf({ modelId: MODEL, messages, toolConfig });

    // THEN
    const answer = assemble(events).content?.[0].text;
    expect(answer).toBe(
      emulator.expectedToolAnswer(MODEL, EU_WEST, text, [
        { tool: 'lookup_order', result: { status: 'shipped' } },
        { tool: 'refund_policy', result: { days: 30 } },
      ]),
    );
    expect(answer).toContain('using lookup_order={"status":"shipped"}, refund_policy={"days":30}');
    expect(events.find((event) => event.messageStop)?.messageStop?.stopReason).toBe('end_turn');
  });

  test('an error result is told as a failure in the answer', async () => {
    const question = ask('lookup_order orderId=X');
    const assistant = assemble(await eventsOf({ modelId: MODEL, messages: [question], toolConfig }));

    const events = await eventsOf({
      modelId: MODEL,
      messages: [question, assistant, resultsFor(assistant, { lookup_order: 'no such order' }, 'error')],
      toolConfig,
    });

    expect(assemble(events).content?.[0].text).toContain('using lookup_order failed: "no such order"');
  });

  test('a text naming loop_forever makes the model call its first named tool at every step', async () => {
    const messages: Message[] = [ask('loop_forever with lookup_order orderId=A-1 then refund_policy')];
    for (let step = 1; step <= 4; step++) {
      const assistant = assemble(await eventsOf({ modelId: MODEL, messages, toolConfig }));
      messages.push(assistant, resultsFor(assistant, { lookup_order: { step } }));
    }

    expect(messages.filter((message) => message.role === 'assistant').map((message) => toolUses(message).map((use) => use.name))).toEqual(
      Array(4).fill(['lookup_order']),
    );
    expect(emulator.calls().map((call) => call.step)).toEqual([1, 2, 3, 4]);
  });

  test('with tools configured but none named, the answer is the plain expected answer', async () => {
    const events = await eventsOf({ modelId: MODEL, messages: [ask('what is the capital of France')], toolConfig });

    expect(assemble(events).content).toEqual([{ text: emulator.expectedAnswer(MODEL, EU_WEST, 'what is the capital of France') }]);
  });

  describe('tool input from the schema', () => {
    const schemaTool = (json: DocumentType): Tool => ({ toolSpec: { name: 'check', description: 'Checks', inputSchema: { json } } });
    const inputFor = async (text: string, json: DocumentType) =>
      toolUses(assemble(await eventsOf({ modelId: MODEL, messages: [ask(text)], toolConfig: { tools: [schemaTool(json)] } })))[0].input;
    const everyType = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        tier: { type: 'string', enum: ['gold', 'silver'] },
        count: { type: 'integer' },
        ratio: { type: 'number' },
        urgent: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
        address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } }, required: ['city'] },
        note: { type: 'string' },
      },
      required: ['name', 'tier', 'count', 'ratio', 'urgent', 'tags', 'address'],
    };

    test('required properties take the values the question gives, converted to their types, recursing into objects', async () => {
      await expect(inputFor('check name=Ada tier=silver count=3 ratio=0.5 city=Lyon', everyType)).resolves.toEqual({
        name: 'Ada',
        tier: 'silver',
        count: 3,
        ratio: 0.5,
        urgent: true,
        tags: [],
        address: { city: 'Lyon' },
      });
    });

    test('required properties the question leaves out get defaults: "sample", the first enum value, 1, true, []', async () => {
      await expect(inputFor('check', everyType)).resolves.toEqual({
        name: 'sample',
        tier: 'gold',
        count: 1,
        ratio: 1,
        urgent: true,
        tags: [],
        address: { city: 'sample' },
      });
    });

    test('a given value that does not parse for its type is passed raw, so that the input violates the schema', async () => {
      await expect(inputFor('check count=many tier=bronze', everyType)).resolves.toEqual(expect.objectContaining({ count: 'many', tier: 'bronze' }));
    });
  });

  test('Converse answers a tool step with the toolUse block and stop reason tool_use', async () => {
    const output = await client.send(new ConverseCommand({ modelId: MODEL, messages: [ask('lookup_order orderId=A-1001')], toolConfig }));

    expect(output.stopReason).toBe('tool_use');
    expect(output.output?.message?.content).toEqual([
      { text: 'Looking up lookup_order.' },
      { toolUse: { toolUseId: expect.stringMatching(/^tooluse_/), name: 'lookup_order', input: { orderId: 'A-1001' } } },
    ]);
  });

  test('failAfterTokens counts tool input deltas too, so a stream can fail in the middle of a tool use', async () => {
    // GIVEN the text block is 3 deltas: the exception comes after the tool's first input fragment
    emulator.injectFault({ region: EU_WEST, fault: { failAfterTokens: 4 } });
    const output = await client.send(new ConverseStreamCommand({ modelId: MODEL, messages: [ask('lookup_order orderId=A-1001')], toolConfig }));
    const seen: string[] = [];

    const failure = await errorOf(
      (async () => {
        for await (const event of output.stream!) seen.push(event.contentBlockStart ? 'start' : event.contentBlockDelta?.delta?.toolUse ? 'input' : 'other');
      })(),
    );

    expect(failure.name).toBe('ModelStreamErrorException');
    expect(seen.slice(-2)).toEqual(['start', 'input']);
  });

  describe('reasoning', () => {
    const thinking = { thinking: { type: 'enabled', budget_tokens: 1024 } };

    test('with thinking enabled, an Anthropic model streams a signed reasoning block first', async () => {
      const events = await eventsOf({ modelId: MODEL, messages: [ask('lookup_order orderId=A-1')], toolConfig, additionalModelRequestFields: thinking });

      const reasoning = events
        .filter((event) => event.contentBlockDelta?.contentBlockIndex === 0)
        .map((event) => event.contentBlockDelta!.delta!.reasoningContent);
      expect(reasoning.length).toBeGreaterThan(2);
      expect(reasoning.slice(0, -1).every((delta) => typeof delta?.text === 'string')).toBe(true);
      expect(reasoning.at(-1)).toEqual({ signature: expect.any(String) });
      expect(events.find((event) => event.contentBlockStop)?.contentBlockStop?.contentBlockIndex).toBe(0);
      expect(assemble(events).content?.map((block) => Object.keys(block)[0])).toEqual(['reasoningContent', 'text', 'toolUse']);
    });

    test('a model id prefixed with global. is still Anthropic', async () => {
      const events = await eventsOf({ ...question('hi', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'), additionalModelRequestFields: thinking });

      expect(events[1].contentBlockDelta?.delta?.reasoningContent?.text).toEqual(expect.any(String));
    });

    test('thinking sent to a model that is not Anthropic is refused', async () => {
      const failure = await failureOf(eventsOf({ ...question('hi', OTHER_MODEL), additionalModelRequestFields: thinking }));

      expect(failure).toEqual({ name: 'ValidationException', status: 400, message: expect.stringContaining('extraneous key [thinking] is not permitted') });
    });

    test('with thinking enabled, tool results after an assistant message that does not start with its reasoning are refused', async () => {
      // GIVEN a tool round whose reasoning block the runtime dropped
      const asked = ask('lookup_order orderId=A-1');
      const assistant = assemble(await eventsOf({ modelId: MODEL, messages: [asked], toolConfig, additionalModelRequestFields: thinking }));
      const withoutReasoning: Message = { role: 'assistant', content: assistant.content!.filter((block) => !block.reasoningContent) };

      // WHEN
      const dropped = failureOf(
        eventsOf({
          modelId: MODEL,
          messages: [asked, withoutReasoning, resultsFor(assistant, { lookup_order: {} })],
          toolConfig,
          additionalModelRequestFields: thinking,
        }),
      );
      const kept = eventsOf({
        modelId: MODEL,
        messages: [asked, assistant, resultsFor(assistant, { lookup_order: {} })],
        toolConfig,
        additionalModelRequestFields: thinking,
      });

      // THEN
      await expect(dropped).resolves.toEqual(
        expect.objectContaining({ name: 'ValidationException', message: expect.stringContaining('must start with a thinking block') }),
      );
      await expect(kept).resolves.toContainEqual({ messageStop: expect.objectContaining({ stopReason: 'end_turn' }) });
    });
  });

  test('a fault for step 2 leaves the first call of the loop alone and fails the call after the first tool round', async () => {
    // GIVEN
    emulator.injectFault({ region: EU_WEST, model: MODEL, step: 2, fault: { status: 503 } });
    const asked = ask('lookup_order orderId=A-1');

    // WHEN
    const first = assemble(await eventsOf({ modelId: MODEL, messages: [asked], toolConfig }));
    const second = await errorOf(eventsOf({ modelId: MODEL, messages: [asked, first, resultsFor(first, { lookup_order: {} })], toolConfig }));

    // THEN
    expect(second).toEqual({ name: 'ServiceUnavailableException', status: 503 });
    expect(emulator.calls().map((call) => [call.step, call.status])).toEqual([
      [1, 200],
      [2, 503],
    ]);
  });

  describe('validation as Bedrock does it', () => {
    const asked = ask('lookup_order orderId=A-1');
    const use: Message = { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'lookup_order', input: {} } }] };
    const result = (toolUseId: string): Message => ({ role: 'user', content: [{ toolResult: { toolUseId, content: [{ json: {} }] } }] });
    const refusal = (input: ConverseStreamCommandInput) => failureOf(eventsOf(input)).then(({ name, status, message }) => ({ name, status, message }));

    test.each<[string, ConverseStreamCommandInput, string]>([
      [
        'tool blocks without toolConfig',
        { modelId: MODEL, messages: [asked, use, result('tooluse_1')] },
        'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
      ],
      [
        'a tool result where the previous message used no tool',
        { modelId: MODEL, messages: [result('tooluse_1')], toolConfig },
        'The number of toolResult blocks at messages.0.content exceeds the number of toolUse blocks of previous turn.',
      ],
      [
        'a tool result whose id matches no tool use of the previous message',
        { modelId: MODEL, messages: [asked, use, result('tooluse_other')], toolConfig },
        'Expected toolResult blocks at messages.2.content for the following Ids: tooluse_1',
      ],
      [
        'a tool use the next user message does not answer',
        { modelId: MODEL, messages: [asked, use, ask('never mind')], toolConfig },
        'Expected toolResult blocks at messages.2.content for the following Ids: tooluse_1',
      ],
      [
        'an error result without content',
        {
          modelId: MODEL,
          messages: [asked, use, { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', status: 'error', content: [] } }] }],
          toolConfig,
        },
        'The content field at messages.2.content.0.toolResult cannot be empty when status value is error.',
      ],
      [
        'reasoning content sent to a model that is not Anthropic',
        {
          modelId: OTHER_MODEL,
          messages: [
            asked,
            { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'hmm', signature: 's' } } }, { text: 'ok' }] },
            ask('go on'),
          ],
        },
        'The model returned the following errors: Malformed input request: #/messages/1/content/0: extraneous key [reasoningContent] is not permitted, please reformat your input and try again.',
      ],
      [
        'reasoning content in a user message',
        { modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }, { reasoningContent: { reasoningText: { text: 'hmm' } } }] }] },
        'User messages cannot contain reasoning content. Please remove the reasoning content and try again.',
      ],
      [
        'a cache point sent to a model family without prompt caching',
        { modelId: 'eu.meta.llama3-2-3b-instruct-v1:0', messages: [asked], system: [{ text: 'be brief' }, { cachePoint: { type: 'default' } }] },
        'You invoked an unsupported model, or your request did not allow prompt caching. See the documentation for more information.',
      ],
      [
        'a tool name outside [a-zA-Z0-9_-]',
        { modelId: MODEL, messages: [asked], toolConfig: { tools: [LOOKUP_ORDER, { toolSpec: { ...LOOKUP_ORDER.toolSpec!, name: 'look up' } }] } },
        "1 validation error detected: Value 'look up' at 'toolConfig.tools.2.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
      ],
      [
        'a tool name longer than 64 characters',
        { modelId: MODEL, messages: [asked], toolConfig: { tools: [{ toolSpec: { ...LOOKUP_ORDER.toolSpec!, name: 'x'.repeat(65) } }] } },
        `1 validation error detected: Value '${'x'.repeat(65)}' at 'toolConfig.tools.1.member.toolSpec.name' failed to satisfy constraint: Member must have length less than or equal to 64`,
      ],
      [
        'a message with no content block',
        { modelId: MODEL, messages: [asked, { role: 'assistant', content: [] }, ask('again')] },
        'The content field in the Message object at messages.1 is empty. Add a ContentBlock object to the content field and try again.',
      ],
    ])('%s is refused with 400 ValidationException', async (_case, input, message) => {
      await expect(refusal(input)).resolves.toEqual({ name: 'ValidationException', status: 400, message });
    });

    test.each([
      ['an Anthropic model', MODEL],
      ['an Amazon Nova model', OTHER_MODEL],
    ])('cache points in system, tools and messages are accepted by %s', async (_case, modelId) => {
      const cachePoint = { cachePoint: { type: 'default' as const } };
      const events = await eventsOf({
        modelId,
        system: [{ text: 'be brief' }, cachePoint],
        messages: [{ role: 'user', content: [{ text: 'hi' }, cachePoint] }],
        toolConfig: { tools: [LOOKUP_ORDER, cachePoint] },
      });

      expect(assemble(events).content).toEqual([{ text: emulator.expectedAnswer(modelId, EU_WEST, 'hi') }]);
    });

    test('tool results and cache points are not blank text: a message of only non-text blocks is accepted', async () => {
      const events = await eventsOf({
        modelId: MODEL,
        messages: [asked, use, { role: 'user', content: [...result('tooluse_1').content!, { cachePoint: { type: 'default' } }] }],
        toolConfig,
      });

      expect(events).toContainEqual({ messageStop: expect.objectContaining({ stopReason: 'end_turn' }) });
    });
  });
});
