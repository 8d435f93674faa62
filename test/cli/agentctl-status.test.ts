import { RoutingTag } from '../../lib/routing/routing-tags';
import { AGENT, routingTags, runAgentctl, seedExampleFleet, seedRegion, useEmulator, useTestCredentials } from './agentctl-fixture';

describe('agentctl status', () => {
  useTestCredentials();
  const emulator = useEmulator();

  test('shows each jurisdiction of the agent with its regions, checker health, drain state and traffic', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Agent ${AGENT}, jurisdiction eu\nREGION        ENDPOINT                  DRAINED  TRAFFIC  LAST CHANGE\n`);
    expect(run.stdout).toMatch(/^eu-central-1 +healthy \(16\/16 checkers\) +no +yes +-$/m);
    expect(run.stdout).toMatch(/^eu-west-1 +healthy \(16\/16 checkers\) +no +yes +-$/m);
    expect(run.stdout).toContain(`Agent ${AGENT}, jurisdiction us\n`);
    expect(run.stdout).toMatch(/^us-east-1 +healthy/m);
    expect(run.stdout).toMatch(/^us-west-2 +healthy/m);
    expect(run.stdout.indexOf('jurisdiction eu')).toBeLessThan(run.stdout.indexOf('us-east-1'));
  });

  test('--json gives scripts every region with its health checks, state and traffic', async () => {
    // GIVEN
    const fleet = seedExampleFleet(emulator(), { usWest2: { endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status', '--json']);

    // THEN
    expect(run.exitCode).toBe(0);
    const { regions } = JSON.parse(run.stdout);
    expect(regions.map((region: { region: string }) => region.region)).toEqual(['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2']);
    expect(regions[3]).toEqual({
      agent: AGENT,
      jurisdiction: 'us',
      region: 'us-west-2',
      endpoint: { state: 'unhealthy', basis: '0/16 checkers', lastCheckedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      route53: 'unhealthy',
      drained: 'no',
      receivesTraffic: false,
      lastChange: null,
      healthChecks: [{ id: fleet.usWest2, type: 'HTTPS', target: 'https://us-west-2.agent.example.com/health', version: 1, inverted: false, disabled: false }],
      notes: [],
    });
  });

  test('a drained region receives no traffic and shows who drained it and when', async () => {
    // GIVEN
    seedExampleFleet(emulator(), {
      euWest1: { inverted: true, tags: { ...routingTags('eu-west-1', 'eu'), 'multi-region-agent:last-change': 'drained by bob at 2025-05-31T22:15:00Z' } },
    });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.stdout).toMatch(/^eu-west-1 +healthy \(16\/16 checkers\) +yes +no +drained by bob at 2025-05-31T22:15:00Z$/m);
    expect(run.stdout).toMatch(/^eu-central-1 +healthy \(16\/16 checkers\) +no +yes +-$/m);
  });

  test("endpoint health follows Route 53's rule: healthy when more than 18% of checkers report success", async () => {
    // GIVEN 4 of 16 checkers (25%) and 2 of 16 checkers (12.5%) reach the endpoint
    seedRegion(emulator(), 'eu-west-1', 'eu', { endpoint: { healthyFrom: ['eu-west-1', 'us-east-1'] } });
    seedRegion(emulator(), 'eu-central-1', 'eu', { endpoint: { healthyFrom: ['eu-west-1'] } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.stdout).toMatch(/^eu-west-1 +healthy \(4\/16 checkers\) +no +yes/m);
    expect(run.stdout).toMatch(/^eu-central-1 +unhealthy \(2\/16 checkers\) +no +no/m);
  });

  test('a calculated health check is the routing check, evaluated from its children', async () => {
    // GIVEN the HTTPS check passes but the fallback-rate alarm check fails
    const https = seedRegion(emulator(), 'eu-west-1', 'eu');
    const alarm = emulator().addHealthCheck({ type: 'CLOUDWATCH_METRIC', endpoint: 'failing', tags: routingTags('eu-west-1', 'eu') });
    const calculated = emulator().addHealthCheck({ type: 'CALCULATED', childHealthChecks: [https, alarm], tags: routingTags('eu-west-1', 'eu') });
    seedRegion(emulator(), 'eu-central-1', 'eu');

    // WHEN
    const run = await runAgentctl(emulator(), ['status', '--json']);

    // THEN
    const euWest1 = JSON.parse(run.stdout).regions.find((region: { region: string }) => region.region === 'eu-west-1');
    expect(euWest1.healthChecks.map((check: { id: string }) => check.id)).toEqual([calculated]);
    expect(euWest1.endpoint).toMatchObject({ state: 'unhealthy', basis: '1 of 2 child checks healthy, 2 needed' });
    expect(euWest1.receivesTraffic).toBe(false);
    const statusReads = emulator()
      .callsTo('GetHealthCheckStatus')
      .map((call) => call.healthCheckId);
    expect(statusReads).toEqual(expect.arrayContaining([https, alarm]));
    expect(statusReads).not.toContain(calculated);
  });

  test('--agent shows only that agent', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    emulator().addHealthCheck({ tags: routingTags('ap-southeast-2', 'apac', 'billing-bot') });

    // WHEN
    const all = await runAgentctl(emulator(), ['status']);
    const billing = await runAgentctl(emulator(), ['status', '--agent', 'billing-bot']);

    // THEN
    expect(all.stdout).toContain('Agent billing-bot, jurisdiction apac');
    expect(all.stdout).toContain(`Agent ${AGENT}, jurisdiction eu`);
    expect(billing.stdout).toContain('Agent billing-bot, jurisdiction apac');
    expect(billing.stdout).not.toContain(AGENT);
  });

  test('a drained region whose endpoint fails is flagged: its inverted check reports healthy, so it gets traffic', async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euWest1: { inverted: true, endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.stdout).toMatch(/^eu-west-1 +unhealthy \(0\/16 checkers\) +yes +yes/m);
    expect(run.stdout).toContain('! eu-west-1 is drained but its endpoint is failing');
    expect(run.stdout).toContain('agentctl restore eu-west-1');
  });

  test('when every region of a jurisdiction is unhealthy, status says Route 53 fails open and sends traffic to all', async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euWest1: { endpoint: 'failing' }, euCentral1: { inverted: true } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.stdout).toMatch(/^eu-west-1 +unhealthy \(0\/16 checkers\) +no +yes/m);
    expect(run.stdout).toMatch(/^eu-central-1 +healthy \(16\/16 checkers\) +yes +yes/m);
    expect(run.stdout).toContain('! Every eu region is unhealthy to Route 53, so it fails open');
    expect(run.stdout).toMatch(/^us-east-1 +healthy \(16\/16 checkers\) +no +yes/m);
  });

  test('a disabled routing check is flagged: Route 53 treats it as healthy whatever the endpoint does', async () => {
    // GIVEN
    const { euWest1 } = seedExampleFleet(emulator(), { euWest1: { disabled: true, endpoint: 'failing' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status', '--json']);

    // THEN
    const region = JSON.parse(run.stdout).regions.find((candidate: { region: string }) => candidate.region === 'eu-west-1');
    expect(region).toMatchObject({ route53: 'healthy', receivesTraffic: true });
    expect(region.notes).toEqual([`Health check ${euWest1} of eu-west-1 is disabled: Route 53 treats it as healthy whatever the endpoint does.`]);
  });

  test("the agent's health checks are found in a large account across ListHealthChecks pages and tag batches of ten", async () => {
    // GIVEN 1,005 health checks of other systems before the agent's
    for (let index = 0; index < 1005; index += 1) emulator().addHealthCheck({ fullyQualifiedDomainName: `other-${index}.example.com` });
    seedExampleFleet(emulator());

    // WHEN
    const run = await runAgentctl(emulator(), ['status', '--json']);

    // THEN
    expect(JSON.parse(run.stdout).regions).toHaveLength(4);
    expect(emulator().callsTo('ListHealthChecks')).toHaveLength(2);
    const tagCalls = emulator().callsTo('ListTagsForResources');
    expect(tagCalls).toHaveLength(Math.ceil(1009 / 10));
    const idsPerCall = tagCalls.map((call) => (call.body as { ResourceIds: { ResourceId: string[] } }).ResourceIds.ResourceId.length);
    expect(Math.max(...idsPerCall)).toBe(10);
    expect(emulator().callsTo('GetHealthCheckStatus')).toHaveLength(4);
  });

  test('a health check with the agent tag but no region tag is ignored with a warning', async () => {
    // GIVEN
    seedExampleFleet(emulator());
    const incomplete = emulator().addHealthCheck({ tags: { [RoutingTag.agent]: AGENT, [RoutingTag.jurisdiction]: 'eu' } });

    // WHEN
    const run = await runAgentctl(emulator(), ['status']);

    // THEN
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`! Health check ${incomplete} of agent ${AGENT} has no ${RoutingTag.region} tag; ignored.`);
    expect(
      emulator()
        .callsTo('GetHealthCheckStatus')
        .map((call) => call.healthCheckId),
    ).not.toContain(incomplete);
  });

  test('every call is signed for us-east-1, where the global Route 53 API lives', async () => {
    // GIVEN
    seedExampleFleet(emulator());

    // WHEN
    await runAgentctl(emulator(), ['status']);

    // THEN
    expect(new Set(emulator().calls.map((call) => call.signingRegion))).toEqual(new Set(['us-east-1']));
  });
});
