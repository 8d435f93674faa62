import { spawn } from 'node:child_process';
import path from 'node:path';
import { ExitCode } from '../../cli/agentctl/main';
import { AGENT, seedExampleFleet, useEmulator } from './agentctl-fixture';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface ProcessResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/agentctl.ts as an operator would (`npx tsx bin/agentctl.ts ...`), with only the given environment. */
function runEntry(args: readonly string[], env: Record<string, string>): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['bin/agentctl.ts', ...args], {
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

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDAGENTCTLTEST', AWS_SECRET_ACCESS_KEY: 'agentctl-test-secret' };

describe('agentctl as a process', () => {
  const emulator = useEmulator();

  test('status --json from the real entry point exits 0 and prints parseable JSON', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const result = await runEntry(['status', '--json'], { ...CREDENTIALS, AGENTCTL_ROUTE53_ENDPOINT: emulator().endpoint });

    // THEN
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(JSON.parse(result.stdout).regions.map((region: { agent: string; region: string }) => `${region.agent}/${region.region}`)).toEqual([
      `${AGENT}/eu-central-1`,
      `${AGENT}/eu-west-1`,
      `${AGENT}/us-east-1`,
      `${AGENT}/us-west-2`,
    ]);
  });

  test('drain from the real entry point inverts the health check and sets the exit code', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());

    // WHEN
    const drained = await runEntry(['drain', 'eu-west-1', '--endpoint', emulator().endpoint], CREDENTIALS);
    const refused = await runEntry(['drain', 'eu-central-1', '--endpoint', emulator().endpoint], CREDENTIALS);

    // THEN
    expect(drained.exitCode).toBe(ExitCode.ok);
    expect(drained.stdout).toContain('Drained eu-west-1');
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
    expect(refused.exitCode).toBe(ExitCode.refused);
    expect(refused.stderr).toContain('Refusing to drain eu-central-1');
  });

  test('without any credentials the process exits with the no-credentials code and sends nothing', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const result = await runEntry(['status'], { AGENTCTL_ROUTE53_ENDPOINT: emulator().endpoint });

    // THEN
    expect(result.exitCode).toBe(ExitCode.noCredentials);
    expect(result.stderr).toContain('agentctl: No AWS credentials');
    expect(emulator().calls).toEqual([]);
  });
});
