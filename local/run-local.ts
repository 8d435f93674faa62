/**
 * `agentctl local`: runs an app's synthesized cloud assembly on this
 * machine. It synthesizes the app (synthesize.ts) unless given an assembly,
 * reads what to run from the assembly alone (assembly/read-assembly.ts),
 * starts the playground, and with `watch` re-synthesizes on every save and
 * swaps the runtimes in place (stored conversations stay).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { renderTable } from '../cli/agentctl/output';
import { LocalDeploymentError } from './assembly/errors';
import { readLocalDeployment, type LocalDeployment } from './assembly/read-assembly';
import { Playground } from './playground';
import { LOCAL_SIGNING_KEY } from './sigv4-verifier';
import { synthesizeApp } from './synthesize';
import { watchSources } from './watch-sources';

export { LocalDeploymentError } from './assembly/errors';

/** Saves within this long of each other are one change (editors write a file in several steps). */
const WATCH_DEBOUNCE_MS = 150;
/** Paths under the app's directory that are never the app's source. */
const NOT_SOURCE = /(^|[\\/])(node_modules|\.git|cdk\.out)([\\/]|$)|(~|\.swp)$/;

export interface LocalOptions {
  /** The app's directory (its cdk.json). @default process.cwd() */
  readonly appDirectory?: string;
  /** Run this cloud assembly instead of synthesizing the app. */
  readonly assembly?: string;
  /** The app's command. @default - cdk.json's "app" */
  readonly app?: string;
  /** Where synthesis writes the assembly. @default <appDirectory>/cdk.out */
  readonly outdir?: string;
  /** Re-synthesize on every change under the app's directory and swap the runtimes. @default false */
  readonly watch?: boolean;
  /** Keep the embedded DynamoDB's data in this directory. @default - in memory */
  readonly statePath?: string;
  /** @default 8787 */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 'us' */
  readonly location?: string;
  readonly firstTokenDelayMs?: number;
  readonly tokenDelayMs?: number;
  readonly timeScale?: number;
  readonly echoRuntimeOutput?: boolean;
  /** Refuse agent requests not signed with SigV4 by LOCAL_SIGNING_KEY, as API Gateway's IAM authorization does. @default false */
  readonly sigv4?: boolean;
  /** Told of each swap under `watch`: its time, or why it failed (the previous runtimes keep running). */
  readonly onSwap?: (result: SwapResult) => void;
}

export interface SwapResult {
  /** From the change (after the debounce) to the new runtimes serving, or to the failure. */
  readonly ms: number;
  /** Of which synthesis of the app. */
  readonly synthMs: number;
  /** Why the change was not swapped in (the previous runtimes keep serving). */
  readonly error?: Error;
}

export interface LocalTimings {
  /** Synthesis of the app (0 with an assembly given). */
  readonly synthMs: number;
  /** Reading the assembly. */
  readonly readMs: number;
  /** Starting the playground: emulators, tables, runtimes, front door. */
  readonly startMs: number;
}

export interface LocalSession {
  readonly playground: Playground;
  /** What runs: the assembly read at start, or the last one swapped in under `watch`. */
  readonly deployment: LocalDeployment;
  readonly timings: LocalTimings;
  close(): Promise<void>;
}

