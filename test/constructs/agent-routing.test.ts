import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AgentMetrics } from '../../lib/observability/agent-metrics';
import { AgentRouting, PublicNameRouting, type AgentRoutingProps } from '../../lib/routing/agent-routing';
import { FallbackRateAlarm } from '../../lib/observability/fallback-rate-alarm';
import { Jurisdiction } from '../../lib/governance/jurisdiction';
import { RoutingTag } from '../../lib/routing/routing-tags';
import { ACCOUNT, RECORD, ZONE_ID, domainsIn, euJurisdiction, regionStack, targetOf, zoneIn } from './routing-fixtures';
import { flatten } from './fixtures';

const AGENT = 'support';

function routingIn(stack: Stack, props: Partial<AgentRoutingProps> = {}): AgentRouting {
  return new AgentRouting(stack, 'Routing', {
    agentName: AGENT,
    hostedZone: zoneIn(stack),
    recordName: RECORD,
    jurisdiction: euJurisdiction(),
    domains: domainsIn(stack),
    ...props,
  });
}

function routedTemplate(region: string, props: Partial<AgentRoutingProps> = {}): Template {
  const stack = regionStack(region);
  routingIn(stack, props);
  return Template.fromStack(stack);
}

function recordsNamed(template: Template, name: string): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::Route53::RecordSet', { Properties: { Name: `${name}.` } })).map((resource) => resource.Properties);
}

function logicalIdOf(template: Template, type: string, properties: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: properties }));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** A health check's tags as an object: their order in the template is CDK's. */
function tagsOf(template: Template, type: string): Record<string, string> {
  const [check] = Object.values(template.findResources('AWS::Route53::HealthCheck', { Properties: { HealthCheckConfig: { Type: type } } }));
  return Object.fromEntries((check.Properties.HealthCheckTags as Array<{ Key: string; Value: string }>).map((tag) => [tag.Key, tag.Value]));
}

/** The region's FallbackRateAlarm, as MultiRegionAgent makes it. */
function fallbackRateAlarmIn(stack: Stack): FallbackRateAlarm {
  return new FallbackRateAlarm(stack, 'FallbackRateAlarm', {
    metrics: new AgentMetrics({ region: stack.region }),
    alarmName: FallbackRateAlarm.nameFor(AGENT, stack.region),
  });
}

const healthCheckOf = (template: Template, type: string) => ({
  'Fn::GetAtt': [logicalIdOf(template, 'AWS::Route53::HealthCheck', { HealthCheckConfig: { Type: type } }), 'HealthCheckId'],
});

