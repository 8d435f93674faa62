import { ExitCode, main } from '../../cli/agentctl/main';
import { Route53Emulator } from '../../local/route53-emulator';
import { AGENT, runAgentctl, seedExampleFleet, useEmulator, useTestCredentials } from './agentctl-fixture';

/** Variables through which the SDK's default chain could find credentials on this machine. */
const CREDENTIAL_SOURCES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
];

describe('agentctl errors', () => {
  useTestCredentials();
  const emulator = useEmulator();

  describe('without credentials', () => {
    const saved: Record<string, string | undefined> = {};
    beforeEach(() => {
      for (const name of [...CREDENTIAL_SOURCES, 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED'])
        saved[name] = process.env[name];
      for (const name of CREDENTIAL_SOURCES) delete process.env[name];
      process.env.AWS_CONFIG_FILE = '/nonexistent/agentctl-test/config';
      process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/agentctl-test/credentials';
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
    });
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    test('a clear message and the no-credentials exit code, with no request sent', async () => {
      // GIVEN
      seedExampleFleet(emulator());

      // WHEN
      const run = await runAgentctl(emulator(), ['status']);

      // THEN
      expect(run.exitCode).toBe(ExitCode.noCredentials);
      expect(run.stderr).toMatch(/^agentctl: No AWS credentials: /);
      expect(run.stderr).toContain('agentctl uses the AWS SDK default credential chain. Set AWS_PROFILE');
      expect(run.sleeps).toEqual([]);
      expect(emulator().calls).toEqual([]);
    });
  });

  test('no health check with the agent tags: the no-health-checks exit code and how agentctl finds them', async () => {
    // GIVEN health checks of other systems only
    emulator().addHealthCheck({ tags: { team: 'web' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.noHealthChecks);
    expect(run.stderr).toContain('agentctl: No Route 53 health check carries a multi-region-agent:name tag');
    expect(run.stderr).toContain('agentctl finds the health checks that AgentRouting tags');
  });

  test('an --agent that matches nothing lists the agents that do exist', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--agent', 'suport-bot']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.noHealthChecks);
    expect(run.stderr).toContain(`No Route 53 health check carries multi-region-agent:name=suport-bot`);
    expect(run.stderr).toContain(`Agents found: ${AGENT}.`);
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
  });

  test('a region the agent does not run in: the unknown-region exit code and the known regions', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'ap-south-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.unknownRegion);
    expect(run.stderr).toBe(
      `agentctl: ap-south-1 is not a region of agent ${AGENT}: no health check is tagged with it. Known regions: eu-central-1, eu-west-1, us-east-1, us-west-2.\n`,
    );
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
  });

  test('throttling is retried with growing, jittered delays and the command then succeeds', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'ListHealthChecks', error: 'Throttling', times: 2 });
    emulator().injectFault({ operation: 'UpdateHealthCheck', error: 'PriorRequestNotComplete' });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1'], { random: () => 0.5 });

    // THEN half of the exponential bound each time (random 0.5): 125 ms, 250 ms, then 125 ms for the update
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.sleeps).toEqual([125, 250, 125]);
    expect(run.stderr).toContain('Route 53 throttled ListHealthChecks; retry 1 of 4 in 0.1 s');
    expect(run.stderr).toContain('Route 53 throttled ListHealthChecks; retry 2 of 4 in 0.3 s');
    expect(run.stderr).toContain('Route 53 throttled UpdateHealthCheck; retry 1 of 4 in 0.1 s');
    expect(
      emulator()
        .callsTo('ListHealthChecks')
        .map((call) => call.status),
    ).toEqual([400, 400, 200]);
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
  });

  test('retry delays never exceed the cap, whatever the jitter draws', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'ListHealthChecks', error: 'Throttling', times: 4 });

    // WHEN
    const run = await runAgentctl(emulator(), ['status'], { random: () => 0.999, retryPolicy: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 300 } });

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.sleeps).toEqual([100, 200, 300, 300]);
  });

  test('throttling that outlasts every retry ends with the throttled exit code and changes nothing', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'UpdateHealthCheck', error: 'Throttling', times: 5 });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.throttled);
    expect(run.stderr).toContain('agentctl: Route 53 kept throttling UpdateHealthCheck (Throttling (HTTP 400): Rate exceeded) after 5 attempts.');
    expect(emulator().callsTo('UpdateHealthCheck')).toHaveLength(5);
    expect(emulator().healthCheck(euWest1)).toMatchObject({ inverted: false, version: 1 });
  });

  test('a 5xx is retried; one that persists ends with the Route 53 error exit code', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'GetHealthCheckStatus', error: 503 });
    const recovered = await runAgentctl(emulator(), ['status']);
    emulator().injectFault({ operation: 'ListHealthChecks', error: 500, times: 5 });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(recovered.exitCode).toBe(ExitCode.ok);
    expect(recovered.stderr).toContain('Route 53 GetHealthCheckStatus failed (ServiceUnavailable (HTTP 503)');
    expect(run.exitCode).toBe(ExitCode.route53Error);
    expect(run.stderr).toContain('agentctl: Route 53 ListHealthChecks failed after 5 attempts: InternalFailure (HTTP 500)');
    expect(run.stdout).toBe('');
  });

  test('an unreachable endpoint is retried, then ends with the Route 53 error exit code', async () => {
    // GIVEN an endpoint where nothing listens any more
    const stopped = await Route53Emulator.start();
    const endpoint = stopped.endpoint;
    await stopped.close();

    // WHEN
    const run = await runAgentctl(emulator(), ['status', '--endpoint', endpoint]);

    // THEN
    expect(run.exitCode).toBe(ExitCode.route53Error);
    expect(run.sleeps).toHaveLength(4);
    expect(run.stderr).toContain('agentctl: Route 53 ListHealthChecks failed after 5 attempts');
    expect(run.stderr).toContain('ECONNREFUSED');
  });

  test.each([
    [['frobnicate'], "Unknown command 'frobnicate'."],
    [['drain'], "'drain' takes exactly one REGION, got 0."],
    [['drain', 'eu-west-1', 'eu-central-1'], "'drain' takes exactly one REGION, got 2."],
    [['drain', 'Ireland'], "REGION must be an AWS region name such as eu-west-1, got 'Ireland'."],
    [['restore', 'eu-west-1', '--force'], "'restore' does not take --force."],
    [['status', '--dry-run'], "'status' does not take --dry-run."],
    [['drain', 'eu-west-1', '--timeout', '30'], '--timeout only applies with --wait.'],
    [['drain', 'eu-west-1', '--wait', '--timeout', 'soon'], "--timeout must be a number of seconds between 1 and 3600, got 'soon'."],
    [['status', '--bogus'], "Unknown option '--bogus'"],
    [['status', '--agent'], "Option '--agent <value>' argument missing"],
    [['status', '--endpoint', 'localhost:4566'], '--endpoint must be an http(s) URL'],
  ])('usage error for %j: exit code 2, a message, and no Route 53 call', async (argv, message) => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), argv);

    // THEN
    expect(run.exitCode).toBe(ExitCode.usage);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("Run 'agentctl help' for usage.");
    expect(emulator().calls).toEqual([]);
  });

  test('help prints the usage with the exit codes', async () => {
    // GIVEN
    let stdout = '';

    // WHEN
    const exitCode = await main(['--help'], { stdout: { write: (chunk: string) => (stdout += chunk) } });

    // THEN
    expect(exitCode).toBe(ExitCode.ok);
    expect(stdout).toMatch(/^Usage: agentctl <command> \[options\]/);
    expect(stdout).toContain('drain REGION');
    expect(stdout).toContain('Exit codes: 0 ok, 2 usage, 3 no credentials');
  });

  test('the last-change tag is optional: a drain whose tag write fails still drains and warns', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'ChangeTagsForResource', error: 500, times: 5 });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
    expect(run.stderr).toContain(`Warning: could not record the change in tag multi-region-agent:last-change of ${euWest1}`);
  });
});
