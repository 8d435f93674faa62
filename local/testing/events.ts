/**
 * The events of an answer, as the agent HTTP API streams them (server-sent
 * events; see docs/http-api.md), typed for tests: what a client of
 * the testing module receives, in the order the runtime sent them.
 */

/** `primary`, `regional-fallback`, `model-fallback`, or an outside provider's tier. */
export type AnswerPath = 'primary' | 'regional-fallback' | 'model-fallback' | (string & {});

/** What served a model call: its tier, model and region (an outside provider's label when it is one). */
export interface ServedBy {
  /** The tier that answered. */
  path: AnswerPath;
  /** The model id that answered. */
  model: string;
  /** The Bedrock endpoint region that answered; for an outside provider, the runtime's region that called it. */
  region: string;
  /** True when another model than the configured one answered (`model-fallback`, an outside provider). */
  degraded: boolean;
  /** `bedrock`, or an outside provider's label: `openai:us`, `anthropic:global`… */
  provider: string;
}

/** The first model output: who answers, the conversation's turn and the state read. */
export interface StartEvent extends ServedBy {
  /** Always `start`. */
  type: 'start';
  /** The conversation answered. */
  conversationId: string;
  /** The exchange number of this message and its answer. */
  turn: number;
  /** `degraded` when the conversation's home region could not be read (the answer goes on without history). */
  state: 'ok' | 'degraded';
  /** The request id, as in `x-request-id` and the runtime's logs. */
  requestId: string;
}

/** A piece of the answer's text. */
export interface DeltaEvent {
  /** Always `delta`. */
  type: 'delta';
  /** The next piece of text. */
  text: string;
}

/** The model asked for a tool run. */
export interface ToolCallEvent {
  /** Always `tool_call`. */
  type: 'tool_call';
  /** The model's tool-use id, repeated by the `tool_result`. */
  id: string;
  /** The tool's name. */
  name: string;
  /** The input the model gave the tool. */
  input: unknown;
  /** The model call (step) that asked for it. */
  step: number;
}

/** A tool run ended (its value goes to the model; `LocalDeployment.toolRuns()` has it). */
export interface ToolResultEvent {
  /** Always `tool_result`. */
  type: 'tool_result';
  /** The tool-use id of its `tool_call`. */
  id: string;
  /** The tool's name. */
  name: string;
  /** False when the run failed: no such tool, invalid input, no time left, a timeout, or the tool threw. */
  ok: boolean;
  /** How long the run took, in milliseconds. */
  durationMs: number;
  /** The model call (step) that asked for it. */
  step: number;
  /** Why it failed, when not ok. */
  error?: string;
  /** True when its output was cut to the size limit before it went to the model. */
  truncated?: boolean;
}

/** A later model call of the loop began, served by this target. */
export interface StepEvent extends ServedBy {
  /** Always `step`. */
  type: 'step';
  /** The step number (2 for the first call after a tool run). */
  step: number;
}

/** One model call of the answer, as `done` lists them. */
export interface AnswerStep extends ServedBy {
  /** The step number, from 1. */
  step: number;
  /** Why the model stopped (`tool_use`, `end_turn`…); null when it did not say. */
  stopReason: string | null;
  /** The tools this step called, in order: whether each succeeded, how long it took, and its error or truncation. */
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
  /** Always `done`. */
  type: 'done';
  /** Why the model stopped (`end_turn`, `max_tokens`…). */
  stopReason: string;
}

/** The answer failed: before any output (the whole response is the error) or after it (the stream's last event). */
export interface ErrorEvent extends Outcome {
  /** Always `error`. */
  type: 'error';
  /** A stable error code (`all_targets_failed`, `stream_interrupted`…). */
  code: string;
  /** What went wrong, for a person. */
  message: string;
  /** True when sending the message again may succeed. */
  retryable: boolean;
}

/** Any event of an answer, told apart by `type`. */
export type AgentEvent = StartEvent | DeltaEvent | ToolCallEvent | ToolResultEvent | StepEvent | DoneEvent | ErrorEvent;