describe('AgentRouting health checks', () => {
  test("a region's health check calls https://<region>.<name>/health every 10 s (fast: out of DNS after 3 × 10 s of checks), and is tagged for agentctl", () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-central-1');

    // THEN
    template.resourceCountIs('AWS::Route53::HealthCheck', 1);
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS',
        FullyQualifiedDomainName: `eu-central-1.${RECORD}`,
        ResourcePath: '/health',
        Port: 443,
        EnableSNI: true,
        RequestInterval: 10,
        FailureThreshold: 3,
      },
    });
    expect(tagsOf(template, 'HTTPS')).toEqual(
      expect.objectContaining({ [RoutingTag.agent]: AGENT, [RoutingTag.region]: 'eu-central-1', [RoutingTag.jurisdiction]: 'eu' }),
    );
  });

  test('the interval and the failure threshold are configurable', () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-west-1', { healthCheckIntervalSeconds: 30, healthCheckFailureThreshold: 2 });

    // THEN
    template.hasResourceProperties('AWS::Route53::HealthCheck', { HealthCheckConfig: { Type: 'HTTPS', RequestInterval: 30, FailureThreshold: 2 } });
  });

  test("with the region's fallback-rate alarm, its records carry a calculated check that needs both the HTTPS check and the alarm", () => {
    // GIVEN
    const stack = regionStack('eu-west-1');
    const alarm = fallbackRateAlarmIn(stack);

    // WHEN
    routingIn(stack, { alarm: alarm.alarm });

    // THEN
    const template = Template.fromStack(stack);
    const alarmId = logicalIdOf(template, 'AWS::CloudWatch::Alarm', { AlarmName: FallbackRateAlarm.nameFor(AGENT, 'eu-west-1') });
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Name: { Ref: alarmId }, Region: 'eu-west-1' },
        InsufficientDataHealthStatus: 'Healthy',
      },
    });
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'CALCULATED',
        HealthThreshold: 2,
        ChildHealthChecks: [healthCheckOf(template, 'HTTPS'), healthCheckOf(template, 'CLOUDWATCH_METRIC')],
      },
    });
    // agentctl finds all three by their tags and drains the one the records carry.
    for (const type of ['HTTPS', 'CLOUDWATCH_METRIC', 'CALCULATED']) {
      expect(tagsOf(template, type)).toEqual(
        expect.objectContaining({ [RoutingTag.agent]: AGENT, [RoutingTag.region]: 'eu-west-1', [RoutingTag.jurisdiction]: 'eu' }),
      );
    }
    const calculated = healthCheckOf(template, 'CALCULATED');
    for (const name of [`eu.${RECORD}`, RECORD]) expect(recordsNamed(template, name)).toEqual([expect.objectContaining({ HealthCheckId: calculated })]);
  });

  test('with the request-volume alarm too, a quiet region stays in DNS: it leaves only while the rate alarm fires with enough requests, or /health fails', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');
    const alarm = fallbackRateAlarmIn(stack);

    // WHEN
    routingIn(stack, { alarm: alarm.alarm, requestVolumeAlarm: alarm.requestVolumeAlarm });

    // THEN
    const template = Template.fromStack(stack);
    const alarmCheck = (alarmName: string) => ({
      'Fn::GetAtt': [
        logicalIdOf(template, 'AWS::Route53::HealthCheck', {
          HealthCheckConfig: Match.objectLike({
            Type: 'CLOUDWATCH_METRIC',
            AlarmIdentifier: { Name: { Ref: logicalIdOf(template, 'AWS::CloudWatch::Alarm', { AlarmName: alarmName }) }, Region: 'eu-west-1' },
            InsufficientDataHealthStatus: 'Healthy',
          }),
        }),
        'HealthCheckId',
      ],
    });
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'HTTPS_STR_MATCH',
        FullyQualifiedDomainName: `eu-west-1.${RECORD}`,
        ResourcePath: '/health',
        Port: 443,
        EnableSNI: true,
        SearchString: '"region":"eu-west-1"',
        RequestInterval: 10,
        FailureThreshold: 3,
      },
    });
    // 3 of 4: both endpoint checks, and the rate alarm OK or the region quiet (volume alarm OK).
    template.hasResourceProperties('AWS::Route53::HealthCheck', {
      HealthCheckConfig: {
        Type: 'CALCULATED',
        HealthThreshold: 3,
        ChildHealthChecks: [
          healthCheckOf(template, 'HTTPS'),
          alarmCheck(FallbackRateAlarm.nameFor(AGENT, 'eu-west-1')),
          healthCheckOf(template, 'HTTPS_STR_MATCH'),
          alarmCheck(FallbackRateAlarm.requestVolumeNameOf(FallbackRateAlarm.nameFor(AGENT, 'eu-west-1'))),
        ],
      },
    });
    template.resourceCountIs('AWS::Route53::HealthCheck', 5);
    const calculated = healthCheckOf(template, 'CALCULATED');
    for (const name of [`eu.${RECORD}`, RECORD]) expect(recordsNamed(template, name)).toEqual([expect.objectContaining({ HealthCheckId: calculated })]);
  });

  test.each([
    // [front door up, rate alarm OK, quiet] → healthy: what 3 of the 4 children (the front door counted twice) decide
    [true, true, true, true],
    [true, true, false, true],
    [true, false, true, true],
    [true, false, false, false],
    [false, true, true, false],
    [false, true, false, false],
    [false, false, true, false],
  ])('the calculated check with front door up %s, rate OK %s, quiet %s is healthy: %s', (frontDoor, rateOk, quiet, healthy) => {
    // GIVEN the calculated check's children and threshold as synthesized
    const stack = regionStack('eu-west-1');
    const alarm = fallbackRateAlarmIn(stack);
    routingIn(stack, { alarm: alarm.alarm, requestVolumeAlarm: alarm.requestVolumeAlarm });
    const template = Template.fromStack(stack);
    const checks = template.findResources('AWS::Route53::HealthCheck');
    const calculated = Object.values(checks).find((check) => check.Properties.HealthCheckConfig.Type === 'CALCULATED')!.Properties.HealthCheckConfig;

    // WHEN each child is healthy or not
    const childHealthy = (id: string) => {
      const config = checks[id].Properties.HealthCheckConfig;
      if (config.Type.startsWith('HTTPS')) return frontDoor;
      return flatten(config.AlarmIdentifier.Name).includes('RequestVolume') ? quiet : rateOk;
    };
    const healthyChildren = calculated.ChildHealthChecks.filter((child: { 'Fn::GetAtt': [string] }) => childHealthy(child['Fn::GetAtt'][0])).length;

    // THEN
    expect(healthyChildren >= calculated.HealthThreshold).toBe(healthy);
  });
});

