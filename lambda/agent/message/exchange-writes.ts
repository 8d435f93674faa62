/**
 * The two turns of one exchange: the question is written at the answer's
 * first output, the answer at its end; the exchange is acknowledged
 * (`stored: true`) only once both are durable. A turn that could not be
 * written makes the answer's state degraded. A resumed answer (approvals)
 * writes only the answer: its question is stored already.
 */
import type { Claim, StoredTurn } from '../store/conversation-store';

export class ExchangeWrites {
  private claim?: Claim;
  private unavailable: boolean;
  private readonly writes: Array<Promise<boolean>> = [];
  private failed = false;

  /** `degraded`: the state read already failed, so nothing will be written. */
  constructor(
    private readonly storeTurn: (claim: Claim, turn: StoredTurn) => Promise<boolean>,
    readonly requestId: string,
    degraded: boolean,
    private readonly expectedTurns: 1 | 2 = 2,
  ) {
    this.unavailable = degraded;
  }

  claimed(claim: Claim | undefined, unavailable: unknown): void {
    this.claim = claim;
    if (unavailable !== undefined || !claim) this.unavailable = true;
  }

  /** The exchange this request writes, once claimed. */
  get currentClaim(): Claim | undefined {
    return this.claim;
  }

  get turn(): number | null {
    return this.claim?.exchange ?? null;
  }

  get degraded(): boolean {
    return this.unavailable || this.failed;
  }

  get state(): 'ok' | 'degraded' {
    return this.degraded ? 'degraded' : 'ok';
  }

  write(turn: Omit<StoredTurn, 'exchange' | 'requestId'>): void {
    const claim = this.claim;
    if (!claim) return;
    this.writes.push(
      this.storeTurn(claim, { ...turn, exchange: claim.exchange, requestId: this.requestId }).then((stored) => {
        if (!stored) this.failed = true;
        return stored;
      }),
    );
  }

  /** True when both turns are stored. */
  async durable(): Promise<boolean> {
    const results = await Promise.all(this.writes);
    return this.claim !== undefined && results.length === this.expectedTurns && results.every(Boolean);
  }
}
