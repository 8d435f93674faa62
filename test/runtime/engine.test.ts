/**
 * The chain engine and its parts in isolation: no SDK, no network. The
 * invoke function is scripted per target; the clock is injected where state
 * depends on time.
 */
import { classifyError } from '../../lambda/agent/chain/classify';
import { CircuitBreakers } from '../../lambda/agent/chain/circuit-breaker';
import { FallbackChain, type ChainReporter } from '../../lambda/agent/chain/fallback-chain';
import { LatencyTracker } from '../../lambda/agent/chain/latency-tracker';
import { residencyViolation } from '../../lambda/agent/chain/residency';
import { targetKey, userText, type ChainOutcome, type InvokeTarget, type ModelEvent } from '../../lambda/agent/chain/types';
import type { ChainTarget, JurisdictionConfig } from '../../lambda/agent/config';

const EU: JurisdictionConfig = { name: 'eu', regions: ['eu-west-1', 'eu-central-1', 'eu-west-3'], geography: 'eu', restricted: true };
const primary: ChainTarget = { modelId: 'eu.claude', region: 'eu-west-1', tier: 'primary' };
const frankfurt: ChainTarget = { modelId: 'eu.claude', region: 'eu-central-1', tier: 'regional-fallback' };
const paris: ChainTarget = { modelId: 'eu.claude', region: 'eu-west-3', tier: 'regional-fallback' };
const nova: ChainTarget = { modelId: 'eu.nova', region: 'eu-west-1', tier: 'model-fallback' };

class FakeClock {
  time = 1_000_000;
  now = () => this.time;
}

const quietReporter: ChainReporter = { targetFailed: () => undefined, breakerOpened: () => undefined, residencyRefused: () => undefined };

type Script = 'answer' | { error: Record<string, unknown> } | 'stall' | { failAfter: number };

/** An InvokeTarget that plays a script per target and records the calls. */
function scripted(scripts: Record<string, Script>, calls: string[]): InvokeTarget {
  return async function* (target, _request, signal): AsyncGenerator<ModelEvent> {
    calls.push(targetKey(target));
    const script = scripts[targetKey(target)] ?? 'answer';
    if (script === 'stall') {
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    }
    if (typeof script === 'object' && 'error' in script) throw Object.assign(new Error(String(script.error.name)), script.error);
    const tokens = ['one ', 'two ', 'three'];
    for (const [index, text] of tokens.entries()) {
      if (typeof script === 'object' && 'failAfter' in script && index === script.failAfter)
        throw Object.assign(new Error('stream broke'), { name: 'ModelStreamErrorException' });
      yield { type: 'delta', text };
    }
    yield { type: 'stop', stopReason: 'end_turn' };
    yield { type: 'usage', inputTokens: 3, outputTokens: 3 };
  };
}

function chainOf(
  targets: ChainTarget[],
  invoke: InvokeTarget,
  options: { clock?: FakeClock; latency?: LatencyTracker; breakers?: CircuitBreakers; reporter?: ChainReporter; firstTokenTimeoutMs?: number } = {},
) {
  const clock = options.clock ?? new FakeClock();
  return new FallbackChain({
    targets,
    jurisdiction: EU,
    firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? 1000,
    idleTimeoutMs: 1000,
    invoke,
    breakers: options.breakers ?? new CircuitBreakers({ failureThreshold: 3, cooldownMs: 30_000 }, clock),
    latency: options.latency ?? new LatencyTracker(10),
    clock: { now: () => Date.now() },
    reporter: options.reporter ?? quietReporter,
  });
}

async function run(chain: FallbackChain, budgetMs = 10_000): Promise<{ outcome: ChainOutcome; text: string }> {
  let text = '';
  const outcome = await chain.run(
    { messages: [userText('hi')], maxTokens: 100 },
    { firstTokenBy: Date.now() + budgetMs, hardDeadline: Date.now() + budgetMs, onFirstToken: () => undefined, onDelta: (delta) => (text += delta) },
  );
  return { outcome, text };
}

const throttled = { error: { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } } };
const unavailable = { error: { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } } };

describe('error classification', () => {
  test.each([
    [{ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } }, 'next', 'Throttled'],
    [{ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } }, 'next', 'ServerError'],
    [{ name: 'InternalServerException', $metadata: { httpStatusCode: 500 } }, 'next', 'ServerError'],
    [{ name: 'Unknown', $metadata: { httpStatusCode: 504 } }, 'next', 'ServerError'],
    [{ name: 'ModelNotReadyException', $metadata: { httpStatusCode: 429 } }, 'next', 'ModelNotReady'],
    [{ name: 'ModelTimeoutException', $metadata: { httpStatusCode: 408 } }, 'next', 'ModelTimeout'],
    [{ name: 'ModelStreamErrorException' }, 'next', 'StreamError'],
    [{ name: 'Error', code: 'ECONNRESET' }, 'next', 'NetworkError'],
    [{ name: 'Error', code: 'ERR_HTTP2_STREAM_ERROR' }, 'next', 'NetworkError'],
    [{ name: 'Error', cause: { code: 'ECONNREFUSED' } }, 'next', 'NetworkError'],
    [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }, 'skip', 'AccessDenied'],
    [{ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }, 'skip', 'NotFound'],
    [{ name: 'ValidationException', $metadata: { httpStatusCode: 400 } }, 'stop', 'Validation'],
  ])('%j → %s (%s)', (error, action, reason) => {
    expect(classifyError(error)).toMatchObject({ action, reason });
  });
});

describe('circuit breaker', () => {
  test('opens after the threshold, skips during the cooldown, lets one probe through after it', () => {
    const clock = new FakeClock();
    const breakers = new CircuitBreakers({ failureThreshold: 2, cooldownMs: 1000 }, clock);

    expect(breakers.recordFailure('t')).toBe(false);
    expect(breakers.recordFailure('t')).toBe(true);
    expect(breakers.tryAcquire('t')).toBe(false);

    clock.time += 1000;
    expect(breakers.state('t')).toBe('half-open');
    expect(breakers.tryAcquire('t')).toBe(true);
    // A second caller does not get a probe of its own.
    expect(breakers.tryAcquire('t')).toBe(false);
  });

  test('a failed probe reopens the breaker for a fresh cooldown without counting as a new opening; a successful one closes it', () => {
    const clock = new FakeClock();
    const breakers = new CircuitBreakers({ failureThreshold: 1, cooldownMs: 1000 }, clock);
    expect(breakers.recordFailure('t')).toBe(true);
    clock.time += 1000;
    breakers.tryAcquire('t');

    // Open → half-open → open again: the breaker was never closed in between.
    expect(breakers.recordFailure('t')).toBe(false);
    expect(breakers.reopensAt('t')).toBe(clock.time + 1000);

    clock.time += 1000;
    breakers.tryAcquire('t');
    breakers.recordSuccess('t');
    expect(breakers.state('t')).toBe('closed');
    // Closed → open is an opening again.
    expect(breakers.recordFailure('t')).toBe(true);
  });
});

describe('residency guard', () => {
  test.each([
    [primary, undefined],
    [{ ...primary, region: 'us-east-1' }, /outside jurisdiction eu/],
    [{ ...primary, modelId: 'global.anthropic.claude' }, /global inference profile/],
    [{ ...primary, modelId: 'us.anthropic.claude' }, /routes within us/],
    [{ ...primary, modelId: 'mistral.mistral-large' }, undefined],
  ])('%j', (target, expected) => {
    const why = residencyViolation(target as ChainTarget, EU);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });

  test('an unrestricted jurisdiction may use a global profile inside its regions', () => {
    expect(residencyViolation({ ...primary, modelId: 'global.anthropic.claude' }, { ...EU, restricted: false })).toBeUndefined();
  });
});