describe('AgentRouting records', () => {
  test("the jurisdiction's name and the public name get latency aliases of this region's API domains, with its set identifier and health check", () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-west-1');

    // THEN
    const healthCheckId = healthCheckOf(template, 'HTTPS');
    expect(recordsNamed(template, `eu.${RECORD}`)).toEqual([
      expect.objectContaining({
        Type: 'A',
        HostedZoneId: ZONE_ID,
        Region: 'eu-west-1',
        SetIdentifier: 'eu-west-1',
        HealthCheckId: healthCheckId,
        AliasTarget: { DNSName: targetOf('jurisdictionDomain', 'eu-west-1'), HostedZoneId: 'ZAPIGATEWAYREGION' },
      }),
    ]);
    expect(recordsNamed(template, RECORD)).toEqual([
      expect.objectContaining({
        Type: 'A',
        Region: 'eu-west-1',
        SetIdentifier: 'eu-west-1',
        HealthCheckId: healthCheckId,
        AliasTarget: { DNSName: targetOf('publicDomain', 'eu-west-1'), HostedZoneId: 'ZAPIGATEWAYREGION' },
      }),
    ]);
  });

  test("the region's own host is a plain alias without health check, so that the health check reaches it even when unhealthy", () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-west-1');

    // THEN
    const [regional] = recordsNamed(template, `eu-west-1.${RECORD}`);
    expect(regional).toEqual({
      Type: 'A',
      HostedZoneId: ZONE_ID,
      Name: `eu-west-1.${RECORD}.`,
      AliasTarget: { DNSName: targetOf('regionalDomain', 'eu-west-1'), HostedZoneId: 'ZAPIGATEWAYREGION' },
    });
  });

  test('two regions of a jurisdiction put latency records on the same names, each under its own set identifier and region', () => {
    // GIVEN / WHEN
    const app = new App();
    const stacks = ['eu-west-1', 'eu-central-1'].map((region) => regionStack(region, app));
    stacks.forEach((stack) => routingIn(stack));
    const templates = stacks.map((stack) => Template.fromStack(stack));

    // THEN
    const identities = templates.flatMap((template) =>
      [`eu.${RECORD}`, RECORD].flatMap((name) => recordsNamed(template, name).map((record) => `${record.Name} ${record.SetIdentifier} ${record.Region}`)),
    );
    expect(identities.sort()).toEqual([
      `${RECORD}. eu-central-1 eu-central-1`,
      `${RECORD}. eu-west-1 eu-west-1`,
      `eu.${RECORD}. eu-central-1 eu-central-1`,
      `eu.${RECORD}. eu-west-1 eu-west-1`,
    ]);
  });

  test("a region's resources do not depend on the other regions: adding a region to the jurisdiction changes none of them", () => {
    // GIVEN
    const alone = routedTemplate('eu-west-1', { jurisdiction: Jurisdiction.eu(['eu-west-1']) });

    // WHEN
    const withAnother = routedTemplate('eu-west-1', { jurisdiction: Jurisdiction.eu(['eu-west-1', 'eu-central-1', 'eu-north-1']) });

    // THEN
    expect(withAnother.toJSON()).toEqual(alone.toJSON());
  });

  test('layered: the latency records move behind the public name, to <jurisdiction>.latency.<name> and latency.<name>, aliasing the public domain', () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-west-1', { publicName: PublicNameRouting.layered() });

    // THEN
    expect(recordsNamed(template, RECORD)).toEqual([]);
    for (const name of [`eu.latency.${RECORD}`, `latency.${RECORD}`]) {
      expect(recordsNamed(template, name)).toEqual([
        expect.objectContaining({
          Region: 'eu-west-1',
          SetIdentifier: 'eu-west-1',
          HealthCheckId: healthCheckOf(template, 'HTTPS'),
          AliasTarget: expect.objectContaining({ DNSName: targetOf('publicDomain', 'eu-west-1') }),
        }),
      ]);
    }
    expect(recordsNamed(template, `eu.${RECORD}`)).toHaveLength(1);
  });

  test('geolocation-only: the public name gets a geolocation record per location of this region, with its health check', () => {
    // GIVEN
    const locations = [route53.GeoLocation.continent(route53.Continent.EUROPE), route53.GeoLocation.subdivision('CA', 'US'), route53.GeoLocation.default()];

    // WHEN
    const template = routedTemplate('eu-west-1', { publicName: PublicNameRouting.geolocation(locations) });

    // THEN
    const records = recordsNamed(template, RECORD);
    expect(records.map((record) => [record.SetIdentifier, record.GeoLocation])).toEqual([
      ['eu-west-1-continent-EU', { ContinentCode: 'EU' }],
      ['eu-west-1-US-CA', { CountryCode: 'US', SubdivisionCode: 'CA' }],
      ['eu-west-1-default', { CountryCode: '*' }],
    ]);
    for (const record of records) {
      expect(record).toEqual(
        expect.objectContaining({
          HealthCheckId: healthCheckOf(template, 'HTTPS'),
          AliasTarget: expect.objectContaining({ DNSName: targetOf('publicDomain', 'eu-west-1') }),
        }),
      );
      expect(record.Region).toBeUndefined();
    }
  });

  test('geolocation-only: a region without locations stays off the public name but keeps its jurisdiction record', () => {
    // GIVEN / WHEN
    const template = routedTemplate('eu-central-1', { publicName: PublicNameRouting.geolocation([]) });

    // THEN
    expect(recordsNamed(template, RECORD)).toEqual([]);
    expect(recordsNamed(template, `eu.${RECORD}`)).toHaveLength(1);
  });
});

