/**
 * An open target gets about one probe per cooldown per region: only the
 * environment that opened it probes it, when its `until` comes. If that
 * writer is gone (a grace after `until` passed with no new record), one
 * environment takes the probes over with a conditional write.
 */
import type { Clock } from '../chain/types';
import type { HealthStore } from './dynamo-health-store';
import type { HealthRecord } from './health-record';
import type { HealthView } from './health-view';
import type { LocalHealth } from './local-health';
import type { TargetWrites } from './target-writes';

export interface ProbeTakeoverProps {
  store: HealthStore;
  scope: string;
  environmentId: string;
  clock: Clock;
  graceMs: number;
  view: HealthView;
  writes: TargetWrites;
  local: LocalHealth;
  reporter: { healthStoreFailed(operation: 'write', error: unknown): void };
}

export class ProbeTakeover {
  constructor(private readonly props: ProbeTakeoverProps) {}

  /** Takes over the probes of another environment's open record whose writer never reported its probe, if none did first. */
  async ifWriterGone(record: HealthRecord): Promise<void> {
    const { store, scope, environmentId, clock, graceMs, view, writes, local, reporter } = this.props;
    const now = clock.now();
    if (now < record.until! + graceMs) return;
    try {
      const tookOver = await store.takeOver(scope, record.target, record.at!, environmentId, now, writes.expiresAt(now));
      // Lost the race: another environment took the probe (or the record changed); the next refresh tells which.
      view.set(record.target, { ...record, by: tookOver ? environmentId : 'another environment', until: now, at: now });
      if (tookOver) local.breakers?.takeOverProbe(record.target);
    } catch (error) {
      reporter.healthStoreFailed('write', error);
    }
  }
}
