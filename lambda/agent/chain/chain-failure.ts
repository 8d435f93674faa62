/**
 * What the user is told when no target produced a first output: the one
 * rule for a request's first model call (the answer's status and error body)
 * and for a later step's (the `error` event of an answer already begun), so
 * that the same failure carries the same code whichever step met it.
 */
import type { ChainOutcome } from './types';

/** A run of the chain that produced nothing. */
export type ChainFailed = Extract<ChainOutcome, { kind: 'rejected' | 'exhausted' }>;

export interface ChainFailure {
  status: number;
  /** The HTTP API's error code. */
  code: 'model_rejected_request' | 'deadline_exceeded' | 'throttled' | 'fallback_budget_spent' | 'all_targets_failed';
  /** Whether sending the message again may do better: not when the request itself was refused, nor when no target is usable (502). */
  retryable: boolean;
}

export function chainFailure(outcome: ChainFailed): ChainFailure {
  if (outcome.kind === 'rejected') return { status: 400, code: 'model_rejected_request', retryable: false };
  return { status: outcome.status, code: exhaustedCode(outcome), retryable: outcome.status !== 502 };
}

function exhaustedCode(outcome: Extract<ChainFailed, { kind: 'exhausted' }>): ChainFailure['code'] {
  if (outcome.status === 504) return 'deadline_exceeded';
  if (outcome.status === 429) return 'throttled';
  // The chain stopped at the retry budget rather than at its last target.
  if (outcome.attempts.at(-1)?.reason === 'RetryBudget') return 'fallback_budget_spent';
  return 'all_targets_failed';
}
