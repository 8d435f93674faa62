/**
 * The agent's own events (`text/event-stream`), typed, and read from a
 * response body: every `data` must be JSON and the stream must end with
 * `done` or `error`, or the reader throws (never waits on a closed stream).
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { AgentClientError } from './errors';

export type Path = 'primary' | 'regional-fallback' | 'model-fallback' | 'provider-fallback' | (string & {});

/** What served a step or an answer. */
export interface ServedBy {
  path: Path;
  model: string;
  region: string;
  degraded: boolean;
  provider?: string;
}

export interface StepSummary extends ServedBy {
  step: number;
  stopReason: string | null;
  toolCalls: Array<{ id: string; name: string; ok: boolean; durationMs: number; error?: string; truncated?: boolean }>;
}

export interface StartEvent extends ServedBy {
  conversationId: string;
  turn: number;
  state: 'ok' | 'degraded';
  requestId: string;
  replayed?: boolean;
  /** The answer goes on after an approval (AgentClient.approve). */
  resumed?: boolean;
}

export interface DoneEvent extends ServedBy {
  stopReason: string;
  turn: number;
  usage: { inputTokens: number; outputTokens: number } | null;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  stored: boolean;
  state: 'ok' | 'degraded';
  steps: StepSummary[];
  replayed?: boolean;
  /** The calls that wait for approval, when the answer paused (stop reason `approval_required`). */
  approvals?: Array<{ toolUseId: string; tool: string; input: unknown; step: number; expiresAt: string }>;
}

export interface ErrorEvent {
  code: string;
  message: string;
  retryable: boolean;
  [fact: string]: unknown;
}

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
