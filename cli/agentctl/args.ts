/**
 * Command-line parsing with node:util's parseArgs: three subcommands and a
 * handful of flags do not justify a dependency, and parseArgs's strict mode
 * already rejects unknown flags and missing values. What it does not do (which
 * flag belongs to which command, value checks) is done here, so every bad
 * command line ends with one clear usage error before any AWS call.
 */
import { parseArgs } from 'node:util';
import { REGION_PATTERN } from '../../lambda/agent/config';
import { AgentctlError, ExitCode } from './exit-codes';

const ENDPOINT_ENV_VAR = 'AGENTCTL_ROUTE53_ENDPOINT';
const DEFAULT_WAIT_TIMEOUT_SECONDS = 120;
const MAX_WAIT_TIMEOUT_SECONDS = 3600;
const DEFAULT_LOCAL_PORT = 8787;

export const USAGE = `Usage: agentctl <command> [options]

Commands:
  status                  Health, drain state and last change of every region, per jurisdiction
  drain REGION            Stop Route 53 sending traffic to REGION (inverts its health check)
  restore REGION          Undo a drain
  local                   Run the app's synthesized cloud assembly on this machine (emulated AWS,
                          no account): every agent runtime, Lambda tool, table, route and dashboard
  help                    Show this text

Options:
  --agent NAME            Only the agent with this name (health-check tag multi-region-agent:name);
                          needed when several agents share the account
  --json                  status: print JSON for scripts
  --dry-run               drain/restore: print what would change, change nothing
  --force                 drain: override the safety rules (last serving region of a
                          jurisdiction, endpoint already failing)
  --wait                  drain/restore: wait until every Route 53 checker has reported since the change
  --timeout SECONDS       upper bound for --wait (default ${DEFAULT_WAIT_TIMEOUT_SECONDS})
  --endpoint URL          Route 53 API endpoint (default: AWS; env ${ENDPOINT_ENV_VAR})
  -h, --help              Show this text

Options of local:
  --assembly DIR          Run this cloud assembly (e.g. the cdk.out of \`npx cdk synth\`) as it is:
                          no synthesis; not with --watch
  --app COMMAND           The app's command (default: cdk.json's "app"), run with CDK_OUTDIR set
  --output DIR            Where synthesis writes the assembly (default cdk.out)
  --watch                 On a save under the app's directory (not node_modules, .git or the
                          output), re-synthesize and swap the runtimes in place: same ports, stored
                          conversations stay, the page's dashboard preview and the probes follow;
                          a save that fails to synthesize prints the error, the old runtimes serve
  --state DIR             Keep the embedded DynamoDB's data in DIR across restarts (default: memory)
  --port PORT             Front door port (default ${DEFAULT_LOCAL_PORT}; 0: any free port)
  --location LOCATION     Caller location of requests that name none (default us)
  --first-token-ms MS     The emulated models' time to first token (default 300)
  --token-ms MS           The emulated models' pause between tokens (default 30)
  --time-scale N          Dashboard preview's time compression (default 12: a minute in 5 s)
  --verbose               Print the runtimes' JSON logs and metric records
  --sigv4                 Refuse agent requests not signed with SigV4 by the playground's key
                          (printed at start), as API Gateway's IAM authorization does

Credentials come from the AWS SDK's default chain (environment, profile, SSO, instance role).
Exit codes: 0 ok, 2 usage, 3 no credentials, 4 no health checks, 5 unknown region, 6 refused,
7 throttled, 8 Route 53 error, 9 conflict, 10 wait timed out, 11 local deployment cannot run,
1 unexpected.`;

/** What drain and restore are told (restore never sets force). */
export interface RegionCommandOptions {
  readonly region: string;
  readonly agent?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly wait: boolean;
  readonly timeoutSeconds: number;
}

/** What `local` is told (see local/run-local.ts). */
export interface LocalCommandOptions {
  readonly assembly?: string;
  readonly app?: string;
  readonly outdir?: string;
  readonly watch: boolean;
  readonly statePath?: string;
  readonly port: number;
  readonly location: string;
  readonly firstTokenDelayMs: number;
  readonly tokenDelayMs: number;
  readonly timeScale: number;
  readonly verbose: boolean;
  readonly sigv4: boolean;
}

export type Command =
  | { readonly name: 'help' }
  | ({ readonly name: 'local' } & LocalCommandOptions)
  | { readonly name: 'status'; readonly agent?: string; readonly json: boolean; readonly endpoint?: string }
  | ({ readonly name: 'drain' | 'restore'; readonly endpoint?: string } & RegionCommandOptions);

const OPTIONS = {
  agent: { type: 'string' },
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  assembly: { type: 'string' },
  app: { type: 'string' },
  output: { type: 'string' },
  state: { type: 'string' },
  port: { type: 'string' },
  location: { type: 'string' },
  'first-token-ms': { type: 'string' },
  'token-ms': { type: 'string' },
  'time-scale': { type: 'string' },
  verbose: { type: 'boolean' },
  sigv4: { type: 'boolean' },
  watch: { type: 'boolean' },
} as const;