export async function startLocal(options: LocalOptions): Promise<LocalSession> {
  const appDirectory = path.resolve(options.appDirectory ?? process.cwd());
  const outdir = path.resolve(appDirectory, options.outdir ?? 'cdk.out');
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  // Before synthesis, which takes seconds: a taken port is known at once.
  await assertPortFree(port, host);
  let at = performance.now();
  const lap = () => {
    const ms = performance.now() - at;
    at = performance.now();
    return ms;
  };
  const assemblyDirectory = options.assembly ? path.resolve(options.assembly) : outdir;
  if (!options.assembly) await synthesizeApp({ appDirectory, outdir, app: options.app });
  const synthMs = options.assembly ? 0 : lap();
  const deployment = readLocalDeployment(assemblyDirectory);
  const readMs = lap();
  let playground: Playground;
  try {
    playground = await Playground.start({
      ...deployment,
      port,
      host,
      defaultLocation: options.location,
      firstTokenDelayMs: options.firstTokenDelayMs,
      tokenDelayMs: options.tokenDelayMs,
      timeScale: options.timeScale,
      echoRuntimeOutput: options.echoRuntimeOutput,
      signingKey: options.sigv4 ? LOCAL_SIGNING_KEY : undefined,
      statePath: options.statePath && (fs.mkdirSync(options.statePath, { recursive: true }), path.resolve(options.statePath)),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portTaken(port, error);
    throw error;
  }
  const startMs = lap();
  let current = deployment;
  const stopWatching =
    options.watch && !options.assembly
      ? watchApp(appDirectory, outdir, options, playground, (swapped) => {
          current = swapped;
        })
      : () => undefined;
  return {
    playground,
    get deployment() {
      return current;
    },
    timings: { synthMs, readMs, startMs },
    close: async () => {
      stopWatching();
      await playground.close();
    },
  };
}

/** What `agentctl local` prints once the playground runs. */
export function describeSession(session: LocalSession, watching: boolean, sigv4 = false): string {
  const { playground, timings } = session;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    '',
    `Multi-region agent, local: front door ${playground.url} (web page at ${playground.url}/, with the dashboard preview)`,
    `Synthesized in ${seconds(timings.synthMs)}, read in ${seconds(timings.readMs)}, started in ${seconds(timings.startMs)}, from ${session.deployment.assemblyDirectory}`,
    '',
    renderTable(
      ['REGION', 'JURISDICTION', 'STACK', 'AGENT API', 'BEDROCK (EMULATED)'],
      playground.regions.map((region) => [
        region.region,
        region.jurisdiction,
        session.deployment.runtimes.find((runtime) => runtime.region === region.region)?.stackName ?? '',
        region.server.url,
        region.bedrockEndpoint,
      ]),
    ),
    '',
    'Try (the first call mints a conversation id such as us.Rr6XzBvT-RFGCWPL3MLtJA):',
    `  curl -X POST ${playground.url}/v1/conversations`,
    `  curl -N -X POST ${playground.url}/v1/conversations/<id>/messages -H 'content-type: application/json' -d '{"text":"hello"}'`,
    `  curl -X POST ${playground.url}/_local/faults -d '{"region":"${playground.regions[0].region}","fault":{"status":503}}'`,
    '',
    `Names (the typed client's endpoints, GET ${playground.url}/_local/endpoints): ${describeEndpoints(playground)}`,
    sigv4
      ? `SigV4 required: sign for service execute-api with access key ${LOCAL_SIGNING_KEY.accessKeyId}, secret ${LOCAL_SIGNING_KEY.secretAccessKey}.`
      : 'Unsigned requests pass (--sigv4, or LOCAL_SIGV4=1, checks SigV4 signatures as API Gateway does).',
    '',
    watching ? 'Watching the app: a save re-synthesizes it and swaps the runtimes in place. Ctrl-C stops everything.' : 'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

function describeEndpoints(playground: Playground): string {
  return Object.entries(playground.frontDoor.endpoints())
    .map(([jurisdiction, names]) => {
      const regions = Object.entries(names.regions).map(([region, url]) => `${region} ${url}`);
      return `${jurisdiction} ${names.url} (${regions.join(', ')})`;
    })
    .join('; ');
}

/** Re-synthesizes after each burst of changes (one at a time) and swaps the playground's runtimes. */
function watchApp(
  appDirectory: string,
  outdir: string,
  options: LocalOptions,
  playground: Playground,
  swapped: (deployment: LocalDeployment) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let pending = false;
  const outdirInApp = path.relative(appDirectory, outdir);
  const swap = async () => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    const started = performance.now();
    let synthMs = 0;
    try {
      await synthesizeApp({ appDirectory, outdir, app: options.app });
      synthMs = performance.now() - started;
      const deployment = readLocalDeployment(outdir);
      await playground.swap(deployment);
      swapped(deployment);
      options.onSwap?.({ ms: performance.now() - started, synthMs });
    } catch (error) {
      options.onSwap?.({ ms: performance.now() - started, synthMs: synthMs || performance.now() - started, error: error as Error });
    } finally {
      running = false;
      if (pending) {
        pending = false;
        void swap();
      }
    }
  };
  const notSource = (file: string) => NOT_SOURCE.test(file) || (outdirInApp !== '' && !outdirInApp.startsWith('..') && isWithin(file, outdirInApp));
  const stopWatching = watchSources(appDirectory, notSource, () => {
    clearTimeout(timer);
    timer = setTimeout(() => void swap(), WATCH_DEBOUNCE_MS);
  });
  return () => {
    clearTimeout(timer);
    stopWatching();
  };
}

/** Whether `file` is `directory` or under it (both relative to the same directory). */
function isWithin(file: string, directory: string): boolean {
  return file === directory || file.startsWith(`${directory}${path.sep}`);
}

async function assertPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject((error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? portTaken(port, error) : error));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function portTaken(port: number, cause: unknown): LocalDeploymentError {
  return new LocalDeploymentError(
    'PortTaken',
    `port ${port} is taken (another agentctl local, or npm run local, may be running); stop it, or pass --port with a free port (--port 0 picks one)`,
    { cause },
  );
}
