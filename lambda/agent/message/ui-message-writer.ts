/**
 * The answer as the AI SDK's UI message stream (protocol v1, what `useChat`
 * of `ai` 5/6 reads): SSE frames of one JSON chunk each, ended by
 * `data: [DONE]`. Chosen by the request header
 * `x-vercel-ai-ui-message-stream: v1`; the same answer as the agent's own
 * events, chunk for event:
 *
 *   start           → `start` (messageId `<conversationId>#<turn>`), `data-agent`, `start-step`
 *   step            → `finish-step`, `start-step`, `data-agent-step`
 *   tool_call       → `tool-input-available` (the model's tool-use id as toolCallId)
 *   tool_result     → `tool-output-available`, or `tool-output-error`
 *   delta           → `text-start` once per run of text, then `text-delta`
 *   approval_required → `tool-input-available`, `tool-approval-request` (approvalId = the tool-use id, as the approval route names it)
 *   done            → `finish-step`, `data-agent-done`, `finish`
 *   error           → `finish-step`, `data-agent-error`, `error`, `finish` (reason `error`)
 *
 * The data part names are public (docs/clients.md): `data-agent`,
 * `data-agent-step`, `data-agent-done`, `data-agent-error`.
 */
import type { AgentHttpRequest } from '../http/types';
import type { TrackedSink } from '../http/responses';
import type { AnswerEnd, AnswerProgress, AnswerStart, AnswerWriter } from './answer-writer';

/** The request header (and the response header) naming the protocol and its version. */
export const UI_MESSAGE_STREAM_HEADER = 'x-vercel-ai-ui-message-stream';
export const UI_MESSAGE_STREAM_VERSION = 'v1';

/** Whether the request asked for the UI message stream. */
export function wantsUiMessageStream(request: AgentHttpRequest): boolean {
  return request.headers[UI_MESSAGE_STREAM_HEADER] === UI_MESSAGE_STREAM_VERSION;
}

/** One chunk of the protocol, framed as the AI SDK frames it. */
export function uiChunk(chunk: Record<string, unknown>): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

const DONE = 'data: [DONE]\n\n';

/** The AI SDK's finish reasons for the stop reasons the chain reports (Bedrock's and the outside providers'). */
const FINISH_REASONS: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool-calls',
  // The AI SDK ends a step whose tool calls wait for approval as a tool-calls step.
  approval_required: 'tool-calls',
  content_filtered: 'content-filter',
  guardrail_intervened: 'content-filter',
};

/** The chunks that end a stream whose answer failed after it started (also for failures outside the writer). */
export function uiStreamFailure(failure: { code: string; message: string; retryable: boolean } & Record<string, unknown>): string {
  return (
    uiChunk({ type: 'data-agent-error', id: 'error', data: failure }) +
    uiChunk({ type: 'error', errorText: failure.message }) +
    uiChunk({ type: 'finish', finishReason: 'error' }) +
    DONE
  );
}

export class UiMessageStreamWriter implements AnswerWriter {
  /** The open text part's id, while text is streaming. */
  private textId: string | undefined;
  private messageId = '';
  private textParts = 0;

  constructor(private readonly sink: TrackedSink) {
    sink.streamFailure = uiStreamFailure;
  }

  begin(start: AnswerStart): void {
    const conversationId = String(start.event.conversationId);
    this.messageId = `${conversationId}#${String(start.event.turn)}`;
    this.sink.start(200, {
      ...start.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      [UI_MESSAGE_STREAM_HEADER]: UI_MESSAGE_STREAM_VERSION,
    });
    // The conversation id carries its jurisdiction (`eu.…`), as minted.
    const agent = { ...start.event, jurisdiction: conversationId.slice(0, conversationId.indexOf('.')) };
    this.write({ type: 'start', messageId: this.messageId }, { type: 'data-agent', id: 'agent', data: agent }, { type: 'start-step' });
  }

  progress(event: AnswerProgress, data: Record<string, unknown>): void {
    this.closeText();
    if (event === 'step') {
      this.write({ type: 'finish-step' }, { type: 'start-step' }, { type: 'data-agent-step', id: `step-${String(data.step)}`, data });
    } else if (event === 'approval_required') {
      this.write(
        { type: 'tool-input-available', toolCallId: data.toolUseId, toolName: data.tool, input: data.input ?? {} },
        { type: 'tool-approval-request', approvalId: data.toolUseId, toolCallId: data.toolUseId },
      );
    } else if (event === 'tool_call') {
      this.write({ type: 'tool-input-available', toolCallId: data.id, toolName: data.name, input: data.input ?? {} });
    } else if (data.ok) {
      // The event's facts, not the tool's data: the agent's stream never sends what a tool returned (it may be large or private).
      const { ok, durationMs, truncated, step } = data;
      this.write({ type: 'tool-output-available', toolCallId: data.id, output: { ok, durationMs, step, ...(truncated ? { truncated } : {}) } });
    } else {
      this.write({ type: 'tool-output-error', toolCallId: data.id, errorText: String(data.error ?? 'the tool failed') });
    }
  }

  text(delta: string): void {
    if (this.textId === undefined) {
      this.textId = `${this.messageId}/text-${++this.textParts}`;
      this.write({ type: 'text-start', id: this.textId });
    }
    this.write({ type: 'text-delta', id: this.textId, delta });
  }

  end(end: AnswerEnd): void {
    this.closeText();
    this.write({ type: 'finish-step' });
    if (end.kind === 'answered') {
      this.write(
        { type: 'data-agent-done', id: 'done', data: { stopReason: end.stopReason, ...end.result } },
        { type: 'finish', finishReason: FINISH_REASONS[end.stopReason] ?? 'other' },
      );
      this.sink.write(DONE);
    } else {
      this.sink.write(uiStreamFailure({ code: end.code, message: end.message, retryable: end.retryable, ...end.result }));
    }
    this.sink.end();
  }

  private closeText(): void {
    if (this.textId === undefined) return;
    this.write({ type: 'text-end', id: this.textId });
    this.textId = undefined;
  }

  private write(...chunks: Array<Record<string, unknown>>): void {
    this.sink.write(chunks.map(uiChunk).join(''));
  }
}
