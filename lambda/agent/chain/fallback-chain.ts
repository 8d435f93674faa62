/**
 * The fallback-chain engine. It owns every retry decision: each target is
 * called at most once per request, in tier order (primary, regional-fallback,
 * model-fallback), fastest first within a tier; a target that has not
 * produced its first token by the first-token deadline is abandoned and its
 * stream aborted; once a token has gone to the client the answer is never
 * silently switched to another target.
 */
import { inferenceGeographyOf, TIERS, type ChainTarget, type JurisdictionConfig } from '../config';
import { TargetErrorReason } from '../metric-names';
import { classifyError, type Classification } from './classify';
import type { CircuitBreakers } from './circuit-breaker';
import type { LatencyTracker } from './latency-tracker';
import { residencyViolation } from './residency';
import {
  targetKey,
  type Attempt,
  type ChainOutcome,
  type Clock,
  type InterruptionReason,
  type InvokeTarget,
  type ModelEvent,
  type ModelRequest,
  type Usage,
} from './types';

/** Hooks through which the engine reports what telemetry must count. */
export interface ChainReporter {
  targetFailed(target: ChainTarget, reason: TargetErrorReason, action: Classification['action'], error: unknown): void;
  breakerOpened(target: ChainTarget): void;
  residencyRefused(target: ChainTarget, why: string): void;
}

export interface FallbackChainProps {
  targets: ChainTarget[];
  jurisdiction: JurisdictionConfig;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  invoke: InvokeTarget;
  breakers: CircuitBreakers;
  latency: LatencyTracker;
  clock: Clock;
  reporter: ChainReporter;
}

export interface RunOptions {
  /** Epoch ms by which some target must have produced a first token (the request's total budget). */
  firstTokenBy: number;
  /** Epoch ms after which streaming must stop (the Lambda's remaining time less a reserve). */
  hardDeadline: number;
  /**
   * Called once, when the serving target's first token arrives, before its first delta.
   * If it throws, the target's stream is aborted and the error ends the run.
   */
  onFirstToken(target: ChainTarget, attempts: readonly Attempt[]): void | Promise<void>;
  onDelta(text: string): void;
  /** Aborted when the client goes away: the current call is cancelled and nothing further is tried. */
  signal?: AbortSignal;
}

const TIMED_OUT = Symbol('timed out');

type Step = IteratorResult<ModelEvent> | typeof TIMED_OUT | { failed: unknown };

export class FallbackChain {
  private readonly planned: ChainTarget[];
  private readonly refused: Array<{ target: ChainTarget; why: string }> = [];

  constructor(private readonly props: FallbackChainProps) {
    const seen = new Set<string>();
    this.planned = [];
    for (const target of props.targets) {
      const key = targetKey(target);
      if (seen.has(key)) continue;
      seen.add(key);
      const why = residencyViolation(target, props.jurisdiction);
      if (why) this.refused.push({ target, why });
      else this.planned.push(target);
    }
  }

  /** The targets a request will try, in order: tier order, then fastest recent first-token time. */
  order(): ChainTarget[] {
    const rank = (target: ChainTarget) => this.props.latency.average(targetKey(target)) ?? -1;
    return TIERS.flatMap((tier) =>
      this.planned
        .map((target, index) => ({ target, index }))
        .filter(({ target }) => target.tier === tier)
        // Targets never measured go first, in configured order, so every target gets measured.
        .sort((a, b) => rank(a.target) - rank(b.target) || a.index - b.index)
        .map(({ target }) => target),
    );
  }

  async run(request: ModelRequest, options: RunOptions): Promise<ChainOutcome> {
    for (const { target, why } of this.refused) this.props.reporter.residencyRefused(target, why);
    const attempts: Attempt[] = [];
    const { breakers, clock } = this.props;
    const ordered = this.order();
    let budgetSpent = false;
    // Models whose limits the request exceeds: the same model in another region would refuse it too.
    const beyondLimits = new Set<string>();
    const skip = (target: ChainTarget, reason: 'BreakerOpen' | 'ModelLimit') =>
      attempts.push({ modelId: target.modelId, region: target.region, tier: target.tier, outcome: 'skipped', reason, durationMs: 0 });

    for (const target of ordered) {
      if (options.signal?.aborted || clock.now() >= options.firstTokenBy) {
        budgetSpent = !options.signal?.aborted;
        break;
      }
      if (beyondLimits.has(foundationModelOf(target))) {
        skip(target, TargetErrorReason.ModelLimit);
        continue;
      }
      if (!breakers.tryAcquire(targetKey(target))) {
        skip(target, 'BreakerOpen');
        continue;
      }
      const outcome = await this.attempt(target, request, options, attempts);
      if (outcome) return outcome;
      const verdict = attempts.at(-1)?.reason;
      if (verdict === TargetErrorReason.ModelLimit) beyondLimits.add(foundationModelOf(target));
      // Timers may fire a little before the clock reads the deadline: the attempt's verdict decides.
      if (verdict === 'BudgetSpent') {
        budgetSpent = true;
        break;
      }
    }

    // Every breaker was open: probe the target that would reopen first rather than fail without trying.
    if (ordered.length > 0 && attempts.every((attempt) => attempt.outcome === 'skipped') && clock.now() < options.firstTokenBy && !options.signal?.aborted) {
      const probe = ordered.reduce((soonest, target) => (breakers.reopensAt(targetKey(target)) < breakers.reopensAt(targetKey(soonest)) ? target : soonest));
      breakers.forceProbe(targetKey(probe));
      const outcome = await this.attempt(probe, request, options, attempts);
      if (outcome) return outcome;
    }
    budgetSpent ||= clock.now() >= options.firstTokenBy || attempts.at(-1)?.reason === 'BudgetSpent';
    return exhausted(attempts, budgetSpent, this.refused.length);
  }

