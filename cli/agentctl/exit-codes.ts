/**
 * agentctl's exit codes: each failure an operator or a script must tell apart
 * has its own code (docs/operations.md lists them).
 */
export const ExitCode = {
  ok: 0,
  /** A bug or an error agentctl does not know; the message says what happened. */
  unexpected: 1,
  /** Bad command line. */
  usage: 2,
  /** The AWS SDK's default credential chain found no credentials. */
  noCredentials: 3,
  /** No Route 53 health check carries the agent's tags. */
  noHealthChecks: 4,
  /** The region is not one of the agent's tagged regions. */
  unknownRegion: 5,
  /** A safety rule refused the drain; --force overrides it. */
  refused: 6,
  /** Route 53 kept throttling (or answering PriorRequestNotComplete) after every retry. */
  throttled: 7,
  /** Any other Route 53 or network error, including 5xx after every retry and access denied. */
  route53Error: 8,
  /** The health check kept changing under agentctl (HealthCheckVersion mismatch after every retry). */
  conflict: 9,
  /** --wait: the change is in place, but the checkers had not all reported within --timeout. */
  waitTimeout: 10,
  /** local: the app does not synthesize, its assembly cannot run locally, or the port is taken; the message names the fix. */
  localFailed: 11,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a message and a specific exit code. */
export class AgentctlError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentctlError';
  }
}
