/**
 * The writes of one environment's knowledge of each target to the health
 * table: in order per target (a closing must not land before the opening it
 * ends), in the background (no request waits for one), each record living
 * `recordTtlMs` after its last write.
 */
import { expiresAtSeconds } from '../expiry';

export class TargetWrites {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly recordTtlMs: number,
    private readonly reporter: { healthStoreFailed(operation: 'write', error: unknown): void },
  ) {}

  /** Queues a write of the target's record after the ones before it; a failure is counted, never thrown. */
  enqueue(key: string, write: () => Promise<void>): void {
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous.then(write).catch((error: unknown) => this.reporter.healthStoreFailed('write', error));
    this.pending.set(key, next);
    void next.finally(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
  }

  /** Resolves when every write queued so far has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.pending.values());
  }

  /** The TTL (epoch seconds) of a record written at `now`. */
  expiresAt(now: number): number {
    return expiresAtSeconds(now, this.recordTtlMs);
  }
}
