/**
 * One call to one target, in two phases:
 * 1. until the first output (text, a tool use or reasoning), within the
 *    attempt's first-token deadline and the request's budget: a failure here
 *    moves the chain on to the next target;
 * 2. once the target serves the request: its output streams to the caller,
 *    and a failure ends the answer (reported, never silently replaced).
 * Each attempt settles its target's breaker slot exactly once: success,
 * failure, or release when the fault is nobody's (the client left, the
 * budget ran out, the request itself was refused).
 */
import { modelFamilyOf, type ChainTarget } from '../config';
import { TargetErrorReason } from '../metric-names';
import { TIMED_OUT, within } from '../timeout';
import { classifyError, judgedBy, type Classification } from './classify';
import type { CircuitBreakers } from './circuit-breaker';
import type { ChainReporter, RunOptions } from './fallback-chain';
import type { LatencyTracker } from './latency-tracker';
import { isOutput, MessageAssembler } from './message-assembler';
import {
  targetKey,
  textOf,
  type Attempt,
  type ChainOutcome,
  type Clock,
  type InterruptionReason,
  type InvokeTarget,
  type ModelEvent,
  type ModelRequest,
  type Usage,
} from './types';

export interface AttemptDeps {
  invoke: InvokeTarget;
  breakers: CircuitBreakers;
  latency: LatencyTracker;
  reporter: ChainReporter;
  clock: Clock;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  /** The API whose validation errors end the chain (classify.ts); another API's are its target's own refusals. */
  judgingApi?: string;
}

type Next = IteratorResult<ModelEvent> | typeof TIMED_OUT | { failed: unknown };

/** Phase 1's verdict: move on, end the chain, or serve (with the first text to stream, if the first output was text). */
export type FirstOutput = { next: true } | { end: ChainOutcome } | { serve: true; firstText?: string };

export class TargetAttempt {
  private readonly key: string;
  private readonly started: number;
  private readonly abort = new AbortController();
  private readonly iterator: AsyncIterator<ModelEvent>;
  private readonly assembler: MessageAssembler;
  private stopReason?: string;
  private usage?: Usage;
  private settled = false;
  private abandoned = false;
  private readonly onClientGone = () => this.abort.abort();

  constructor(
    private readonly deps: AttemptDeps,
    private readonly target: ChainTarget,
    request: ModelRequest,
    private readonly options: RunOptions,
    private readonly attempts: Attempt[],
    /** Started beside an earlier target that had not answered yet (a hedge). */
    private readonly hedge = false,
  ) {
    this.key = targetKey(target);
    this.started = deps.clock.now();
    this.assembler = new MessageAssembler(modelFamilyOf(target.modelId));
    this.iterator = deps.invoke(target, request, this.abort.signal)[Symbol.asyncIterator]();
  }

  /** Resolves undefined when the chain should move on to the next target. */
  async run(): Promise<ChainOutcome | undefined> {
    return this.finish(await this.firstOutput());
  }

  /** Phase 1 alone: until the target's first output, a failure, or the end of the chain. */
  firstOutput(): Promise<FirstOutput> {
    this.options.signal?.addEventListener('abort', this.onClientGone, { once: true });
    return this.untilFirstOutput();
  }

  /** Phase 2, given phase 1's verdict: serves the request, or resolves undefined to move on. */
  async finish(first: FirstOutput): Promise<ChainOutcome | undefined> {
    let completed = false;
    try {
      if ('next' in first) return undefined;
      if ('end' in first) return first.end;
      const outcome = await this.serve(first.firstText);
      completed = outcome.kind === 'answered';
      return outcome;
    } catch (error) {
      // The caller's callbacks threw (the response could not be written) after the target answered.
      if (!this.settled) this.settle('success');
      throw error;
    } finally {
      this.options.signal?.removeEventListener('abort', this.onClientGone);
      // Whatever ended the attempt early, its HTTP/2 stream must not outlive it.
      if (!completed) this.abort.abort();
    }
  }

  /** The loser of a hedge: its call is aborted, and it counts against nothing (breaker, latency, failures). */
  abandon(): void {
    this.abandoned = true;
    this.options.signal?.removeEventListener('abort', this.onClientGone);
    this.abort.abort();
    if (this.settled) return;
    this.settle('release');
    this.record('skipped', 'HedgeLost');
  }

  private async untilFirstOutput(): Promise<FirstOutput> {
    const { clock, firstTokenTimeoutMs } = this.deps;
    const ownDeadline = this.started + firstTokenTimeoutMs;
    const firstTokenBy = Math.min(ownDeadline, this.options.firstTokenBy);
    for (;;) {
      const next = await nextWithin(this.iterator, firstTokenBy - clock.now());
      // Abandoned as a hedge's loser: already settled and recorded.
      if (this.abandoned) return { next: true };
      if (this.options.signal?.aborted) {
        this.notTheTargetsFault('ClientGone');
        return { end: { kind: 'exhausted', attempts: this.attempts, status: 503, message: 'the client went away' } };
      }
      if (next === TIMED_OUT) {
        if (firstTokenBy < ownDeadline) this.notTheTargetsFault('BudgetSpent');
        else this.fail(TargetErrorReason.FirstTokenTimeout, 'next', new Error(`no first token within ${firstTokenTimeoutMs} ms`));
        return { next: true };
      }
      if ('failed' in next) return this.refusedBeforeOutput(next.failed);
      if (next.done) {
        // A stop with no output is a complete, empty answer (a filtered or empty completion), not a broken stream.
        if (this.stopReason !== undefined) return { serve: true };
        this.fail(TargetErrorReason.StreamError, 'next', new Error('stream ended before the first token'));
        return { next: true };
      }
      const event = next.value;
      this.take(event);
      if (isOutput(event)) return { serve: true, firstText: event.type === 'delta' ? event.text : undefined };
    }
  }

