/** The 4xx and 5xx answers of the message route that do not come from parsing. */
import { chainFailure, type ChainFailed } from '../chain/chain-failure';
import type { Attempt } from '../chain/types';
import { HttpError } from '../http/http-error';
import { StateUnavailableError } from '../store/conversation-store';

/** No target could answer (or the request itself was refused): the status says which, `attempts` says what was tried. */
export function failureOf(outcome: ChainFailed): HttpError {
  const attempts = outcome.attempts.map(publicAttempt);
  const { status, code, retryable } = chainFailure(outcome);
  if (outcome.kind === 'rejected') return new HttpError(status, code, outcome.message, { attempts });
  const headers: Record<string, string> = status === 429 || status === 503 ? { 'retry-after': retryAfterSeconds(outcome.retryAfterMs) } : {};
  return new HttpError(status, code, outcome.message, { retryable, attempts }, headers);
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