  /** One call to one target; resolves undefined when the chain should move on. */
  private async attempt(target: ChainTarget, request: ModelRequest, options: RunOptions, attempts: Attempt[]): Promise<ChainOutcome | undefined> {
    const { clock, breakers, latency, reporter, firstTokenTimeoutMs } = this.props;
    const key = targetKey(target);
    const started = clock.now();
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    options.signal?.addEventListener('abort', onClientGone, { once: true });
    const iterator = this.props.invoke(target, request, abort.signal)[Symbol.asyncIterator]();
    const record = (outcome: Attempt['outcome'], reason?: Attempt['reason'], status?: number) =>
      attempts.push({ modelId: target.modelId, region: target.region, tier: target.tier, outcome, reason, status, durationMs: clock.now() - started });
    // Each attempt settles its breaker slot exactly once: success, failure or release.
    let settled = false;
    const settle = (how: 'success' | 'failure' | 'release'): boolean => {
      settled = true;
      if (how === 'success') breakers.recordSuccess(key);
      else if (how === 'release') breakers.release(key);
      else return breakers.recordFailure(key);
      return false;
    };
    const fail = (reason: TargetErrorReason, action: Classification['action'], error: unknown, status?: number) => {
      record('failed', reason, status);
      // A failure ranks the target as if it had taken the whole deadline, so a fast failure never sorts it first.
      latency.record(key, Math.max(clock.now() - started, firstTokenTimeoutMs));
      const opened = settle('failure');
      reporter.targetFailed(target, reason, action, error);
      if (opened) reporter.breakerOpened(target);
    };
    // The client leaving or the request's budget running out is nobody's failure: the breaker forgets the attempt.
    const notTheTargetsFault = (reason: 'ClientGone' | 'BudgetSpent') => {
      settle('release');
      record('failed', reason);
    };
    let completed = false;

    try {
      // Phase 1: until the first token, within the first-token deadline and the request's budget.
      const ownDeadline = started + firstTokenTimeoutMs;
      const firstTokenBy = Math.min(ownDeadline, options.firstTokenBy);
      let usage: Usage | undefined;
      let stopReason: string | undefined;
      let firstText: string | undefined;
      while (firstText === undefined) {
        const step = await nextWithin(iterator, firstTokenBy - clock.now());
        if (options.signal?.aborted) {
          notTheTargetsFault('ClientGone');
          return { kind: 'exhausted', attempts, status: 503, message: 'the client went away' };
        }
        if (step === TIMED_OUT) {
          if (firstTokenBy < ownDeadline) {
            notTheTargetsFault('BudgetSpent');
            return undefined;
          }
          fail(TargetErrorReason.FirstTokenTimeout, 'next', new Error(`no first token within ${firstTokenTimeoutMs} ms`));
          return undefined;
        }
        if ('failed' in step) {
          const classification = classifyError(step.failed);
          if (classification.action === 'stop' || classification.action === 'other-model') {
            // The request is at fault, not the target: its breaker and latency stay as they were.
            settle('release');
            record('failed', classification.reason, classification.status);
            reporter.targetFailed(target, classification.reason, classification.action, step.failed);
            if (classification.action === 'other-model') return undefined;
            return { kind: 'rejected', attempts, message: (step.failed as Error).message ?? 'the model refused the request' };
          }
          fail(classification.reason, classification.action, step.failed, classification.status);
          return undefined;
        }
        if (step.done) {
          // A stop with no text is a complete, empty answer (a filtered or empty completion), not a broken stream.
          if (stopReason === undefined) {
            fail(TargetErrorReason.StreamError, 'next', new Error('stream ended before the first token'));
            return undefined;
          }
          firstText = '';
        } else if (step.value.type === 'delta') firstText = step.value.text;
        else if (step.value.type === 'stop') stopReason = step.value.stopReason;
        else usage = { inputTokens: step.value.inputTokens, outputTokens: step.value.outputTokens };
      }

      // Phase 2: this target serves the request; failures from here on are reported, not retried.
      const timeToFirstTokenMs = clock.now() - started;
      latency.record(key, timeToFirstTokenMs);
      record('answered');
      await options.onFirstToken(target, attempts);
      if (firstText) options.onDelta(firstText);
      let text = firstText;
      for (;;) {
        const untilHardDeadline = options.hardDeadline - clock.now();
        const step = await nextWithin(iterator, Math.min(this.props.idleTimeoutMs, untilHardDeadline));
        const interrupted = (reason: InterruptionReason, message: string): ChainOutcome => ({
          kind: 'interrupted',
          target,
          attempts,
          text,
          timeToFirstTokenMs,
          usage,
          reason,
          message,
        });
        if (options.signal?.aborted) {
          settle('release');
          return interrupted('ClientGone', 'the client went away');
        }
        if (step === TIMED_OUT && untilHardDeadline <= this.props.idleTimeoutMs) {
          settle('release');
          return interrupted('BudgetSpent', "the request's time budget ran out");
        }
        if (step === TIMED_OUT || 'failed' in step) {
          const reason = step === TIMED_OUT ? TargetErrorReason.IdleTimeout : classifyError(step.failed).reason;
          const error = step === TIMED_OUT ? new Error('the stream went silent') : step.failed;
          const opened = settle('failure');
          reporter.targetFailed(target, reason, 'next', error);
          if (opened) reporter.breakerOpened(target);
          return interrupted(reason, step === TIMED_OUT ? 'the model stopped sending tokens' : ((error as Error).message ?? 'the model stream failed'));
        }
        if (step.done) {
          if (stopReason !== undefined) break;
          // A stream that ends without the model's stop event was cut (e.g. a connection closed by a timeout): never a complete answer.
          const opened = settle('failure');
          const error = new Error("the stream ended without the model's stop event");
          reporter.targetFailed(target, TargetErrorReason.StreamError, 'next', error);
          if (opened) reporter.breakerOpened(target);
          return interrupted(TargetErrorReason.StreamError, error.message);
        }
        const event = step.value;
        if (event.type === 'delta') {
          text += event.text;
          options.onDelta(event.text);
        } else if (event.type === 'stop') stopReason = event.stopReason;
        else usage = { inputTokens: event.inputTokens, outputTokens: event.outputTokens };
      }
      completed = true;
      settle('success');
      return { kind: 'answered', target, attempts, text, timeToFirstTokenMs, usage, stopReason: stopReason ?? 'end_turn' };
    } catch (error) {
      // The caller's callbacks threw (the response could not be written) after the target answered.
      if (!settled) settle('success');
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onClientGone);
      // Whatever ended the attempt early, its HTTP/2 stream must not outlive it.
      if (!completed) abort.abort();
    }
  }
}

