/**
 * The agent's own events (`text/event-stream`), typed, and read from a
 * response body: every `data` must be JSON and the stream must end with
 * `done` or `error`, or the reader throws (never waits on a closed stream).
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { AgentClientError } from './errors';

/** The tier that answered: `primary`, `regional-fallback`, `model-fallback` or `provider-fallback` (open to tiers added later). */
export type Path = 'primary' | 'regional-fallback' | 'model-fallback' | 'provider-fallback' | (string & {});

/** What served a step or an answer. */
export interface ServedBy {
  /** The tier that answered. */
  path: Path;
  /** The model id that answered. */
  model: string;
  /** The Bedrock endpoint region that answered; for an outside provider, the runtime's region that called it. */
  region: string;
  /** True on `model-fallback` and `provider-fallback`: another model than the configured one answered. */
  degraded: boolean;
  /** The outside provider and its residency (`openai:us`); absent for Bedrock. */
  provider?: string;
}

/** One model call of an answer, the target that served it and the tools it asked for. */
export interface StepSummary extends ServedBy {
  /** The step number, from 1. */
  step: number;
  /** Why the model stopped (`tool_use`, `end_turn`…); null when it did not say. */
  stopReason: string | null;
  /** The tools this step called, in order: whether each succeeded, how long it took, and its error or truncation. */
  toolCalls: Array<{ id: string; name: string; ok: boolean; durationMs: number; error?: string; truncated?: boolean }>;
}

/** The first event of an answer: which conversation and turn, and which target started answering. */
export interface StartEvent extends ServedBy {
  /** The conversation answered. */
  conversationId: string;
  /** The exchange number of this message and its answer. */
  turn: number;
  /** `degraded` when the home region's table could not be used: the answer has no history and is not stored. */
  state: 'ok' | 'degraded';
  /** The request id, as in `x-request-id` and the runtime's logs. */
  requestId: string;
  /** True when the answer is replayed from the store for a repeated `Idempotency-Key` (no model call). */
  replayed?: boolean;
  /** The answer goes on after an approval (AgentClient.approve). */
  resumed?: boolean;
}

/** The last event of a successful answer: how it ended, what it cost, and each step. */
export interface DoneEvent extends ServedBy {
  /** Why the model stopped (`end_turn`, `max_tokens`…). */
  stopReason: string;
  /** The exchange number of this message and its answer. */
  turn: number;
  /** Token counts of every step, summed; null when the model did not report them. */
  usage: { inputTokens: number; outputTokens: number } | null;
  /** Milliseconds from the message reaching the runtime to the end of the answer. */
  latencyMs: number;
  /** The first model call's time to its first token, in milliseconds; null when it was not measured. */
  timeToFirstTokenMs: number | null;
  /** True when the exchange was stored in the conversation. */
  stored: boolean;
  /** `degraded` when the home region's table could not be used (then `stored` is false). */
  state: 'ok' | 'degraded';
  /** Each model call of the answer, in order. */
  steps: StepSummary[];
  /** True when the answer is replayed from the store for a repeated `Idempotency-Key`. */
  replayed?: boolean;
  /** The calls that wait for approval, when the answer paused (stop reason `approval_required`). */
  approvals?: Array<{ toolUseId: string; tool: string; input: unknown; step: number; expiresAt: string }>;
}

/** The last event of a failed answer; some codes carry further facts (the `attempts` made, for one). */
export interface ErrorEvent {
  /** A stable error code (`all_targets_failed`, `stream_interrupted`…). */
  code: string;
  /** What went wrong, for a person. */
  message: string;
  /** True when sending the message again may succeed. */
  retryable: boolean;
  [fact: string]: unknown;
}

/** One event of an answer stream, by its `type`: `start`, then `tool_call`, `tool_result`, `step` and `delta`s, then `done` or `error`. */
export type AgentEvent =
  | { type: 'start'; data: StartEvent }
  | { type: 'delta'; data: { text: string } }
  | { type: 'tool_call'; data: { id: string; name: string; input: unknown; step: number } }
  | { type: 'tool_result'; data: { id: string; name: string; ok: boolean; durationMs: number; step: number; error?: string; truncated?: boolean } }
  | { type: 'step'; data: ServedBy & { step: number } }
  /** A tool call that waits for the owner's approval (AgentClient.approve answers it); `done` follows with stop reason `approval_required`. */
  | { type: 'approval_required'; data: { toolUseId: string; tool: string; input: unknown; step: number; expiresAt: string } }
  | { type: 'done'; data: DoneEvent }
  | { type: 'error'; data: ErrorEvent };

const EVENT_TYPES: ReadonlySet<string> = new Set(['start', 'delta', 'tool_call', 'tool_result', 'step', 'approval_required', 'done', 'error']);

/** The events of a response body, in order; throws `malformed_stream` or `truncated_stream` instead of ending quietly. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<AgentEvent> {
  const events = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((error: unknown) => {
        throw new AgentClientError('truncated_stream', 'the answer stream was cut before it ended', { cause: error });
      });
      if (done) break;
      const event = parseEvent(value.event ?? 'message', value.data);
      if (!event) continue;
      yield event;
      if (event.type === 'done' || event.type === 'error') {
        ended = true;
        return;
      }
    }
    if (!ended) throw new AgentClientError('truncated_stream', 'the answer stream ended without `done` or `error`');
  } finally {
    // An early exit (a break by the caller, an error) frees the connection.
    reader.cancel().catch(() => undefined);
  }
}

function parseEvent(type: string, data: string): AgentEvent | undefined {
  if (!EVENT_TYPES.has(type)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    throw new AgentClientError('malformed_stream', `the \`${type}\` event's data is not JSON: ${data.slice(0, 80)}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new AgentClientError('malformed_stream', `the \`${type}\` event's data is not an object`);
  return { type, data: parsed } as AgentEvent;
}
