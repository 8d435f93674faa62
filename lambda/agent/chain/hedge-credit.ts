/**
 * The hedge cap: a credit of hedges kept per execution environment (a token
 * bucket, as Finagle's retry budget). Each message earns `ratio` of a hedge
 * (0.1: one for every ten messages), whatever its steps, each capped hedge
 * spends a whole one, and unspent credit carries over, up to `burst` hedges;
 * an environment starts with that much. The chain draws on it only while the
 * next targets show overload (see RetryBudget.overloaded): a hedge goes to
 * another target, with its own capacity and its own throttling answer, so
 * while that target answers it is not refused. Over any run of n messages
 * during an overload, an environment starts at most `burst + ratio × n`
 * capped hedges, however slow its targets become.
 *
 * Why not a sliding window of requests, as the retry budget keeps: hedges
 * start only for slow calls, so with the slow share at the cap every slow
 * call has to find credit. A window that rounds `ratio × requests` down,
 * starts empty and forgets what was not spent left slow calls unhedged each
 * time a few came closer together than one in ten (a quarter of them at
 * 10 % slow), and p99 did not fall. Carried-over credit absorbs those runs;
 * at exactly the cap, about p(1 − p) / (2 × burst) of the requests still
 * find none (a random walk reflected at `burst`: 0.45 % at 10 % and 10).
 */
export interface HedgeCreditSettings {
  /** Hedges earned per message (at most 0.1). */
  ratio: number;
  /** The most credit kept, in hedges, and the credit an environment starts with. */
  burst: number;
}

/** Ten deposits of 0.1 add up to 0.9999999999999999: a whole hedge all the same. */
const ROUNDING = 1e-9;

export class HedgeCredit {
  private credit: number;

  constructor(private readonly settings: HedgeCreditSettings) {
    this.credit = settings.burst;
  }

  /** One message arrived: it earns `ratio` of a hedge, however many model calls it makes. */
  messageStarted(): void {
    this.credit = Math.min(this.settings.burst, this.credit + this.settings.ratio);
  }

  /** Spends one hedge; false when less than one is left. */
  tryWithdraw(): boolean {
    if (this.credit + ROUNDING < 1) return false;
    this.credit -= 1;
    return true;
  }
}