describe('fallback chain', () => {
  test('targets are tried in tier order, and within a tier by rolling time to first token', () => {
    // GIVEN Paris measured faster than Frankfurt
    const latency = new LatencyTracker(5);
    latency.record(targetKey(frankfurt), 400);
    latency.record(targetKey(paris), 120);

    // WHEN / THEN
    expect(chainOf([nova, frankfurt, paris, primary], scripted({}, []), { latency }).order()).toEqual([primary, paris, frankfurt, nova]);
  });

  test('each target is called at most once per request, even when the configuration repeats it', async () => {
    const calls: string[] = [];
    const chain = chainOf(
      [primary, primary, frankfurt, frankfurt, nova],
      scripted({ [targetKey(primary)]: unavailable, [targetKey(frankfurt)]: unavailable, [targetKey(nova)]: unavailable }, calls),
    );

    const { outcome } = await run(chain);

    expect(outcome.kind).toBe('exhausted');
    expect(calls).toEqual([targetKey(primary), targetKey(frankfurt), targetKey(nova)]);
  });

  test('a validation error stops the chain after one call', async () => {
    const calls: string[] = [];
    const chain = chainOf(
      [primary, frankfurt],
      scripted({ [targetKey(primary)]: { error: { name: 'ValidationException', $metadata: { httpStatusCode: 400 } } } }, calls),
    );

    const { outcome } = await run(chain);

    expect(outcome.kind).toBe('rejected');
    expect(calls).toEqual([targetKey(primary)]);
  });

  test('a stalled target is abandoned at the first-token deadline and its call aborted', async () => {
    const calls: string[] = [];
    const chain = chainOf([primary, frankfurt], scripted({ [targetKey(primary)]: 'stall' }, calls), { firstTokenTimeoutMs: 50 });

    const { outcome, text } = await run(chain);

    expect(outcome).toMatchObject({ kind: 'answered', target: frankfurt });
    expect(outcome.attempts.map((attempt) => attempt.reason ?? attempt.outcome)).toEqual(['FirstTokenTimeout', 'answered']);
    expect(text).toBe('one two three');
  });

  test('a failure after the first token interrupts the answer instead of switching target', async () => {
    const calls: string[] = [];
    const chain = chainOf([primary, frankfurt], scripted({ [targetKey(primary)]: { failAfter: 2 } }, calls));

    const { outcome, text } = await run(chain);

    expect(outcome).toMatchObject({ kind: 'interrupted', target: primary, text: 'one two ', reason: 'StreamError' });
    expect(text).toBe('one two ');
    expect(calls).toEqual([targetKey(primary)]);
  });

  test('a failure of onFirstToken aborts the serving stream and ends the run with that error', async () => {
    const chain = chainOf([primary], scripted({}, []));

    await expect(
      chain.run(
        { messages: [userText('hi')], maxTokens: 10 },
        {
          firstTokenBy: Date.now() + 1000,
          hardDeadline: Date.now() + 1000,
          onFirstToken: () => Promise.reject(new Error('not yours')),
          onDelta: () => undefined,
        },
      ),
    ).rejects.toThrow('not yours');
  });

  test('throttling everywhere ends in 429; a spent budget in 504', async () => {
    const allThrottled = chainOf([primary, frankfurt], scripted({ [targetKey(primary)]: throttled, [targetKey(frankfurt)]: throttled }, []));
    const stalled = chainOf([primary, frankfurt], scripted({ [targetKey(primary)]: 'stall', [targetKey(frankfurt)]: 'stall' }, []), {
      firstTokenTimeoutMs: 40,
    });

    expect((await run(allThrottled)).outcome).toMatchObject({ kind: 'exhausted', status: 429 });
    expect((await run(stalled, 60)).outcome).toMatchObject({ kind: 'exhausted', status: 504 });
  });

  test('a chain whose every target is refused by the residency guard answers 502 and calls nothing', async () => {
    const calls: string[] = [];
    const refused: string[] = [];
    const chain = chainOf([{ ...primary, region: 'us-east-1' }], scripted({}, calls), {
      reporter: { ...quietReporter, residencyRefused: (target) => refused.push(targetKey(target)) },
    });

    const { outcome } = await run(chain);

    expect(outcome).toMatchObject({ kind: 'exhausted', status: 502 });
    expect(calls).toEqual([]);
    expect(refused).toEqual(['eu.claude@us-east-1']);
  });
});

