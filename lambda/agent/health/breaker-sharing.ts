/**
 * Breakers shared across the region: each transition of this environment's
 * breakers (opened until T, closed) is written for the others; a target
 * another environment holds open is skipped here (only its writer probes
 * it), and a closing seen elsewhere closes a breaker here that opened
 * before it.
 */
import type { Clock } from '../chain/types';
import type { HealthStore, StateWrite } from './dynamo-health-store';
import type { HealthRecord } from './health-record';
import type { HealthView } from './health-view';
import type { LocalHealth } from './local-health';
import type { TargetWrites } from './target-writes';

export interface BreakerSharingProps {
  store: HealthStore;
  scope: string;
  environmentId: string;
  clock: Clock;
  settings: { refreshMs: number; graceMs: number };
  view: HealthView;
  writes: TargetWrites;
  local: LocalHealth;
}

export class BreakerSharing {
  constructor(private readonly props: BreakerSharingProps) {}

  /** Until when another environment holds the target open: it is skipped here meanwhile. */
  heldOpenUntil(key: string): number | undefined {
    const { view, environmentId, settings, clock } = this.props;
    const record = view.trusted(key);
    if (record?.state !== 'open' || record.by === environmentId) return undefined;
    // Past the grace, the next refresh hands the probe to one environment (a conditional write): until then
    // the target stays skipped, or every environment whose own breaker is half-open would probe it at once.
    return Math.max(record.until! + settings.graceMs, clock.now() + settings.refreshMs);
  }

  opened(key: string, openUntil: number): void {
    const { clock, environmentId } = this.props;
    this.write(key, { state: 'open', until: openUntil, at: clock.now(), by: environmentId });
  }

  closed(key: string): void {
    const { clock, environmentId, local } = this.props;
    this.write(key, { state: 'closed', at: clock.now(), by: environmentId, firstTokenMs: local.latency?.average(key) });
  }

  /** Another environment's closing: a breaker here that opened before it closes. */
  closedElsewhere(record: HealthRecord): void {
    this.props.local.breakers?.recoveredElsewhere(record.target, record.at!);
  }

  private write(key: string, write: StateWrite): void {
    const { view, writes, store, scope } = this.props;
    const rounded = write.firstTokenMs === undefined ? write : { ...write, firstTokenMs: Math.round(write.firstTokenMs) };
    const expiresAt = writes.expiresAt(write.at);
    // The view holds this environment's newest knowledge too: no read follows a write by itself (a read per call is what shared health avoids).
    view.set(key, { ...(view.get(key) ?? { scope, target: key }), ...rounded, expiresAt });
    writes.enqueue(key, () => store.writeState(scope, key, rounded, expiresAt));
  }
}