describe('PublicNameRouting.geolocationByRegion', () => {
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];

  test('each location goes to its region and the default to the default region; other regions get none', () => {
    // GIVEN / WHEN
    const byRegion = PublicNameRouting.geolocationByRegion({
      locations: [
        { location: route53.GeoLocation.continent(route53.Continent.EUROPE), region: 'eu-west-1' },
        { location: route53.GeoLocation.subdivision('WA'), region: 'us-west-2' },
        { location: route53.GeoLocation.country('CA'), region: 'us-west-2' },
      ],
      defaultRegion: 'us-east-1',
      regions,
    });

    // THEN
    const labels = Object.fromEntries(
      Object.entries(byRegion).map(([region, routing]) => [
        region,
        routing.locations.map((location) => [location.continentCode, location.countryCode, location.subdivisionCode]),
      ]),
    );
    expect(labels).toEqual({
      'us-east-1': [[undefined, '*', undefined]],
      'us-west-2': [
        [undefined, 'US', 'WA'],
        [undefined, 'CA', undefined],
      ],
      'eu-west-1': [['EU', undefined, undefined]],
    });
    expect(Object.values(byRegion).every((routing) => routing.kind === 'geolocation')).toBe(true);
  });

  test.each([
    ['there is no default region', { defaultRegion: '' }, /NoDefaultRegion|defaultRegion is required/],
    ['the default region is not a region of the agent', { defaultRegion: 'ap-south-1' }, /defaultRegion ap-south-1 is not a region/],
    [
      'a location goes to an unknown region',
      { locations: [{ location: route53.GeoLocation.country('DE'), region: 'eu-central-1' }] },
      /location DE goes to eu-central-1, which is not a region/,
    ],
    [
      'a location goes to two regions',
      {
        locations: [
          { location: route53.GeoLocation.country('DE'), region: 'eu-west-1' },
          { location: route53.GeoLocation.country('DE'), region: 'us-east-1' },
        ],
      },
      /location DE goes to both eu-west-1 and us-east-1/,
    ],
    [
      'the default location is listed as a location',
      { locations: [{ location: route53.GeoLocation.default(), region: 'eu-west-1' }] },
      /map the default location with defaultRegion/,
    ],
  ])('throws if %s', (_, overrides, message) => {
    expect(() => PublicNameRouting.geolocationByRegion({ locations: [], defaultRegion: 'us-east-1', regions, ...overrides })).toThrow(message);
  });

  test('throws if one region lists a location twice', () => {
    expect(() => PublicNameRouting.geolocation([route53.GeoLocation.country('FR'), route53.GeoLocation.country('FR')])).toThrow(/location FR is listed twice/);
  });
});

