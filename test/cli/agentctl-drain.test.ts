import { LAST_CHANGE_TAG } from '../../cli/agentctl/last-change';
import { ExitCode } from '../../cli/agentctl/main';
import { AGENT, routingTags, runAgentctl, seedExampleFleet, seedRegion, useEmulator, useTestCredentials } from './agentctl-fixture';

describe('agentctl drain and restore', () => {
  useTestCredentials();
  const emulator = useEmulator();

  test("drain inverts the region's health check at the version it read and records who drained it", async () => {
    // GIVEN
    const { euWest1, euCentral1 } = seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1)).toMatchObject({
      inverted: true,
      disabled: false,
      version: 2,
      tags: { [LAST_CHANGE_TAG]: 'drained by alice at 2025-06-01T10:00:00Z' },
    });
    expect(emulator().healthCheck(euCentral1)).toMatchObject({ inverted: false, version: 1 });
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => [call.healthCheckId, call.body]),
    ).toEqual([[euWest1, { HealthCheckVersion: '1', Inverted: 'true' }]]);
    expect(run.stdout).toContain(`Invert health check ${euWest1} (https://eu-west-1.agent.example.com/health): done (version 1 → 2).`);
    expect(run.stdout).toContain(`Drained eu-west-1 (agent ${AGENT}, jurisdiction eu).`);
    expect(run.stdout).toContain('new eu requests go to: eu-central-1.');
  });

  test('after a drain, status shows the region drained and without traffic', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.stdout).toMatch(/^eu-west-1 +healthy \(16\/16 checkers\) +yes +no +drained by alice at 2025-06-01T10:00:00Z$/m);
  });

  test('draining a drained region reports it and changes nothing', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toBe(`eu-west-1 is already drained (health check ${euWest1} inverted); nothing changed.\n`);
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
    expect(emulator().callsTo('ChangeTagsForResource')).toEqual([]);
  });

  test('restore un-inverts the health check and records who restored it', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['restore', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1)).toMatchObject({
      inverted: false,
      version: 2,
      tags: { [LAST_CHANGE_TAG]: 'restored by alice at 2025-06-01T10:00:00Z' },
    });
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.body),
    ).toEqual([{ HealthCheckVersion: '1', Inverted: 'false' }]);
    expect(run.stdout).toContain(`Restored eu-west-1 (agent ${AGENT}, jurisdiction eu).`);
  });

  test('restoring a region that is not drained reports it and changes nothing', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['restore', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toBe(`eu-west-1 is not drained (health check ${euWest1} not inverted); nothing changed.\n`);
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
  });

  test('restoring a region whose endpoint is failing warns that it stays without traffic until it recovers', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { inverted: true, endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['restore', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1).inverted).toBe(false);
    expect(run.stdout).toContain('Its endpoint is failing (0/16 checkers): Route 53 sends it no traffic until it recovers.');
  });

  test('refuses to drain the last region that can serve a jurisdiction, says why, and changes nothing', async () => {
    // GIVEN eu-central-1 is drained already
    const { euWest1 } = seedExampleFleet(emulator(), { euCentral1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('agentctl: Refusing to drain eu-west-1:');
    expect(run.stderr).toContain('it is the last region that can serve jurisdiction eu (eu-central-1: drained)');
    expect(run.stderr).toContain('Route 53 fails open and answers with all of them');
    expect(run.stderr).toContain('Nothing changed. Pass --force to drain anyway.');
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
    expect(emulator().healthCheck(euWest1).inverted).toBe(false);
  });

  test("a region whose only partner's endpoint fails counts as the last one that can serve", async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euCentral1: { endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('it is the last region that can serve jurisdiction eu (eu-central-1: unhealthy)');
  });

  test('a jurisdiction with a single region cannot be drained without --force', async () => {
    // GIVEN
    seedRegion(emulator(), 'ap-southeast-2', 'apac');

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'ap-southeast-2']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('it is the last region that can serve jurisdiction apac.');
  });

  test('--force drains the last serving region anyway and says what it overrode', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euCentral1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--force']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
    expect(run.stderr).toContain('--force: draining eu-west-1 despite:\n- it is the last region that can serve jurisdiction eu');
    expect(run.stdout).toContain('new eu requests go to: none (Route 53 fails open).');
  });

  test('refuses to drain a region whose endpoint is failing, because the inverted check would report healthy', async () => {
    // GIVEN
    const { usWest2 } = seedExampleFleet(emulator(), { usWest2: { endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'us-west-2']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('its endpoint is failing (0/16 checkers), so Route 53 already sends it no traffic.');
    expect(run.stderr).toContain('an inverted check of a failing endpoint reports healthy');
    expect(emulator().healthCheck(usWest2).inverted).toBe(false);
  });

  test('--force drains a region whose endpoint is failing', async () => {
    // GIVEN
    const { usWest2 } = seedExampleFleet(emulator(), { usWest2: { endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'us-west-2', '--force']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(usWest2).inverted).toBe(true);
    expect(run.stderr).toContain('--force: draining us-west-2 despite:\n- its endpoint is failing');
  });

  test('--dry-run prints the change it would make and changes nothing', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--dry-run']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toBe(
      [
        `Dry run: would drain eu-west-1 (agent ${AGENT}, jurisdiction eu):`,
        `  Invert health check ${euWest1} (https://eu-west-1.agent.example.com/health) at version 1`,
        'eu traffic would go to: eu-central-1.',
        'Nothing changed.',
        '',
      ].join('\n'),
    );
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
    expect(emulator().callsTo('ChangeTagsForResource')).toEqual([]);
    expect(emulator().healthCheck(euWest1)).toMatchObject({ inverted: false, version: 1 });
  });

  test('--dry-run of a drain the safety rules refuse reports the refusal', async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euCentral1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--dry-run']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('Refusing to drain eu-west-1');
    expect(emulator().callsTo('UpdateHealthCheck')).toEqual([]);
  });

  test('--dry-run of a restore prints the change and changes nothing', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['restore', 'eu-west-1', '--dry-run']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toContain(`  Un-invert health check ${euWest1} (https://eu-west-1.agent.example.com/health) at version 1`);
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
  });

  test('draining a region with a disabled health check also enables it, since a disabled check counts as healthy', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { disabled: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.body),
    ).toEqual([{ HealthCheckVersion: '1', Inverted: 'true', Disabled: 'false' }]);
    expect(emulator().healthCheck(euWest1)).toMatchObject({ inverted: true, disabled: false });
    expect(run.stdout).toContain(`Enable and invert health check ${euWest1}`);
  });

  test('a calculated routing check is inverted and its children are left alone', async () => {
    // GIVEN
    const https = seedRegion(emulator(), 'eu-west-1', 'eu');
    const alarm = emulator().addHealthCheck({ type: 'CLOUDWATCH_METRIC', tags: routingTags('eu-west-1', 'eu') });
    const calculated = emulator().addHealthCheck({ type: 'CALCULATED', childHealthChecks: [https, alarm], tags: routingTags('eu-west-1', 'eu') });
    seedRegion(emulator(), 'eu-central-1', 'eu');

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.healthCheckId),
    ).toEqual([calculated]);
    expect(emulator().healthCheck(calculated).inverted).toBe(true);
    expect(emulator().healthCheck(https).inverted).toBe(false);
    expect(emulator().healthCheck(alarm).inverted).toBe(false);
  });

  test('when another operator drains the region between read and update, the version conflict is detected and nothing is done twice', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().beforeNext('UpdateHealthCheck', () => emulator().editHealthCheck(euWest1, { inverted: true }));

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.status),
    ).toEqual([409]);
    expect(run.stderr).toContain(`Health check ${euWest1} of eu-west-1 changed while agentctl was updating it; reading it again.`);
    expect(run.stdout).toContain('eu-west-1 is already drained');
    expect(emulator().healthCheck(euWest1)).toMatchObject({ inverted: true, version: 2 });
  });

  test('a drain applied although its answer was lost is finished when the retry meets its version: tagged, reported done, waited for', async () => {
    // GIVEN Route 53 applies the update, then answers 503
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'UpdateHealthCheck', error: 503, afterApplying: true });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--wait'], { onSleep: () => emulator().runCheckers() });

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.status),
    ).toEqual([503, 409]);
    expect(emulator().healthCheck(euWest1)).toMatchObject({
      inverted: true,
      version: 2,
      tags: { [LAST_CHANGE_TAG]: 'drained by alice at 2025-06-01T10:00:00Z' },
    });
    expect(run.stdout).not.toContain('already drained');
    expect(run.stdout).toContain(`Invert health check ${euWest1} (https://eu-west-1.agent.example.com/health): done (version 1 → 2).`);
    expect(run.stdout).toContain(`Drained eu-west-1 (agent ${AGENT}, jurisdiction eu).`);
    expect(run.stdout).toContain('Route 53 now considers eu-west-1 unhealthy: it receives no new traffic');
  });

  test('with two routing checks, the first applied although its answer was lost is recorded while the second is applied', async () => {
    // GIVEN eu-west-1 routes on two health checks, and Route 53 applies the first update, then answers 503
    const { euWest1 } = seedExampleFleet(emulator());
    const second = seedRegion(emulator(), 'eu-west-1', 'eu');
    emulator().injectFault({ operation: 'UpdateHealthCheck', error: 503, afterApplying: true });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN both are drained, reported and tagged
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.status),
    ).toEqual([503, 409, 200]);
    for (const id of [euWest1, second]) {
      expect(emulator().healthCheck(id)).toMatchObject({ inverted: true, version: 2, tags: { [LAST_CHANGE_TAG]: 'drained by alice at 2025-06-01T10:00:00Z' } });
      expect(run.stdout).toContain(`health check ${id} (https://eu-west-1.agent.example.com/health): done (version 1 → 2).`);
    }
  });

  test('a retry that meets a drain by someone else as well still reports it as already done', async () => {
    // GIVEN our update is applied, its answer lost, and another operator edits the check before the retry
    const { euWest1 } = seedExampleFleet(emulator());
    emulator().injectFault({ operation: 'UpdateHealthCheck', error: 503, afterApplying: true });
    emulator().beforeNext('UpdateHealthCheck', () => undefined);
    emulator().beforeNext('UpdateHealthCheck', () => emulator().editHealthCheck(euWest1, { inverted: true }));

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.status),
    ).toEqual([503, 409]);
    expect(run.stdout).toContain('eu-west-1 is already drained');
    expect(emulator().healthCheck(euWest1).tags[LAST_CHANGE_TAG]).toBeUndefined();
  });

  test('a version conflict makes agentctl decide again: a drain that became unsafe meanwhile is refused', async () => {
    // GIVEN someone drains eu-central-1 just before our update of eu-west-1 lands
    const { euWest1, euCentral1 } = seedExampleFleet(emulator());
    emulator().beforeNext('UpdateHealthCheck', () => {
      emulator().editHealthCheck(euCentral1, { inverted: true });
      emulator().editHealthCheck(euWest1, {});
    });

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.refused);
    expect(run.stderr).toContain('it is the last region that can serve jurisdiction eu (eu-central-1: drained)');
    expect(emulator().healthCheck(euWest1).inverted).toBe(false);
  });

  test('a health check that keeps changing ends with the conflict exit code', async () => {
    // GIVEN every update finds a newer version
    const { euWest1 } = seedExampleFleet(emulator());
    for (let attempt = 0; attempt < 3; attempt += 1) emulator().beforeNext('UpdateHealthCheck', () => emulator().editHealthCheck(euWest1, {}));

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1']);

    // THEN
    expect(run.exitCode).toBe(ExitCode.conflict);
    expect(run.stderr).toContain('The health checks of eu-west-1 kept changing while agentctl was updating them (3 attempts).');
    expect(
      emulator()
        .callsTo('UpdateHealthCheck')
        .map((call) => call.status),
    ).toEqual([409, 409, 409]);
    expect(emulator().healthCheck(euWest1).inverted).toBe(false);
  });

  test('--wait shows progress until every checker has reported since the change, then what Route 53 makes of it', async () => {
    // GIVEN checkers report region by region, as Route 53's do
    const { euWest1 } = seedExampleFleet(emulator());
    const rounds = [
      ['eu-west-1', 'us-east-1', 'us-west-1', 'us-west-2'],
      ['ap-southeast-1', 'ap-southeast-2'],
      ['ap-northeast-1', 'sa-east-1'],
    ];

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--wait'], {
      pollIntervalMs: 5000,
      onSleep: (_ms, index) => emulator().runCheckers(rounds[index]),
    });

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
    expect(run.sleeps).toEqual([5000, 5000, 5000]);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('Waiting'))).toEqual([
      'Waiting for Route 53: 8/16 checkers have reported on eu-west-1 since the change (5 s, timeout 120 s)',
      'Waiting for Route 53: 12/16 checkers have reported on eu-west-1 since the change (10 s, timeout 120 s)',
      'Waiting for Route 53: 16/16 checkers have reported on eu-west-1 since the change (15 s, timeout 120 s)',
    ]);
    expect(run.stdout).toContain('Route 53 now considers eu-west-1 unhealthy: it receives no new traffic (endpoint healthy, 16/16 checkers; drained: yes).');
  });

  test('--wait on a terminal rewrites one progress line in place', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    let stderr = '';

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--wait'], {
      stderr: { isTTY: true, write: (chunk: string) => (stderr += chunk) },
      onSleep: () => emulator().runCheckers(),
    });

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(stderr).toBe('\r\u001b[2KWaiting for Route 53: 16/16 checkers have reported on eu-west-1 since the change (5 s, timeout 120 s)\n');
  });

  test('--wait gives up after --timeout with its own exit code; the drain stays in place', async () => {
    // GIVEN checkers that never report again
    const { euWest1 } = seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--wait', '--timeout', '12'], { pollIntervalMs: 5000 });

    // THEN
    expect(run.exitCode).toBe(ExitCode.waitTimeout);
    expect(run.sleeps).toEqual([5000, 5000, 2000]);
    expect(run.stderr).toContain('agentctl: Timed out after 12 s: 0/16 Route 53 checkers had reported on eu-west-1 since the change.');
    expect(emulator().healthCheck(euWest1).inverted).toBe(true);
  });

  test('restore --wait ends when the checkers have reported and Route 53 sends the region traffic again', async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['restore', 'eu-west-1', '--wait'], { onSleep: () => emulator().runCheckers() });

    // THEN
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(run.stdout).toContain('Route 53 now considers eu-west-1 healthy: it receives new traffic');
  });

  test('--agent picks the agent when several run in the region', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator());
    const billing = emulator().addHealthCheck({ tags: routingTags('eu-west-1', 'eu', 'billing-bot') });
    emulator().addHealthCheck({ tags: routingTags('eu-central-1', 'eu', 'billing-bot') });

    // WHEN
    const ambiguous = await runAgentctl(emulator(), ['drain', 'eu-west-1']);
    const run = await runAgentctl(emulator(), ['drain', 'eu-west-1', '--agent', 'billing-bot']);

    // THEN
    expect(ambiguous.exitCode).toBe(ExitCode.usage);
    expect(ambiguous.stderr).toContain(`Several agents run in eu-west-1: billing-bot, ${AGENT}. Choose one with --agent.`);
    expect(run.exitCode).toBe(ExitCode.ok);
    expect(emulator().healthCheck(billing).inverted).toBe(true);
    expect(emulator().healthCheck(euWest1).inverted).toBe(false);
  });
});
