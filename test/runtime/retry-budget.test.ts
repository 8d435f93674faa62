/**
 * The retry budget: fallback calls after a request's first call are capped
 * over a sliding window; past the cap a request fails fast with 503 and a
 * retry-after, and is counted.
 */
import { RetryBudget, type RetryBudgetSettings } from '../../lambda/agent/chain/retry-budget';
import { CLAUDE, EU_CENTRAL, EU_WEST, euConfig, NOVA, postMessage, startHarness, type Harness } from './harness';

class FakeClock {
  time = 1_000_000;
  now = () => this.time;
}

const settings = (overrides: Partial<RetryBudgetSettings> = {}): RetryBudgetSettings => ({
  enabled: true,
  ratio: 0.2,
  minPerWindow: 1,
  windowMs: 10_000,
  regionMinPerSecond: 0,
  ...overrides,
});

describe('RetryBudget', () => {
  test('never refuses while the fallback tier shows no overload, however many messages fall back', () => {
    // GIVEN a budget of 20 % with a floor of one, and one message in the window
    const budget = new RetryBudget(settings(), new FakeClock());
    budget.messageStarted();

    // WHEN twenty fallback calls are asked for, the fallback answering each
    const granted = Array.from({ length: 20 }, () => budget.tryWithdraw());

    // THEN every one is allowed: the next target has its own capacity and its own throttling answer
    expect(granted.every(Boolean)).toBe(true);
    expect(budget.overloaded()).toBe(false);
  });

  test('once a fallback call finds its target overloaded, allows ratio × messages in the window, at least minPerWindow, and refills as they age out', () => {
    // GIVEN a budget of 20 % with a floor of one, over 10 s, and a fallback target that throttled
    const clock = new FakeClock();
    const budget = new RetryBudget(settings(), clock);
    budget.fallbackOverloaded();

    // WHEN one message has come: the floor allows one fallback call, not two
    budget.messageStarted();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);

    // WHEN ten messages have come: two fallback calls in all
    for (let index = 0; index < 9; index += 1) budget.messageStarted();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refillsInMs()).toBe(10_000);

    // THEN once the window has passed without another overload, nothing is capped again
    clock.time += 10_001;
    expect(budget.refillsInMs()).toBe(0);
    expect(budget.overloaded()).toBe(false);
    expect([budget.tryWithdraw(), budget.tryWithdraw(), budget.tryWithdraw()]).toEqual([true, true, true]);
  });

  test("a region's counts refuse what an environment's floor would allow once the region saw overload, with the region's refill as retry-after", () => {
    // GIVEN an environment whose own floor allows three fallback calls, in a region that has spent its 20 % of 20 messages
    // (its floor of 0.1 a second over 10 s is one call) and whose fallback tier throttled once
    const clock = new FakeClock();
    const region = { requests: 19, fallbacks: 4, overloads: 0 };
    let known = true;
    const regionBudget = {
      totals: () => (known ? region : undefined),
      countRequest: () => (region.requests += 1),
      countFallback: () => (region.fallbacks += 1),
      countOverload: () => (region.overloads += 1),
      publish: () => undefined,
      refillsInMs: () => 1500,
    };
    const budget = new RetryBudget(settings({ minPerWindow: 3, regionMinPerSecond: 0.1 }), clock, regionBudget);
    budget.messageStarted();
    expect(budget.tryWithdraw()).toBe(true);
    region.overloads = 1;

    // WHEN a message of this environment fails over
    budget.messageStarted();

    // THEN the region refuses it, though this environment has not seen the overload nor used its floor, and says when the region's window moves on
    expect(region.requests).toBe(21);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refillsInMs()).toBe(1500);
    // AND once the region's counts are unknown (its view stale), the environment's own budget decides alone: no overload seen here
    known = false;
    expect(budget.tryWithdraw()).toBe(true);
    expect(region.fallbacks).toBe(6);
  });

  test("the region's floor is per second of the window: ten a second over 10 s allow a hundred fallback calls in an overload", () => {
    const region = { requests: 10, fallbacks: 0, overloads: 1 };
    const regionBudget = {
      totals: () => region,
      countRequest: () => (region.requests += 1),
      countFallback: () => (region.fallbacks += 1),
      countOverload: () => (region.overloads += 1),
      publish: () => undefined,
      refillsInMs: () => 0,
    };
    const budget = new RetryBudget(settings({ minPerWindow: 1000, regionMinPerSecond: 10 }), new FakeClock(), regionBudget);
    const granted = Array.from({ length: 120 }, () => budget.tryWithdraw()).filter(Boolean).length;
    expect(granted).toBe(100);
  });

  test('the window of messages is trimmed as each starts, in an environment that never falls back', () => {
    // GIVEN a 10 s window and a message every second for an hour, none falling back
    const clock = new FakeClock();
    const budget = new RetryBudget(settings(), clock);
    for (let second = 0; second < 3600; second += 1) {
      budget.messageStarted();
      clock.time += 1000;
    }
    // THEN only the window's messages are kept (the budget keeps no other record of them)
    expect((budget as unknown as { messages: number[] }).messages.length).toBeLessThanOrEqual(10);
  });

  test('a disabled budget never refuses, even in an overload', () => {
    const budget = new RetryBudget(settings({ enabled: false, ratio: 0.01, minPerWindow: 0 }), new FakeClock());
    budget.fallbackOverloaded();
    expect([budget.tryWithdraw(), budget.tryWithdraw(), budget.tryWithdraw()]).toEqual([true, true, true]);
  });
});

