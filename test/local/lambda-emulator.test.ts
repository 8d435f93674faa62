import { InvokeCommand, LambdaClient, type InvokeCommandInput } from '@aws-sdk/client-lambda';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { LambdaEmulator, type LambdaContext } from '../../local/lambda-emulator';

const EU_WEST = 'eu-west-1';
const ACCOUNT = '123456789012';
const ORDERS = 'lookup-order';
const ORDERS_ARN = `arn:aws:lambda:${EU_WEST}:${ACCOUNT}:function:${ORDERS}`;

let emulator: LambdaEmulator;
let client: LambdaClient;

beforeAll(async () => {
  emulator = await LambdaEmulator.start();
  client = clientFor(EU_WEST);
  emulator.register(ORDERS_ARN, (event) => ({ order: (event as { orderId: string }).orderId, status: 'shipped' }));
});

afterEach(() => {
  emulator.clearFaults();
  emulator.clearCalls();
});

afterAll(async () => {
  client.destroy();
  await emulator.close();
});

function clientFor(region: string): LambdaClient {
  return new LambdaClient({ region, endpoint: emulator.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

const invoke = (input: Partial<InvokeCommandInput> & { event?: unknown } = {}, via = client) => {
  const { event = { orderId: 'A-1001' }, ...rest } = input;
  return via.send(new InvokeCommand({ FunctionName: ORDERS, Payload: new TextEncoder().encode(JSON.stringify(event)), ...rest }));
};

const json = (payload: Uint8Array | undefined): unknown => JSON.parse(new TextDecoder().decode(payload));

async function failureOf(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string; error: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message, error: error as Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
}

const waitFor = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

test("a function's result comes back as the Payload bytes of a 200, with no function error", async () => {
  const output = await invoke();

  expect(output.StatusCode).toBe(200);
  expect(output.FunctionError).toBeUndefined();
  expect(output.ExecutedVersion).toBe('$LATEST');
  expect(json(output.Payload)).toEqual({ order: 'A-1001', status: 'shipped' });
});

test('the handler gets the event and a Lambda-like context', async () => {
  // GIVEN a function that reports what it was given
  let seen: { event: unknown; context: LambdaContext; remaining: number } | undefined;
  emulator.register('whoami', (event, context) => {
    seen = { event, context, remaining: context.getRemainingTimeInMillis() };
    return null;
  });

  // WHEN
  const output = await invoke({ FunctionName: 'whoami', event: { hello: 'world' }, ClientContext: Buffer.from('{"app":"agent"}').toString('base64') });

  // THEN
  expect(json(output.Payload)).toBeNull();
  expect(seen?.event).toEqual({ hello: 'world' });
  expect(seen?.context).toEqual(
    expect.objectContaining({
      awsRequestId: output.$metadata.requestId,
      functionName: 'whoami',
      invokedFunctionArn: `arn:aws:lambda:${EU_WEST}:${ACCOUNT}:function:whoami`,
      clientContext: { app: 'agent' },
    }),
  );
  expect(seen?.remaining).toBeGreaterThan(2900);
  expect(seen?.remaining).toBeLessThanOrEqual(3000);
});

test.each([
  ['its name', ORDERS],
  ['its name and a qualifier', `${ORDERS}:live`],
  ['a partial ARN', `${ACCOUNT}:function:${ORDERS}`],
  ['its full ARN', ORDERS_ARN],
  ['its full ARN and a qualifier', `${ORDERS_ARN}:7`],
])('a function is reached by %s', async (_case, FunctionName) => {
  const output = await invoke({ FunctionName });

  expect(output.StatusCode).toBe(200);
  expect(emulator.calls()).toEqual([expect.objectContaining({ functionName: ORDERS, status: 200 })]);
});

test('a function registered with a qualifier serves that qualifier only', async () => {
  emulator.register(`canary:blue`, () => 'blue');

  const blue = await invoke({ FunctionName: 'canary', Qualifier: 'blue' });
  const green = await failureOf(invoke({ FunctionName: 'canary:green' }));

  expect(json(blue.Payload)).toBe('blue');
  expect(green).toEqual(
    expect.objectContaining({ name: 'ResourceNotFoundException', message: `Function not found: arn:aws:lambda:${EU_WEST}:${ACCOUNT}:function:canary:green` }),
  );
});

test('a handler that throws is a 200 with FunctionError Unhandled and the Node.js runtime error document', async () => {
  // GIVEN
  emulator.register('broken', () => {
    throw new TypeError('order id missing');
  });

  // WHEN
  const output = await invoke({ FunctionName: 'broken' });

  // THEN
  expect(output.StatusCode).toBe(200);
  expect(output.FunctionError).toBe('Unhandled');
  expect(json(output.Payload)).toEqual({
    errorType: 'TypeError',
    errorMessage: 'order id missing',
    trace: expect.arrayContaining(['TypeError: order id missing']),
  });
  expect(emulator.calls({ functionName: 'broken' })).toEqual([expect.objectContaining({ status: 200, functionError: 'Unhandled' })]);
});

test("a handler that outlives the function's timeout is an Unhandled Sandbox.Timedout error", async () => {
  emulator.register('slow', () => new Promise((resolve) => setTimeout(resolve, 1000)), { timeoutMs: 50 });

  const output = await invoke({ FunctionName: 'slow' });

  expect(output.FunctionError).toBe('Unhandled');
  expect(json(output.Payload)).toEqual({
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${output.$metadata.requestId} Error: Task timed out after 0.05 seconds`,
  });
});

test('an unknown function is a 404 ResourceNotFoundException naming its ARN', async () => {
  const failure = await failureOf(invoke({ FunctionName: 'nope' }));

  expect(failure).toEqual(
    expect.objectContaining({
      name: 'ResourceNotFoundException',
      status: 404,
      message: `Function not found: arn:aws:lambda:${EU_WEST}:${ACCOUNT}:function:nope`,
    }),
  );
  expect(failure.error.Type).toBe('User');
});

test("a function of another region is not reachable from this region's endpoint", async () => {
  // GIVEN a function in eu-central-1, and a client of eu-west-1
  const arn = emulator.register(`arn:aws:lambda:eu-central-1:${ACCOUNT}:function:residency-check`, () => 'ok');

  // WHEN it is called by ARN, and by name
  const byArn = await failureOf(invoke({ FunctionName: arn }));
  const byName = await failureOf(invoke({ FunctionName: 'residency-check' }));
  const fromItsRegion = await invoke({ FunctionName: arn }, clientFor('eu-central-1'));

  // THEN
  expect(byArn).toEqual(
    expect.objectContaining({ name: 'ResourceNotFoundException', message: "Functions from 'eu-central-1' are not reachable in this region ('eu-west-1')" }),
  );
  expect(byName.name).toBe('ResourceNotFoundException');
  expect(json(fromItsRegion.Payload)).toBe('ok');
  expect(emulator.calls().map((call) => [call.region, call.status])).toEqual([
    [EU_WEST, 404],
    [EU_WEST, 404],
    ['eu-central-1', 200],
  ]);
});

test('an Event invocation is a 202 at once, and the function runs in the background', async () => {
  // GIVEN a function that finishes only when released
  let release: () => void = () => undefined;
  let ran = false;
  emulator.register('notify', async () => {
    await new Promise<void>((resolve) => (release = resolve));
    ran = true;
  });

  // WHEN
  const output = await invoke({ FunctionName: 'notify', InvocationType: 'Event' });

  // THEN
  expect(output.StatusCode).toBe(202);
  expect(ran).toBe(false);
  release();
  await waitFor(() => ran);
  expect(emulator.calls()).toEqual([expect.objectContaining({ invocationType: 'Event', status: 202 })]);
});

test('a DryRun is a 204 that runs nothing', async () => {
  let ran = false;
  emulator.register('checked', () => (ran = true));

  const output = await invoke({ FunctionName: 'checked', InvocationType: 'DryRun' });

  expect(output.StatusCode).toBe(204);
  expect(ran).toBe(false);
});

test.each([
  [429, 'TooManyRequestsException'],
  [500, 'ServiceException'],
  [502, 'ResourceNotReadyException'],
  [413, 'RequestTooLargeException'],
])('a %i fault surfaces in the SDK as %s, and the function does not run', async (status, name) => {
  // GIVEN
  let ran = false;
  emulator.register('guarded', () => (ran = true));
  emulator.injectFault({ functionName: 'guarded', fault: { status } });

  // WHEN
  const failure = await failureOf(invoke({ FunctionName: 'guarded' }));

  // THEN
  expect(failure).toEqual(expect.objectContaining({ name, status }));
  expect(failure.message).toEqual(expect.any(String));
  expect(ran).toBe(false);
  expect(emulator.calls()).toEqual([expect.objectContaining({ functionName: 'guarded', status })]);
});

test("a throttling fault carries Lambda's reason and Retry-After as the SDK models them", async () => {
  emulator.injectFault({ functionName: ORDERS_ARN, fault: { status: 429 } });

  const failure = await failureOf(invoke());

  expect(failure.message).toBe('Rate Exceeded.');
  expect(failure.error).toEqual(expect.objectContaining({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', retryAfterSeconds: '1', Type: 'User' }));
});

test('times limits a fault to that many calls of the function', async () => {
  emulator.injectFault({ functionName: ORDERS, fault: { status: 500 }, times: 1 });

  await invoke().catch(() => undefined);
  await invoke();

  expect(emulator.calls().map((call) => call.status)).toEqual([500, 200]);
});

test('a delay fault holds the call back before the function runs', async () => {
  emulator.injectFault({ functionName: ORDERS, fault: { delayMs: 200 } });
  const started = Date.now();

  const output = await invoke();

  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  expect(json(output.Payload)).toEqual({ order: 'A-1001', status: 'shipped' });
});

test('calls are recorded with function, qualifier, signing region, invocation type, payload and status', async () => {
  await invoke({ FunctionName: `${ORDERS}:live`, event: { orderId: 'B-2' } });

  expect(emulator.calls()).toEqual([
    expect.objectContaining({
      functionName: ORDERS,
      qualifier: 'live',
      region: EU_WEST,
      invocationType: 'RequestResponse',
      payload: { orderId: 'B-2' },
      status: 200,
    }),
  ]);
});

test('a payload that is not JSON is refused with 400 InvalidRequestContentException before any function runs', async () => {
  const failure = await failureOf(client.send(new InvokeCommand({ FunctionName: ORDERS, Payload: new TextEncoder().encode('{not json') })));

  expect(failure).toEqual(
    expect.objectContaining({
      name: 'InvalidRequestContentException',
      status: 400,
      message: expect.stringContaining('Could not parse request body into json'),
    }),
  );
});

test('LogType Tail returns the invocation log lines, base64-encoded', async () => {
  const output = await invoke({ LogType: 'Tail' });

  const log = Buffer.from(output.LogResult!, 'base64').toString('utf8');
  expect(log).toContain(`START RequestId: ${output.$metadata.requestId} Version: $LATEST`);
  expect(log).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms/);
});

test('registering a function again replaces its handler', async () => {
  emulator.register('versioned', () => 'first');
  emulator.register('versioned', () => 'second');

  const output = await invoke({ FunctionName: 'versioned' });

  expect(json(output.Payload)).toBe('second');
});

test('close stops listening', async () => {
  const own = await LambdaEmulator.start();
  const endpoint = own.endpoint;

  await own.close();

  await expect(fetch(`${endpoint}/2015-03-31/functions/x/invocations`, { method: 'POST' })).rejects.toThrow();
});
