/**
 * The region's retry-budget counts (requests, that is messages, fallback
 * calls, and fallback calls that found their target overloaded), shared by
 * its execution environments through the target-health table, so that the
 * budget caps the region's fallbacks and not only each environment's: a
 * Lambda environment serves a few requests a window, and each one's floor
 * would otherwise add up to more than the ratio allows.
 *
 * The window is cut into buckets of a fifth of it; the table keeps a ring of
 * slots, one bucket each, so the region's partition stays a handful of items
 * however long it runs. An environment counts in memory and adds its counts
 * to the table (one ADD) with each refresh of the shared health, in the
 * background: everything counted since the last refresh goes to the bucket
 * of the latest count, so that a refresh writes one slot, not one per
 * bucket it spans (a count may so stay a refresh interval longer in the
 * window: it errs toward the cap). During an overload, when the budget
 * binds, an overload or a fallback call is written at once instead (one
 * write at a time): the other environments decide on it, and a Lambda
 * environment's next refresh may be a window away. The refresh's read
 * brings back the region's buckets. Counts written but not yet read back are kept beside
 * them, so that they are counted once. A view too old to trust gives no
 * totals: the budget is then this environment's alone, as without sharing.
 */
import * as z from 'zod/mini';
import type { RegionBudget } from '../chain/retry-budget';
import type { Clock } from '../chain/types';
import { aliveAt, expiresAtSeconds } from '../expiry';

/** Sort keys of the ledger's slots in the region's partition (no target key starts with `~`). */
export const LEDGER_KEY_PREFIX = '~retry-budget#';
const BUCKETS_PER_WINDOW = 5;
/** Slots in the ring: the window's buckets, the current one, and one being reused. */
const SLOTS = BUCKETS_PER_WINDOW + 2;

const ledgerItemSchema = z.object({
  target: z.string().check(z.startsWith(LEDGER_KEY_PREFIX)),
  /** The bucket's index: epoch ms divided by the bucket's length. */
  bucket: z.number().check(z.int(), z.positive()),
  requests: z.number().check(z.int(), z.gte(0)),
  fallbacks: z.number().check(z.int(), z.gte(0)),
  /** Absent from slots written before overloads were counted. */
  overloads: z._default(z.number().check(z.int(), z.gte(0)), 0),
  expiresAt: z.number().check(z.int(), z.positive()),
});

export function isLedgerItem(item: unknown): boolean {
  const target = (item as { target?: unknown } | undefined)?.target;
  return typeof target === 'string' && target.startsWith(LEDGER_KEY_PREFIX);
}

interface Counts {
  requests: number;
  fallbacks: number;
  overloads: number;
}

const none = (): Counts => ({ requests: 0, fallbacks: 0, overloads: 0 });

/** Counts to add to one bucket's slot. */
export interface LedgerWrite extends Counts {
  key: string;
  bucket: number;
}

export interface RegionLedgerProps {
  windowMs: number;
  clock: Clock;
  /** Whether the region's view is recent enough to trust. */
  isFresh: () => boolean;
  /** Writes the counts not written yet now, in the background. */
  publish: () => void;
}

export class RegionLedger implements RegionBudget {
  private readonly bucketMs: number;
  /** The region's buckets as last read. */
  private read = new Map<number, Counts>();
  /** This environment's counts not written yet, by bucket. */
  private unwritten = new Map<number, Counts>();
  /** This environment's counts written, until a read that started after their write ended brings them back. */
  private written: Array<{ bucket: number; counts: Counts; at: number }> = [];

  constructor(private readonly props: RegionLedgerProps) {
    this.bucketMs = props.windowMs / BUCKETS_PER_WINDOW;
  }

  totals(): Counts | undefined {
    if (!this.props.isFresh()) return undefined;
    const oldest = this.currentBucket() - BUCKETS_PER_WINDOW + 1;
    const total = none();
    const add = (bucket: number, counts: Counts) => {
      if (bucket < oldest) return;
      total.requests += counts.requests;
      total.fallbacks += counts.fallbacks;
      total.overloads += counts.overloads;
    };
    for (const [bucket, counts] of this.read) add(bucket, counts);
    for (const [bucket, counts] of this.unwritten) add(bucket, counts);
    for (const { bucket, counts } of this.written) add(bucket, counts);
    return total;
  }

  countRequest(): void {
    this.unwrittenNow().requests += 1;
  }

  countFallback(): void {
    this.unwrittenNow().fallbacks += 1;
  }

  countOverload(): void {
    this.unwrittenNow().overloads += 1;
  }

  publish(): void {
    this.props.publish();
  }

  /** The counts to add to the table now (those still within the window, in the latest one's bucket), handed over to the caller. */
  takeWrite(): LedgerWrite | undefined {
    const oldest = this.currentBucket() - BUCKETS_PER_WINDOW + 1;
    const buckets = [...this.unwritten.keys()].filter((bucket) => bucket >= oldest);
    const counts = none();
    for (const bucket of buckets) {
      const one = this.unwritten.get(bucket)!;
      counts.requests += one.requests;
      counts.fallbacks += one.fallbacks;
      counts.overloads += one.overloads;
    }
    this.unwritten = new Map();
    if (buckets.length === 0) return undefined;
    const bucket = Math.max(...buckets);
    return { key: `${LEDGER_KEY_PREFIX}${bucket % SLOTS}`, bucket, ...counts };
  }

  /** A write ended: its counts are in the table (`ok`), or lost with it. */
  writeEnded(write: LedgerWrite, ok: boolean): void {
    if (!ok) return;
    const { requests, fallbacks, overloads } = write;
    this.written.push({ bucket: write.bucket, counts: { requests, fallbacks, overloads }, at: this.props.clock.now() });
  }

  /** A read that started at `startedAt` returned these items (ledger items only); the invalid ones are returned. */
  apply(items: readonly unknown[], startedAt: number): unknown[] {
    const read = new Map<number, Counts>();
    const invalid: unknown[] = [];
    for (const item of items) {
      const parsed = ledgerItemSchema.safeParse(item);
      if (!parsed.success) invalid.push(item);
      else if (aliveAt(parsed.data.expiresAt, this.props.clock.now())) read.set(parsed.data.bucket, parsed.data);
    }
    this.read = read;
    this.written = this.written.filter((entry) => entry.at >= startedAt);
    return invalid;
  }

  refillsInMs(): number {
    return (this.currentBucket() + 1) * this.bucketMs - this.props.clock.now();
  }

  /** Epoch seconds at which a slot written now may be deleted: after the window has passed it. */
  expiresAt(): number {
    return expiresAtSeconds(this.props.clock.now(), 2 * this.props.windowMs);
  }

  private currentBucket(): number {
    return Math.floor(this.props.clock.now() / this.bucketMs);
  }

  private unwrittenNow(): Counts {
    const bucket = this.currentBucket();
    let counts = this.unwritten.get(bucket);
    if (!counts) {
      counts = none();
      this.unwritten.set(bucket, counts);
    }
    return counts;
  }
}