describe('a region whose primary fails broadly', () => {
  let harness: Harness;

  afterEach(async () => {
    await harness?.close();
  });

  test('never refuses a fallback while the next region answers, however broadly the primary fails', async () => {
    // GIVEN a primary failing every call, a breaker that never opens, and a budget of 20 % (floor 1) over a minute
    harness = await startHarness((emulator, dynamo) =>
      euConfig(emulator, dynamo, {
        breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
        retryBudget: { ratio: 0.2, minPerWindow: 1, windowMs: 60_000 },
      }),
    );
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

    // WHEN ten messages come, a quiet deployment's few a window
    const results = [];
    for (let index = 1; index <= 10; index += 1) results.push(await postMessage(harness.server.url, 'eu.c-budget', { text: `message ${index}` }));

    // THEN the regional fallback, which answered every call, served all ten: nobody was refused
    expect(results.map((result) => result.headers.get('x-agent-path'))).toEqual(Array.from({ length: 10 }, () => 'regional-fallback'));
    expect(harness.emulator.calls({ region: EU_CENTRAL })).toHaveLength(10);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(0);
  });

  test('a primary answering 503, then 429, then stalling, in quick succession: each message gets the next region', async () => {
    // GIVEN the budget's defaults, and three faults of the primary one after the other (the playground's tests)
    harness = await startHarness();
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 }, times: 1 });
    const first = await postMessage(harness.server.url, 'eu.c-faults', { text: 'one' });
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 429 }, times: 1 });
    const second = await postMessage(harness.server.url, 'eu.c-faults', { text: 'two' });
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 3000 }, times: 1 });
    const third = await postMessage(harness.server.url, 'eu.c-faults', { text: 'three' });

    // THEN each was served by the regional fallback
    expect([first, second, third].map((result) => `${result.status} ${result.headers.get('x-agent-path')}`)).toEqual(
      Array.from({ length: 3 }, () => '200 regional-fallback'),
    );
  });

  test('falls back only within the budget once the fallback throttles too; the other requests get 503 with retry-after at once, counted', async () => {
    // GIVEN a primary failing every call, a regional fallback throttling every call, breakers that never open, and a
    // budget of 20 % (floor 1) over a minute
    harness = await startHarness((emulator, dynamo) =>
      euConfig(emulator, dynamo, {
        chain: [
          { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
          { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
        ],
        breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
        retryBudget: { ratio: 0.2, minPerWindow: 1, windowMs: 60_000 },
      }),
    );
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });
    harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 429 } });

    // WHEN ten messages come
    const results = [];
    for (let index = 1; index <= 10; index += 1) results.push(await postMessage(harness.server.url, 'eu.c-budget', { text: `message ${index}` }));

    // THEN the 1st (before any overload was seen) and the 10th (20 % of ten) fell back and were throttled; the others were
    // refused after their first call
    const codes = results.map((result) => (result.json?.error as { code: string }).code);
    expect(codes.filter((code) => code === 'fallback_budget_spent')).toHaveLength(8);
    expect([codes[0], codes[9]].includes('fallback_budget_spent')).toBe(false);
    const refused = results[1];
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((refused.json?.error as { attempts: Array<{ outcome: string; reason: string }> }).attempts.map((a) => `${a.outcome}:${a.reason}`)).toEqual([
      'failed:ServerError',
      'skipped:RetryBudget',
    ]);
    // AND the throttling fallback received two calls, not ten
    expect(harness.emulator.calls({ region: EU_CENTRAL })).toHaveLength(2);
    expect(harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE })).toHaveLength(10);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(8);
  });

  test("by default an isolated failure walks the whole chain: the floor is one walk (the chain's length − 1), down to its last target", async () => {
    // GIVEN a five-target chain whose first four fail, and the budget's defaults
    const MISTRAL = 'eu.mistral.pixtral-large-2502-v1:0';
    harness = await startHarness((emulator, dynamo) =>
      euConfig(emulator, dynamo, {
        chain: [
          { modelId: CLAUDE, region: EU_WEST, tier: 'primary' },
          { modelId: CLAUDE, region: EU_CENTRAL, tier: 'regional-fallback' },
          { modelId: NOVA, region: EU_WEST, tier: 'model-fallback' },
          { modelId: NOVA, region: EU_CENTRAL, tier: 'model-fallback' },
          { modelId: MISTRAL, region: EU_WEST, tier: 'model-fallback' },
        ],
      }),
    );
    for (const region of [EU_WEST, EU_CENTRAL]) for (const model of [CLAUDE, NOVA]) harness.emulator.injectFault({ region, model, fault: { status: 503 } });

    // WHEN one message comes to a fresh environment
    const result = await postMessage(harness.server.url, 'eu.c-walk', { text: 'hello' });

    // THEN the last target answers: four fallback calls were allowed
    expect(result.status).toBe(200);
    expect(result.headers.get('x-agent-model')).toBe(MISTRAL);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(0);
  });

  test("once the primary's breaker opens, the fallback is each request's first call and costs no budget", async () => {
    // GIVEN a breaker opening after two failures and a budget with no floor
    harness = await startHarness((emulator, dynamo) =>
      euConfig(emulator, dynamo, { breaker: { failureThreshold: 2, cooldownMs: 60_000 }, retryBudget: { ratio: 0.5, minPerWindow: 0, windowMs: 60_000 } }),
    );
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

    // WHEN six messages come
    const results = [];
    for (let index = 1; index <= 6; index += 1) results.push(await postMessage(harness.server.url, 'eu.c-budget-open', { text: `message ${index}` }));

    // THEN the first two fall back (the fallback shows no overload), and the four after the breaker opened are served by
    // the regional fallback as their first call
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE })).toHaveLength(2);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(0);
  });
});
