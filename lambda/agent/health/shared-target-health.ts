/**
 * Target health shared by a region's execution environments through a small
 * DynamoDB table, so that a dead target is learned once per region instead
 * of once per environment, and a new environment does not start blind.
 *
 * - Writes: each breaker transition of this environment (opened until T,
 *   closed) is written in the background, in order per target; a recent
 *   first-token time is shared at most every `latencyShareMs` per target.
 * - Failures add up: a failed call that leaves this environment's breaker
 *   closed is added to the region's run of failures of the target (a counter
 *   the write returns), and the environment whose failure brings the run to
 *   the breaker's threshold opens its breaker, as one breaker that saw all
 *   the region's calls would. A Lambda environment serves one request at a
 *   time, so on its own it may need minutes to fail three calls of a dead
 *   target, while the region fails them in a moment. A success ends the run
 *   of failures reported before it: at once when a run is known, else when
 *   the next read shows one (a success reads nothing by itself).
 * - The region's retry-budget counts travel with the refreshes (see
 *   region-ledger.ts).
 * - Reads: the region's records are queried in the background every
 *   `refreshMs`, and when a request arrives and the view is due (it is read
 *   while the request reads its conversation); lookups read memory. So a
 *   message, whatever its steps, makes at most one read on arrival, and an
 *   environment one ledger write per refresh.
 * - Meaning: a target another environment holds open is skipped here; only
 *   the writer probes (when its `until` comes), so an open target gets about
 *   one call per cooldown per region. If the writer is gone (a grace after
 *   `until` passed with no new record), one environment takes over the probe
 *   with a conditional write. A closing seen elsewhere closes a breaker here
 *   that opened before it.
 * - Failure: a record that fails to parse is ignored and counted; a view not
 *   refreshed for three intervals (the store unreachable, or the environment
 *   frozen) is not used at all: the runtime then behaves as without sharing.
 */
import type { CircuitBreakers } from '../chain/circuit-breaker';
import type { BreakerListener, FleetHealth } from '../chain/fleet-health';
import type { LatencyTracker } from '../chain/latency-tracker';
import type { Clock } from '../chain/types';
import { parseHealthRecord, type HealthRecord } from './health-record';
import { isLedgerItem, RegionLedger } from './region-ledger';
import type { HealthStore, StateWrite } from './dynamo-health-store';
import { aliveAt, expiresAtSeconds } from '../expiry';

export interface SharedHealthSettings {
  /** How often the region's records are read. */
  refreshMs: number;
  /** Time after an open record's `until` during which its writer's probe result is awaited. */
  graceMs: number;
  /** Shortest interval between two shares of one target's first-token time by the region. */
  latencyShareMs: number;
  /** A shared first-token time older than this is not used. */
  latencyMaxAgeMs: number;
  /** Records expire (TTL) this long after their last write. */
  recordTtlMs: number;
  /** The region's failures in a row that open a breaker (the breaker's own threshold). */
  failureThreshold: number;
  /** A failure reported longer ago than this is no longer part of the run (the breaker's cooldown). */
  failureRunMs: number;
  /** The retry budget's window, over which the region's ledger counts requests and fallbacks. */
  budgetWindowMs: number;
}

/** What telemetry counts of the sharing itself. */
export interface SharedHealthReporter {
  invalidHealthRecord(target: string | undefined): void;
  healthStoreFailed(operation: 'read' | 'write', error: unknown): void;
  /** This environment's breaker opened because the region's run of failures reached the threshold. */
  openedOnRegionFailures(target: string, failures: number): void;
}

export interface SharedTargetHealthProps {
  store: HealthStore;
  /** The partition the region's environments share (the runtime's region). */
  scope: string;
  /** This environment's identity in the records it writes. */
  environmentId: string;
  /** The keys of the chain's targets. */
  targets: readonly string[];
  settings: SharedHealthSettings;
  clock: Clock;
  reporter: SharedHealthReporter;
}

/** A view this many refresh intervals old is not trusted. */
const STALE_AFTER_INTERVALS = 3;

export class SharedTargetHealth implements FleetHealth, BreakerListener {
  private view = new Map<string, HealthRecord>();
  private refreshedAt?: number;
  private lastRefreshStart?: number;
  private refreshing?: Promise<void>;
  private readonly writes = new Map<string, Promise<void>>();
  /** Per target, the latency tracker's count at this environment's last share. */
  private readonly sharedAtCount = new Map<string, number>();
  /** Per target, when this environment last added a failure to the region's run. */
  private readonly failureReportedAt = new Map<string, number>();
  /** Per target, this environment's last success, which ends a run of failures reported before it that a later read shows. */
  private readonly succeededAt = new Map<string, number>();
  private readonly ledgerWrites = new Set<Promise<void>>();
  /** The region's retry-budget counts, shared through the same table (see region-ledger.ts). */
  readonly ledger: RegionLedger;
  private timer?: NodeJS.Timeout;
  private breakers?: CircuitBreakers;
  private latency?: LatencyTracker;

