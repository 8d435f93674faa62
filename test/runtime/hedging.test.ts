/**
 * Hedged first tokens: a target slow to its first token has the next target
 * started beside it; the first to answer serves, the other is aborted and
 * counts against nothing; hedges are capped by a credit each request adds to.
 */
import { HedgeCredit } from '../../lambda/agent/chain/hedge-credit';
import { hedgeDelayMs } from '../../lambda/agent/chain/hedging';
import { LatencyTracker } from '../../lambda/agent/chain/latency-tracker';
import type { RuntimeConfigInput } from '../../lambda/agent/config';
import { CLAUDE, EU_CENTRAL, EU_WEST, euConfig, postMessage, startHarness, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

/** The EU runtime with breakers that open at the first failure, so that a hedge counted as a failure would show. */
function hedged(hedge: RuntimeConfigInput['hedge']) {
  return startHarness((emulator, dynamo) => euConfig(emulator, dynamo, { hedge, breaker: { failureThreshold: 1, cooldownMs: 60_000 } }));
}

/** Sends `count` messages in turn, the primary silent for `stallMs` on those whose 1-based number is in `slow`; their paths and times to the answer. */
async function sendWithSlow(count: number, slow: ReadonlySet<number>, stallMs: number): Promise<Array<{ path: string | null; ms: number }>> {
  const results = [];
  for (let number = 1; number <= count; number += 1) {
    if (slow.has(number)) harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs }, times: 1 });
    const started = Date.now();
    const result = await postMessage(harness.server.url, `eu.c-share-${number}`, { text: 'hello' });
    results.push({ path: result.headers.get('x-agent-path'), ms: Date.now() - started });
  }
  return results;
}

test('a primary slow to its first token is hedged: the regional fallback serves, and the primary, aborted, counts as no failure', async () => {
  // GIVEN hedging after 200 ms, and a primary that will be silent for 3 s on the next call
  harness = await hedged({ afterMs: 200 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 3000 }, times: 1 });

  // WHEN
  const started = Date.now();
  const result = await postMessage(harness.server.url, 'eu.c-hedge-won', { text: 'hello' });

  // THEN the hedge answered, long before the primary would have
  expect(result.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(result.headers.get('x-agent-region')).toBe(EU_CENTRAL);
  expect(Date.now() - started).toBeLessThan(2000);
  expect(harness.output.sum('HedgesStarted')).toBe(1);
  expect(harness.output.sum('HedgesWon')).toBe(1);
  // AND the abandoned primary is no failure: no target error, no breaker opened, no failed request
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'])).toBe(0);
  expect(harness.output.sum('BreakerOpened')).toBe(0);
  expect(harness.output.sum('FailedRequests')).toBe(0);
  const next = await postMessage(harness.server.url, 'eu.c-hedge-won-2', { text: 'again' });
  expect(next.headers.get('x-agent-path')).toBe('primary');
});

test('a primary answering after the hedge started still serves; the hedge is abandoned and counts as no failure', async () => {
  // GIVEN a primary 500 ms to its first token (past the 200 ms delay) and a regional fallback that would take 3 s
  harness = await hedged({ afterMs: 200 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 500 }, times: 1 });
  harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { stallMs: 3000 }, times: 1 });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-hedge-lost', { text: 'hello' });

  // THEN the primary served; the hedge was started, did not win, and cost its target nothing
  expect(result.headers.get('x-agent-path')).toBe('primary');
  expect(harness.output.sum('HedgesStarted')).toBe(1);
  expect(harness.output.sum('HedgesWon')).toBe(0);
  expect(harness.output.sum('TargetErrors', ['Region', 'Reason'])).toBe(0);
  expect(harness.output.sum('BreakerOpened')).toBe(0);
  expect(harness.emulator.calls({ region: EU_CENTRAL })).toHaveLength(1);
});

test('with a tenth of the first tokens slow, every slow call is hedged, even two in a row', async () => {
  // GIVEN a cap of 10 % with a burst of 2 (for an overload: the regional fallback answers), and 4 slow first tokens in 40
  // requests, two of them one after the other
  harness = await hedged({ afterMs: 200, maxRatio: 0.1, burst: 2 });
  const slow = new Set([10, 11, 25, 39]);

  // WHEN the 40 requests come
  const results = await sendWithSlow(40, slow, 3000);

  // THEN all four were hedged and served by the regional fallback long before the primary's 3 s (a fast call held past
  // 200 ms on a busy machine is hedged too, and may be served by either)
  expect(results.filter((_, index) => slow.has(index + 1)).map((result) => result.path)).toEqual(Array(4).fill('regional-fallback'));
  expect(harness.output.sum('HedgesStarted')).toBeGreaterThanOrEqual(4);
  expect(Math.max(...results.map((result) => result.ms))).toBeLessThan(2000);
  // (a hedge abandoned at once, its primary answering, may not reach its target)
  expect(harness.emulator.calls({ region: EU_CENTRAL }).length).toBeGreaterThanOrEqual(4);
  expect(harness.emulator.calls({ region: EU_CENTRAL }).length).toBeLessThanOrEqual(harness.output.sum('HedgesStarted'));
});

