/**
 * Sorts every failure of a target call into what the chain does next. The
 * SDK makes a single attempt per call (maxAttempts 1), so this table is the
 * whole retry policy:
 * - next: the target is unavailable now (throttling, 5xx, model not ready or
 *   timing out, network and HTTP/2 faults); the next target may answer;
 * - skip: the target is misconfigured (access denied, unknown model, a model
 *   that needs an inference profile); it is skipped loudly, counted against
 *   its breaker, and the chain goes on;
 * - other-model: the request is beyond this model's limits (context length,
 *   maximum output tokens); the same model elsewhere would refuse it too, so
 *   the chain goes on with the next model;
 * - stop: the request itself is invalid; every target would refuse it.
 *
 * Bedrock answers ValidationException for all three of the last kinds, so
 * those are told apart by the message.
 *
 * Who may call a request invalid: the API the chain starts with (Bedrock's
 * Converse, whenever the chain has a Bedrock target) judges the request. A
 * validation failure from a target that speaks another API (an outside
 * provider, reached after Bedrock failed) says only that this target does not
 * take what the others do: it is skipped as misconfigured (TargetRejected),
 * never the request's answer while another target may serve.
 */
import type { ChainTarget } from '../config';
import { TargetErrorReason } from '../metric-names';

export interface Classification {
  action: 'next' | 'skip' | 'other-model' | 'stop';
  reason: TargetErrorReason;
  /** HTTP status the target answered, if any. */
  status?: number;
}

const BY_ERROR_NAME: Record<string, Omit<Classification, 'status'>> = {
  ThrottlingException: { action: 'next', reason: TargetErrorReason.Throttled },
  ServiceQuotaExceededException: { action: 'next', reason: TargetErrorReason.Throttled },
  TooManyRequestsException: { action: 'next', reason: TargetErrorReason.Throttled },
  ServiceUnavailableException: { action: 'next', reason: TargetErrorReason.ServerError },
  InternalServerException: { action: 'next', reason: TargetErrorReason.ServerError },
  ModelErrorException: { action: 'next', reason: TargetErrorReason.ServerError },
  ModelNotReadyException: { action: 'next', reason: TargetErrorReason.ModelNotReady },
  ModelTimeoutException: { action: 'next', reason: TargetErrorReason.ModelTimeout },
  ModelStreamErrorException: { action: 'next', reason: TargetErrorReason.StreamError },
  AccessDeniedException: { action: 'skip', reason: TargetErrorReason.AccessDenied },
  UnrecognizedClientException: { action: 'skip', reason: TargetErrorReason.AccessDenied },
  ResourceNotFoundException: { action: 'skip', reason: TargetErrorReason.NotFound },
};

/** ValidationException messages that name a misconfigured target rather than a bad request (AWS writes "isn’t" with U+2019). */
const MISCONFIGURED_MESSAGES = [
  /on-demand throughput isn.t supported/i,
  /doesn.t support on-demand throughput/i,
  /model identifier is invalid/i,
  /end of its life/i,
];

/** ValidationException messages that name a limit of one model: another model may take the request. */
const MODEL_LIMIT_MESSAGES = [
  /input is too long/i,
  /prompt is too long/i,
  /too many (input )?tokens/i,
  /maximum tokens you requested exceeds/i,
  /max_tokens\b.*\bmaximum/i,
  /context (length|window)/i,
  /context_length_exceeded/i,
  /does(n.t| not) support (tool use|tools|system messages|images|documents|streaming)/i,
];

/** A validation failure: a misconfigured target, a limit of one model, or an invalid request. */
export function classifyValidation(message: string, status: number | undefined): Classification {
  if (MISCONFIGURED_MESSAGES.some((pattern) => pattern.test(message))) return { action: 'skip', reason: TargetErrorReason.Misconfigured, status };
  if (MODEL_LIMIT_MESSAGES.some((pattern) => pattern.test(message))) return { action: 'other-model', reason: TargetErrorReason.ModelLimit, status };
  return { action: 'stop', reason: TargetErrorReason.Validation, status };
}

/** The API a target speaks: Bedrock's, or its outside provider's. */
export function apiOf(target: Pick<ChainTarget, 'provider'>): string {
  return target.provider?.name ?? 'bedrock';
}

/** A `stop` from a target whose API is not the judging one becomes that target's own refusal: skipped, counted. */
export function judgedBy(judgingApi: string | undefined, target: Pick<ChainTarget, 'provider'>, classification: Classification): Classification {
  if (classification.action !== 'stop' || judgingApi === undefined || apiOf(target) === judgingApi) return classification;
  return { action: 'skip', reason: TargetErrorReason.TargetRejected, status: classification.status };
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError', 'ConnectTimeoutError']);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

export function classifyError(error: unknown): Classification {
  // An outside provider's failure arrives classified (providers/provider-error.ts).
  const own = (error as { classification?: Classification } | undefined)?.classification;
  if (own) return own;
  const failure = (error ?? {}) as ErrorLike;
  const status = failure.$metadata?.httpStatusCode;
  if (failure.name === 'ValidationException') return classifyValidation(failure.message ?? '', status);
  const known = failure.name ? BY_ERROR_NAME[failure.name] : undefined;
  if (known) return { ...known, status };
  if (isNetworkFault(failure)) return { action: 'next', reason: TargetErrorReason.NetworkError, status };
  if (status === 429) return { action: 'next', reason: TargetErrorReason.Throttled, status };
  if (status === 403) return { action: 'skip', reason: TargetErrorReason.AccessDenied, status };
  if (status === 404) return { action: 'skip', reason: TargetErrorReason.NotFound, status };
  if (status === 400 || status === 413) return classifyValidation(failure.message ?? '', status);
  if (status !== undefined && status >= 500) return { action: 'next', reason: TargetErrorReason.ServerError, status };
  // Anything unrecognized is treated as the target's fault: moving on keeps the request alive.
  return { action: 'next', reason: status === undefined ? TargetErrorReason.NetworkError : TargetErrorReason.ServerError, status };
}

function isNetworkFault(failure: ErrorLike): boolean {
  const code = failure.code ?? '';
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_HTTP2_')) return true;
  if (failure.name && NETWORK_NAMES.has(failure.name)) return true;
  return failure.cause !== undefined && failure.cause !== failure && isNetworkFault(failure.cause as ErrorLike);
}
