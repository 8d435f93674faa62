/**
 * The HTTP surface of the runtime, independent of how it is served: the
 * Lambda response-streaming adapter (index.ts) and the local server
 * (local/agent-server.ts) both translate to and from these shapes.
 */
import type { Caller } from './identity';

export interface AgentHttpRequest {
  method: string;
  /** The path without query string, e.g. /v1/conversations/abc/messages. */
  path: string;
  /** The query string's parameters (the last of a repeated name); absent when there are none. */
  query?: Record<string, string | undefined>;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body's bytes, undecoded: the app refuses what is not valid UTF-8 instead of replacing it. */
  body?: Uint8Array;
  /** The authenticated caller; undefined when the request carries no identity. */
  caller?: Caller;
  requestId: string;
  /** Milliseconds left before the serving environment stops this request. */
  remainingTimeMs(): number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}

/** Where a response goes: the status and headers once, then body chunks as they come. */
export interface ResponseSink {
  start(status: number, headers: Record<string, string>): void;
  write(chunk: string): void;
  end(): void;
}
