/**
 * The projections of an answer's steps: a Step of the loop as the exchange
 * stores it (StoredStep), and a stored step as the API shows it
 * (PublicStep). Tool results and errors are already bounded one by one
 * (limits.toolResultBytes); the store fits the whole turn to its item
 * (store/turn-item.ts).
 */
import type { Step } from '../agent/agent-loop';
import type { ToolOutcome } from '../agent/tool-runner';
import type { StoredStep, StoredToolCall, StoredTurn } from '../store/conversation-store';
import { providerLabel, servedBy, type ServedBy } from '../http/responses';

/** A StoredStep as the API shows it (`done`, JSON answers, the conversation read). */
export interface PublicStep extends ServedBy {
  step: number;
  stopReason: string | null;
  toolCalls: PublicToolCall[];
}

/** A StoredToolCall as the API shows it: its input and result only in the conversation read. */
export interface PublicToolCall {
  id: string;
  name: string;
  ok: boolean;
  durationMs: number;
  input?: unknown;
  result?: unknown;
  error?: string;
  truncated?: true;
  awaitingApproval?: true;
}

/** The steps to store, or undefined for a plain answer (one step, no tools: stored as before steps existed) unless `always`. */
export function storedSteps(steps: readonly Step[], always = false): StoredStep[] | undefined {
  if (!always && steps.length <= 1 && steps.every((step) => step.tools.length === 0)) return undefined;
  return steps.map((step): StoredStep => ({
    step: step.step,
    path: step.target.tier,
    model: step.target.modelId,
    region: step.target.region,
    ...(step.target.provider ? { provider: providerLabel(step.target.provider) } : {}),
    text: step.text,
    ...(step.stopReason ? { stopReason: step.stopReason } : {}),
    ...(step.tools.length > 0
      ? {
          tools: step.tools.map(storedToolCall),
        }
      : {}),
  }));
}

/** One tool call as the exchange stores it. */
export function storedToolCall(tool: ToolOutcome): StoredToolCall {
  return {
    id: tool.id,
    name: tool.name,
    input: tool.input,
    ok: tool.ok,
    durationMs: tool.durationMs,
    ...(tool.ok ? { result: tool.result } : tool.awaitingApproval ? { awaitingApproval: true } : { error: tool.error }),
    ...(tool.truncated ? { truncated: true } : {}),
  };
}

/**
 * The API's view of the steps: what served each, and its tool calls. Answers
 * (`done`, JSON) leave out the tools' input and results, which the client
 * has seen as events; the conversation read (`withData`) has them.
 */
export function publicSteps(steps: readonly StoredStep[], withData = false): PublicStep[] {
  return steps.map((step) => ({
    step: step.step,
    ...servedBy({ tier: step.path, modelId: step.model, region: step.region, provider: step.provider }),
    stopReason: step.stopReason ?? null,
    toolCalls: (step.tools ?? []).map((tool): PublicToolCall => ({
      id: tool.id,
      name: tool.name,
      ok: tool.ok,
      durationMs: tool.durationMs,
      ...(withData ? { input: tool.input, ...(tool.ok ? { result: tool.result } : {}) } : {}),
      ...(tool.error ? { error: tool.error } : {}),
      ...(tool.truncated ? { truncated: true as const } : {}),
      ...(tool.awaitingApproval ? { awaitingApproval: true as const } : {}),
    })),
  }));
}

/** A plain answer's single step, for the API's view of answers stored before steps existed (or without tools). */
export function singleStep(answer: {
  path?: StoredStep['path'];
  model?: string;
  region: string;
  provider?: string;
  text: string;
  stopReason?: string;
}): StoredStep {
  return {
    step: 1,
    path: answer.path ?? 'primary',
    model: answer.model ?? '',
    region: answer.region,
    ...(answer.provider ? { provider: answer.provider } : {}),
    text: answer.text,
    ...(answer.stopReason ? { stopReason: answer.stopReason } : {}),
  };
}

/** The API's view of stored turns (GET /v1/conversations/{id}, the export): each with what served it and its steps with their data. */
export function publicTurns(turns: readonly StoredTurn[]) {
  return turns.map((turn) => ({
    turn: turn.exchange,
    role: turn.role,
    text: turn.text,
    path: turn.path ?? null,
    model: turn.model ?? null,
    region: turn.region,
    ...(turn.provider ? { provider: turn.provider } : {}),
    time: turn.time,
    ...(turn.incomplete ? { incomplete: true } : {}),
    ...(turn.steps ? { steps: publicSteps(turn.steps, true) } : {}),
  }));
}
