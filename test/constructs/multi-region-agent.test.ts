import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Jurisdiction, RoutingStrategy } from '../../lib';
import { ACCOUNT, agentApp, eu, us, ZONE } from './fixtures';

test('one call creates a home stack per jurisdiction, a stack per region and a monitoring stack, each with its env', () => {
  const { agent } = agentApp();

  const envs = (stacks: Record<string, Stack>) => Object.fromEntries(Object.entries(stacks).map(([key, stack]) => [key, `${stack.account}/${stack.region}`]));
  expect(envs(agent.homeStacks)).toEqual({ us: `${ACCOUNT}/us-east-1`, eu: `${ACCOUNT}/eu-west-1` });
  expect(envs(agent.regionStacks)).toEqual({
    'us-east-1': `${ACCOUNT}/us-east-1`,
    'us-west-2': `${ACCOUNT}/us-west-2`,
    'eu-west-1': `${ACCOUNT}/eu-west-1`,
    'eu-central-1': `${ACCOUNT}/eu-central-1`,
  });
  expect(`${agent.monitoringStack.account}/${agent.monitoringStack.region}`).toBe(`${ACCOUNT}/us-east-1`);
  expect(agent.runtimes.map((runtime) => runtime.region)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']);
});

test('each region stack depends on its jurisdiction home; the monitoring stack on every region', () => {
  const { agent } = agentApp();

  expect(agent.regionStacks['eu-central-1'].dependencies).toEqual([agent.homeStacks.eu]);
  expect(agent.regionStacks['us-west-2'].dependencies).toEqual([agent.homeStacks.us]);
  expect(new Set(agent.monitoringStack.dependencies)).toEqual(new Set(Object.values(agent.regionStacks)));
});

test("each jurisdiction's table has replicas in its regions and none outside it", () => {
  const { agent } = agentApp();

  const replicas = (jurisdiction: string) => {
    const table = Object.values(Template.fromStack(agent.homeStacks[jurisdiction]).findResources('AWS::DynamoDB::GlobalTable'))[0];
    return (table.Properties.Replicas as Array<{ Region: string }>).map((replica) => replica.Region).sort();
  };
  expect(replicas('us')).toEqual(['us-east-1', 'us-west-2']);
  expect(replicas('eu')).toEqual(['eu-central-1', 'eu-west-1']);
});

test('every runtime knows every jurisdiction host, for 421 answers', () => {
  const { agent } = agentApp();

  expect(agent.runtimes[0].runtimeConfig.jurisdictionHosts).toEqual({ us: 'us.agent.example.com', eu: 'eu.agent.example.com' });
});

test('a fallback-rate alarm per region, in its region, named after the agent', () => {
  const { agent } = agentApp({ alarms: { thresholdPercent: 30, evaluationPeriods: 4, datapointsToAlarm: 2 } });

  for (const [region, stack] of Object.entries(agent.regionStacks)) {
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `agent-${region}-fallback-rate`,
      Threshold: 0.3,
      EvaluationPeriods: 4,
      DatapointsToAlarm: 2,
    });
  }
});

test("each region's alarm (rate and request volume together) notifies the topic given for its region", () => {
  const { agent } = agentApp({ alarms: { topicArns: { 'eu-west-1': `arn:aws:sns:eu-west-1:${ACCOUNT}:oncall` } } });

  Template.fromStack(agent.regionStacks['eu-west-1']).hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
    AlarmName: 'agent-eu-west-1-fallback-rate-composite',
    AlarmActions: [`arn:aws:sns:eu-west-1:${ACCOUNT}:oncall`],
  });
  const central = Template.fromStack(agent.regionStacks['eu-central-1']);
  const [ownTopic] = Object.keys(
    central.findResources('AWS::SNS::Topic', { Properties: { DisplayName: Match.stringLikeRegexp('fallback rate with request volume') } }),
  );
  central.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmActions: [{ Ref: ownTopic }] });
});

