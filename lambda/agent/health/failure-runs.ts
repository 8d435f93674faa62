/**
 * Failures add up across the region: a failed call that leaves this
 * environment's breaker closed is added to the region's run of failures of
 * the target (a counter the write returns), and the environment whose
 * failure brings the run to the breaker's threshold opens its breaker, as
 * one breaker that saw all the region's calls would. A Lambda environment
 * serves one request at a time, so on its own it may need minutes to fail
 * three calls of a dead target, while the region fails them in a moment.
 *
 * A success ends the run of failures reported before it (a run that no
 * success ends would open the region's breakers on scattered failures): at
 * once when this environment knows of a run, and otherwise when the next
 * read shows one that began before the success (it may have begun during
 * the call, after the view was read). No read is made for it: a read per
 * successful call would be a read per step.
 */
import type { Clock } from '../chain/types';
import type { HealthStore } from './dynamo-health-store';
import { parseHealthRecord, type HealthRecord } from './health-record';
import type { HealthView } from './health-view';
import type { LocalHealth } from './local-health';
import type { TargetWrites } from './target-writes';

export interface FailureRunsProps {
  store: HealthStore;
  scope: string;
  environmentId: string;
  clock: Clock;
  settings: { failureThreshold: number; failureRunMs: number };
  view: HealthView;
  writes: TargetWrites;
  local: LocalHealth;
  reporter: {
    invalidHealthRecord(target: string | undefined): void;
    openedOnRegionFailures(target: string, failures: number): void;
  };
}

export class FailureRuns {
  /** Per target, when this environment last added a failure to the region's run. */
  private readonly reportedAt = new Map<string, number>();
  /** Per target, this environment's last success, which ends a run of failures reported before it that a later read shows. */
  private readonly succeededAt = new Map<string, number>();

  constructor(private readonly props: FailureRunsProps) {}

  failed(key: string): void {
    const { store, scope, clock, settings, writes, reporter } = this.props;
    const now = clock.now();
    this.reportedAt.set(key, now);
    writes.enqueue(key, async () => {
      const record = parseHealthRecord(await store.addFailure(scope, key, now, now - settings.failureRunMs, writes.expiresAt(now)));
      if (!record) {
        reporter.invalidHealthRecord(key);
        return;
      }
      this.afterFailureAdded(key, record);
    });
  }

  succeeded(key: string): void {
    const at = this.props.clock.now();
    this.succeededAt.set(key, at);
    if (this.runGoingOn(key)) this.endRun(key, at);
  }

  /** After a read: the runs it shows that a success of this environment came after are over. */
  endRunsSucceeded(): void {
    const { view } = this.props;
    for (const [key, at] of this.succeededAt) {
      const record = view.get(key);
      if (record?.failures !== undefined && record.failures > 0 && record.failedAt! <= at) this.endRun(key, at);
    }
    this.succeededAt.clear();
  }

  /** What this environment does with the record its failure left. */
  private afterFailureAdded(key: string, record: HealthRecord): void {
    const { environmentId, view, settings, local, reporter } = this.props;
    if (record.state === 'open' && record.by !== environmentId) {
      // Another environment opened it since this view was read: learn that now rather than at the next read.
      view.set(key, record);
      return;
    }
    const failures = record.failures ?? 0;
    if (failures >= settings.failureThreshold && local.breakers?.openOnRegionWord(key)) reporter.openedOnRegionFailures(key, failures);
  }

  /** Clears the region's run of failures of the target reported up to `at`, here and in the table. */
  private endRun(key: string, at: number): void {
    const { view, writes, store, scope } = this.props;
    if ((this.reportedAt.get(key) ?? 0) <= at) this.reportedAt.delete(key);
    const record = view.get(key);
    if (record?.failedAt !== undefined && record.failedAt <= at) view.set(key, { ...record, failures: undefined, failedAt: undefined });
    writes.enqueue(key, () => store.clearFailures(scope, key, at));
  }

  /** Whether the region may be counting failures of the target in a row: this environment added one, or the view shows some. */
  private runGoingOn(key: string): boolean {
    const since = this.props.clock.now() - this.props.settings.failureRunMs;
    const record = this.props.view.get(key);
    return (this.reportedAt.get(key) ?? 0) >= since || (record?.failures !== undefined && record.failures > 0 && record.failedAt! >= since);
  }
}
