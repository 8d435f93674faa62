/**
 * The fallback-chain engine. It owns every retry decision: each target is
 * called at most once per request, in tier order (primary, regional-fallback,
 * model-fallback), fastest first within a tier; a target that has not
 * produced its first token by the first-token deadline is abandoned and its
 * stream aborted; once a token has gone to the client the answer is never
 * silently switched to another target.
 */
import { foundationModelOf, TIERS, type ChainTarget, type JurisdictionConfig } from '../config';
import { TargetErrorReason } from '../metric-names';
import { apiOf, type Classification } from './classify';
import type { CircuitBreakers } from './circuit-breaker';
import type { FleetHealth } from './fleet-health';
import { firstOutputHedged, hedgeDelayMs, type Hedging } from './hedging';
import type { LatencyTracker } from './latency-tracker';
import { residencyViolation } from './residency';
import type { RetryBudget } from './retry-budget';
import { TargetAttempt, type AttemptDeps } from './target-attempt';
import { targetKey, type Attempt, type ChainOutcome, type Clock, type InvokeTarget, type ModelRequest } from './types';

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
  /** Caps the calls a request makes after its first, and its hedges, while the next targets show overload; without it, every target may be tried. */
  retryBudget?: RetryBudget;
  /** What the region's other environments know; without it, each environment learns alone. */
  fleet?: FleetHealth;
  /** Hedged first tokens; without it, a target is only left at its first-token deadline. */
  hedge?: Hedging;
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

export class FallbackChain {
  private readonly planned: ChainTarget[];
  private readonly refused: Array<{ target: ChainTarget; why: string }> = [];
  private readonly attemptDeps: AttemptDeps;

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
    // The first tier's API judges the request; tiers, not latency, decide which target comes first.
    const first = TIERS.flatMap((tier) => this.planned.filter((target) => target.tier === tier))[0];
    this.attemptDeps = { ...props, judgingApi: first && apiOf(first) };
  }

  /**
   * A request (one message, whatever its steps) is on its way to the chain: it earns its share of the retry
   * budget and the hedge credit, and what the region knows is read meanwhile, if it is due.
   */
  requestArrived(): void {
    this.props.retryBudget?.messageStarted();
    this.props.hedge?.budget.messageStarted();
    this.props.fleet?.requestArrived();
  }

  /** The targets a request will try, in order: tier order, then fastest recent first-token time. */
  order(): ChainTarget[] {
    const { latency, fleet } = this.props;
    const rank = (target: ChainTarget) => latency.average(targetKey(target)) ?? fleet?.firstTokenMs(targetKey(target)) ?? -1;
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
    // Targets started as hedges: the loop does not call them again.
    const hedged = new Set<ChainTarget>();
    let budgetSpent = false;
    // The request's first call: its failures say nothing of the fallback tier's load.
    let firstCalled: ChainTarget | undefined;
    // Models whose limits the request exceeds: the same model in another region would refuse it too.
    const beyondLimits = new Set<string>();
    const skip = (target: ChainTarget, reason: 'BreakerOpen' | 'SharedBreakerOpen' | 'ModelLimit' | 'RetryBudget') =>
      attempts.push({ modelId: target.modelId, region: target.region, tier: target.tier, outcome: 'skipped', reason, durationMs: 0 });

    for (const [index, target] of ordered.entries()) {
      if (hedged.has(target)) continue;
      if (options.signal?.aborted || clock.now() >= options.firstTokenBy) {
        budgetSpent = !options.signal?.aborted;
        break;
      }
      if (beyondLimits.has(foundationModelOf(target.modelId))) {
        skip(target, TargetErrorReason.ModelLimit);
        continue;
      }
      // Another environment's open breaker is checked first, so that it does not take this one's half-open probe.
      if (this.props.fleet?.heldOpenUntil(targetKey(target)) !== undefined) {
        skip(target, 'SharedBreakerOpen');
        if (index > 0) this.props.retryBudget?.fallbackOverloaded();
        continue;
      }
      if (!breakers.tryAcquire(targetKey(target))) {
        skip(target, 'BreakerOpen');
        if (index > 0) this.props.retryBudget?.fallbackOverloaded();
        continue;
      }
      if (!this.mayCallAgain(attempts)) {
        // The call is not made: the target's half-open probe slot, if this was it, goes back.
        breakers.release(targetKey(target));
        skip(target, 'RetryBudget');
        return overRetryBudget(attempts, this.props.retryBudget!.refillsInMs());
      }
      const nextForHedge = () => this.hedgeTarget(ordered.slice(index + 1), hedged, beyondLimits);
      const before = attempts.length;
      firstCalled ??= target;
      const outcome = await this.attempt(target, request, options, attempts, nextForHedge);
      this.noteOverloads(attempts.slice(before), firstCalled);
      if (outcome) return outcome;
      const verdict = attempts.at(-1)?.reason;
      if (verdict === TargetErrorReason.ModelLimit) beyondLimits.add(foundationModelOf(target.modelId));
      // Timers may fire a little before the clock reads the deadline: the attempt's verdict decides.
      if (verdict === 'BudgetSpent') {
        budgetSpent = true;
        break;
      }
    }

    // Every target was skipped by an open breaker: fail at once, and say when one will take a probe again,
    // rather than add a call per request to targets that are already failing.
    const breakerOpen = (attempt: Attempt) => attempt.reason === 'BreakerOpen' || attempt.reason === 'SharedBreakerOpen';
    if (attempts.length > 0 && attempts.every((attempt) => attempt.outcome === 'skipped') && attempts.some(breakerOpen)) {
      return allBreakersOpen(attempts, this.retryAfterMs(ordered));
    }
    budgetSpent ||= clock.now() >= options.firstTokenBy || attempts.at(-1)?.reason === 'BudgetSpent';
    return exhausted(attempts, budgetSpent, this.refused.length);
  }

  /** A request's first call is always allowed; each later one is taken from the retry budget. */
  private mayCallAgain(attempts: readonly Attempt[]): boolean {
    const { retryBudget } = this.props;
    if (!retryBudget || attempts.every((attempt) => attempt.outcome === 'skipped')) return true;
    return retryBudget.tryWithdraw();
  }

  /** Tells the retry budget of the fallback or hedge calls among `attempts` that found their target overloaded. */
  private noteOverloads(attempts: readonly Attempt[], firstCalled: ChainTarget): void {
    const isFirstCall = (attempt: Attempt) => !attempt.hedge && attempt.modelId === firstCalled.modelId && attempt.region === firstCalled.region;
    for (const attempt of attempts) {
      if (!isFirstCall(attempt) && attempt.outcome === 'failed' && OVERLOAD_REASONS.has(attempt.reason)) this.props.retryBudget?.fallbackOverloaded();
    }
  }

  /** Time until the first open breaker of these targets lets a probe through. */
  private retryAfterMs(targets: readonly ChainTarget[]): number {
    const { breakers, clock, fleet } = this.props;
    const reopensAt = (key: string) => Math.max(breakers.reopensAt(key), fleet?.heldOpenUntil(key) ?? 0);
    const soonest = Math.min(...targets.map((target) => reopensAt(targetKey(target))));
    return Math.max(0, soonest - clock.now());
  }

  /** One call to one target (hedged, when configured); resolves undefined when the chain should move on. */
  private async attempt(
    target: ChainTarget,
    request: ModelRequest,
    options: RunOptions,
    attempts: Attempt[],
    nextForHedge: () => ChainTarget | undefined,
  ): Promise<ChainOutcome | undefined> {
    const first = new TargetAttempt(this.attemptDeps, target, request, options, attempts);
    const { hedge, latency, firstTokenTimeoutMs } = this.props;
    if (!hedge) return first.run();
    const delayMs = hedgeDelayMs(hedge.settings, latency, targetKey(target));
    // A hedge at or after the first-token deadline would only be the fallback, called twice.
    if (delayMs >= firstTokenTimeoutMs) return first.run();
    const raced = await firstOutputHedged(first, delayMs, () => {
      const next = nextForHedge();
      return next && new TargetAttempt(this.attemptDeps, next, request, options, attempts, true);
    });
    return raced.attempt.finish(raced.first);
  }

  /** The next target that may be called now, taken from the hedge budget; undefined when none may. */
  private hedgeTarget(candidates: readonly ChainTarget[], hedged: Set<ChainTarget>, beyondLimits: ReadonlySet<string>): ChainTarget | undefined {
    const { breakers, fleet, hedge } = this.props;
    const target = candidates.find(
      (candidate) =>
        !hedged.has(candidate) && !beyondLimits.has(foundationModelOf(candidate.modelId)) && fleet?.heldOpenUntil(targetKey(candidate)) === undefined,
    );
    if (!target || !breakers.tryAcquire(targetKey(target))) return undefined;
    // Like fallbacks, hedges are capped only while the next targets show overload (see hedge-credit.ts).
    const capped = this.props.retryBudget?.overloaded() ?? true;
    if (capped && !hedge!.budget.tryWithdraw()) {
      breakers.release(targetKey(target));
      return undefined;
    }
    hedged.add(target);
    return target;
  }
}

