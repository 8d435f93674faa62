/**
 * agentctl: see each region's Route 53 health and drain or restore a region.
 * `main` runs one command and returns its exit code; everything it touches
 * outside Route 53 (streams, clock, sleep, randomness) can be replaced, which
 * is how the tests drive it against the local Route 53 emulator.
 */
import { userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { parseCommand, USAGE, type LocalCommandOptions } from './args';
import { changeRegion } from './drain';
import { AgentctlError, ExitCode } from './exit-codes';
import { discoverFleet } from './fleet';
import type { OutputStream } from './output';
import { DEFAULT_RETRY_POLICY, Route53Api, type RetryPolicy } from './route53-api';
import { renderStatus, statusJson } from './status';

export { ExitCode } from './exit-codes';

export interface AgentctlRuntime {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Read for AGENTCTL_ROUTE53_ENDPOINT. AWS credentials come from the SDK's default chain (process.env, profiles, roles). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1); jitter of retry delays. */
  readonly random: () => number;
  /** Who is recorded in the last-change tag. */
  readonly operator: string;
  readonly retryPolicy: RetryPolicy;
  /** Pause between two status polls of --wait. */
  readonly pollIntervalMs: number;
}

function loginName(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return userInfo().username;
  } catch {
    // Containers may run under a uid without a passwd entry.
    return env.USER ?? env.USERNAME ?? 'unknown';
  }
}

function defaultRuntime(): AgentctlRuntime {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
    sleep: (ms) => delay(ms),
    random: Math.random,
    operator: loginName(process.env),
    retryPolicy: DEFAULT_RETRY_POLICY,
    pollIntervalMs: 5000,
  };
}

/**
 * `agentctl local`: runs until SIGINT or SIGTERM. The local playground is
 * loaded only for this command: status, drain and restore stay light.
 */
async function runLocal(options: LocalCommandOptions, runtime: AgentctlRuntime): Promise<ExitCode> {
  // Bundled with its dependencies into dist/local/run-local.js in the published package (scripts/bundle-runtime.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startLocal, describeSession, LocalDeploymentError } = require('../../local/run-local') as typeof import('../../local/run-local');
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    const session = await startLocal({
      ...options,
      firstTokenDelayMs: options.firstTokenDelayMs,
      echoRuntimeOutput: options.verbose,
      onSwap: ({ ms, synthMs, error }) =>
        error
          ? runtime.stderr.write(`agentctl local: the change was not swapped in (the previous runtimes keep running): ${error.message}\n`)
          : runtime.stdout.write(
              `agentctl local: re-synthesized in ${(synthMs / 1000).toFixed(1)} s and swapped the runtimes in ${((ms - synthMs) / 1000).toFixed(1)} s\n`,
            ),
    });
    session.playground.views.synthesized();
    runtime.stdout.write(describeSession(session, options.watch, options.sigv4));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await session.close();
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof LocalDeploymentError) throw new AgentctlError(ExitCode.localFailed, `local: ${error.message}`);
    throw error;
  }
}

/** Runs agentctl with the given arguments (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], overrides: Partial<AgentctlRuntime> = {}): Promise<ExitCode> {
  const runtime: AgentctlRuntime = { ...defaultRuntime(), ...overrides };
  const { stdout, stderr } = runtime;
  let api: Route53Api | undefined;
  try {
    const command = parseCommand(argv, runtime.env);
    if (command.name === 'help') {
      stdout.write(`${USAGE}\n`);
      return ExitCode.ok;
    }
    if (command.name === 'local') {
      const { name: _name, ...options } = command;
      return await runLocal(options, runtime);
    }
    api = new Route53Api(command.endpoint, {
      policy: runtime.retryPolicy,
      sleep: runtime.sleep,
      random: runtime.random,
      notice: (message) => stderr.write(`${message}\n`),
    });
    if (command.name === 'status') {
      const fleet = await discoverFleet(api, command.agent);
      stdout.write(command.json ? statusJson(fleet, runtime.now()) : renderStatus(fleet));
      return ExitCode.ok;
    }
    const { name, endpoint: _endpoint, ...options } = command;
    return await changeRegion({ action: name, ...options }, { api, ...runtime });
  } catch (error) {
    if (error instanceof AgentctlError) {
      stderr.write(`agentctl: ${error.message}\n`);
      return error.exitCode;
    }
    stderr.write(`agentctl: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.unexpected;
  } finally {
    api?.destroy();
  }
}
