/**
 * DynamoDB's time to live, one rule for every table the runtime writes: the
 * TTL attribute holds epoch seconds, and DynamoDB deletes an expired item
 * only when it gets to it (often days late), so readers check it themselves.
 */

/** Epoch seconds at which an item written at `nowMs` to last `lifetimeMs` expires: the first whole second not before its end. */
export function expiresAtSeconds(nowMs: number, lifetimeMs: number): number {
  return Math.ceil((nowMs + lifetimeMs) / 1000);
}

/** Whether an item whose TTL attribute is `expiresAt` (epoch seconds) still lives at `nowMs`. */
export function aliveAt(expiresAt: number, nowMs: number): boolean {
  return expiresAt * 1000 > nowMs;
}
