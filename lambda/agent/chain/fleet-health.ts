/**
 * What the other execution environments of the region know about the
 * targets, as the chain reads it: plain lookups in memory, never a call on
 * the request path. The local breaker stays the fast path; this only adds
 * knowledge (see lambda/agent/health/shared-target-health.ts).
 */
export interface FleetHealth {
  /**
   * Until when (epoch ms) the target is to be skipped on another
   * environment's word: its breaker is open there, and that environment
   * takes the probes. Undefined when the fleet knows nothing against it.
   */
  heldOpenUntil(key: string): number | undefined;
  /** The fleet's recent time to first token of the target, for ordering targets this environment has not measured. */
  firstTokenMs(key: string): number | undefined;
  /**
   * A request arrived: the fleet's view is brought up to date now if it is
   * due, in the background, so that it is read while the request reads its
   * conversation (an environment thawed after a quiet spell would otherwise
   * serve its first request on what it knew before).
   */
  requestArrived(): void;
}

/** Transitions of this environment's breakers, for whoever shares them. */
export interface BreakerListener {
  /** The breaker opened (from closed, or again after a failed half-open probe) until `openUntil`. */
  opened(key: string, openUntil: number): void;
  /** An open or half-open breaker closed after a successful call. */
  closed(key: string): void;
  /** A call failed while the breaker stayed closed (fewer failures in a row than its threshold). */
  failed(key: string): void;
  /** A call succeeded while the breaker was closed. */
  succeeded(key: string): void;
}
