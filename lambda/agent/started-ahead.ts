/**
 * A loading started ahead of its first use (as the runtime is built): a
 * failure surfaces where the result is awaited, as a failure of the call
 * that needed it, never as an unhandled rejection, which would end the
 * Lambda's environment and every request it serves with it.
 */
export function startedAhead<T>(loading: Promise<T>): Promise<T> {
  loading.catch(() => undefined);
  return loading;
}
