import type { IConstruct } from 'constructs';

/**
 * A configuration error found at synthesis. `code` is stable for callers
 * that handle errors programmatically; the message names the construct path
 * (when there is one), the prop, what was received and what was expected.
 */
export class MultiRegionAgentError extends Error {
  /** The path of the construct that refused its props, if any. */
  readonly constructPath?: string;

  constructor(
    readonly code: string,
    message: string,
    scope?: IConstruct,
  ) {
    super(scope ? `${scope.node.path}: ${message}` : message);
    this.name = 'MultiRegionAgentError';
    this.constructPath = scope?.node.path;
  }
}
