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
 *
 * This class composes the parts, one concern per file: the view
 * (health-view.ts), the ordered writes (target-writes.ts), breaker sharing
 * (breaker-sharing.ts), failure runs (failure-runs.ts), probe take-over
 * (probe-takeover.ts), latency sharing (latency-sharing.ts), the ledger's
 * writes (ledger-writes.ts) and when reads happen (refresh-schedule.ts).
 */
import type { CircuitBreakers } from '../chain/circuit-breaker';
import type { BreakerListener, FleetHealth } from '../chain/fleet-health';
import type { LatencyTracker } from '../chain/latency-tracker';
import type { Clock } from '../chain/types';
import { BreakerSharing } from './breaker-sharing';
import type { HealthStore } from './dynamo-health-store';
import { FailureRuns } from './failure-runs';
import type { HealthRecord } from './health-record';
import { HealthView } from './health-view';
import { LatencySharing } from './latency-sharing';
import { LedgerWrites } from './ledger-writes';
import type { LocalHealth } from './local-health';
import { ProbeTakeover } from './probe-takeover';
import { RefreshSchedule } from './refresh-schedule';
import { isLedgerItem, RegionLedger } from './region-ledger';
import { TargetWrites } from './target-writes';

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

export class SharedTargetHealth implements FleetHealth, BreakerListener {
  /** The region's retry-budget counts, shared through the same table (see region-ledger.ts). */
  readonly ledger: RegionLedger;
  /** This environment's breakers and latencies, once connected. */
  private readonly local: LocalHealth = {};
  private readonly view: HealthView;
  private readonly writes: TargetWrites;
  private readonly breakerSharing: BreakerSharing;
  private readonly failureRuns: FailureRuns;
  private readonly probeTakeover: ProbeTakeover;
  private readonly latencySharing: LatencySharing;
  private readonly ledgerWrites: LedgerWrites;
  private readonly schedule: RefreshSchedule;

  constructor(private readonly props: SharedTargetHealthProps) {
    const { store, scope, environmentId, targets, settings, clock, reporter } = props;
    const { local } = this;
    const view = (this.view = new HealthView({ environmentId, refreshMs: settings.refreshMs, clock, reporter }));
    const writes = (this.writes = new TargetWrites(settings.recordTtlMs, reporter));
    const shared = { store, scope, clock, view, writes, local };
    this.breakerSharing = new BreakerSharing({ ...shared, environmentId, settings });
    this.failureRuns = new FailureRuns({ ...shared, environmentId, settings, reporter });
    this.probeTakeover = new ProbeTakeover({ ...shared, environmentId, graceMs: settings.graceMs, reporter });
    this.latencySharing = new LatencySharing({ ...shared, targets, settings });
    this.ledgerWrites = new LedgerWrites({ store, scope, reporter });
    this.ledger = new RegionLedger({
      windowMs: settings.budgetWindowMs,
      clock,
      isFresh: () => view.isFresh(),
      publish: () => this.ledgerWrites.write(this.ledger),
    });
    this.schedule = new RefreshSchedule({ refreshMs: settings.refreshMs, clock, read: (startedAt) => this.readAndApply(startedAt) });
  }

  /** Connects this environment's breakers and latencies, and starts the background refresh. */
  start(breakers: CircuitBreakers, latency: LatencyTracker): void {
    this.local.breakers = breakers;
    this.local.latency = latency;
    this.schedule.start();
  }

  stop(): void {
    this.schedule.stop();
  }

  heldOpenUntil(key: string): number | undefined {
    return this.breakerSharing.heldOpenUntil(key);
  }

  firstTokenMs(key: string): number | undefined {
    return this.latencySharing.firstTokenMs(key);
  }

  requestArrived(): void {
    this.schedule.ifDue();
  }

  opened(key: string, openUntil: number): void {
    this.breakerSharing.opened(key, openUntil);
  }

  closed(key: string): void {
    this.breakerSharing.closed(key);
  }

  failed(key: string): void {
    this.failureRuns.failed(key);
  }

  succeeded(key: string): void {
    this.failureRuns.succeeded(key);
  }

  /** The region's records as this environment last read them, newest knowledge included (for the local playground's page). */
  records(): HealthRecord[] {
    return this.view.shown();
  }

  /** Reads the region's records now (the background refresh; tests and benchmarks await it). */
  refresh(): Promise<void> {
    return this.schedule.now();
  }

  /** Resolves when every write issued so far, and every read a success asked for, has ended. */
  async flush(): Promise<void> {
    await this.schedule.underWay;
    await Promise.all([this.writes.settled(), this.ledgerWrites.settled()]);
  }

  /** One read: the ledger's counts go out beside it, then the view, the runs, the breakers and the latencies follow what it shows. */
  private async readAndApply(startedAt: number): Promise<void> {
    const { store, scope, reporter } = this.props;
    this.ledgerWrites.write(this.ledger);
    let items: unknown[];
    try {
      items = await store.read(scope);
    } catch (error) {
      reporter.healthStoreFailed('read', error);
      return;
    }
    for (const invalid of this.ledger.apply(items.filter(isLedgerItem), startedAt)) reporter.invalidHealthRecord((invalid as { target: string }).target);
    this.view.replace(
      items.filter((one) => !isLedgerItem(one)),
      startedAt,
    );
    this.failureRuns.endRunsSucceeded();
    for (const record of this.view.values()) await this.apply(record);
    this.latencySharing.share();
  }

  /** What another environment's record means for this environment's breakers. */
  private async apply(record: HealthRecord): Promise<void> {
    if (record.state === undefined || record.by === this.props.environmentId) return;
    if (record.state === 'closed') this.breakerSharing.closedElsewhere(record);
    else await this.probeTakeover.ifWriterGone(record);
  }
}
