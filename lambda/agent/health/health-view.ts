/**
 * The region's health records as this environment last read them, with its
 * own newest knowledge written in. A record that fails to parse is ignored
 * and counted, an expired one is dropped, and a view not read for three
 * refresh intervals (the table unreachable, or the environment frozen) is
 * not trusted at all: the runtime then behaves as without sharing.
 */
import type { Clock } from '../chain/types';
import { aliveAt } from '../expiry';
import { parseHealthRecord, type HealthRecord } from './health-record';

/** A view this many refresh intervals old is not trusted. */
const STALE_AFTER_INTERVALS = 3;

export interface HealthViewProps {
  environmentId: string;
  refreshMs: number;
  clock: Clock;
  reporter: { invalidHealthRecord(target: string | undefined): void };
}

export class HealthView {
  private records = new Map<string, HealthRecord>();
  private readAt?: number;

  constructor(private readonly props: HealthViewProps) {}

  /** Replaces the view with a read's target records (ledger items left out), from a read that started at `startedAt`. */
  replace(items: readonly unknown[], startedAt: number): void {
    const { clock, reporter } = this.props;
    const records = new Map<string, HealthRecord>();
    for (const item of items) {
      const record = parseHealthRecord(item);
      if (!record) {
        reporter.invalidHealthRecord(typeof (item as { target?: unknown })?.target === 'string' ? (item as { target: string }).target : undefined);
        continue;
      }
      if (aliveAt(record.expiresAt, clock.now())) records.set(record.target, record);
    }
    this.records = records;
    this.readAt = startedAt;
  }

  get(key: string): HealthRecord | undefined {
    return this.records.get(key);
  }

  /** Writes this environment's newest knowledge of a target in: no read follows a write by itself. */
  set(key: string, record: HealthRecord): void {
    this.records.set(key, record);
  }

  values(): IterableIterator<HealthRecord> {
    return this.records.values();
  }

  /** The target's record, when the view is recent enough to act on. */
  trusted(key: string): HealthRecord | undefined {
    return this.isFresh() ? this.records.get(key) : undefined;
  }

  /** Whether the view was read recently enough to act on. */
  isFresh(): boolean {
    return this.readAt !== undefined && this.props.clock.now() - this.readAt <= STALE_AFTER_INTERVALS * this.props.refreshMs;
  }

  /** The records, this environment's named so (for the local playground's page). */
  shown(): HealthRecord[] {
    return [...this.records.values()].map((record) => ({ ...record, by: record.by === this.props.environmentId ? 'this environment' : record.by }));
  }
}