test("a region without a topic ARN gets its own notification and state-change topics, encrypted with the region's key", () => {
  // GIVEN / WHEN
  const { agent } = agentApp({ alarms: { topicArns: { 'eu-west-1': `arn:aws:sns:eu-west-1:${ACCOUNT}:oncall` } } });

  // THEN
  const keyOf = (template: Template) => Object.keys(template.findResources('AWS::KMS::Key'));
  const central = Template.fromStack(agent.regionStacks['eu-central-1']);
  expect(keyOf(central)).toHaveLength(1);
  central.resourceCountIs('AWS::SNS::Topic', 2);
  central.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyOf(central)[0], 'Arn'] } });
  // AND the region with a topic ARN still records its alarms' state changes on a topic of its own
  Template.fromStack(agent.regionStacks['eu-west-1']).resourceCountIs('AWS::SNS::Topic', 1);
});

test('alarms.minRequests sets the request count each region needs before its fallback rate can alarm', () => {
  // GIVEN / WHEN
  const { agent } = agentApp({ alarms: { minRequests: 100 } });

  // THEN
  for (const [region, stack] of Object.entries(agent.regionStacks)) {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `agent-${region}-fallback-rate-request-volume`,
      MetricName: 'Requests',
      Threshold: 100,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmRule: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['") AND ALARM("'])] }),
    });
  }
});

test('with removeRegionFromDns, a region leaves DNS only when its rate alarm fires with enough requests (or /health fails)', () => {
  // GIVEN / WHEN
  const { agent } = agentApp({ alarms: { removeRegionFromDns: true } });

  // THEN
  const template = Template.fromStack(agent.regionStacks['eu-west-1']);
  template.hasResourceProperties('AWS::Route53::HealthCheck', {
    HealthCheckConfig: Match.objectLike({ Type: 'CALCULATED', HealthThreshold: 3 }),
  });
  const calculated = Object.values(template.findResources('AWS::Route53::HealthCheck')).find(
    (check) => check.Properties.HealthCheckConfig.Type === 'CALCULATED',
  )!;
  expect(calculated.Properties.HealthCheckConfig.ChildHealthChecks).toHaveLength(4);
  const watched = Object.values(template.findResources('AWS::Route53::HealthCheck'))
    .filter((check) => check.Properties.HealthCheckConfig.Type === 'CLOUDWATCH_METRIC')
    .map((check) => check.Properties.HealthCheckConfig.AlarmIdentifier.Name.Ref);
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  expect(watched.map((id: string) => alarms[id].Properties.AlarmName).sort()).toEqual([
    'agent-eu-west-1-fallback-rate',
    'agent-eu-west-1-fallback-rate-request-volume',
  ]);
});

test("the dashboard still shows each region's fallback-rate alarm", () => {
  const { agent } = agentApp({ alarms: { minRequests: 5 } });

  const body = JSON.stringify(agent.monitoringStack.resolve((agent.dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));

  for (const region of Object.keys(agent.regionStacks)) expect(body).toContain(`alarm:agent-${region}-fallback-rate\\"`);
});

test("table.witnessRegions gives a two-region jurisdiction's strongly consistent table its witness", () => {
  const { agent } = agentApp({
    jurisdictions: [Jurisdiction.us(['us-east-1', 'us-east-2'])],
    table: { strongConsistency: true, witnessRegions: { us: 'us-west-2' } },
  });

  Template.fromStack(agent.homeStacks.us).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    MultiRegionConsistency: 'STRONG',
    GlobalTableWitnesses: [{ Region: 'us-west-2' }],
  });
});

test('a record name is checked against the zone as DNS compares names: case-insensitively, ignoring a trailing dot', () => {
  expect(() => agentApp({ hostedZone: { ...ZONE, zoneName: 'Example.COM.' } })).not.toThrow();
});

/** Logical ids of every resource, per stack. */
function logicalIds(stacks: Stack[]): Record<string, string[]> {
  return Object.fromEntries(stacks.map((stack) => [stack.stackName, Object.keys(Template.fromStack(stack).toJSON().Resources).sort()]));
}

