import { parseCommand } from '../../cli/agentctl/args';
import { AgentctlError, ExitCode } from '../../cli/agentctl/exit-codes';

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentctlError);
    expect((error as AgentctlError).exitCode).toBe(ExitCode.usage);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

test('local takes its flags, and falls back to the environment npm run local always read, then to its defaults', () => {
  expect(parseCommand(['local'], {})).toEqual({
    name: 'local',
    assembly: undefined,
    app: undefined,
    outdir: undefined,
    watch: false,
    statePath: undefined,
    port: 8787,
    location: 'us',
    firstTokenDelayMs: 300,
    tokenDelayMs: 30,
    timeScale: 12,
    verbose: false,
    sigv4: false,
  });
  expect(
    parseCommand(['local', '--watch', '--state', '.local-state', '--port', '0', '--location', 'eu-central', '--token-ms', '0', '--app', 'node app.js'], {
      PORT: '9000',
      LOCAL_FIRST_TOKEN_MS: '50',
      LOCAL_VERBOSE: '1',
      LOCAL_SIGV4: '1',
    }),
  ).toMatchObject({
    watch: true,
    statePath: '.local-state',
    port: 0,
    location: 'eu-central',
    tokenDelayMs: 0,
    firstTokenDelayMs: 50,
    verbose: true,
    sigv4: true,
    app: 'node app.js',
  });
  expect(parseCommand(['local', '--sigv4'], {})).toMatchObject({ sigv4: true });
  expect(parseCommand(['local'], { LOCAL_SIGV4: '1' })).toMatchObject({ sigv4: true });
});

test('bad local command lines are usage errors that say what is wrong', () => {
  expect(usageError(['local', '--port', '70000'])).toContain('--port must be a whole number from 0 to 65535');
  expect(usageError(['local', '--assembly', 'cdk.out', '--watch'])).toContain('--watch re-synthesizes the app');
  expect(usageError(['local', '--assembly', 'cdk.out', '--app', 'node app.js'])).toContain('takes no --app');
  expect(usageError(['local', 'extra'])).toContain("'local' takes no operands");
  expect(usageError(['local', '--json'])).toContain("'local' does not take --json");
  expect(usageError(['local', '--location', 'Mars!'])).toContain('--location');
  expect(usageError(['local'], { PORT: 'eighty' })).toContain("got 'eighty'");
});
