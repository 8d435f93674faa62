/**
 * How an answer reaches the client: as server-sent events while it is
 * produced (`start`; then, as the loop goes, `tool_call`, `tool_result`,
 * `step` for each later model call, and `delta`s of text; then
 * `approval_required` for each tool call that waits for approval, and
 * `done` or `error`); when the client asked for `Accept: application/json`, as one
 * JSON body with the same fields once it is complete; or, with
 * `x-vercel-ai-ui-message-stream: v1`, as the AI SDK's UI message stream
 * (ui-message-writer.ts).
 */
import type { AgentHttpRequest } from '../http/types';
import { sse, type TrackedSink } from '../http/responses';
import { UiMessageStreamWriter, wantsUiMessageStream } from './ui-message-writer';

/** The first model output: the headers naming what answers, and the `start` event. */
export interface AnswerStart {
  headers: Record<string, string>;
  event: Record<string, unknown>;
}

/** How the answer ended: complete, or cut after its first token (never silently replaced). */
export type AnswerEnd =
  | { kind: 'answered'; conversationId: string; text: string; stopReason: string; result: Record<string, unknown> }
  | {
      kind: 'interrupted';
      conversationId: string;
      text: string;
      code: string;
      status: number;
      message: string;
      result: Record<string, unknown>;
      /** Whether sending the request again may do better; every rendering carries it as is. */
      retryable: boolean;
    };

/** The loop's events between `start` and the end. */
export type AnswerProgress = 'tool_call' | 'tool_result' | 'step' | 'approval_required';

export interface AnswerWriter {
  begin(start: AnswerStart): void;
  /** An event of the loop (`tool_call`, `tool_result`, `step`, `approval_required`); JSON answers carry the same in their `steps` and `approvals`. */
  progress(event: AnswerProgress, data: Record<string, unknown>): void;
  text(delta: string): void;
  end(end: AnswerEnd): void;
}

/** The renderings of an answer: the agent's own events, one JSON body, or the AI SDK's UI message stream. */
export type AnswerFormat = 'events' | 'json' | 'ui-message-stream';

export function answerWriter(request: AgentHttpRequest, sink: TrackedSink, runtimeRegion: string, format: AnswerFormat): AnswerWriter {
  if (format === 'json') return new JsonAnswerWriter(request, sink, runtimeRegion);
  return format === 'ui-message-stream' ? new UiMessageStreamWriter(sink) : new SseAnswerWriter(sink);
}

/** The rendering the request asked for: the UI message stream by its header, JSON by `Accept`, else the agent's events. */
export function answerFormat(request: AgentHttpRequest): AnswerFormat {
  if (wantsUiMessageStream(request)) return 'ui-message-stream';
  const accept = request.headers.accept;
  return accept !== undefined && accept.includes('application/json') && !accept.includes('text/event-stream') ? 'json' : 'events';
}

class SseAnswerWriter implements AnswerWriter {
  constructor(private readonly sink: TrackedSink) {}

  begin(start: AnswerStart): void {
    this.sink.start(200, { ...start.headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    this.sink.write(sse('start', start.event));
  }

  progress(event: AnswerProgress, data: Record<string, unknown>): void {
    this.sink.write(sse(event, data));
  }

  text(delta: string): void {
    this.sink.write(sse('delta', { text: delta }));
  }

  end(end: AnswerEnd): void {
    if (end.kind === 'answered') this.sink.write(sse('done', { stopReason: end.stopReason, ...end.result }));
    else this.sink.write(sse('error', { code: end.code, message: end.message, retryable: end.retryable, ...end.result }));
    this.sink.end();
  }
}

class JsonAnswerWriter implements AnswerWriter {
  private headers: Record<string, string> = {};

  constructor(
    private readonly request: AgentHttpRequest,
    private readonly sink: TrackedSink,
    private readonly runtimeRegion: string,
  ) {}

  begin(start: AnswerStart): void {
    this.headers = start.headers;
  }

  progress(): void {
    // The steps go out in end(), in the result's `steps`.
  }

  text(): void {
    // The whole text goes out in end().
  }

  end(end: AnswerEnd): void {
    if (end.kind === 'answered') {
      this.send(200, { conversationId: end.conversationId, text: end.text, stopReason: end.stopReason, ...end.result });
    } else {
      this.send(end.status, { error: { code: end.code, message: end.message, retryable: end.retryable, partialText: end.text, ...end.result } });
    }
  }

  private send(status: number, body: unknown): void {
    this.sink.json(this.request, this.runtimeRegion, status, JSON.stringify(body), this.headers);
  }
}