test('a primary slow on every call is hedged on every call while the regional fallback answers: the cap is for an overload', async () => {
  // GIVEN a primary 250 ms to its first token on every call, past the 50 ms delay, a cap of 10 % and a burst of 2
  harness = await hedged({ afterMs: 50, maxRatio: 0.1, burst: 2 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 250 } });

  // WHEN twenty requests come
  const results = await sendWithSlow(20, new Set(), 0);

  // THEN every one was hedged, the regional fallback having its own capacity and answering each; the hedges served
  // (a primary on a busy machine may still come first now and then)
  expect(harness.output.sum('HedgesStarted')).toBe(20);
  expect(harness.emulator.calls({ region: EU_CENTRAL }).length).toBeGreaterThanOrEqual(15);
  expect(results.filter((result) => result.path === 'regional-fallback').length).toBeGreaterThanOrEqual(15);
});

test('once the hedge target throttles, a primary slow on every call is hedged for the burst, then for one request in ten, never more', async () => {
  // GIVEN a primary 250 ms to its first token on every call, past the 50 ms delay, a regional fallback throttling every
  // call (its breaker never opening), a cap of 10 % and a burst of 2
  harness = await startHarness((emulator, dynamo) =>
    euConfig(emulator, dynamo, { hedge: { afterMs: 50, maxRatio: 0.1, burst: 2 }, breaker: { failureThreshold: 1000, cooldownMs: 60_000 } }),
  );
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 250 } });
  harness.emulator.injectFault({ region: EU_CENTRAL, model: CLAUDE, fault: { status: 429 } });

  // WHEN twenty requests come
  const results = await sendWithSlow(20, new Set(), 0);

  // THEN the first was hedged before any overload was seen; then the 2nd and 3rd spent the burst, the 13th the tenth earned
  // by the ten requests before it: within 1 + 2 + 10 % of 20; the primary served every one
  expect(harness.output.sum('HedgesStarted')).toBe(4);
  expect(harness.emulator.calls({ region: EU_CENTRAL }).length).toBeLessThanOrEqual(4);
  expect(results.filter((result) => result.path === 'primary')).toHaveLength(20);
});

test("a quiet environment's first slow request is hedged: an environment starts with its burst of credit", async () => {
  // GIVEN a fresh environment (no request yet) whose primary will be silent for 3 s
  harness = await hedged({ afterMs: 200, maxRatio: 0.1 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 3000 }, times: 1 });

  // WHEN its first request comes
  const first = await postMessage(harness.server.url, 'eu.c-quiet-1', { text: 'hello' });

  // THEN it was hedged, and the regional fallback served
  expect(first.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(harness.output.sum('HedgesStarted')).toBe(1);
});

describe('HedgeCredit', () => {
  test('starts with the burst, earns ratio per request up to the burst, and spends one per hedge', () => {
    // GIVEN a credit of 10 % with a burst of 2
    const credit = new HedgeCredit({ ratio: 0.1, burst: 2 });

    // WHEN many requests come first: the credit stays at the burst, two hedges and no third
    for (let index = 0; index < 50; index += 1) credit.messageStarted();
    expect([credit.tryWithdraw(), credit.tryWithdraw(), credit.tryWithdraw()]).toEqual([true, true, false]);

    // THEN nine requests earn less than a hedge, the tenth a whole one (ten times 0.1, rounded in floating point)
    for (let index = 0; index < 9; index += 1) credit.messageStarted();
    expect(credit.tryWithdraw()).toBe(false);
    credit.messageStarted();
    expect(credit.tryWithdraw()).toBe(true);
    expect(credit.tryWithdraw()).toBe(false);
  });

  test('over any run of requests, hedges stay within burst + ratio × requests, whatever share of them asks', () => {
    for (const asking of [0.1, 0.5, 1]) {
      const credit = new HedgeCredit({ ratio: 0.1, burst: 10 });
      let hedges = 0;
      for (let index = 1; index <= 1000; index += 1) {
        credit.messageStarted();
        if (index % Math.round(1 / asking) === 0 && credit.tryWithdraw()) hedges += 1;
      }
      expect(hedges).toBeLessThanOrEqual(10 + 0.1 * 1000);
      // Every one asking at 10 % got its hedge; more asking got the whole cap, less the tenths earned while the credit was full
      expect(hedges).toBe(asking === 0.1 ? 100 : 109);
    }
  });
});

test('without the setting, nothing is hedged: a slow primary is waited for until its first-token deadline', async () => {
  harness = await startHarness();
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 500 }, times: 1 });

  const result = await postMessage(harness.server.url, 'eu.c-no-hedge', { text: 'hello' });

  expect(result.headers.get('x-agent-path')).toBe('primary');
  expect(harness.output.sum('HedgesStarted')).toBe(0);
  expect(harness.emulator.calls({ region: EU_CENTRAL })).toHaveLength(0);
});

test("with a percentile, the delay is that percentile of the target's recent first-token times, never less than afterMs", () => {
  const latency = new LatencyTracker(20);
  expect(hedgeDelayMs({ afterMs: 100, percentile: 90 }, latency, 't')).toBe(100);
  for (const ms of [50, 60, 70, 80, 90, 100, 110, 120, 400, 2000]) latency.record('t', ms);
  expect(hedgeDelayMs({ afterMs: 100, percentile: 90 }, latency, 't')).toBe(400);
  expect(hedgeDelayMs({ afterMs: 500, percentile: 90 }, latency, 't')).toBe(500);
  expect(hedgeDelayMs({ afterMs: 100 }, latency, 't')).toBe(100);
});
