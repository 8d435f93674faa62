import { Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { AgentRuntime } from '../../lib';
import { runtimeIn, testApp } from './fixtures';

/** The Bedrock statements of the policies attached to a role. */
function bedrockStatementsOf(template: Template, roleLogicalId: string): unknown[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
    .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('bedrock:')));
}

const logicalId = (runtime: AgentRuntime, element: CfnElement) => Stack.of(runtime).getLogicalId(element);

test('a runtime probes its chain every minute: a schedule invoking only the probe function, which reads the runtime configuration', () => {
  // GIVEN
  const runtime = runtimeIn(testApp());
  const template = Template.fromStack(Stack.of(runtime));
  const probeFunction = logicalId(runtime, runtime.probe!.function.node.defaultChild as CfnElement);

  // THEN
  template.hasResourceProperties('AWS::Scheduler::Schedule', {
    ScheduleExpression: 'rate(1 minute)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: { 'Fn::GetAtt': [probeFunction, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } },
  });
  const scheduleRole =
    template.findResources('AWS::Scheduler::Schedule')[logicalId(runtime, runtime.probe!.schedule)].Properties.Target.RoleArn['Fn::GetAtt'][0];
  const role = template.findResources('AWS::IAM::Role')[scheduleRole];
  expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
    expect.objectContaining({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }),
  ]);
  expect(role.Properties.Policies).toEqual([
    {
      PolicyName: 'Invoke',
      PolicyDocument: expect.objectContaining({
        Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [probeFunction, 'Arn'] } }],
      }),
    },
  ]);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('target probe'),
    Architectures: ['arm64'],
    ReservedConcurrentExecutions: 1,
    Environment: { Variables: { AGENT_CONFIG: JSON.stringify(runtime.runtimeConfig) } },
  });
});

test("the probe has exactly the Bedrock grants of the runtime's chain, and may only write to the health table", () => {
  const runtime = runtimeIn(testApp());
  const template = Template.fromStack(Stack.of(runtime));
  const probeRole = logicalId(runtime, runtime.probe!.function.role!.node.defaultChild as CfnElement);
  const runtimeRole = logicalId(runtime, runtime.function.role!.node.defaultChild as CfnElement);

  const probeGrants = bedrockStatementsOf(template, probeRole);
  expect(probeGrants.length).toBeGreaterThan(0);
  expect(probeGrants).toEqual(bedrockStatementsOf(template, runtimeRole));
  const healthTable = logicalId(runtime, runtime.healthTable!.table.node.defaultChild as CfnElement);
  const dynamo = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(probeRole))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
    .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')));
  expect(dynamo).toEqual([expect.objectContaining({ Action: 'dynamodb:UpdateItem', Resource: { 'Fn::GetAtt': [healthTable, 'Arn'] } })]);
});

test('each target has an alarm on three failed (or missing) probes in a row', () => {
  const runtime = runtimeIn(testApp());
  const template = Template.fromStack(Stack.of(runtime));

  const targets = runtime.targets.map((target) => `${target.modelId}@${target.region}`);
  expect(Object.keys(runtime.probe!.alarms).sort()).toEqual([...targets].sort());
  for (const target of targets) {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProbeSuccess',
      Dimensions: Match.arrayWith([{ Name: 'Target', Value: target }]),
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
  }
});

test('probes can be slowed, or turned off', () => {
  const slow = runtimeIn(testApp(), { probes: { interval: Duration.minutes(10) } });
  Template.fromStack(Stack.of(slow)).hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(10 minutes)' });

  const off = runtimeIn(testApp(), { probes: false });
  expect(off.probe).toBeUndefined();
  Template.fromStack(Stack.of(off)).resourceCountIs('AWS::Scheduler::Schedule', 0);
});

test.each([Duration.seconds(30), Duration.seconds(90), Duration.hours(2)])('throws if probes.interval is %s, naming the field', (interval) => {
  expect(() => runtimeIn(testApp(), { probes: { interval } })).toThrow(/probes.interval must be whole minutes from 1 to 60/);
});