test('starting with one region and adding regions and a jurisdiction later only adds: no existing logical id changes', () => {
  // GIVEN a deployment of one region
  const before = agentApp({ jurisdictions: [Jurisdiction.us(['us-east-1'])] }).agent;
  // WHEN a second US region and the EU are added
  const after = agentApp({ jurisdictions: [us(), eu()] }).agent;

  // THEN every stack that existed keeps every resource it had
  const existing = [before.homeStacks.us, before.regionStacks['us-east-1'], before.monitoringStack];
  const grown = logicalIds([after.homeStacks.us, after.regionStacks['us-east-1'], after.monitoringStack]);
  for (const [stackName, ids] of Object.entries(logicalIds(existing))) {
    expect(grown[stackName]).toEqual(expect.arrayContaining(ids));
  }
  // AND the table and the first region's runtime are defined exactly as before
  const table = (agent: typeof before) => Object.values(Template.fromStack(agent.homeStacks.us).findResources('AWS::DynamoDB::GlobalTable'))[0];
  expect(table(after).Properties.KeySchema).toEqual(table(before).Properties.KeySchema);
  expect(table(after).Properties.TableName).toEqual(table(before).Properties.TableName);
  const routing = (agent: typeof before) => Template.fromStack(agent.regionStacks['us-east-1']).findResources('AWS::Route53::RecordSet');
  expect(Object.keys(routing(after))).toEqual(Object.keys(routing(before)));
});

test.each([
  [
    'a region in two jurisdictions',
    () => agentApp({ jurisdictions: [Jurisdiction.us(['us-east-1']), Jurisdiction.custom({ name: 'world', geography: 'global', regions: ['us-east-1'] })] }),
    /region us-east-1 belongs to both 'us' and 'world'/,
  ],
  ['no jurisdictions', () => agentApp({ jurisdictions: [] }), /at least one jurisdiction/],
  ['a malformed account', () => agentApp({ account: '1234' }), /account must be a 12-digit AWS account id, got '1234'/],
  ['an agent name that cannot name stacks', () => agentApp({ agentName: 'Support Bot' }), /agentName must be lowercase/],
  [
    'a record name outside the zone',
    () => agentApp({ recordName: 'agent.example.org' }),
    /^agent: recordName agent.example.org is not inside hosted zone example.com/,
  ],
  ['alarms.minRequests is not a positive integer', () => agentApp({ alarms: { minRequests: 0 } }), /FallbackRateAlarm: minRequests must be a positive integer/],
  [
    'an alarm topic for a region the agent does not have',
    () => agentApp({ alarms: { topicArns: { 'eu-wset-1': `arn:aws:sns:eu-west-1:${ACCOUNT}:oncall` } } }),
    /alarms.topicArns: unknown region eu-wset-1/,
  ],
  [
    'a witness region for a jurisdiction the agent does not have',
    () => agentApp({ table: { strongConsistency: true, witnessRegions: { europe: 'eu-west-3' } } }),
    /table.witnessRegions: unknown jurisdiction europe/,
  ],
])('throws for %s', (_case, build, message) => {
  expect(build).toThrow(message);
});

describe('RoutingStrategy.geolocation keeps restricted jurisdictions at home', () => {
  const europe = route53.GeoLocation.continent(route53.Continent.EUROPE);

  test.each([
    ['maps Europe to a US region', [{ location: europe, region: 'us-east-1' }], /jurisdiction 'eu' keeps continent-EU .* sends it to us-east-1/],
    [
      'leaves Europe to the default region',
      [{ location: route53.GeoLocation.continent(route53.Continent.NORTH_AMERICA), region: 'us-east-1' }],
      /jurisdiction 'eu' keeps continent-EU .* does not map it/,
    ],
  ])('refuses a strategy that %s, naming routing', (_case, locations, message) => {
    expect(() => agentApp({ routing: RoutingStrategy.geolocation({ locations, defaultRegion: 'us-east-1' }) })).toThrow(message);
  });

  test('accepts one that sends Europe to an EU region', () => {
    const { agent } = agentApp({
      routing: RoutingStrategy.geolocation({ locations: [{ location: europe, region: 'eu-central-1' }], defaultRegion: 'us-east-1' }),
    });

    expect(agent.runtimes).toHaveLength(4);
  });
});
