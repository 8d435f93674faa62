/**
 * How an outside provider's failures are classified, as precisely as
 * Bedrock's (chain/classify.ts): the error carries its classification, so
 * the engine's one classifier reads it without knowing the provider.
 */
import { classifyValidation, type Classification } from '../chain/classify';
import { TargetErrorReason } from '../metric-names';
import type { ProviderName } from '../config';

/** The most a provider's retry-after is honoured for: a longer one is the breaker's business. */
const MAX_RETRY_AFTER_MS = 60_000;

export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly provider: ProviderName,
    message: string,
    readonly classification: Classification,
    /** How long the provider asked not to be called again (retry-after), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The classification of an HTTP status a provider answered, with its error type or code (what 400s are told apart by). */
function classifyStatus(status: number, message: string): Classification {
  if (status === 400 || status === 422) return classifyValidation(message, status);
  if (status === 401) return { action: 'skip', reason: TargetErrorReason.KeyRejected, status };
  // A provider's 403 is about the key too (its project may not use this model or endpoint): counted, and alarmed, with the refused keys.
  if (status === 403) return { action: 'skip', reason: TargetErrorReason.KeyRejected, status };
  if (status === 404) return { action: 'skip', reason: TargetErrorReason.NotFound, status };
  // Anthropic's request_too_large: another model with a larger context may take it.
  if (status === 413) return { action: 'other-model', reason: TargetErrorReason.ModelLimit, status };
  if (status === 429) return { action: 'next', reason: TargetErrorReason.Throttled, status };
  if (status === 529) return { action: 'next', reason: TargetErrorReason.Overloaded, status };
  if (status === 408 || status === 504) return { action: 'next', reason: TargetErrorReason.ModelTimeout, status };
  return { action: 'next', reason: TargetErrorReason.ServerError, status };
}

/** `retry-after` in seconds or as an HTTP date (and OpenAI's `retry-after-ms`), capped. */
export function retryAfterMsOf(headers: Headers, now: number): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms > 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  const waitMs = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(waitMs) && waitMs > 0 ? Math.min(waitMs, MAX_RETRY_AFTER_MS) : undefined;
}

/** The provider's error message from its JSON body (both providers nest it under `error`), or a note that the body was not JSON. */
function messageOf(body: string): { message: string; detail?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
    const { message, type, code } = parsed.error ?? {};
    return {
      message: typeof message === 'string' ? message : 'no message',
      detail: [type, code].filter((part) => typeof part === 'string').join('/') || undefined,
    };
  } catch {
    return { message: 'the error body is not JSON' };
  }
}

/** The failure of an HTTP answer that is not 200. */
export function httpFailure(provider: ProviderName, status: number, headers: Headers, body: string, now: number): ProviderError {
  const { message, detail } = messageOf(body);
  const retryAfterMs = status === 429 || status === 529 || status === 503 ? retryAfterMsOf(headers, now) : undefined;
  return new ProviderError(
    provider,
    `${provider} answered ${status}${detail ? ` ${detail}` : ''}: ${message}`,
    classifyStatus(status, `${detail ?? ''} ${message}`),
    retryAfterMs,
  );
}

/** An answer that is not the provider's protocol (an HTML page, an event that is not JSON): the target's failure. */
export function garbled(provider: ProviderName, what: string): ProviderError {
  return new ProviderError(provider, `${provider} answered ${what}`, { action: 'next', reason: TargetErrorReason.StreamError });
}

/** An error event inside a stream, by the provider's error type. */
export function streamFailure(provider: ProviderName, type: string | undefined, message: string | undefined): ProviderError {
  const reason =
    type === 'overloaded_error'
      ? TargetErrorReason.Overloaded
      : type === 'rate_limit_error' || type === 'requests' || type === 'tokens'
        ? TargetErrorReason.Throttled
        : TargetErrorReason.StreamError;
  return new ProviderError(provider, `${provider} stream failed${type ? ` (${type})` : ''}: ${message ?? 'no message'}`, { action: 'next', reason });
}

/** A key that cannot be used: an empty or unreadable secret, or one the provider refused twice. */
export function keyFailure(provider: ProviderName, message: string, status?: number): ProviderError {
  return new ProviderError(provider, message, { action: 'skip', reason: TargetErrorReason.KeyRejected, status });
}
