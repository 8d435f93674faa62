import { answerOf, CLAUDE, EU_CENTRAL, EU_WEST, euConfig, NOVA, postMessage, startHarness, US_EAST, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const targetsCalled = () => harness.emulator.calls().map((call) => `${call.modelId}@${call.region}:${call.status}`);

test('a primary answering 503 is answered by the regional fallback, and headers and metrics say so', async () => {
  // GIVEN
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-503', { text: 'hello there' });

  // THEN
  expect(result.status).toBe(200);
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(result.headers.get('x-agent-region')).toBe(EU_CENTRAL);
  expect(result.headers.get('x-agent-model')).toBe(CLAUDE);
  expect(result.headers.get('x-agent-degraded')).toBe('false');
  expect(answerOf(result.events)).toBe(harness.emulator.expectedAnswer(CLAUDE, EU_CENTRAL, 'hello there'));
  expect(result.events.find((event) => event.event === 'done')?.data).toMatchObject({ path: 'regional-fallback', model: CLAUDE, region: EU_CENTRAL });
  expect(targetsCalled()).toEqual([`${CLAUDE}@${EU_WEST}:503`, `${CLAUDE}@${EU_CENTRAL}:200`]);
  expect(harness.output.sum('Requests')).toBe(1);
  expect(harness.output.sum('Fallbacks')).toBe(1);
  expect(harness.output.sum('RegionalFallbacks')).toBe(1);
  expect(harness.output.sum('Requests', ['Region', 'Path'], { Path: 'regional-fallback' })).toBe(1);
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'ServerError' })).toBe(1);
  // AND each record names exactly the dimension sets the dashboard and alarms read, without Powertools complaining
  const dimensionSets = harness.output
    .metrics(['Region'])
    .map((record) => (record._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0].Dimensions);
  expect(dimensionSets).toEqual([[['Region'], ['Region', 'Path']]]);
  expect(harness.output.logs().filter((line) => String(line.message).includes('EMF'))).toEqual([]);
});

test('with the primary and every regional target throttled, the degraded model answers and says so', async () => {
  // GIVEN
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 429 } });
  harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 429 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-429', { text: 'hello' });

  // THEN
  expect(result.headers.get('x-agent-path')).toBe('model-fallback');
  expect(result.headers.get('x-agent-model')).toBe(NOVA);
  expect(result.headers.get('x-agent-degraded')).toBe('true');
  expect(result.events[0]).toMatchObject({ event: 'start', data: { path: 'model-fallback', degraded: true } });
  expect(answerOf(result.events)).toBe(harness.emulator.expectedAnswer(NOVA, EU_WEST, 'hello'));
  expect(harness.output.sum('ModelFallbacks')).toBe(1);
  // Throttling is counted apart from server errors.
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Throttled' })).toBe(2);
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'ServerError' })).toBe(0);
});

test('a stalled primary is abandoned at the first-token deadline and the next target answers', async () => {
  // GIVEN a primary that would stay silent for 30 s, and a 500 ms first-token deadline
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { deadlines: { firstTokenTimeoutMs: 500, idleTimeoutMs: 2000, totalBudgetMs: 10_000, reserveMs: 500, stateTimeoutMs: 500 } }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 30_000 } });
  const started = Date.now();

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-stall', { text: 'hello' });

  // THEN the answer came from the regional fallback, long before the stall would have ended
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'FirstTokenTimeout' })).toBe(1);
});

