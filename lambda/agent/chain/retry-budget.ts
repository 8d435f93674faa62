/**
 * A retry budget (the Amazon Builders' Library's and Finagle's idea): the
 * fallback calls a request makes after its first call are allowed while they
 * stay under `ratio` of the requests seen over a sliding window, plus a small
 * floor so that isolated failures always get their fallback. When the primary
 * tier fails broadly, the budget runs out and further requests fail fast
 * instead of doubling the load on the next targets, which an outage of the
 * first would otherwise push onto them.
 *
 * The budget is kept per execution environment. A ratio per environment is
 * also a ratio per region: if no environment's fallbacks exceed 20 % of its
 * requests, the region's do not either (the floor adds `minPerWindow` per
 * environment).
 */
import type { Clock } from './types';

export interface RetryBudgetSettings {
  /** Whether fallback calls are budgeted at all. */
  enabled: boolean;
  /** Fallback calls allowed per request seen in the window (0.2: one for every five requests). */
  ratio: number;
  /** Fallback calls allowed in any window whatever the traffic, so a quiet environment still falls back. */
  minPerWindow: number;
  /** Length of the sliding window. */
  windowMs: number;
}

export class RetryBudget {
  private readonly requests: number[] = [];
  private readonly fallbacks: number[] = [];

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
  ) {}

  /** One request entered the chain: it adds `ratio` to what may be spent. */
  requestStarted(): void {
    this.requests.push(this.clock.now());
  }

  /** Takes one fallback call from the budget; false when it is spent. */
  tryWithdraw(): boolean {
    if (!this.settings.enabled) return true;
    this.forgetOld();
    const allowed = Math.max(this.settings.minPerWindow, Math.floor(this.settings.ratio * this.requests.length));
    if (this.fallbacks.length >= allowed) return false;
    this.fallbacks.push(this.clock.now());
    return true;
  }

  /** When the oldest fallback call leaves the window, freeing room for another. */
  refillsInMs(): number {
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
