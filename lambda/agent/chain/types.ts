/**
 * The vocabulary of the fallback-chain engine. Nothing here imports the AWS
 * SDK: the engine drives any function that turns a target and a request into
 * a stream of model events, which keeps it testable without Lambda or Bedrock.
 */
import type { ChainTarget, Tier } from '../config';
import type { TargetErrorReason } from '../metric-names';

export interface ChatMessage {
  role: 'user' | 'assistant';
  text: string;
}

export interface ModelRequest {
  messages: ChatMessage[];
  system?: string;
  maxTokens: number;
  temperature?: number;
}

export type ModelEvent = { type: 'delta'; text: string } | { type: 'stop'; stopReason: string } | { type: 'usage'; inputTokens: number; outputTokens: number };

/** Calls one target once (no retries); aborting the signal must end the call. */
export type InvokeTarget = (target: ChainTarget, request: ModelRequest, signal: AbortSignal) => AsyncIterable<ModelEvent>;

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Stable identity of a target, used by the breaker and the latency tracker. */
export function targetKey(target: Pick<ChainTarget, 'modelId' | 'region'>): string {
  return `${target.modelId}@${target.region}`;
}

export interface Attempt {
  modelId: string;
  region: string;
  tier: Tier;
  outcome: 'answered' | 'failed' | 'skipped';
  /** Why it failed or was skipped; the last three (and ModelLimit) are not the target's failures and count against no breaker. */
  reason?: TargetErrorReason | 'BreakerOpen' | 'ClientGone' | 'BudgetSpent';
  /** HTTP status the target answered, when it answered one. */
  status?: number;
  durationMs: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Why a served answer stopped early: the target failed, the client left, or the request ran out of time. */
export type InterruptionReason = TargetErrorReason | 'ClientGone' | 'BudgetSpent';

interface Served {
  target: ChainTarget;
  attempts: Attempt[];
  text: string;
  timeToFirstTokenMs: number;
  usage?: Usage;
}

/**
 * What a request's run of the chain ended with:
 * - answered: a target streamed a complete answer;
 * - interrupted: a target failed after its first token (reported, never silently replaced);
 * - rejected: the request itself is invalid for the model (HTTP 400, not retried elsewhere);
 * - exhausted: no target produced a first token.
 */
export type ChainOutcome =
  | ({ kind: 'answered'; stopReason: string } & Served)
  | ({ kind: 'interrupted'; reason: InterruptionReason; message: string } & Served)
  | { kind: 'rejected'; attempts: Attempt[]; message: string }
  | { kind: 'exhausted'; attempts: Attempt[]; status: 429 | 502 | 503 | 504; message: string };
