/**
 * The retry budget: fallback calls after a request's first call are capped
 * over a sliding window; past the cap a request fails fast with 503 and a
 * retry-after, and is counted.
 */
import { RetryBudget } from '../../lambda/agent/chain/retry-budget';
import { CLAUDE, EU_CENTRAL, EU_WEST, euConfig, NOVA, postMessage, startHarness, type Harness } from './harness';

class FakeClock {
  time = 1_000_000;
  now = () => this.time;
}

describe('RetryBudget', () => {
  test('allows ratio × requests fallback calls in the window, at least minPerWindow, and refills as they age out', () => {
    // GIVEN a budget of 20 % with a floor of one, over 10 s
    const clock = new FakeClock();
    const budget = new RetryBudget({ enabled: true, ratio: 0.2, minPerWindow: 1, windowMs: 10_000, regionMinPerWindow: 0 }, clock);

    // WHEN one request has come: the floor allows one fallback call, not two
    budget.requestStarted();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);

    // WHEN ten requests have come: two fallback calls in all
    for (let index = 0; index < 9; index += 1) budget.requestStarted();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refillsInMs()).toBe(10_000);

    // THEN once the window has passed, its requests and fallbacks are forgotten: the floor applies again
    clock.time += 10_001;
    expect(budget.refillsInMs()).toBe(0);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  test("a region's counts refuse what an environment's floor would allow, with the region's refill as retry-after", () => {
    // GIVEN an environment whose own floor allows three fallback calls, in a region that has spent its 20 % of 20 requests
    const clock = new FakeClock();
    const region = { requests: 19, fallbacks: 4 };
    let known = true;
    const regionBudget = {
      totals: () => (known ? region : undefined),
      countRequest: () => (region.requests += 1),
      countFallback: () => (region.fallbacks += 1),
      refillsInMs: () => 1500,
    };
    const budget = new RetryBudget({ enabled: true, ratio: 0.2, minPerWindow: 3, windowMs: 10_000, regionMinPerWindow: 2 }, clock, regionBudget);

    // WHEN a request of this environment fails over
    budget.requestStarted();

    // THEN the region refuses it, though this environment has not used its floor, and says when the region's window moves on
    expect(region.requests).toBe(20);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refillsInMs()).toBe(1500);
    // AND once the region's counts are unknown (its view stale), the environment's own budget decides alone
    known = false;
    expect(budget.tryWithdraw()).toBe(true);
    expect(region.fallbacks).toBe(5);
  });

  test('a disabled budget never refuses', () => {
    const budget = new RetryBudget({ enabled: false, ratio: 0.01, minPerWindow: 0, windowMs: 10_000, regionMinPerWindow: 0 }, new FakeClock());
    expect([budget.tryWithdraw(), budget.tryWithdraw(), budget.tryWithdraw()]).toEqual([true, true, true]);
  });
});

describe('a region whose primary fails broadly', () => {
  let harness: Harness;

  afterEach(async () => {
    await harness?.close();
  });

  test('falls back only within the budget; the other requests get 503 with retry-after at once, counted', async () => {
    // GIVEN a primary failing every call, a breaker that never opens, and a budget of 20 % (floor 1) over a minute
    harness = await startHarness((emulator, dynamo) =>
      euConfig(emulator, dynamo, {
        breaker: { failureThreshold: 1000, cooldownMs: 30_000 },
        retryBudget: { ratio: 0.2, minPerWindow: 1, windowMs: 60_000 },
      }),
    );
    harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { status: 503 } });

    // WHEN ten messages come
    const results = [];
    for (let index = 1; index <= 10; index += 1) results.push(await postMessage(harness.server.url, 'eu.c-budget', { text: `message ${index}` }));

    // THEN the 1st (the floor) and the 10th (20 % of ten) fell back; the others were refused after their first call
    expect(results.map((result) => result.status)).toEqual([200, 503, 503, 503, 503, 503, 503, 503, 503, 200]);
    expect(results[0].headers.get('x-agent-path')).toBe('regional-fallback');
    const refused = results[1];
    expect((refused.json?.error as { code: string }).code).toBe('fallback_budget_spent');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((refused.json?.error as { attempts: Array<{ outcome: string; reason: string }> }).attempts.map((a) => `${a.outcome}:${a.reason}`)).toEqual([
      'failed:ServerError',
      'skipped:RetryBudget',
    ]);
    // AND the next targets received two calls, not ten
    expect(harness.emulator.calls({ region: EU_CENTRAL })).toHaveLength(2);
    expect(harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE })).toHaveLength(10);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(8);
    expect(harness.output.sum('FailedRequests')).toBe(8);
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

    // THEN the first is refused (no floor, half of one request rounds down), the second falls back (half of two),
    // and the four after the breaker opened are served by the regional fallback without touching the budget
    expect(results.map((result) => result.status)).toEqual([503, 200, 200, 200, 200, 200]);
    expect(harness.emulator.calls({ region: EU_WEST, modelId: CLAUDE })).toHaveLength(2);
    expect(harness.output.sum('RetryBudgetRefusals')).toBe(1);
  });
});