/** The flags each command accepts (besides --help). */
const COMMAND_OPTIONS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  status: ['agent', 'json', 'endpoint'],
  drain: ['agent', 'dry-run', 'force', 'wait', 'timeout', 'endpoint'],
  restore: ['agent', 'dry-run', 'wait', 'timeout', 'endpoint'],
  local: ['assembly', 'app', 'output', 'watch', 'state', 'port', 'location', 'first-token-ms', 'token-ms', 'time-scale', 'verbose', 'sigv4'],
  help: [],
};

function usageError(message: string): AgentctlError {
  return new AgentctlError(ExitCode.usage, `${message}\nRun 'agentctl help' for usage.`);
}

/** Parses argv (without node and the script) and the environment into a command. */
export function parseCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...operands] = positionals;
  if (values.help || name === undefined || name === 'help') return { name: 'help' };

  const allowed = COMMAND_OPTIONS[name];
  if (!allowed) throw usageError(`Unknown command '${name}'.`);
  const misplaced = (Object.keys(values) as (keyof typeof OPTIONS)[]).filter((option) => !allowed.includes(option));
  if (misplaced.length > 0) throw usageError(`'${name}' does not take ${misplaced.map((option) => `--${option}`).join(', ')}.`);

  if (name === 'local') {
    if (operands.length > 0) throw usageError(`'local' takes no operands, got '${operands.join(' ')}'.`);
    return parseLocal(values, env);
  }

  const agent = values.agent;
  if (agent !== undefined && agent.trim() === '') throw usageError('--agent needs a name.');
  const endpoint = parseEndpoint(values.endpoint ?? env[ENDPOINT_ENV_VAR]);

  if (name === 'status') {
    if (operands.length > 0) throw usageError(`'status' takes no operands, got '${operands.join(' ')}'.`);
    return { name, agent, json: values.json ?? false, endpoint };
  }

  if (operands.length !== 1) throw usageError(`'${name}' takes exactly one REGION, got ${operands.length}.`);
  const region = operands[0];
  if (!REGION_PATTERN.test(region)) throw usageError(`REGION must be an AWS region name such as eu-west-1, got '${region}'.`);
  if (values.timeout !== undefined && !values.wait) throw usageError('--timeout only applies with --wait.');
  return {
    name: name as 'drain' | 'restore',
    region,
    agent,
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
    wait: values.wait ?? false,
    timeoutSeconds: parseTimeout(values.timeout),
    endpoint,
  };
}

/** `local`'s flags; each unset one from the environment `npm run local` has always read (PORT, LOCAL_*), then its default. */
function parseLocal(values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'], env: Readonly<Record<string, string | undefined>>): Command {
  if (values.assembly !== undefined && (values.app !== undefined || values.output !== undefined))
    throw usageError('--assembly runs an assembly already synthesized: it takes no --app or --output.');
  if (values.assembly !== undefined && values.watch) throw usageError('--watch re-synthesizes the app: run it without --assembly.');
  const location = values.location ?? env.LOCAL_LOCATION ?? 'us';
  if (!/^[a-z]+(-[a-z]+)?$/.test(location)) throw usageError(`--location must be an area such as us, eu or eu-central, got '${location}'.`);
  return {
    name: 'local',
    assembly: nonEmpty('--assembly', values.assembly),
    app: nonEmpty('--app', values.app),
    outdir: nonEmpty('--output', values.output),
    watch: values.watch ?? false,
    statePath: nonEmpty('--state', values.state),
    port: integer('--port', values.port ?? env.PORT, DEFAULT_LOCAL_PORT, 0, 65535),
    location,
    firstTokenDelayMs: integer('--first-token-ms', values['first-token-ms'] ?? env.LOCAL_FIRST_TOKEN_MS, 300, 0, 60_000),
    tokenDelayMs: integer('--token-ms', values['token-ms'] ?? env.LOCAL_TOKEN_MS, 30, 0, 10_000),
    timeScale: integer('--time-scale', values['time-scale'] ?? env.LOCAL_TIME_SCALE, 12, 1, 3600),
    verbose: values.verbose ?? env.LOCAL_VERBOSE === '1',
    sigv4: values.sigv4 ?? env.LOCAL_SIGV4 === '1',
  };
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw usageError(`${flag} needs a value.`);
  return value;
}

function integer(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw usageError(`${flag} must be a whole number from ${min} to ${max}, got '${value}'.`);
  return number;
}

function parseEndpoint(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`--endpoint must be a URL such as http://127.0.0.1:4566, got '${value}'.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--endpoint must be an http(s) URL, got '${value}'.`);
  return value;
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WAIT_TIMEOUT_SECONDS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_WAIT_TIMEOUT_SECONDS) {
    throw usageError(`--timeout must be a number of seconds between 1 and ${MAX_WAIT_TIMEOUT_SECONDS}, got '${value}'.`);
  }
  return seconds;
}
