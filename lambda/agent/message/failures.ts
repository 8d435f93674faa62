/** The 4xx and 5xx answers of the message route that do not come from parsing. */
import type { Attempt, ChainOutcome } from '../chain/types';
import { HttpError } from '../http/http-error';
import { StateUnavailableError } from '../store/conversation-store';

/** No target could answer (or the request itself was refused): the status says which, `attempts` says what was tried. */
export function failureOf(outcome: Extract<ChainOutcome, { kind: 'rejected' | 'exhausted' }>): HttpError {
  const attempts = outcome.attempts.map(publicAttempt);
  if (outcome.kind === 'rejected') return new HttpError(400, 'model_rejected_request', outcome.message, { attempts });
  const code =
    outcome.status === 504
      ? 'deadline_exceeded'
      : outcome.status === 429
        ? 'throttled'
        : overRetryBudget(outcome)
          ? 'fallback_budget_spent'
          : 'all_targets_failed';
  const headers: Record<string, string> = outcome.status === 429 || outcome.status === 503 ? { 'retry-after': retryAfterSeconds(outcome.retryAfterMs) } : {};
  return new HttpError(outcome.status, code, outcome.message, { retryable: outcome.status !== 502, attempts }, headers);
}

function overRetryBudget(outcome: { attempts: readonly Attempt[] }): boolean {
  return outcome.attempts.at(-1)?.reason === 'RetryBudget';
}

/** Whole seconds, at least 1 (HTTP's retry-after has no fractions, and 0 invites an immediate retry). */
function retryAfterSeconds(retryAfterMs: number | undefined): string {
  return String(Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000)));
}

export function publicAttempt(attempt: Attempt) {
  return {
    path: attempt.tier,
    model: attempt.modelId,
    region: attempt.region,
    outcome: attempt.outcome,
    reason: attempt.reason ?? null,
    status: attempt.status ?? null,
    durationMs: attempt.durationMs,
  };
}

export function requestInFlight(): HttpError {
  return new HttpError(
    409,
    'request_in_flight',
    'a request with this Idempotency-Key is still being answered; retry shortly',
    { retryable: true },
    { 'retry-after': '1' },
  );
}

export function stateUnavailable(): HttpError {
  return new HttpError(503, 'state_unavailable', 'the conversation store is unreachable; try again shortly', { retryable: true }, { 'retry-after': '1' });
}

/** A store call whose unavailability is a 503 (and counted). */
export async function whileAvailable<T>(telemetry: { stateUnavailable(error: unknown): void }, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof StateUnavailableError)) throw error;
    telemetry.stateUnavailable(error);
    throw stateUnavailable();
  }
}
