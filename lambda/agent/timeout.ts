/**
 * Racing work against a timer, one way everywhere: the timer is cleared as
 * soon as the race is decided, so a finished race leaves nothing pending
 * (a Lambda environment frozen with a live timer would fire it on thaw).
 */

/** What `within` resolves with when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** `work`'s value, or TIMED_OUT if it has not settled within `ms`; a rejection of `work` in time is thrown. Losing the race does not stop `work`. */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
