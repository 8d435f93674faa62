/**
 * The events of an answer, as the agent HTTP API streams them (server-sent
 * events; see README "Agent HTTP API"), typed for tests: what a client of
 * the testing module receives, in the order the runtime sent them.
 */

/** `primary`, `regional-fallback`, `model-fallback`, or an outside provider's tier. */
export type AnswerPath = 'primary' | 'regional-fallback' | 'model-fallback' | (string & {});

/** What served a model call: its tier, model and region (an outside provider's label when it is one). */
export interface ServedBy {
  path: AnswerPath;
  model: string;
  region: string;
  degraded: boolean;
  /** `bedrock`, or an outside provider's label: `openai:us`, `anthropic:global`… */
  provider: string;
}

/** The first model output: who answers, the conversation's turn and the state read. */
export interface StartEvent extends ServedBy {
  type: 'start';
  conversationId: string;
  turn: number;
  /** `degraded` when the conversation's home region could not be read (the answer goes on without history). */
  state: 'ok' | 'degraded';
  requestId: string;
}

/** A piece of the answer's text. */
export interface DeltaEvent {
  type: 'delta';
  text: string;
}

/** The model asked for a tool run. */
export interface ToolCallEvent {
  type: 'tool_call';
  id: string;
  name: string;
  input: unknown;
  step: number;
}

/** A tool run ended (its value goes to the model; `LocalDeployment.toolRuns()` has it). */
export interface ToolResultEvent {
  type: 'tool_result';
  id: string;
  name: string;
  ok: boolean;
  durationMs: number;
  step: number;
  error?: string;
  truncated?: boolean;
}

/** A later model call of the loop began, served by this target. */
export interface StepEvent extends ServedBy {
  type: 'step';
  step: number;
}

/** One model call of the answer, as `done` lists them. */
export interface AnswerStep extends ServedBy {
  step: number;
  stopReason: string | null;
  toolCalls: Array<{ id: string; name: string; ok: boolean; durationMs: number; error?: string; truncated?: boolean }>;
}

/** The answer's outcome, shared by `done` and an `error` after the first token. */
interface Outcome extends Partial<ServedBy> {
  turn?: number;
  usage?: { inputTokens: number; outputTokens: number } | null;
  latencyMs?: number;
  timeToFirstTokenMs?: number;
  /** Both turns of the exchange are durable in the conversation table. */
  stored?: boolean;
  state?: 'ok' | 'degraded';
  steps?: AnswerStep[];
}

/** The answer is complete. */
export interface DoneEvent extends Outcome {
  type: 'done';
  stopReason: string;
}

/** The answer failed: before any output (the whole response is the error) or after it (the stream's last event). */
export interface ErrorEvent extends Outcome {
  type: 'error';
  code: string;
  message: string;
  retryable: boolean;
}

export type AgentEvent = StartEvent | DeltaEvent | ToolCallEvent | ToolResultEvent | StepEvent | DoneEvent | ErrorEvent;
