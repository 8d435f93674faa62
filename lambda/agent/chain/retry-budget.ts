/**
 * A retry budget (the Amazon Builders' Library's and Finagle's idea): the
 * fallback calls a message makes after its first call are capped at `ratio`
 * of the messages seen over a sliding window, with a floor, so that an
 * outage of the first targets does not double the load on the next ones.
 *
 * Unlike Finagle's and Envoy's budgets, which protect the same service the
 * retry goes back to, ours diverts to a different target, with its own
 * capacity and its own throttling answer (429, which the chain honours). So
 * the cap binds only while the fallback tier shows overload: a fallback call
 * throttled, failing with a server error or timing out, or a fallback target
 * skipped by its open breaker, in this environment or (through the ledger)
 * in the region, within the window. While the next targets answer, no
 * fallback is refused, whatever share of messages the primary fails.
 *
 * The budget counts messages (one per message, whatever its steps), and is
 * kept per execution environment and, when the region shares its counts
 * (see RegionBudget), per region too. The region's floor is per second of
 * the window (Finagle's default is 10 retries a second per client): a
 * Lambda environment serves a few messages a window, so each one's floor
 * would otherwise add up across a fleet, or refuse a quiet one.
 */
import type { Clock } from './types';

/** The region's messages, fallback calls and fallback overloads over the window, as its environments share them. */
export interface RegionBudget {
  /** The region's counts over the window, this environment's latest included; undefined when not known (the region's view is stale). */
  totals(): { requests: number; fallbacks: number; overloads: number } | undefined;
  countRequest(): void;
  countFallback(): void;
  countOverload(): void;
  /** The counts matter to the region now (an overload): they are written at once rather than at the next refresh. */
  publish(): void;
  /** When the region's oldest counts leave its window. */
  refillsInMs(): number;
}

export interface RetryBudgetSettings {
  /** Whether fallback calls are budgeted at all. */
  enabled: boolean;
  /** Fallback calls allowed per message seen in the window, once the fallback tier shows overload (0.2: one for every five). */
  ratio: number;
  /** Fallback calls this environment allows in any window whatever its traffic, so a quiet environment still falls back. */
  minPerWindow: number;
  /** Length of the sliding window. */
  windowMs: number;
  /** Fallback calls per second of the window the region allows whatever its traffic (when it shares its counts). */
  regionMinPerSecond: number;
}

export class RetryBudget {
  /** When this environment's messages of the window started. */
  private readonly messages: number[] = [];
  private readonly fallbacks: number[] = [];
  /** When this environment last saw the fallback tier overloaded. */
  private overloadedAt?: number;
  /** Whose count refused the last fallback call: this environment's or the region's. */
  private refusedBy?: 'environment' | 'region';

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly clock: Clock,
    private readonly region?: RegionBudget,
  ) {}

  /** One message arrived: it adds `ratio` to what may be spent, however many model calls it makes. */
  messageStarted(): void {
    this.forgetOld();
    this.messages.push(this.clock.now());
    this.region?.countRequest();
  }

  /** A fallback call was throttled, failed on the server's side or timed out, or a fallback target's breaker is open. */
  fallbackOverloaded(): void {
    this.overloadedAt = this.clock.now();
    this.region?.countOverload();
    this.region?.publish();
  }

  /** Whether the fallback tier showed overload within the window, here or in the region: only then are fallbacks and hedges capped. */
  overloaded(): boolean {
    if (this.overloadedAt !== undefined && this.clock.now() - this.overloadedAt < this.settings.windowMs) return true;
    return (this.region?.totals()?.overloads ?? 0) > 0;
  }

  /** Takes one fallback call from the budget; false when the fallback tier is overloaded and the budget spent, here or in the region. */
  tryWithdraw(): boolean {
    if (!this.settings.enabled) return true;
    this.forgetOld();
    const binding = this.overloaded();
    if (binding) {
      if (this.fallbacks.length >= this.allowed(this.messages.length, this.settings.minPerWindow)) return this.refused('environment');
      const region = this.region?.totals();
      const regionFloor = Math.floor((this.settings.regionMinPerSecond * this.settings.windowMs) / 1000);
      if (region && region.fallbacks >= this.allowed(region.requests, regionFloor)) return this.refused('region');
    }
    this.fallbacks.push(this.clock.now());
    this.region?.countFallback();
    // While the budget binds, the region's other environments decide on this count: it cannot wait for the next refresh.
    if (binding) this.region?.publish();
    return true;
  }

  private refused(by: 'environment' | 'region'): false {
    this.refusedBy = by;
    return false;
  }

  private allowed(messages: number, floor: number): number {
    return Math.max(floor, Math.floor(this.settings.ratio * messages));
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
    for (const list of [this.messages, this.fallbacks]) {
      let stale = 0;
      while (stale < list.length && list[stale] <= since) stale += 1;
      list.splice(0, stale);
    }
  }
}
