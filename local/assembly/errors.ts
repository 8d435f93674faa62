/**
 * What `agentctl local` cannot run, and how to fix it: one error class whose
 * `code` is stable (for tests and scripts) and whose message names the fix.
 */
export type LocalDeploymentErrorCode =
  /** No cloud assembly at the directory, or its manifest cannot be read. */
  | 'AssemblyUnreadable'
  /** A stack's template or asset manifest cannot be read. */
  | 'StackUnreadable'
  /** No stack holds an agent runtime. */
  | 'NoAgentRuntime'
  /** Two runtimes in one region: the playground runs one per region. */
  | 'RegionTwice'
  /** A function's code asset is not in the assembly. */
  | 'AssetMissing'
  /** A function's code asset was synthesized with bundling skipped. */
  | 'AssetNotBundled'
  /** A Lambda tool's function is not a function of the assembly, or its handler cannot be loaded. */
  | 'ToolUnloadable'
  /** A template value the local deployment needs cannot be resolved before deployment. */
  | 'UnresolvableValue'
  /** The app fails to synthesize. */
  | 'SynthFailed'
  /** The front door's port is taken. */
  | 'PortTaken';

/** What `startLocalDeployment` throws when the app or assembly cannot run locally; `code` says why. */
export class LocalDeploymentError extends Error {
  constructor(
    /** Why the deployment cannot start (see {@link LocalDeploymentErrorCode}). */
    readonly code: LocalDeploymentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LocalDeploymentError';
  }
}
