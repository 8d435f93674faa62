/**
 * Hedged first tokens (off unless configured): when the current target has
 * produced no first token after a delay (fixed, or a percentile of its
 * recent first-token times), the next target of the chain is started too.
 * The first of the two to produce output serves; the other is aborted and
 * counts against nothing. While the next targets show overload, hedges are
 * capped by a credit earned per message (at most 10 %, see hedge-credit.ts),
 * so that a slow primary does not double the load on a target that is
 * already throttling.
 */
import type { HedgeCredit } from './hedge-credit';
import type { LatencyTracker } from './latency-tracker';
import type { FirstOutput, TargetAttempt } from './target-attempt';
import { TIMED_OUT, within } from '../timeout';

export interface HedgeSettings {
  /** The delay, or the least delay when `percentile` is set. */
  afterMs: number;
  /** Hedge after this percentile of the target's recent first-token times (once it has some), at least `afterMs`. */
  percentile?: number;
}

export interface Hedging {
  settings: HedgeSettings;
  /** The cap during an overload: each message earns a share of a hedge, each capped hedge spends one. */
  budget: HedgeCredit;
}

/** How long to wait for the target's first token before hedging. */
export function hedgeDelayMs(settings: HedgeSettings, latency: LatencyTracker, key: string): number {
  const measured = settings.percentile === undefined ? undefined : latency.percentile(key, settings.percentile);
  return Math.max(settings.afterMs, measured ?? 0);
}

export interface Raced {
  attempt: TargetAttempt;
  first: FirstOutput;
}

/**
 * Phase 1 of `first`, hedged: after `delayMs` without its output, `startHedge`
 * may start a second attempt (undefined when there is no next target or no
 * budget). Resolves with the attempt that serves, or, when both move on, the
 * one that ended last (the chain then goes on after both).
 */
export async function firstOutputHedged(first: TargetAttempt, delayMs: number, startHedge: () => TargetAttempt | undefined): Promise<Raced> {
  const primary = first.firstOutput().then((output): Raced => ({ attempt: first, first: output }));
  const early = await within(primary, delayMs);
  if (early !== TIMED_OUT) return early;
  const hedgeAttempt = startHedge();
  if (!hedgeAttempt) return primary;
  const hedge = hedgeAttempt.firstOutput().then((output): Raced => ({ attempt: hedgeAttempt, first: output }));
  const sooner = await Promise.race([primary, hedge]);
  const later = sooner.attempt === first ? hedge : primary;
  if ('next' in sooner.first) {
    // It moved on (its verdict is recorded): end its call, and let the other decide.
    void sooner.attempt.finish(sooner.first);
    return later;
  }
  // One of them serves (or ends the chain): the other's call is abandoned, whatever it would have said.
  (sooner.attempt === first ? hedgeAttempt : first).abandon();
  return sooner;
}
