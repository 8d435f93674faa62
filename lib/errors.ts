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
    /** A stable name of the error (`InvalidModelId`, `DuplicateJurisdiction`…), for code that handles it. */
    readonly code: string,
    message: string,
    scope?: IConstruct,
  ) {
    super(scope ? `${scope.node.path}: ${message}` : message);
    this.name = 'MultiRegionAgentError';
    this.constructPath = scope?.node.path;
  }
}

/**
 * Runs a check made outside any construct and re-throws its error with
 * `scope`'s path in front; another error becomes a MultiRegionAgentError
 * with `code` (the runtime's schema errors, for instance).
 */
export function withConstructPath<T>(scope: IConstruct, run: () => T, code = 'InvalidConfiguration'): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof MultiRegionAgentError) throw new MultiRegionAgentError(error.code, error.message, scope);
    throw new MultiRegionAgentError(code, (error as Error).message, scope);
  }
}
