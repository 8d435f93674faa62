/** The one error the client throws: a stable `code`, and what the API said when it answered. */
export class AgentClientError extends Error {
  /** Always `AgentClientError`, so logs and `error.name` checks tell it from other errors. */
  override readonly name = 'AgentClientError';

  constructor(
    /**
     * The API's error code (`throttled`, `wrong_jurisdiction`, `stream_interrupted`…) or the client's own:
     * `unknown_jurisdiction`, `missing_credentials`, `regions_unreachable`, `malformed_stream`,
     * `truncated_stream`, `aborted`.
     */
    readonly code: string,
    message: string,
    /** What else is known: the HTTP status, whether a retry may succeed, the API's body, the names tried, the cause. */
    readonly details: {
      status?: number;
      retryable?: boolean;
      /** The API's error body, or the `error` event's data. */
      body?: unknown;
      /** The names tried, in order, and how each failed (regional failover). */
      attempts?: ReadonlyArray<{ url: string; failure: string }>;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** The HTTP status the API answered with; undefined when no answer came (the client's own errors). */
  get status(): number | undefined {
    return this.details.status;
  }

  /** True when sending again may succeed (the API said so); false otherwise. */
  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}
