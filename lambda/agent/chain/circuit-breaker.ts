/**
 * One circuit breaker per target, kept for the life of the execution
 * environment. Closed: calls go through and consecutive failures are counted.
 * Open: the target is skipped at no cost until its cooldown ends. Half-open:
 * one probe may go through; its success closes the breaker, its failure opens
 * it again for a fresh cooldown. So an open target receives at most one call
 * per cooldown from this environment, however many requests arrive.
 */
import type { BreakerListener } from './fleet-health';
import type { Clock } from './types';

export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

interface Entry {
  failures: number;
  openUntil?: number;
  /** When the breaker last opened (or reopened after a failed probe). */
  openedAt?: number;
  probing: boolean;
}

export class CircuitBreakers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    /** Told of every opening and closing, e.g. to share them with the region's other environments. */
    private readonly listener?: BreakerListener,
  ) {}

  state(key: string): BreakerState {
    const entry = this.entries.get(key);
    if (entry?.openUntil === undefined) return 'closed';
    return this.clock.now() < entry.openUntil ? 'open' : 'half-open';
  }

  /** Whether a call may go to the target now; in half-open state only one probe at a time. */
  tryAcquire(key: string): boolean {
    const state = this.state(key);
    if (state === 'closed') return true;
    if (state === 'open') return false;
    const entry = this.entries.get(key)!;
    if (entry.probing) return false;
    entry.probing = true;
    return true;
  }

  /** When an open breaker will next let a probe through (now for closed ones). */
  reopensAt(key: string): number {
    return this.entries.get(key)?.openUntil ?? this.clock.now();
  }

  recordSuccess(key: string): void {
    const wasOpen = this.entries.get(key)?.openUntil !== undefined;
    this.entries.delete(key);
    if (wasOpen) this.listener?.closed(key);
    else this.listener?.succeeded(key);
  }

  /**
   * Opens a closed breaker on the region's word: its environments together
   * failed the threshold's number of calls in a row, however few of them
   * were this environment's. Returns true when it opened.
   */
  openOnRegionWord(key: string): boolean {
    const entry = this.entry(key);
    if (entry.openUntil !== undefined) return false;
    this.open(key, entry);
    return true;
  }

  /**
   * Another environment (or a scheduled probe) saw the target answer at `at`:
   * a breaker that opened before then closes, without a call of its own.
   */
  recoveredElsewhere(key: string, at: number): void {
    const entry = this.entries.get(key);
    if (entry?.openedAt !== undefined && entry.openedAt < at && !entry.probing) this.entries.delete(key);
  }

  /** Lets this environment's next call take the half-open probe: the region's prober has gone, and this one takes over. */
  takeOverProbe(key: string): void {
    const entry = this.entry(key);
    entry.openUntil = this.clock.now();
    entry.openedAt ??= this.clock.now();
  }

  /**
   * Counts a failure; returns true when this failure opened a closed breaker.
   * A failed half-open probe reopens it for a fresh cooldown, but it was never
   * closed: that is no new opening.
   */
  recordFailure(key: string): boolean {
    const entry = this.entry(key);
    const wasProbe = entry.probing;
    entry.probing = false;
    entry.failures += 1;
    if (wasProbe || entry.failures >= this.settings.failureThreshold) {
      const wasOpen = entry.openUntil !== undefined;
      this.open(key, entry);
      return !wasOpen;
    }
    if (entry.openUntil === undefined) this.listener?.failed(key);
    return false;
  }

  /** Releases a half-open probe that ended for a reason that says nothing about the target. */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.probing = false;
  }

  private open(key: string, entry: Entry): void {
    entry.openedAt = this.clock.now();
    entry.openUntil = entry.openedAt + this.settings.cooldownMs;
    this.listener?.opened(key, entry.openUntil);
  }

  private entry(key: string): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { failures: 0, probing: false };
      this.entries.set(key, entry);
    }
    return entry;
  }
}
