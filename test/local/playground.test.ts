import * as http from 'node:http';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { Playground } from '../../local/playground';
import { sharedExampleRegions } from './example-assembly';

let playground: Playground;

/** The retry budget's window here: one test's fallbacks must not spend the next one's budget (see the providers' tests). */
const BUDGET_WINDOW_MS = 1000;

beforeAll(async () => {
  const example = await sharedExampleRegions();
  const configs = example.configs.map((config) => ({ ...config, retryBudget: { ...config.retryBudget, windowMs: BUDGET_WINDOW_MS } }));
  playground = await Playground.start({ ...example, configs, port: 0 });
  // The example synthesizes with bundling, as `npm run local` runs it.
}, EXAMPLE_SYNTH_TIMEOUT_MS);

afterEach(async () => {
  playground.emulator.clearFaults();
  playground.providers.openai.clearFaults();
  for (const region of ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2']) await control('POST', `/_local/regions/${region}/up`);
});

afterAll(async () => {
  await playground.close();
});

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${playground.url}${path}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Asks in a new conversation, minted by the region the caller reaches (its id carries that jurisdiction). */
async function ask(options: { location?: string } = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const located: Record<string, string> = options.location ? { 'x-local-location': options.location } : {};
  const minted = await fetch(`${playground.url}/v1/conversations`, { method: 'POST', headers: located });
  if (minted.status !== 201) return { status: minted.status, headers: minted.headers, body: await minted.text() };
  const { conversationId } = (await minted.json()) as { conversationId: string };
  const response = await fetch(`${playground.url}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...located },
    body: JSON.stringify({ text: 'where am I served?' }),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

test('GET /_local/regions lists every region of the example deployment with its endpoints', async () => {
  const { status, json } = await control('GET', '/_local/regions');

  expect(status).toBe(200);
  expect(json).toEqual([
    expect.objectContaining({ region: 'us-east-1', jurisdiction: 'us', healthy: true }),
    expect.objectContaining({ region: 'us-west-2', jurisdiction: 'us', healthy: true }),
    expect.objectContaining({ region: 'eu-west-1', jurisdiction: 'eu', healthy: true }),
    expect.objectContaining({ region: 'eu-central-1', jurisdiction: 'eu', healthy: true }),
  ]);
  for (const region of json as Array<{ baseUrl: string; bedrockEndpoint: string }>) {
    expect(region.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(region.bedrockEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }
});

test('each baseUrl serves that one region', async () => {
  const regions = (await control('GET', '/_local/regions')).json as Array<{ region: string; baseUrl: string }>;

  for (const { region, baseUrl } of regions) {
    expect(await (await fetch(`${baseUrl}/health`)).json()).toMatchObject({ status: 'ok', region });
  }
});

test('a caller in the EU is served by an EU region; one in the US by a US region', async () => {
  const eu = await ask({ location: 'eu-central' });
  const us = await ask({ location: 'us' });

  expect(eu.headers.get('x-local-routed-to')).toBe('eu-central-1');
  expect(eu.headers.get('x-agent-region')).toBe('eu-central-1');
  expect(us.headers.get('x-local-routed-to')).toBe('us-east-1');
});

test('with its nearest EU region down, an EU caller goes to the other EU region, never to a US one', async () => {
  await control('POST', '/_local/regions/eu-central-1/down');

  const answer = await ask({ location: 'eu-central' });

  expect(answer.status).toBe(200);
  expect(answer.headers.get('x-local-routed-to')).toBe('eu-west-1');
});

test('with every EU region down, an EU caller stays in the EU and meets the outage (Route 53 fails open)', async () => {
  await control('POST', '/_local/regions/eu-west-1/down');
  await control('POST', '/_local/regions/eu-central-1/down');

  const answer = await ask({ location: 'eu' });

  expect(answer.status).toBe(503);
  expect(answer.headers.get('x-local-routed-to')).toMatch(/^eu-/);
  expect(JSON.parse(answer.body).error.code).toBe('region_down');
});

test('a request to the EU host reaches the EU even from the US', async () => {
  // fetch may not set Host; node:http may, as curl does.
  const routedTo = await new Promise<string | undefined>((resolve, reject) => {
    const request = http.request(`${playground.url}/health`, { headers: { host: 'eu.localhost', 'x-local-location': 'us' } }, (response) => {
      response.resume();
      resolve(response.headers['x-local-routed-to'] as string | undefined);
    });
    request.on('error', reject).end();
  });

  expect(routedTo).toMatch(/^eu-/);
});

test('an injected 503 turns into a regional fallback that the calls and metrics show', async () => {
  // GIVEN us-east-1's emulated Bedrock answers 503
  const injected = await control('POST', '/_local/faults', { region: 'us-east-1', fault: { status: 503 } });
  playground.emulator.clearCalls();

  // WHEN
  const answer = await ask({ location: 'us' });

  // THEN
  expect(injected.status).toBe(201);
  expect(answer.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(answer.headers.get('x-agent-region')).toBe('us-west-2');
  const calls = (await control('GET', '/_local/calls')).json as Array<{ region: string; status: number; modelId: string; at: number }>;
  expect(calls.map((call) => `${call.region}:${call.status}`)).toEqual(['us-east-1:503', 'us-west-2:200']);
  const metrics = (await control('GET', '/_local/metrics')).json as Record<string, { byPath: Record<string, number>; fallbackRatePercent: number }>;
  expect(metrics['us-east-1'].byPath['regional-fallback']).toBeGreaterThanOrEqual(1);
  expect(metrics['us-east-1'].fallbackRatePercent).toBeGreaterThan(0);
});

test('DELETE /_local/faults clears every fault', async () => {
  await control('POST', '/_local/faults', { region: 'us-east-1', fault: { status: 503 } });

  const cleared = await control('DELETE', '/_local/faults');
  const answer = await ask({ location: 'us' });

  expect(cleared.status).toBe(204);
  expect(answer.headers.get('x-agent-path')).toBe('primary');
});

test.each([
  ['malformed JSON', '{"region":'],
  ['an unknown fault kind', { region: 'us-east-1', fault: { explode: true } }],
  ['a status that is not an error', { region: 'us-east-1', fault: { status: 200 } }],
  ['an unknown region', { region: 'mars-north-1', fault: { status: 503 } }],
  ['a non-positive times', { region: 'us-east-1', fault: { status: 503 }, times: 0 }],
  ['a non-positive step', { region: 'us-east-1', step: 0, fault: { status: 503 } }],
  ['a model no chain calls in that region', { region: 'us-east-1', model: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', fault: { status: 503 } }],
  ['a probability above 1', { region: 'us-east-1', fault: { status: 503 }, probability: 1.5 }],
  ['an every that is not a positive integer', { region: 'us-east-1', fault: { status: 503 }, every: 2.5 }],
  ['both every and probability', { region: 'us-east-1', fault: { status: 503 }, every: 10, probability: 0.1 }],
])('a fault request with %s is refused with 400 and injects nothing', async (_case, body) => {
  const response = await control('POST', '/_local/faults', body);
  const answer = await ask({ location: 'us' });

  expect(response.status).toBe(400);
  expect((response.json as { error: { message: string } }).error.message).toEqual(expect.any(String));
  expect(answer.headers.get('x-agent-path')).toBe('primary');
});

test.each([
  ['probability', { probability: 0 }],
  ['every', { every: 0 }],
  ['every', { every: 10, probability: 0.1 }],
])('a fault request with a bad share names the field %s', async (field, share) => {
  const response = await control('POST', '/_local/faults', { region: 'us-east-1', fault: { status: 503 }, ...share });

  expect(response.status).toBe(400);
  expect((response.json as { error: { message: string } }).error.message).toMatch(new RegExp(`^${field}: `));
});

test('a fault request with a share is injected with it (the emulator applies it, see its tests)', async () => {
  const every = await control('POST', '/_local/faults', { region: 'us-east-1', fault: { stallMs: 3000 }, every: 10 });
  const probability = await control('POST', '/_local/faults', { region: 'us-west-2', fault: { stallMs: 3000 }, probability: 0.1 });

  expect(every.status).toBe(201);
  expect(every.json).toEqual({ injected: expect.objectContaining({ every: 10 }) });
  expect(probability.status).toBe(201);
  expect(probability.json).toEqual({ injected: expect.objectContaining({ probability: 0.1 }) });
});

test('a fault for step 2 is injected and leaves the first model call of a message alone, which the calls show as step 1', async () => {
  // GIVEN
  const injected = await control('POST', '/_local/faults', { region: 'us-east-1', step: 2, fault: { status: 503 } });
  playground.emulator.clearCalls();

  // WHEN a message without tools makes one model call
  const answer = await ask({ location: 'us' });

  // THEN
  expect(injected.status).toBe(201);
  expect(answer.headers.get('x-agent-path')).toBe('primary');
  const calls = (await control('GET', '/_local/calls')).json as Array<{ region: string; step: number; status: number }>;
  expect(calls.map((call) => `${call.region}:${call.step}:${call.status}`)).toEqual(['us-east-1:1:200']);
});

test('a fault for a model names the model when no chain calls it there, and is injected when one does', async () => {
  const unused = await control('POST', '/_local/faults', { region: 'us-east-1', model: 'us.anthropic.claude-opus-4', fault: { status: 503 } });
  const used = await control('POST', '/_local/faults', { region: 'us-east-1', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', fault: { status: 503 } });
  const answer = await ask({ location: 'us' });

  expect(unused.status).toBe(400);
  expect((unused.json as { error: { message: string } }).error.message).toContain('us.anthropic.claude-opus-4');
  expect(used.status).toBe(201);
  expect(answer.headers.get('x-agent-path')).toBe('regional-fallback');
});

test('an unknown region cannot be taken down', async () => {
  const response = await control('POST', '/_local/regions/mars-north-1/down');

  expect(response.status).toBe(404);
  expect((response.json as { error: { code: string } }).error.code).toBe('not_found');
});

describe('the outside provider of the example (us only)', () => {
  // Each test walks the US chain down to OpenAI: it starts with the fallback budget of a quiet region.
  beforeEach(() => new Promise((resolve) => setTimeout(resolve, BUDGET_WINDOW_MS + 100)));
  afterEach(() => playground.providers.openai.clearCalls());

  /** The calls users' messages made, without the scheduled probes' (one output token each). */
  const userCalls = () =>
    playground.providers.openai.calls().filter((call) => (call.request as { max_completion_tokens?: number }).max_completion_tokens !== 1);

  test('with every Bedrock target of both US regions failing, a US caller is answered by OpenAI (US residency) as provider-fallback', async () => {
    // GIVEN both US Bedrock regions answering 503
    for (const region of ['us-east-1', 'us-west-2']) expect((await control('POST', '/_local/faults', { region, fault: { status: 503 } })).status).toBe(201);
    // WHEN
    const answer = await ask({ location: 'us' });
    // THEN
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-agent-path')).toBe('provider-fallback');
    expect(answer.headers.get('x-agent-provider')).toBe('openai:us');
    expect(answer.headers.get('x-agent-model')).toBe('gpt-4o');
    expect(answer.headers.get('x-agent-degraded')).toBe('true');
    expect(userCalls()).toMatchObject([{ model: 'gpt-4o', residency: 'us', status: 200 }]);
    // AND the key was read from Secrets Manager in the runtime's region (and only US secrets were read, the probes' included)
    const reads = [...playground.providers.secrets.reads.keys()];
    expect(reads).toContain(`${answer.headers.get('x-agent-runtime-region')}/openai-us`);
    for (const secret of reads) expect(secret).toMatch(/^us-(east-1|west-2)\/openai-us$/);
  });

  test("POST /_local/faults with a provider injects into that provider's emulator: the US answer then fails with the provider's status", async () => {
    // GIVEN both US Bedrock regions failing, and OpenAI's US residency failing until the test ends (a 429's retry-after
    // would keep it away for the next tests; a counted fault could be taken by a scheduled probe before the user's call)
    for (const region of ['us-east-1', 'us-west-2']) await control('POST', '/_local/faults', { region, fault: { status: 503 } });
    const injected = await control('POST', '/_local/faults', { provider: 'openai', residency: 'us', fault: { status: 500 } });
    expect(injected.status).toBe(201);
    // WHEN
    const answer = await ask({ location: 'us' });
    // THEN no target served, and the provider was called once and answered 500
    expect(answer.status).toBe(503);
    expect(userCalls()).toMatchObject([{ model: 'gpt-4o', residency: 'us', status: 500 }]);
  });

  test("DELETE /_local/faults clears the providers' faults too", async () => {
    await control('POST', '/_local/faults', { provider: 'openai', fault: { status: 503 } });
    expect((await control('DELETE', '/_local/faults')).status).toBe(204);
    for (const region of ['us-east-1', 'us-west-2']) await control('POST', '/_local/faults', { region, fault: { status: 503 } });
    expect((await ask({ location: 'us' })).headers.get('x-agent-path')).toBe('provider-fallback');
  });

  test.each([
    [{ provider: 'anthropic', fault: { status: 529 } }, /^provider: no chain calls anthropic$/],
    [{ provider: 'openai', residency: 'eu', fault: { status: 503 } }, /no chain calls openai with any model in eu \(it calls gpt-4o \(us\)\)/],
    [{ provider: 'openai', fault: { garbage: 'html' } }, /^fault/],
  ])('a provider fault no chain would meet, or of no known kind, is refused with 400: %j', async (body, message) => {
    const refused = await control('POST', '/_local/faults', body);
    expect(refused.status).toBe(400);
    expect((refused.json as { error: { message: string } }).error.message).toMatch(message);
    // AND nothing was injected: with Bedrock failing in the US, OpenAI answers
    for (const region of ['us-east-1', 'us-west-2']) await control('POST', '/_local/faults', { region, fault: { status: 503 } });
    expect((await ask({ location: 'us' })).headers.get('x-agent-path')).toBe('provider-fallback');
  });

  test('GET /_local/regions lists the outside providers each region calls', async () => {
    const regions = (await control('GET', '/_local/regions')).json as Array<{ region: string; providers: unknown[] }>;
    expect(Object.fromEntries(regions.map((region) => [region.region, region.providers]))).toEqual({
      'us-east-1': [{ provider: 'openai', residency: 'us', model: 'gpt-4o' }],
      'us-west-2': [{ provider: 'openai', residency: 'us', model: 'gpt-4o' }],
      'eu-west-1': [],
      'eu-central-1': [],
    });
  });

  test('an EU caller is never answered by a provider: with every EU Bedrock target failing, the answer is a 503', async () => {
    for (const region of ['eu-west-1', 'eu-central-1']) await control('POST', '/_local/faults', { region, fault: { status: 503 } });
    const answer = await ask({ location: 'eu' });
    expect(answer.status).toBe(503);
    expect(userCalls()).toEqual([]);
  });
});

test("two deployments in one process count only their own runtimes' requests", async () => {
  // GIVEN a second deployment of one of the same regions in this process, as a test suite may start beside another
  const example = await sharedExampleRegions();
  const other = await Playground.start({
    ...example,
    configs: example.configs.filter((config) => config.region === 'eu-west-1'),
    port: 0,
    scheduled: false,
  });
  try {
    const requestsIn = async (url: string) =>
      ((await (await fetch(`${url}/_local/metrics`)).json()) as Record<string, { requests: number }>)['eu-west-1']?.requests ?? 0;
    const before = await requestsIn(playground.url);

    // WHEN the second one answers three messages
    for (const text of ['one', 'two', 'three']) {
      const minted = (await (await fetch(`${other.url}/v1/conversations`, { method: 'POST' })).json()) as { conversationId: string };
      const answered = await fetch(`${other.url}/v1/conversations/${minted.conversationId}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(answered.status).toBe(200);
      await answered.text();
    }

    // THEN its figures count them, and the first deployment's eu-west-1 does not
    expect(await requestsIn(other.url)).toBe(3);
    expect(await requestsIn(playground.url)).toBe(before);
  } finally {
    await other.close();
  }
});
