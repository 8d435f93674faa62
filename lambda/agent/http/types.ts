/**
 * The HTTP surface of the runtime, independent of how it is served: the
 * Lambda response-streaming adapter (index.ts) and the local server
 * (local/agent-server.ts) both translate to and from these shapes.
 */
export interface AgentHttpRequest {
  method: string;
  /** The path without query string, e.g. /v1/conversations/abc/messages. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body?: string;
  /** The authenticated caller; undefined when the request carries no identity. */
  principal?: string;
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
