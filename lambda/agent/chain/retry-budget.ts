/**
 * A retry budget (the Amazon Builders' Library's and Finagle's idea): the
 * fallback calls a request makes after its first call are allowed while they
 * stay under `ratio` of the requests seen over a sliding window, plus a small
 * floor so that isolated failures always get their fallback. When the primary
 * tier fails broadly, the budget runs out and further requests fail fast
 * instead of doubling the load on the next targets, which an outage of the
 * first would otherwise push onto them.
 *
 * The budget is kept per execution environment, and, when the region shares
 * its counts (see RegionBudget), per region too. A ratio per environment is
 * also a ratio per region, but its floor adds up per environment: a Lambda
 * environment serves a few requests a window, so without the region's count
 * the floor, not the ratio, would bound a fleet's fallbacks.
 */
import type { Clock } from './types';

/** The region's requests and fallback calls over the window, as its environments share them. */
export interface RegionBudget {
  /** The region's counts over the window, this environment's latest included; undefined when not known (the region's view is stale). */
  totals(): { requests: number; fallbacks: number } | undefined;
  countRequest(): void;
  countFallback(): void;
  /** When the region's oldest counts leave its window. */
  refillsInMs(): number;
}

export interface RetryBudgetSettings {
  /** Whether fallback calls are budgeted at all. */
  enabled: boolean;
  /** Fallback calls allowed per request seen in the window (0.2: one for every five requests). */
  ratio: number;
  /** Fallback calls allowed in any window whatever the traffic, so a quiet environment still falls back. */
  minPerWindow: number;
  /** Length of the sliding window. */
  windowMs: number;
  /** Fallback calls the region allows in any window, whatever its traffic (when it shares its counts). */
  regionMinPerWindow: number;
}

export class RetryBudget {
  private readonly requests: number[] = [];
  private readonly fallbacks: number[] = [];
  /** Whose count refused the last fallback call: this environment's or the region's. */
  private refusedBy?: 'environment' | 'region';

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
    private readonly region?: RegionBudget,
  ) {}

  /** One request entered the chain: it adds `ratio` to what may be spent. */
  requestStarted(): void {
    this.requests.push(this.clock.now());
    this.region?.countRequest();
  }

  /** Takes one fallback call from the budget; false when it is spent, here or in the region. */
  tryWithdraw(): boolean {
    if (!this.settings.enabled) return true;
    this.forgetOld();
    if (this.fallbacks.length >= this.allowed(this.requests.length, this.settings.minPerWindow)) return this.refused('environment');
    const region = this.region?.totals();
    if (region && region.fallbacks >= this.allowed(region.requests, this.settings.regionMinPerWindow)) return this.refused('region');
    this.fallbacks.push(this.clock.now());
    this.region?.countFallback();
    return true;
  }

  private refused(by: 'environment' | 'region'): false {
    this.refusedBy = by;
    return false;
  }

  private allowed(requests: number, floor: number): number {
    return Math.max(floor, Math.floor(this.settings.ratio * requests));
  }

  /** When the oldest fallback call that refused the last one leaves its window, freeing room for another. */
  refillsInMs(): number {
    if (this.refusedBy === 'region' && this.region) return this.region.refillsInMs();
    this.forgetOld();
    const oldest = this.fallbacks[0];
    return oldest === undefined ? 0 : oldest + this.settings.windowMs - this.clock.now();
  }

  private forgetOld(): void {
    const since = this.clock.now() - this.settings.windowMs;
    for (const list of [this.requests, this.fallbacks]) {
      let stale = 0;
      while (stale < list.length && list[stale] <= since) stale += 1;
      list.splice(0, stale);
    }
  }
}
