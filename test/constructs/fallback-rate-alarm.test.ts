import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AgentMetrics } from '../../lib/agent-metrics';
import { FallbackRateAlarm, type FallbackRateAlarmProps } from '../../lib/fallback-rate-alarm';
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

  test('notifies the SNS topic when the composite alarm fires and recovers, not on the rate alone', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');
    const topic = new sns.Topic(stack, 'Oncall');

    // WHEN
    alarmIn(stack, { topic });

    // THEN
    const template = Template.fromStack(stack);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
    expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmActions: Match.anyValue() } })).toEqual({});
  });

  test('has no action without a topic', () => {
    const template = alarmTemplate('eu-west-1');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent(), OKActions: Match.absent() });
    template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { AlarmActions: Match.absent(), OKActions: Match.absent() });
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

  test("throws if the topic is another region's", () => {
    const stack = regionStack('eu-west-1');
    const topic = sns.Topic.fromTopicArn(stack, 'Topic', `arn:aws:sns:us-east-1:${ACCOUNT}:oncall`);
    expect(() => alarmIn(stack, { topic })).toThrow(/topic: an alarm can only notify an SNS topic of its own region \(eu-west-1\), got a topic in us-east-1/);
  });
});
