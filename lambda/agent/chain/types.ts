/**
 * The vocabulary of the fallback-chain engine. Nothing here imports the AWS
 * SDK: the engine drives any function that turns a target and a request into
 * a stream of model events, which keeps it testable without Lambda or Bedrock.
 */
import type { ChainTarget, Tier } from '../config';
import type { TargetErrorReason } from '../metric-names';

/** A tool's result as the model reads it: JSON, or text. */
export type ToolResultContent = { json: unknown } | { text: string };

/**
 * One block of a message, in the engine's provider-neutral form (the
 * Converse API's blocks, tagged by type). A reasoning block records the
 * model family that wrote it: no other family can read it.
 */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'toolUse'; toolUseId: string; name: string; input: unknown }
  | { type: 'toolResult'; toolUseId: string; status: 'success' | 'error'; content: ToolResultContent[] }
  | { type: 'reasoning'; family: string; text?: string; signature?: string; redacted?: string };

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

/** A tool as the model is told about it. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  messages: ChatMessage[];
  system?: string;
  tools?: ToolSpec[];
  maxTokens: number;
  temperature?: number;
  /** Extended thinking, for the model families that offer it. */
  reasoning?: { budgetTokens: number };
}

/**
 * What a model streams: text deltas, tool uses (their start, then their
 * input as JSON fragments), reasoning, the end of each block, the stop
 * reason and the token usage.
 */
export type ModelEvent =
  | { type: 'delta'; text: string }
  | { type: 'toolUse'; toolUseId: string; name: string }
  | { type: 'toolInput'; input: string }
  | { type: 'reasoning'; text?: string; signature?: string; redacted?: string }
  | { type: 'blockStop' }
  | { type: 'stop'; stopReason: string }
  | { type: 'usage'; inputTokens: number; outputTokens: number };

/** The text of a message's text blocks. */
export function textOf(message: ChatMessage): string {
  return message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** Appends a message, joined to the last one when both have the same role: Bedrock wants roles to alternate. */
export function appendMessage(messages: ChatMessage[], message: ChatMessage): void {
  const last = messages.at(-1);
  if (last && last.role === message.role) messages[messages.length - 1] = { role: last.role, content: [...last.content, ...message.content] };
  else messages.push(message);
}

/**
 * A tool use's input as a model is sent it again: a JSON object. Converse and
 * Anthropic accept nothing else, and OpenAI's arguments name an object; what
 * a model sent that is not one (an array, text that did not parse as JSON)
 * is given back as `{}`, the same to every model, whichever provider serves
 * the next step.
 */
export function toolInputObject(input: unknown): Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

/** A user message of plain text. */
export function userText(text: string): ChatMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

/** Calls one target once (no retries); aborting the signal must end the call. */
export type InvokeTarget = (target: ChainTarget, request: ModelRequest, signal: AbortSignal) => AsyncIterable<ModelEvent>;

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Stable identity of a target, used by the breaker and the latency tracker. */
export function targetKey(target: Pick<ChainTarget, 'modelId' | 'region' | 'provider'>): string {
  const { provider } = target;
  return provider ? `${provider.name}:${provider.residency}/${target.modelId}@${target.region}` : `${target.modelId}@${target.region}`;
}

export interface Attempt {
  modelId: string;
  region: string;
  tier: Tier;
  outcome: 'answered' | 'failed' | 'skipped';
  /**
   * Why it failed or was skipped; the last four (and ModelLimit) are not the target's failures and count against no breaker.
   * RetryBudget: not called, because the region's budget of fallback calls was spent.
   * HedgeLost: started as a hedge (or hedged against), aborted because the other target answered first.
   * SharedBreakerOpen: not called, because another environment of the region holds its breaker open.
   */
  reason?: TargetErrorReason | 'BreakerOpen' | 'SharedBreakerOpen' | 'ClientGone' | 'BudgetSpent' | 'RetryBudget' | 'HedgeLost';
  /** HTTP status the target answered, when it answered one. */
  status?: number;
  durationMs: number;
  /** Started beside an earlier target that had not produced a first token after the hedging delay. */
  hedge?: boolean;
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
  /** The text the target streamed. */
  text: string;
  /** Everything the target answered, as one assistant message (so far, when interrupted). */
  reply: ChatMessage;
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
  | {
      kind: 'exhausted';
      attempts: Attempt[];
      status: 429 | 502 | 503 | 504;
      message: string;
      /** When the caller may usefully try again (e.g. when an open breaker takes its next probe). */
      retryAfterMs?: number;
    };