test('once the breaker opens, the primary receives no calls until its cooldown ends, then one probe', async () => {
  // GIVEN a breaker that opens after 2 failures and cools down for 1.5 s
  harness = await startHarness((emulator, dynamo) => euConfig(emulator, dynamo, { breaker: { failureThreshold: 2, cooldownMs: 1500 } }));
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
  const primaryCalls = () => harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE }).length;

  // WHEN two requests fail on the primary, then three more follow at once
  await postMessage(harness.server.url, 'eu.c-breaker', { text: 'one' });
  await postMessage(harness.server.url, 'eu.c-breaker', { text: 'two' });
  const whileOpen = [];
  for (const text of ['three', 'four', 'five']) whileOpen.push(await postMessage(harness.server.url, 'eu.c-breaker', { text }));

  // THEN the open breaker skipped the primary at no cost
  expect(primaryCalls()).toBe(2);
  expect(whileOpen.map((result) => result.headers.get('x-agent-path'))).toEqual(['regional-fallback', 'regional-fallback', 'regional-fallback']);
  expect(harness.output.sum('BreakerOpened')).toBe(1);

  // WHEN the cooldown has passed and the primary has recovered
  await new Promise((resolve) => setTimeout(resolve, 1600));
  harness.emulator.clearFaults();
  const probe = await postMessage(harness.server.url, 'eu.c-breaker', { text: 'six' });

  // THEN exactly one probe went to the primary, and it serves again
  expect(primaryCalls()).toBe(3);
  expect(probe.headers.get('x-agent-path')).toBe('primary');
});

test('when every breaker is open, requests fail at once with 503 and retry-after, and each target gets one probe per cooldown', async () => {
  // GIVEN every target failing, with breakers that open at the first failure and cool down for 1.5 s
  harness = await startHarness((emulator, dynamo) => euConfig(emulator, dynamo, { breaker: { failureThreshold: 1, cooldownMs: 1500 } }));
  for (const region of [EU_WEST, EU_CENTRAL]) harness.emulator.injectFault({ region, fault: { status: 503 } });
  const first = await postMessage(harness.server.url, 'eu.c-all-open', { text: 'one' });
  expect(harness.emulator.calls()).toHaveLength(3);

  // WHEN five more requests arrive while every breaker is open
  const whileOpen = [];
  for (const text of ['two', 'three', 'four', 'five', 'six']) whileOpen.push(await postMessage(harness.server.url, 'eu.c-all-open', { text }));

  // THEN none reached a target: each was refused at once, told when to come back
  expect(first.status).toBe(503);
  expect(harness.emulator.calls()).toHaveLength(3);
  expect(whileOpen.map((result) => result.status)).toEqual([503, 503, 503, 503, 503]);
  for (const result of whileOpen) {
    expect(Number(result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(result.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    const attempts = (result.json?.error as { attempts: Array<{ outcome: string; reason: string }> }).attempts;
    expect(attempts.map((attempt) => `${attempt.outcome}:${attempt.reason}`)).toEqual(['skipped:BreakerOpen', 'skipped:BreakerOpen', 'skipped:BreakerOpen']);
  }

  // WHEN the cooldown has passed: the next request probes each target once, and the one after it again finds them open
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const probe = await postMessage(harness.server.url, 'eu.c-all-open', { text: 'seven' });
  const afterProbe = await postMessage(harness.server.url, 'eu.c-all-open', { text: 'eight' });

  // THEN one call per target per cooldown, and the failed probes opened no breaker anew: three openings in all
  expect(probe.status).toBe(503);
  expect(afterProbe.status).toBe(503);
  expect(harness.emulator.calls()).toHaveLength(6);
  expect(harness.output.sum('BreakerOpened')).toBe(3);
});

test('a target whose breaker is open, alone in its chain, recovers through the probe after its cooldown', async () => {
  // GIVEN one target whose breaker opens on its first failure, then recovers
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { chain: [{ modelId: CLAUDE, region: EU_WEST, tier: 'primary' }], breaker: { failureThreshold: 1, cooldownMs: 1000 } }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
  const first = await postMessage(harness.server.url, 'eu.c-one-open', { text: 'one' });

  // WHEN a request arrives during the cooldown, and another after it
  const during = await postMessage(harness.server.url, 'eu.c-one-open', { text: 'two' });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const after = await postMessage(harness.server.url, 'eu.c-one-open', { text: 'three' });

  // THEN the one during the cooldown cost the target nothing; the probe after it was answered
  expect([first.status, during.status, after.status]).toEqual([503, 503, 200]);
  expect(harness.emulator.calls()).toHaveLength(2);
});

test('an EU runtime configured with a US target never calls it', async () => {
  // GIVEN a misconfigured chain whose regional fallback is in the US
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, {
      chain: [
        { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
        { modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', region: US_EAST, tier: 'regional-fallback' },
        { modelId: NOVA, region: EU_WEST, tier: 'model-fallback' },
      ],
    }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-residency', { text: 'hello' });

  // THEN the US endpoint received nothing; the EU degraded model answered
  expect(harness.emulator.calls({ region: US_EAST })).toEqual([]);
  expect(result.headers.get('x-agent-path')).toBe('model-fallback');
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'ResidencyRefused' })).toBe(1);
  expect(harness.output.logs().some((line) => line.level === 'ERROR' && line.message === 'residency guard refused a configured target')).toBe(true);
});

test('a restricted jurisdiction never calls a global inference profile, even in its own region', async () => {
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, {
      chain: [
        { modelId: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', region: EU_WEST, tier: 'primary' },
        { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
      ],
    }),
  );

  const result = await postMessage(harness.server.url, 'eu.c-global', { text: 'hello' });

  expect(harness.emulator.calls().map((call) => call.modelId)).toEqual([CLAUDE]);
  expect(result.headers.get('x-agent-region')).toBe(EU_CENTRAL);
});

test('a target denying access is skipped loudly and the chain goes on', async () => {
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 403 } });

  const result = await postMessage(harness.server.url, 'eu.c-403', { text: 'hello' });

  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'AccessDenied' })).toBe(1);
  expect(harness.output.logs().some((line) => line.level === 'ERROR' && line.message === 'model target misconfigured; skipped')).toBe(true);
});

