/**
 * Shared set-up of the agentctl tests: a Route 53 emulator seeded like the
 * example deployment (jurisdiction eu: eu-west-1, eu-central-1; jurisdiction
 * us: us-east-1, us-west-2), and a way to run agentctl's main function against
 * it with captured output, a fake clock and recorded sleeps.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RoutingTag } from '../../lib/routing/routing-tags';
import { type AgentctlRuntime, main } from '../../cli/agentctl/main';
import { type HealthCheckSeed, Route53Emulator } from '../../local/route53-emulator';

export const AGENT = 'support-bot';
export const OPERATOR = 'alice';
export const START_TIME = new Date('2025-06-01T10:00:00.000Z');

export function routingTags(region: string, jurisdiction: string, agent = AGENT): Record<string, string> {
  return { [RoutingTag.agent]: agent, [RoutingTag.region]: region, [RoutingTag.jurisdiction]: jurisdiction };
}

/** One HTTPS health check per region, tagged as AgentRouting tags them. */
export function seedRegion(emulator: Route53Emulator, region: string, jurisdiction: string, seed: HealthCheckSeed = {}): string {
  return emulator.addHealthCheck({ fullyQualifiedDomainName: `${region}.agent.example.com`, tags: routingTags(region, jurisdiction), ...seed });
}

export interface ExampleFleet {
  readonly euWest1: string;
  readonly euCentral1: string;
  readonly usEast1: string;
  readonly usWest2: string;
}

export function seedExampleFleet(emulator: Route53Emulator, seeds: Partial<Record<keyof ExampleFleet, HealthCheckSeed>> = {}): ExampleFleet {
  return {
    euWest1: seedRegion(emulator, 'eu-west-1', 'eu', seeds.euWest1),
    euCentral1: seedRegion(emulator, 'eu-central-1', 'eu', seeds.euCentral1),
    usEast1: seedRegion(emulator, 'us-east-1', 'us', seeds.usEast1),
    usWest2: seedRegion(emulator, 'us-west-2', 'us', seeds.usWest2),
  };
}

export interface AgentctlRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every delay agentctl asked to sleep, in order. */
  readonly sleeps: readonly number[];
}

export interface RunOptions extends Partial<AgentctlRuntime> {
  /** Called at each sleep, after the fake clock moved on (e.g. to let the emulator's checkers report). */
  readonly onSleep?: (ms: number, sleepIndex: number) => void;
}

/** Runs agentctl's main function against the emulator; time only moves when agentctl sleeps. */
export async function runAgentctl(emulator: Route53Emulator, argv: readonly string[], options: RunOptions = {}): Promise<AgentctlRun> {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  let clock = START_TIME.getTime();
  const { onSleep, ...overrides } = options;
  const exitCode = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: { AGENTCTL_ROUTE53_ENDPOINT: emulator.endpoint },
    now: () => new Date(clock),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
      onSleep?.(ms, sleeps.length - 1);
    },
    random: () => 0.5,
    operator: OPERATOR,
    ...overrides,
  });
  return { exitCode, stdout, stderr, sleeps };
}

const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

/**
 * Static credentials for the SDK's default chain, as an operator's environment
 * would provide them; the previous environment comes back afterwards.
 */
export function useTestCredentials(): void {
  const saved = new Map(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDAGENTCTLTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'agentctl-test-secret';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}

/** Starts an emulator before each test and closes it after. */
export function useEmulator(): () => Route53Emulator {
  let emulator: Route53Emulator | undefined;
  beforeEach(async () => {
    emulator = await Route53Emulator.start();
  });
  afterEach(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('The emulator starts in beforeEach');
    return emulator;
  };
}

/** The repository's root, where agentctl's entry point and npm script are. */
export const ROOT = path.resolve(__dirname, '../..');

/** Static test credentials for a process's environment. */
export const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDAGENTCTLTEST', AWS_SECRET_ACCESS_KEY: 'agentctl-test-secret' };

export interface ProcessResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command in the repository's root with only PATH and the given
 * environment: no AWS configuration or credentials of the machine's user.
 */
export function runCommand(command: string, args: readonly string[], env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: '/nonexistent/agentctl-test-home',
        AWS_CONFIG_FILE: '/nonexistent/agentctl-test/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/agentctl-test/credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}