describe('what counts against a target', () => {
  const request = { messages: [userText('hi')], maxTokens: 10 };
  const breakersOpeningAtFirstFailure = () => new CircuitBreakers({ failureThreshold: 1, cooldownMs: 30_000 }, new FakeClock());
  const abortError = () => Object.assign(new Error('aborted'), { name: 'AbortError' });
  /** Streams one token, then waits until its call is aborted. */
  const oneTokenThenSilence: InvokeTarget = async function* (_target, _request, signal) {
    yield { type: 'delta', text: 'one ' };
    await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(abortError())));
  };

  test('a client hanging up mid-answer is not a failure of the target: its breaker stays closed', async () => {
    // GIVEN a breaker that would open at the first failure
    const breakers = breakersOpeningAtFirstFailure();
    const failures: string[] = [];
    const clientGone = new AbortController();
    const chain = chainOf([primary], oneTokenThenSilence, {
      breakers,
      reporter: { ...quietReporter, targetFailed: (_target, reason) => failures.push(reason) },
    });

    // WHEN the client leaves after the first token
    const outcome = await chain.run(request, {
      firstTokenBy: Date.now() + 1000,
      hardDeadline: Date.now() + 1000,
      signal: clientGone.signal,
      onFirstToken: () => undefined,
      onDelta: () => clientGone.abort(),
    });

    // THEN the partial answer is reported as interrupted by the client, and the target keeps its standing
    expect(outcome).toMatchObject({ kind: 'interrupted', reason: 'ClientGone', text: 'one ' });
    expect(failures).toEqual([]);
    expect(breakers.tryAcquire(targetKey(primary))).toBe(true);
  });

  test("the request's budget running out, before or after the first token, is not the target's failure", async () => {
    const breakers = breakersOpeningAtFirstFailure();
    const stalling = chainOf([primary], scripted({ [targetKey(primary)]: 'stall' }, []), { breakers, firstTokenTimeoutMs: 1000 });
    const slowAnswer = chainOf([frankfurt], oneTokenThenSilence, { breakers });

    // WHEN the budget (50 ms) ends before the target's own first-token deadline (1 s), and then in the middle of an answer
    const beforeFirstToken = await run(stalling, 50);
    const midAnswer = await slowAnswer.run(request, {
      firstTokenBy: Date.now() + 1000,
      hardDeadline: Date.now() + 50,
      onFirstToken: () => undefined,
      onDelta: () => undefined,
    });

    // THEN the request gets its 504 and its interruption, and neither breaker opened
    expect(beforeFirstToken.outcome).toMatchObject({ kind: 'exhausted', status: 504 });
    expect(beforeFirstToken.outcome.attempts.map((attempt) => attempt.reason)).toEqual(['BudgetSpent']);
    expect(midAnswer).toMatchObject({ kind: 'interrupted', reason: 'BudgetSpent' });
    expect(breakers.tryAcquire(targetKey(primary))).toBe(true);
    expect(breakers.tryAcquire(targetKey(frankfurt))).toBe(true);
  });

  test('a target that fails fast is ranked as slow, not tried first next time', async () => {
    // GIVEN Frankfurt throttles at once and Paris answers after 30 ms
    const latency = new LatencyTracker(5);
    const throttlingFrankfurt = scripted({ [targetKey(frankfurt)]: throttled }, []);
    const invoke: InvokeTarget = async function* (target, modelRequest, signal) {
      if (target.region === paris.region) await new Promise((resolve) => setTimeout(resolve, 30));
      yield* throttlingFrankfurt(target, modelRequest, signal);
    };
    const chain = chainOf([frankfurt, paris], invoke, { latency });

    // WHEN one request went through both
    await run(chain);

    // THEN Paris, which answered, comes first in the tier
    expect(chain.order()).toEqual([paris, frankfurt]);
  });

  test('an answer with a stop and no text is a complete, empty answer from the first target', async () => {
    const calls: string[] = [];
    const silent: InvokeTarget = async function* (target) {
      calls.push(targetKey(target));
      yield { type: 'stop', stopReason: 'content_filtered' };
      yield { type: 'usage', inputTokens: 3, outputTokens: 0 };
    };

    const { outcome, text } = await run(chainOf([primary, frankfurt], silent));

    expect(outcome).toMatchObject({ kind: 'answered', target: primary, text: '', stopReason: 'content_filtered', usage: { inputTokens: 3, outputTokens: 0 } });
    expect(text).toBe('');
    expect(calls).toEqual([targetKey(primary)]);
  });

  test("a request the model rejects as invalid neither opens nor resets the target's breaker", async () => {
    // GIVEN a breaker opening at the second failure, and a target answering 503, then 400, then 503
    const breakers = new CircuitBreakers({ failureThreshold: 2, cooldownMs: 30_000 }, new FakeClock());
    const answers = [unavailable, { error: { name: 'ValidationException', $metadata: { httpStatusCode: 400 } } }, unavailable];
    const chain = chainOf([primary], (target, modelRequest, signal) => scripted({ [targetKey(primary)]: answers.shift()! }, [])(target, modelRequest, signal), {
      breakers,
    });

    // WHEN three requests are made
    const outcomes = [(await run(chain)).outcome.kind, (await run(chain)).outcome.kind, (await run(chain)).outcome.kind];

    // THEN the two 503s, with the invalid request between them, opened the breaker
    expect(outcomes).toEqual(['exhausted', 'rejected', 'exhausted']);
    expect(breakers.tryAcquire(targetKey(primary))).toBe(false);
  });
});