test('when every target fails, the answer is 503 with the attempts made, each target tried once', async () => {
  // GIVEN every endpoint failing
  harness = await startHarness();
  for (const region of [EU_WEST, EU_CENTRAL]) harness.emulator.injectFault({ region, fault: { status: 500 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-all-fail', { text: 'hello' });

  // THEN
  expect(result.status).toBe(503);
  const error = result.json?.error as { code: string; attempts: Array<{ region: string; model: string; reason: string }> };
  expect(error.code).toBe('all_targets_failed');
  expect(error.attempts.map((attempt) => `${attempt.model}@${attempt.region}:${attempt.reason}`)).toEqual([
    `${CLAUDE}@${EU_WEST}:ServerError`,
    `${CLAUDE}@${EU_CENTRAL}:ServerError`,
    `${NOVA}@${EU_WEST}:ServerError`,
  ]);
  expect(harness.emulator.calls()).toHaveLength(3);
  expect(harness.output.sum('FailedRequests')).toBe(1);
  // AND it counts as a fallback, so the fallback-rate alarm sees an outage where nothing could answer
  expect(harness.output.sum('Fallbacks')).toBe(1);
});

test('when every target throttles, the answer is 429 with a retry-after', async () => {
  harness = await startHarness();
  for (const region of [EU_WEST, EU_CENTRAL]) harness.emulator.injectFault({ region, fault: { status: 429 } });

  const result = await postMessage(harness.server.url, 'eu.c-all-429', { text: 'hello' });

  expect(result.status).toBe(429);
  expect(result.headers.get('retry-after')).toBe('1');
  expect((result.json?.error as { code: string }).code).toBe('throttled');
});

test('the request budget comes from the remaining time: no target is started once it is spent', async () => {
  // GIVEN a 1.2 s function timeout with 500 ms kept in reserve, and a primary stalling past it
  harness = await startHarness(
    (emulator, dynamo) => euConfig(emulator, dynamo, { deadlines: { firstTokenTimeoutMs: 5000, totalBudgetMs: 60_000, reserveMs: 500, stateTimeoutMs: 500 } }),
    { requestTimeoutMs: 1200 },
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 30_000 } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-budget', { text: 'hello' });

  // THEN the chain gave up inside the function's time instead of being killed mid-chain
  expect(result.status).toBe(504);
  expect((result.json?.error as { code: string }).code).toBe('deadline_exceeded');
  expect(harness.emulator.calls().map((call) => call.region)).toEqual([EU_WEST]);
});

test('a caller hanging up before the first token is neither a failed request nor a fallback, and costs the target nothing', async () => {
  // GIVEN a primary that stays silent for a while
  harness = await startHarness((emulator, dynamo) => euConfig(emulator, dynamo, { breaker: { failureThreshold: 1, cooldownMs: 30_000 } }));
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 800 }, times: 1 });

  // WHEN the caller gives up after 100 ms
  const caller = new AbortController();
  const pending = fetch(`${harness.server.url}/v1/conversations/eu.c-gone/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"text":"hello"}',
    signal: caller.signal,
  }).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 100));
  caller.abort();
  await pending;
  for (const deadline = Date.now() + 5_000; harness.output.sum('Requests') === 0 && Date.now() < deadline;)
    await new Promise((resolve) => setTimeout(resolve, 20));

  // THEN the request is counted, but not against the service
  expect(harness.output.sum('Requests')).toBe(1);
  expect(harness.output.sum('FailedRequests')).toBe(0);
  expect(harness.output.sum('Fallbacks')).toBe(0);
  // AND the primary's breaker (opening at the first failure) stayed closed: the next request goes to it
  const next = await postMessage(harness.server.url, 'eu.c-gone-2', { text: 'hello again' });
  expect(next.headers.get('x-agent-path')).toBe('primary');
});

describe('ValidationException, told apart by its message', () => {
  const ON_DEMAND = `Invocation of model ID ${CLAUDE.slice(3)} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`;

  test('a misconfigured target (a model that needs an inference profile) fails, counts against its breaker, and the next target serves', async () => {
    // GIVEN a primary Bedrock refuses as misconfigured, on every call
    harness = await startHarness();
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 400, message: ON_DEMAND } });

    // WHEN four messages come
    const results = [];
    for (const text of ['one', 'two', 'three', 'four']) results.push(await postMessage(harness.server.url, 'eu.c-misconfigured', { text }));

    // THEN each is answered by the regional fallback, counted as a fallback and as a misconfiguration
    expect(results.map((result) => result.headers.get('x-agent-path'))).toEqual([
      'regional-fallback',
      'regional-fallback',
      'regional-fallback',
      'regional-fallback',
    ]);
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'Misconfigured' })).toBe(3);
    expect(harness.output.sum('Fallbacks')).toBe(4);
    // AND after three failures the breaker opened: the fourth message did not call the primary
    expect(harness.output.sum('BreakerOpened')).toBe(1);
    expect(harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE })).toHaveLength(3);
  });

  test("a request beyond one model's limits skips that model everywhere and is answered by the next model", async () => {
    // GIVEN Claude refuses the input as too long, in every region
    harness = await startHarness();
    for (const region of [EU_WEST, EU_CENTRAL])
      harness.emulator.injectFault({ region, model: CLAUDE, fault: { status: 400, message: 'Input is too long for requested model.' } });

    // WHEN
    const result = await postMessage(harness.server.url, 'eu.c-too-long', { text: 'a very long question' });

    // THEN Claude was asked once (the same model elsewhere would refuse too), and Nova answered, degraded
    expect(targetsCalled()).toEqual([`${CLAUDE}@${EU_WEST}:400`, `${NOVA}@${EU_WEST}:200`]);
    expect(result.headers.get('x-agent-path')).toBe('model-fallback');
    expect(harness.output.sum('TargetErrors', ['Region', 'Reason'], { Reason: 'ModelLimit' })).toBe(1);
    // AND a limit of the request is not the target's failure
    expect(harness.output.sum('BreakerOpened')).toBe(0);
  });

  test('a request beyond the limits of every model is a 400, not an outage', async () => {
    harness = await startHarness();
    harness.emulator.injectFault({
      region: EU_WEST,
      fault: { status: 400, message: 'The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum' },
    });

    const result = await postMessage(harness.server.url, 'eu.c-too-long-everywhere', { text: 'a very long question' });

    expect(result.status).toBe(400);
    expect(result.json?.error).toMatchObject({ code: 'model_rejected_request' });
    expect(targetsCalled()).toEqual([`${CLAUDE}@${EU_WEST}:400`, `${NOVA}@${EU_WEST}:400`]);
    expect(harness.output.sum('FailedRequests')).toBe(0);
  });
});
