import path from 'node:path';
import { ExitCode } from '../../cli/agentctl/main';
import { AGENT, CREDENTIALS, ROOT, runCommand, seedExampleFleet, useEmulator, type ProcessResult } from './agentctl-fixture';

const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** Runs bin/agentctl.ts as an operator would while developing (`npx tsx bin/agentctl.ts ...`), with only the given environment. */
function runEntry(args: readonly string[], env: Record<string, string>): Promise<ProcessResult> {
  return runCommand(TSX, ['bin/agentctl.ts', ...args], env);
}

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