describe('AgentRouting validation', () => {
  test('throws if the record name is outside the hosted zone', () => {
    const stack = regionStack('eu-west-1');
    expect(() => routingIn(stack, { recordName: 'agent.example.org' })).toThrow(/Routing: recordName agent.example.org is not inside hosted zone example.com/);
  });

  test("throws if the stack's region is not one of the jurisdiction's", () => {
    const stack = regionStack('us-east-1');
    expect(() => routingIn(stack)).toThrow(/jurisdiction: the stack's region us-east-1 is not a region of 'eu'/);
  });

  test('throws if the stack has no explicit region', () => {
    const stack = new Stack(new App(), 'agnostic');
    expect(() => routingIn(stack)).toThrow(/needs a stack with an explicit env.region/);
  });

  test.each([0, 11, 2.5])('throws if the failure threshold is %p', (healthCheckFailureThreshold) => {
    const stack = regionStack('eu-west-1');
    expect(() => routingIn(stack, { healthCheckFailureThreshold })).toThrow(/healthCheckFailureThreshold must be an integer from 1 to 10/);
  });

  test('throws if the check interval is neither 10 nor 30 seconds', () => {
    const stack = regionStack('eu-west-1');
    expect(() => routingIn(stack, { healthCheckIntervalSeconds: 60 as 30 })).toThrow(/healthCheckIntervalSeconds must be 10 or 30, got 60/);
  });

  test("throws if the alarm is another region's", () => {
    const stack = regionStack('eu-west-1');
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:support-eu-central-1-fallback-rate`);
    expect(() => routingIn(stack, { alarm })).toThrow(
      /alarm: support-eu-central-1-fallback-rate is in eu-central-1; the health check of eu-west-1 must watch an alarm of eu-west-1/,
    );
  });

  test('throws if the alarm is a composite alarm, which Route 53 health checks cannot watch', () => {
    const stack = regionStack('eu-west-1');
    const alarm = fallbackRateAlarmIn(stack);
    expect(() => routingIn(stack, { alarm: alarm.compositeAlarm })).toThrow(/alarm: Route 53 health checks cannot watch composite alarms/);
  });

  test('throws if a request-volume alarm comes without the rate alarm it gates', () => {
    const stack = regionStack('eu-west-1');
    const alarm = fallbackRateAlarmIn(stack);
    expect(() => routingIn(stack, { requestVolumeAlarm: alarm.requestVolumeAlarm })).toThrow(/requestVolumeAlarm: only gates `alarm`/);
  });

  test('throws if the alarm uses metric math, which Route 53 health checks cannot watch', () => {
    const stack = regionStack('eu-west-1');
    const alarm = new cloudwatch.Alarm(stack, 'MathAlarm', {
      metric: new AgentMetrics({ region: 'eu-west-1' }).fallbackRate(),
      threshold: 20,
      evaluationPeriods: 1,
    });
    expect(() => routingIn(stack, { alarm })).toThrow(/alarm: Route 53 health checks can only watch alarms on one plain metric/);
  });
});