  /** A failure before any output: the request's own fault ends the chain (or skips the model); anything else moves on. */
  private refusedBeforeOutput(failed: unknown): FirstOutput {
    const classification = judgedBy(this.deps.judgingApi, this.target, classifyError(failed));
    if (classification.action !== 'stop' && classification.action !== 'other-model') {
      this.fail(classification.reason, classification.action, failed, classification.status);
      return { next: true };
    }
    // The request is at fault, not the target: its breaker and latency stay as they were.
    this.settle('release');
    this.record('failed', classification.reason, classification.status);
    this.deps.reporter.targetFailed(this.target, classification.reason, classification.action, failed);
    if (classification.action === 'other-model') return { next: true };
    return { end: { kind: 'rejected', attempts: this.attempts, message: (failed as Error).message ?? 'the model refused the request' } };
  }

  private async serve(firstText: string | undefined): Promise<ChainOutcome> {
    const { clock, latency, idleTimeoutMs } = this.deps;
    const timeToFirstTokenMs = clock.now() - this.started;
    latency.record(this.key, timeToFirstTokenMs);
    this.record('answered');
    await this.options.onFirstToken(this.target, this.attempts);
    if (firstText) this.options.onDelta(firstText);
    const served = () => ({ target: this.target, attempts: this.attempts, ...this.answer(), timeToFirstTokenMs, usage: this.usage });
    const interrupted = (reason: InterruptionReason, message: string): ChainOutcome => ({ kind: 'interrupted', ...served(), reason, message });
    for (;;) {
      const untilHardDeadline = this.options.hardDeadline - clock.now();
      const next = await nextWithin(this.iterator, Math.min(idleTimeoutMs, untilHardDeadline));
      if (this.options.signal?.aborted) {
        this.settle('release');
        return interrupted('ClientGone', 'the client went away');
      }
      if (next === TIMED_OUT && untilHardDeadline <= idleTimeoutMs) {
        this.settle('release');
        return interrupted('BudgetSpent', "the request's time budget ran out");
      }
      if (next === TIMED_OUT)
        return interrupted(this.failedWhileServing(TargetErrorReason.IdleTimeout, new Error('the stream went silent')), 'the model stopped sending tokens');
      if ('failed' in next) {
        const reason = this.failedWhileServing(classifyError(next.failed).reason, next.failed);
        return interrupted(reason, (next.failed as Error).message ?? 'the model stream failed');
      }
      if (next.done) {
        if (this.stopReason !== undefined) break;
        // A stream that ends without the model's stop event was cut (e.g. a connection closed by a timeout): never a complete answer.
        const error = new Error("the stream ended without the model's stop event");
        return interrupted(this.failedWhileServing(TargetErrorReason.StreamError, error), error.message);
      }
      this.take(next.value);
      if (next.value.type === 'delta') this.options.onDelta(next.value.text);
    }
    this.settle('success');
    return { kind: 'answered', ...served(), stopReason: this.stopReason ?? 'end_turn' };
  }

  private take(event: ModelEvent): void {
    if (event.type === 'stop') this.stopReason = event.stopReason;
    else if (event.type === 'usage') this.usage = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
    else this.assembler.add(event);
  }

  private answer() {
    const reply = this.assembler.message();
    return { reply, text: textOf(reply) };
  }

  private failedWhileServing(reason: TargetErrorReason, error: unknown): TargetErrorReason {
    const opened = this.settle('failure');
    this.deps.reporter.targetFailed(this.target, reason, 'next', error);
    if (opened) this.deps.reporter.breakerOpened(this.target);
    return reason;
  }

  private fail(reason: TargetErrorReason, action: Classification['action'], error: unknown, status?: number): void {
    const { clock, latency, reporter, firstTokenTimeoutMs } = this.deps;
    this.record('failed', reason, status);
    // A failure ranks the target as if it had taken the whole deadline, so a fast failure never sorts it first.
    latency.record(this.key, Math.max(clock.now() - this.started, firstTokenTimeoutMs));
    const opened = this.settle('failure');
    reporter.targetFailed(this.target, reason, action, error);
    if (opened) reporter.breakerOpened(this.target);
  }

  /** The client leaving or the request's budget running out is nobody's failure: the breaker forgets the attempt. */
  private notTheTargetsFault(reason: 'ClientGone' | 'BudgetSpent'): void {
    this.settle('release');
    this.record('failed', reason);
  }

  private record(outcome: Attempt['outcome'], reason?: Attempt['reason'], status?: number): void {
    const { target } = this;
    this.attempts.push({
      modelId: target.modelId,
      region: target.region,
      tier: target.tier,
      outcome,
      reason,
      status,
      durationMs: this.deps.clock.now() - this.started,
      ...(this.hedge ? { hedge: true } : {}),
    });
  }

  /** Returns true when this failure opened the breaker. */
  private settle(how: 'success' | 'failure' | 'release'): boolean {
    this.settled = true;
    const { breakers } = this.deps;
    if (how === 'success') breakers.recordSuccess(this.key);
    else if (how === 'release') breakers.release(this.key);
    else return breakers.recordFailure(this.key);
    return false;
  }
}

/** The next event, or TIMED_OUT if none arrives within ms; a failure is returned, not thrown. */
async function nextWithin(iterator: AsyncIterator<ModelEvent>, ms: number): Promise<Next> {
  if (ms <= 0) return TIMED_OUT;
  return within(
    iterator.next().then(
      (result) => result,
      (failed: unknown) => ({ failed }),
    ),
    ms,
  );
}