/** Verdicts that say a target is overloaded (throttling, failing on its side, or too slow), rather than refusing the request. */
const OVERLOAD_REASONS: ReadonlySet<Attempt['reason']> = new Set<Attempt['reason']>([
  TargetErrorReason.Throttled,
  TargetErrorReason.ServerError,
  TargetErrorReason.ModelNotReady,
  TargetErrorReason.ModelTimeout,
  TargetErrorReason.FirstTokenTimeout,
]);

/** What was tried and why each failed or was skipped, for an error's message. */
function summaryOf(attempts: readonly Attempt[]): string {
  return attempts.map((attempt) => `${attempt.modelId}@${attempt.region}: ${attempt.reason}`).join('; ');
}

function overRetryBudget(attempts: Attempt[], retryAfterMs: number): ChainOutcome {
  const summary = summaryOf(attempts);
  return {
    kind: 'exhausted',
    attempts,
    status: 503,
    retryAfterMs,
    message: `the first target failed and this region's fallback budget is spent: too many requests are falling back (${summary})`,
  };
}

function allBreakersOpen(attempts: Attempt[], retryAfterMs: number): ChainOutcome {
  return {
    kind: 'exhausted',
    attempts,
    status: 503,
    retryAfterMs,
    message: `every model target is failing and its circuit breaker is open; the next probe is due in ${Math.ceil(retryAfterMs / 1000)} s`,
  };
}

function exhausted(attempts: Attempt[], budgetSpent: boolean, refusedCount: number): ChainOutcome {
  const failed = attempts.filter((attempt) => attempt.outcome === 'failed');
  const summary = summaryOf(attempts);
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
  const misconfigured = (reason: Attempt['reason']) =>
    reason === TargetErrorReason.AccessDenied || reason === TargetErrorReason.NotFound || reason === TargetErrorReason.TargetRejected;
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
