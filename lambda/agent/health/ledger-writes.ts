/**
 * This environment's retry-budget counts, added to the region's ledger
 * (region-ledger.ts) beside each read or when the ledger publishes them:
 * one write, no request waits for it, and one at a time (counts taken while
 * a write is on its way wait for the next).
 */
import type { HealthStore } from './dynamo-health-store';
import type { RegionLedger } from './region-ledger';

export interface LedgerWritesProps {
  store: HealthStore;
  scope: string;
  reporter: { healthStoreFailed(operation: 'write', error: unknown): void };
}

export class LedgerWrites {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly props: LedgerWritesProps) {}

  /** Writes the ledger's counts not written yet, unless a write is on its way. */
  write(ledger: RegionLedger): void {
    const { store, scope, reporter } = this.props;
    if (this.pending.size > 0) return;
    const write = ledger.takeWrite();
    if (!write) return;
    const written = store.addToLedger(scope, write, ledger.expiresAt()).then(
      (ok) => ledger.writeEnded(write, ok),
      (error: unknown) => {
        ledger.writeEnded(write, false);
        reporter.healthStoreFailed('write', error);
      },
    );
    this.pending.add(written);
    void written.finally(() => this.pending.delete(written));
  }

  /** Resolves when the write on its way, if any, has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }
}
