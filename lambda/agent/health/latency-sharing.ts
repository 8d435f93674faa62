/**
 * First-token times shared across the region, so that a new environment
 * orders a tier by the region's measurements before it has any: this
 * environment's newer times are written after each read, at most every
 * `latencyShareMs` per target, and the region's are used while younger
 * than `latencyMaxAgeMs`.
 */
import type { Clock } from '../chain/types';
import type { HealthStore } from './dynamo-health-store';
import type { HealthView } from './health-view';
import type { LocalHealth } from './local-health';
import type { TargetWrites } from './target-writes';

export interface LatencySharingProps {
  store: HealthStore;
  scope: string;
  /** The keys of the chain's targets. */
  targets: readonly string[];
  clock: Clock;
  settings: { latencyShareMs: number; latencyMaxAgeMs: number };
  view: HealthView;
  writes: TargetWrites;
  local: LocalHealth;
}

export class LatencySharing {
  /** Per target, the latency tracker's count at this environment's last share. */
  private readonly sharedAtCount = new Map<string, number>();

  constructor(private readonly props: LatencySharingProps) {}

  /** The region's recent first-token time of the target, if it is young enough to use. */
  firstTokenMs(key: string): number | undefined {
    const { view, clock, settings } = this.props;
    const record = view.trusted(key);
    if (record?.firstTokenMs === undefined) return undefined;
    return clock.now() - record.measuredAt! <= settings.latencyMaxAgeMs ? record.firstTokenMs : undefined;
  }

  /** Shares this environment's first-token times that are newer than the region's. */
  share(): void {
    const { local, clock, targets, view, settings, writes, store, scope } = this.props;
    const { latency } = local;
    if (!latency) return;
    const now = clock.now();
    for (const key of targets) {
      const average = latency.average(key);
      const count = latency.recordedCount(key);
      const shared = view.get(key)?.measuredAt;
      if (average === undefined || count === (this.sharedAtCount.get(key) ?? 0)) continue;
      if (shared !== undefined && now - shared < settings.latencyShareMs) continue;
      this.sharedAtCount.set(key, count);
      writes.enqueue(key, () => store.writeLatency(scope, key, Math.round(average), now, writes.expiresAt(now)));
    }
  }
}
