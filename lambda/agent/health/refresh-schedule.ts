/**
 * When the region's records are read: in the background every `refreshMs`,
 * and when a request arrives and the view is due (the read then runs while
 * the request reads its conversation). One read at a time: a read asked for
 * while one runs joins it. So a message, whatever its steps, makes at most
 * one read on arrival.
 */
import type { Clock } from '../chain/types';

export interface RefreshScheduleProps {
  refreshMs: number;
  clock: Clock;
  /** One read of the region's records, started at `startedAt`; it never throws. */
  read: (startedAt: number) => Promise<void>;
}

export class RefreshSchedule {
  private timer?: NodeJS.Timeout;
  private lastStart?: number;
  private running?: Promise<void>;

  constructor(private readonly props: RefreshScheduleProps) {}

  /** Reads now, then every `refreshMs`. */
  start(): void {
    void this.now();
    this.timer = setInterval(() => void this.now(), this.props.refreshMs);
    // The refresh must never keep a process (or a test) alive by itself.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads now, or joins the read under way. */
  now(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Reads now if the last read started `refreshMs` ago or more (an environment thawed after a while). */
  ifDue(): void {
    if (this.lastStart === undefined || this.props.clock.now() - this.lastStart >= this.props.refreshMs) void this.now();
  }

  /** The read under way, if any. */
  get underWay(): Promise<void> | undefined {
    return this.running;
  }

  private run(): Promise<void> {
    const started = this.props.clock.now();
    this.lastStart = started;
    return this.props.read(started);
  }
}