/** The next event, or TIMED_OUT if none arrives within ms; a failure is returned, not thrown. */
async function nextWithin(iterator: AsyncIterator<ModelEvent>, ms: number): Promise<Step> {
  if (ms <= 0) return TIMED_OUT;
  const pending = iterator.next().then(
    (result) => result,
    (failed: unknown) => ({ failed }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The foundation model a target calls, whatever the inference profile: `eu.anthropic.x` and `anthropic.x` are one model. */
function foundationModelOf(target: ChainTarget): string {
  const geography = inferenceGeographyOf(target.modelId);
  return geography ? target.modelId.slice(geography.length + 1) : target.modelId;
}

function exhausted(attempts: Attempt[], budgetSpent: boolean, refusedCount: number): ChainOutcome {
  const failed = attempts.filter((attempt) => attempt.outcome === 'failed');
  const summary = attempts.map((attempt) => `${attempt.modelId}@${attempt.region}: ${attempt.reason}`).join('; ');
  // Beyond the limits of every model that was tried: the request itself must change.
  if (!budgetSpent && failed.length > 0 && failed.every((attempt) => attempt.reason === TargetErrorReason.ModelLimit)) {
    return { kind: 'rejected', attempts, message: `the request exceeds the limits of every model of the chain (${summary})` };
  }
  if (budgetSpent) {
    return { kind: 'exhausted', attempts, status: 504, message: `no model answered within the request's time budget (${summary || 'no attempt'})` };
  }
  if (failed.length > 0 && failed.every((attempt) => attempt.reason === TargetErrorReason.Throttled)) {
    return { kind: 'exhausted', attempts, status: 429, message: `every model target is throttling (${summary})` };
  }
  const misconfigured = (reason: Attempt['reason']) => reason === TargetErrorReason.AccessDenied || reason === TargetErrorReason.NotFound;
  if ((failed.length > 0 && failed.every((attempt) => misconfigured(attempt.reason))) || (attempts.length === 0 && refusedCount > 0)) {
    return {
      kind: 'exhausted',
      attempts,
      status: 502,
      message: `no usable model target: check the chain's configuration and grants (${summary || 'every target was refused by the residency guard'})`,
    };
  }
  return { kind: 'exhausted', attempts, status: 503, message: `every model target failed (${summary})` };
}
