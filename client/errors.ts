/** The one error the client throws: a stable `code`, and what the API said when it answered. */
export class AgentClientError extends Error {
  override readonly name = 'AgentClientError';

  constructor(
    /**
     * The API's error code (`throttled`, `wrong_jurisdiction`, `stream_interrupted`…) or the client's own:
     * `unknown_jurisdiction`, `missing_credentials`, `regions_unreachable`, `malformed_stream`,
     * `truncated_stream`, `aborted`.
     */
    readonly code: string,
    message: string,
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

  get status(): number | undefined {
    return this.details.status;
  }

  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}
