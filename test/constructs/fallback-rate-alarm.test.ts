import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentMetrics } from '../../lib/observability/agent-metrics';
import { FallbackRateAlarm, type FallbackRateAlarmProps } from '../../lib/observability/fallback-rate-alarm';
import { ACCOUNT, regionStack } from './routing-fixtures';

function alarmIn(stack: Stack, props: Partial<FallbackRateAlarmProps> = {}): FallbackRateAlarm {
  return new FallbackRateAlarm(stack, 'FallbackRateAlarm', {
    metrics: new AgentMetrics({ region: stack.region }),
    alarmName: FallbackRateAlarm.nameFor('support', stack.region),
    ...props,
  });
}

function alarmTemplate(region: string, props: Partial<FallbackRateAlarmProps> = {}): Template {
  const stack = regionStack(region);
  alarmIn(stack, props);
  return Template.fromStack(stack);
}

describe('FallbackRateAlarm', () => {
  test("alarms on the share of the region's requests that fell back, as one plain metric that Route 53 can watch", () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1');

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'support-eu-west-1-fallback-rate',
      Namespace: 'MultiRegionAgent',
      MetricName: 'Fallbacks',
      Dimensions: [{ Name: 'Region', Value: 'eu-west-1' }],
      Statistic: 'Average',
      Period: 60,
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      Metrics: Match.absent(),
    });
  });

  test('threshold, period, evaluation periods and datapoints are configurable', () => {
    // GIVEN / WHEN
    const template = alarmTemplate('us-west-2', { thresholdPercent: 35, period: Duration.minutes(2), evaluationPeriods: 10, datapointsToAlarm: 4 });

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 0.35, Period: 120, EvaluationPeriods: 10, DatapointsToAlarm: 4 });
  });

  test('a request-volume alarm, on one plain metric, is in ALARM only with at least minRequests requests per period', () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1');

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'support-eu-west-1-fallback-rate-request-volume',
      Namespace: 'MultiRegionAgent',
      MetricName: 'Requests',
      Dimensions: [{ Name: 'Region', Value: 'eu-west-1' }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 20,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      // No requests at all is a quiet region.
      TreatMissingData: 'notBreaching',
      Metrics: Match.absent(),
    });
  });

  test('the composite alarm fires only while the rate alarm and the request-volume alarm both do', () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1', { minRequests: 50, period: Duration.minutes(2) });

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Requests', Threshold: 50, Period: 120 });
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const idOf = (name: string) => Object.keys(alarms).find((id) => alarms[id].Properties.AlarmName === name)!;
    const arnOf = (name: string) => ({ 'Fn::GetAtt': [idOf(name), 'Arn'] });
    // A quiet region with a few fallbacks leaves the volume alarm OK, so the composite cannot fire.
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      AlarmName: 'support-eu-west-1-fallback-rate-composite',
      AlarmRule: {
        'Fn::Join': [
          '',
          ['(ALARM("', arnOf('support-eu-west-1-fallback-rate'), '") AND ALARM("', arnOf('support-eu-west-1-fallback-rate-request-volume'), '"))'],
        ],
      },
    });
  });

  test('notifies the SNS topic when the composite alarm fires and recovers, and the state-change topic of the rate and volume alarms', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');
    const topic = new sns.Topic(stack, 'Oncall');
    const stateChangeTopic = new sns.Topic(stack, 'Changes');

    // WHEN
    alarmIn(stack, { topic, stateChangeTopic });

    // THEN
    const template = Template.fromStack(stack);
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    const changesId = stack.getLogicalId(stateChangeTopic.node.defaultChild as sns.CfnTopic);
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
    for (const alarmName of ['support-eu-west-1-fallback-rate', 'support-eu-west-1-fallback-rate-request-volume']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: alarmName, AlarmActions: [{ Ref: changesId }], OKActions: [{ Ref: changesId }] });
    }
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  test('without topics, creates both, encrypted with one new KMS key, so that every alarm has an action (CT.CLOUDWATCH.PR.1)', () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1');

    // THEN
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.resourceCountIs('AWS::KMS::Key', 1);
    const [keyId] = Object.keys(template.findResources('AWS::KMS::Key'));
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [Match.objectLike({ Ref: Match.anyValue() })] });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmActions: [Match.objectLike({ Ref: Match.anyValue() })] });
  });

  test("a topic created here is TLS-only and takes messages from this construct's alarms only", () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1');

    // THEN
    template.allResourcesProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', Match.arrayWith([`:cloudwatch:eu-west-1:${ACCOUNT}:alarm:support-eu-west-1-fallback-rate*`])] } },
            },
          }),
        ]),
      }),
    });
  });

  test("the topics' key lets CloudWatch alarms of the account encrypt, and refuses grants except for AWS services (CT.KMS.PR.3)", () => {
    // GIVEN / WHEN
    const template = alarmTemplate('eu-west-1');

    // THEN
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'kms:CreateGrant',
            Principal: { AWS: '*' },
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          }),
        ]),
      }),
    });
  });

  test('topicEncryptionKey encrypts the topics created here, and no other key is made', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');
    const key = new kms.Key(stack, 'RegionKey');

    // WHEN
    alarmIn(stack, { topicEncryptionKey: key });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] } });
  });

  test("each region's alarm lives in that region's stack and watches that region's metric, under its own name", () => {
    // GIVEN
    const app = new App();
    const regions = ['us-east-1', 'eu-west-1'];

    // WHEN
    const stacks = regions.map((region) => regionStack(region, app));
    stacks.forEach((stack) => alarmIn(stack));

    // THEN
    stacks.forEach((stack, index) => {
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
      template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 1);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `support-${regions[index]}-fallback-rate`,
        Dimensions: [{ Name: 'Region', Value: regions[index] }],
      });
    });
  });

  test('warns when the threshold is so low that ordinary throttling bursts fire it', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');

    // WHEN
    alarmIn(stack, { thresholdPercent: 2 });

    // THEN
    Annotations.fromStack(stack).hasWarning('/agent-eu-west-1/FallbackRateAlarm', Match.stringLikeRegexp('thresholdPercent 2 is below 5'));
  });

  test.each([
    ['the threshold is 0', { thresholdPercent: 0 }, /thresholdPercent must be greater than 0 and less than 100, got 0/],
    ['the threshold is 100 (never exceeded)', { thresholdPercent: 100 }, /thresholdPercent must be greater than 0 and less than 100, got 100/],
    ['the period is not whole minutes', { period: Duration.seconds(30) }, /period must be a whole number of minutes .* got 30 s/],
    ['evaluation periods is 0', { evaluationPeriods: 0 }, /evaluationPeriods must be a positive integer/],
    [
      'evaluation periods span more than a day',
      { evaluationPeriods: 25, period: Duration.hours(1) },
      /evaluationPeriods × period at most one day, got 25 × 3600 s/,
    ],
    [
      'datapoints exceed evaluation periods',
      { evaluationPeriods: 3, datapointsToAlarm: 4 },
      /datapointsToAlarm must be an integer from 1 to evaluationPeriods \(3\), got 4/,
    ],
    ['the alarm name is empty', { alarmName: '' }, /alarmName must be 1 to 240 printable characters/],
    ['the alarm name has a control character', { alarmName: 'a\nb' }, /alarmName must be 1 to 240 printable characters/],
    ['the alarm name leaves no room for the request-volume suffix', { alarmName: 'a'.repeat(241) }, /alarmName must be 1 to 240 printable characters/],
    ['minRequests is 0', { minRequests: 0 }, /minRequests must be a positive integer \(requests per period\), got 0/],
    ['minRequests is fractional', { minRequests: 2.5 }, /minRequests must be a positive integer \(requests per period\), got 2.5/],
  ])('throws if %s', (_, props, message) => {
    const stack = regionStack('eu-west-1');
    expect(() => alarmIn(stack, props)).toThrow(message);
  });

  test("throws if the stack is in another region than the metrics' (alarms watch their own region only)", () => {
    const stack = regionStack('us-east-1');
    expect(() => alarmIn(stack, { metrics: new AgentMetrics({ region: 'eu-west-1' }) })).toThrow(
      /FallbackRateAlarm: metrics: .* this stack is in us-east-1, the metrics are eu-west-1's/,
    );
  });

  test('throws if the stack has no explicit region', () => {
    const stack = new Stack(new App(), 'agnostic');
    expect(() => alarmIn(stack, { metrics: new AgentMetrics({ region: 'eu-west-1' }) })).toThrow(/needs a stack with an explicit env.region/);
  });

  test("throws if the state-change topic is another region's", () => {
    const stack = regionStack('eu-west-1');
    const stateChangeTopic = sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:us-east-1:${ACCOUNT}:changes`);
    expect(() => alarmIn(stack, { stateChangeTopic })).toThrow(
      /stateChangeTopic: an alarm can only notify an SNS topic of its own region \(eu-west-1\), got a topic in us-east-1/,
    );
  });

  test("throws if the topic is another region's", () => {
    const stack = regionStack('eu-west-1');
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:us-east-1:${ACCOUNT}:oncall`);
    expect(() => alarmIn(stack, { topic })).toThrow(/topic: an alarm can only notify an SNS topic of its own region \(eu-west-1\), got a topic in us-east-1/);
  });
});
