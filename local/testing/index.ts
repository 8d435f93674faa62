/**
 * `cdk-multi-region-agent/testing`: a local deployment of your app for your
 * own test suite. It runs what `cdk deploy` would deploy (every region's
 * runtime with your agent, your Lambda tools, the conversation tables,
 * routing) on loopback with emulated models, on free ports:
 *
 *   const deployment = await startLocalDeployment({ app: createApp() });
 *   const reply = await deployment.client({ location: 'eu' }).send('hello');
 *   await deployment.close();
 *
 * Nothing is shared between deployments: several run at once in one process.
 *
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { LocalDeploymentError, readLocalDeployment } from '../assembly/read-assembly';
import { LocalDeployment, removeDirectory } from './local-deployment';

export { LocalDeployment, type BedrockFault, type ProviderFault, type McpServerFault, type ModelCall, type RegionInfo } from './local-deployment';
export { AgentClient, type AgentReply, type ClientTarget, type SendOptions, type StoredTurn } from './agent-client';
export type * from './events';
export type { ScriptedTurn, ScriptScope, ModelService } from '../model-script';
export type { ToolRun } from '../tool-runs';
export type { EmulatorFault } from '../bedrock-emulator';
export { LocalDeploymentError, type LocalDeploymentErrorCode } from '../assembly/read-assembly';

/** What {@link startLocalDeployment} runs, and how its emulated models behave. */
export interface LocalDeploymentOptions {
  /**
   * The CDK app to run; synthesized now (bundling your agent and Lambda
   * tools). An app made without `outdir` synthesizes into a temporary
   * directory, which close() removes. Note: give `app` or `assembly`.
   * @default - none: `assembly` must be given
   */
  app?: App;
  /** A synthesized cloud assembly's directory (`cdk.out`), left as it is. @default - none: `app` must be given */
  assembly?: string;
  /** The front door's port. @default 0 (a free port) */
  port?: number;
  /** The location of a client that names none (`us`, `eu`, `eu-central`…). @default 'us' */
  defaultLocation?: string;
  /** The emulated models' time to first token, in milliseconds. @default 0 */
  firstTokenDelayMs?: number;
  /** The emulated models' pause between tokens, in milliseconds. @default 0 */
  tokenDelayMs?: number;
  /** Print the runtimes' JSON logs and metric records. @default false */
  verbose?: boolean;
}

/** Starts a local deployment of the app or assembly; close() it when done (an `afterAll`). */
export async function startLocalDeployment(options: LocalDeploymentOptions): Promise<LocalDeployment> {
  if ((options.app === undefined) === (options.assembly === undefined)) throw new TypeError('startLocalDeployment: give app or assembly (one of them)');
  const { directory, cleanup } = options.app ? synthesize(options.app) : { directory: options.assembly!, cleanup: () => undefined };
  let deployment;
  try {
    deployment = readLocalDeployment(directory);
  } catch (error) {
    cleanup();
    throw error;
  }
  const port = options.port ?? 0;
  try {
    return await LocalDeployment.start(
      {
        configs: deployment.configs,
        keepLocatedUsers: deployment.keepLocatedUsers,
        agents: deployment.agents,
        monitoring: deployment.monitoring,
        port,
        defaultLocation: options.defaultLocation,
        firstTokenDelayMs: options.firstTokenDelayMs,
        tokenDelayMs: options.tokenDelayMs,
        echoRuntimeOutput: options.verbose,
      },
      cleanup,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new LocalDeploymentError('PortTaken', `port ${port} is taken: give another port, or 0 for a free one`, { cause: error });
  }
}

/** The app's cloud assembly, and how to remove it when the app wrote it to a temporary directory of its own. */
function synthesize(app: App): { directory: string; cleanup: () => void } {
  let directory: string;
  try {
    directory = app.synth().directory;
  } catch (error) {
    throw new LocalDeploymentError('SynthFailed', `the app fails to synthesize: ${(error as Error).message}`, { cause: error });
  }
  // An App without outdir synthesizes into <tmpdir>/cdk.outXXXXXX (aws-cdk-lib's CloudAssemblyBuilder).
  const temporary = path.dirname(directory) === fs.realpathSync(os.tmpdir()) && path.basename(directory).startsWith('cdk.out');
  return { directory, cleanup: temporary ? removeDirectory(directory) : () => undefined };
}
