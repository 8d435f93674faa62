/** One race against a timer: the work's value in time, TIMED_OUT after, and no timer left behind either way. */
import { TIMED_OUT, within } from '../../lambda/agent/timeout';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('work that settles in time wins, and its timer is cleared at once', async () => {
  // GIVEN a tool's result ready before its 5 s timeout
  const result = within(Promise.resolve({ orderId: 'NW-1', total: 19.99 }), 5000);

  // THEN the result comes back, and no timer is left to fire in a thawed environment
  await expect(result).resolves.toEqual({ orderId: 'NW-1', total: 19.99 });
  expect(jest.getTimerCount()).toBe(0);
});

test('work that fails in time fails the race with its own error', async () => {
  const result = within(Promise.reject(new Error('database down')), 5000);

  await expect(result).rejects.toThrow('database down');
  expect(jest.getTimerCount()).toBe(0);
});

test('work still running at the timeout loses: TIMED_OUT, and what it settles with later is ignored', async () => {
  // GIVEN work that would fail after the timeout
  let fail: (error: Error) => void = () => undefined;
  const result = within(new Promise((_, reject) => (fail = reject)), 100);

  // WHEN the time runs out, then the work fails
  await jest.advanceTimersByTimeAsync(100);
  fail(new Error('too late'));

  // THEN the race said TIMED_OUT
  await expect(result).resolves.toBe(TIMED_OUT);
  expect(jest.getTimerCount()).toBe(0);
});
