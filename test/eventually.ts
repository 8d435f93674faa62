/**
 * Waits until `condition` holds, checking every 10 ms: tests wait for the event
 * they need (a call recorded, a record read) instead of sleeping a fixed time,
 * which a loaded machine outlasts. A condition that never holds ends in the
 * test's own timeout.
 */
export async function eventually(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}
