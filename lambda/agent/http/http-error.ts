/** An error answered as `{"error":{"code","message",...details}}` with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): string {
    return JSON.stringify({ error: { code: this.code, message: this.message, ...this.details } });
  }
}
