/**
 * Hedged first tokens: a target slow to its first token has the next target
 * started beside it; the first to answer serves, the other is aborted and
 * counts against nothing; hedges are capped at a ratio of the requests.
 */
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

/** Enough answered requests for a 10 % cap to allow one hedge. */
async function warmUp(count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) await postMessage(harness.server.url, `eu.c-warm-${index}`, { text: 'warm' });
}

test('a primary slow to its first token is hedged: the regional fallback serves, and the primary, aborted, counts as no failure', async () => {
  // GIVEN hedging after 200 ms, and a primary that will be silent for 3 s on the next call
  harness = await hedged({ afterMs: 200 });
  await warmUp(9);
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
  await warmUp(9);
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

test('hedges are capped at a tenth of the requests of the window', async () => {
  // GIVEN a primary 400 ms to its first token on every call, past the 200 ms delay
  harness = await hedged({ afterMs: 200, maxRatio: 0.1, windowMs: 60_000 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 400 } });

  // WHEN twenty requests come
  const results = [];
  for (let index = 0; index < 20; index += 1) results.push(await postMessage(harness.server.url, `eu.c-cap-${index}`, { text: 'hello' }));

  // THEN two were hedged (the 1st, the one hedge of a quiet window, and the 20th, a tenth of twenty), the others waited for the primary
  expect(harness.output.sum('HedgesStarted')).toBe(2);
  expect(harness.emulator.calls({ region: EU_CENTRAL }).length).toBe(2);
  expect(results.filter((result) => result.headers.get('x-agent-path') === 'primary').length).toBeGreaterThanOrEqual(18);
});

test("a quiet environment's first slow request is hedged: whatever its traffic, an environment may start one hedge per window", async () => {
  // GIVEN a fresh environment (no request yet in the window) whose primary will be silent for 3 s
  harness = await hedged({ afterMs: 200, maxRatio: 0.1, windowMs: 60_000 });
  harness.emulator.injectFault({ region: EU_WEST, model: CLAUDE, fault: { stallMs: 3000 }, times: 1 });

  // WHEN its first request comes
  const first = await postMessage(harness.server.url, 'eu.c-quiet-1', { text: 'hello' });

  // THEN it was hedged, and the regional fallback served
  expect(first.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(harness.output.sum('HedgesStarted')).toBe(1);
});

test('without the setting, nothing is hedged: a slow primary is waited for until its first-token deadline', async () => {
  harness = await startHarness();
  await warmUp(9);
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