  constructor(private readonly props: SharedTargetHealthProps) {
    this.ledger = new RegionLedger({
      windowMs: props.settings.budgetWindowMs,
      clock: props.clock,
      isFresh: () => this.isFresh(),
      publish: () => this.writeLedger(),
    });
  }

  /** Connects this environment's breakers and latencies, and starts the background refresh. */
  start(breakers: CircuitBreakers, latency: LatencyTracker): void {
    this.breakers = breakers;
    this.latency = latency;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.props.settings.refreshMs);
    // The refresh must never keep a process (or a test) alive by itself.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  heldOpenUntil(key: string): number | undefined {
    const record = this.trusted(key);
    if (record?.state !== 'open' || record.by === this.props.environmentId) return undefined;
    // Past the grace, the next refresh hands the probe to one environment (a conditional write): until then
    // the target stays skipped, or every environment whose own breaker is half-open would probe it at once.
    return Math.max(record.until! + this.props.settings.graceMs, this.props.clock.now() + this.props.settings.refreshMs);
  }

  firstTokenMs(key: string): number | undefined {
    const record = this.trusted(key);
    if (record?.firstTokenMs === undefined) return undefined;
    return this.props.clock.now() - record.measuredAt! <= this.props.settings.latencyMaxAgeMs ? record.firstTokenMs : undefined;
  }

  requestArrived(): void {
    this.refreshIfDue();
  }

  opened(key: string, openUntil: number): void {
    this.writeState(key, { state: 'open', until: openUntil, at: this.props.clock.now(), by: this.props.environmentId });
  }

  closed(key: string): void {
    this.writeState(key, { state: 'closed', at: this.props.clock.now(), by: this.props.environmentId, firstTokenMs: this.latency?.average(key) });
  }

  failed(key: string): void {
    const { store, scope, clock, settings } = this.props;
    const now = clock.now();
    this.failureReportedAt.set(key, now);
    this.enqueue(key, async () => {
      const record = parseHealthRecord(await store.addFailure(scope, key, now, now - settings.failureRunMs, this.expiresAt(now)));
      if (!record) {
        this.props.reporter.invalidHealthRecord(key);
        return;
      }
      this.afterFailureAdded(key, record);
    });
  }

  /** What this environment does with the record its failure left. */
  private afterFailureAdded(key: string, record: HealthRecord): void {
    if (record.state === 'open' && record.by !== this.props.environmentId) {
      // Another environment opened it since this view was read: learn that now rather than at the next read.
      this.view.set(key, record);
      return;
    }
    const failures = record.failures ?? 0;
    if (failures >= this.props.settings.failureThreshold && this.breakers?.openOnRegionWord(key)) this.props.reporter.openedOnRegionFailures(key, failures);
  }

  /**
   * A success ends the region's run of failures of the target, if there is
   * one, as a run that no success ends would open the region's breakers on
   * scattered failures: at once when this environment knows of a run, and
   * otherwise when the next read shows one that began before the success (it
   * may have begun during the call, after the view was read). No read is
   * made for it: a read per successful call would be a read per step.
   */
  succeeded(key: string): void {
    const at = this.props.clock.now();
    this.succeededAt.set(key, at);
    if (this.runGoingOn(key)) this.endRun(key, at);
  }

  /** The region's records as this environment last read them, newest knowledge included (for the local playground's page). */
  records(): HealthRecord[] {
    return [...this.view.values()].map((record) => ({ ...record, by: record.by === this.props.environmentId ? 'this environment' : record.by }));
  }

  /** Reads the region's records now (the background refresh; tests and benchmarks await it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readAndApply().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Resolves when every write issued so far, and every read a success asked for, has ended. */
  async flush(): Promise<void> {
    await this.refreshing;
    await Promise.all([...this.writes.values(), ...this.ledgerWrites]);
  }

  /** Clears the region's run of failures of the target reported up to `at`, here and in the table. */
  private endRun(key: string, at: number): void {
    if ((this.failureReportedAt.get(key) ?? 0) <= at) this.failureReportedAt.delete(key);
    const record = this.view.get(key);
    if (record?.failedAt !== undefined && record.failedAt <= at) this.view.set(key, { ...record, failures: undefined, failedAt: undefined });
    this.enqueue(key, () => this.props.store.clearFailures(this.props.scope, key, at));
  }

  /** Runs of failures the read shows that a success of this environment came after: they are over. */
  private endRunsSucceeded(): void {
    for (const [key, at] of this.succeededAt) {
      const record = this.view.get(key);
      if (record?.failures !== undefined && record.failures > 0 && record.failedAt! <= at) this.endRun(key, at);
    }
    this.succeededAt.clear();
  }

  /** Whether the region may be counting failures of the target in a row: this environment added one, or the view shows some. */
  private runGoingOn(key: string): boolean {
    const since = this.props.clock.now() - this.props.settings.failureRunMs;
    const record = this.view.get(key);
    return (this.failureReportedAt.get(key) ?? 0) >= since || (record?.failures !== undefined && record.failures > 0 && record.failedAt! >= since);
  }

  private refreshIfDue(): void {
    if (this.lastRefreshStart === undefined || this.props.clock.now() - this.lastRefreshStart >= this.props.settings.refreshMs) void this.refresh();
  }

  private trusted(key: string): HealthRecord | undefined {
    return this.isFresh() ? this.view.get(key) : undefined;
  }

  /** Whether the view was read recently enough to act on. */
  private isFresh(): boolean {
    return this.refreshedAt !== undefined && this.props.clock.now() - this.refreshedAt <= STALE_AFTER_INTERVALS * this.props.settings.refreshMs;
  }

  private async readAndApply(): Promise<void> {
    const { store, scope, clock, reporter } = this.props;
    const started = clock.now();
    this.lastRefreshStart = started;
    this.writeLedger();
    let items: unknown[];
    try {
      items = await store.read(scope);
    } catch (error) {
      reporter.healthStoreFailed('read', error);
      return;
    }
    for (const invalid of this.ledger.apply(items.filter(isLedgerItem), started)) reporter.invalidHealthRecord((invalid as { target: string }).target);
    const view = new Map<string, HealthRecord>();
    for (const item of items.filter((one) => !isLedgerItem(one))) {
      const record = parseHealthRecord(item);
      if (!record) {
        reporter.invalidHealthRecord(typeof (item as { target?: unknown })?.target === 'string' ? (item as { target: string }).target : undefined);
        continue;
      }
      if (aliveAt(record.expiresAt, clock.now())) view.set(record.target, record);
    }
    this.view = view;
    this.refreshedAt = started;
    this.endRunsSucceeded();
    for (const record of view.values()) await this.apply(record);
    this.shareLatencies();
  }

  /** What a record means for this environment's breakers. */
  private async apply(record: HealthRecord): Promise<void> {
    if (record.state === undefined || record.by === this.props.environmentId) return;
    if (record.state === 'closed') {
      this.breakers?.recoveredElsewhere(record.target, record.at!);
      return;
    }
    const now = this.props.clock.now();
    if (now < record.until! + this.props.settings.graceMs) return;
    // The writer never reported its probe: take the probes over, if no other environment did first.
    const { store, scope, environmentId } = this.props;
    try {
      const tookOver = await store.takeOver(scope, record.target, record.at!, environmentId, now, this.expiresAt(now));
      // Lost the race: another environment took the probe (or the record changed); the next refresh tells which.
      this.view.set(record.target, { ...record, by: tookOver ? environmentId : 'another environment', until: now, at: now });
      if (tookOver) this.breakers?.takeOverProbe(record.target);
    } catch (error) {
      this.props.reporter.healthStoreFailed('write', error);
    }
  }

  /**
   * Adds this environment's retry-budget counts to the region's ledger, beside the read or when published (one write,
   * no request waits for it). One at a time: counts taken while a write is on its way wait for the next.
   */
  private writeLedger(): void {
    const { store, scope, reporter } = this.props;
    if (this.ledgerWrites.size > 0) return;
    const write = this.ledger.takeWrite();
    if (write) {
      const written = store.addToLedger(scope, write, this.ledger.expiresAt()).then(
        (ok) => this.ledger.writeEnded(write, ok),
        (error: unknown) => {
          this.ledger.writeEnded(write, false);
          reporter.healthStoreFailed('write', error);
        },
      );
      this.ledgerWrites.add(written);
      void written.finally(() => this.ledgerWrites.delete(written));
    }
  }

  /** Shares this environment's first-token times that are newer than the region's. */
  private shareLatencies(): void {
    const { latency } = this;
    if (!latency) return;
    const now = this.props.clock.now();
    for (const key of this.props.targets) {
      const average = latency.average(key);
      const count = latency.recordedCount(key);
      const shared = this.view.get(key)?.measuredAt;
      if (average === undefined || count === (this.sharedAtCount.get(key) ?? 0)) continue;
      if (shared !== undefined && now - shared < this.props.settings.latencyShareMs) continue;
      this.sharedAtCount.set(key, count);
      this.enqueue(key, () => this.props.store.writeLatency(this.props.scope, key, Math.round(average), now, this.expiresAt(now)));
    }
  }

  private writeState(key: string, write: StateWrite): void {
    const rounded = write.firstTokenMs === undefined ? write : { ...write, firstTokenMs: Math.round(write.firstTokenMs) };
    const expiresAt = this.expiresAt(write.at);
    // The view holds this environment's newest knowledge too: no read follows a write by itself (a read per call is what shared health avoids).
    this.view.set(key, { ...(this.view.get(key) ?? { scope: this.props.scope, target: key }), ...rounded, expiresAt });
    this.enqueue(key, () => this.props.store.writeState(this.props.scope, key, rounded, expiresAt));
  }

  /** Writes of one target go in order (a closing must not land before the opening it ends); none is awaited by a request. */
  private enqueue(key: string, write: () => Promise<void>): void {
    const previous = this.writes.get(key) ?? Promise.resolve();
    const next = previous.then(write).catch((error: unknown) => this.props.reporter.healthStoreFailed('write', error));
    this.writes.set(key, next);
    void next.finally(() => {
      if (this.writes.get(key) === next) this.writes.delete(key);
    });
  }

  private expiresAt(now: number): number {
    return expiresAtSeconds(now, this.props.settings.recordTtlMs);
  }
}
