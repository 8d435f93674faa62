import * as http from 'node:http';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, type ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
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

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
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
