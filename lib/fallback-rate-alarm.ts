import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AgentMetrics } from './agent-metrics';
import { MultiRegionAgentError } from './errors';

/** CloudWatch alarms evaluate at most one day of periods (below one-hour periods). */
const MAX_EVALUATION_SECONDS = 24 * 60 * 60;
/** Below this, ordinary throttling bursts of a healthy endpoint fire the alarm. */
const NOISY_THRESHOLD_PERCENT = 5;

export interface FallbackRateAlarmProps {
  /**
   * The region's metrics (`AgentRuntime.metrics`). The alarm's stack must be
   * in that region: CloudWatch alarms watch metrics of their own region only.
   */
  readonly metrics: AgentMetrics;
  /**
   * The alarm's name, unique per account and region. Use
   * `FallbackRateAlarm.nameFor(agentName, region)` so that dashboards and
   * operators find it.
   */
  readonly alarmName: string;
  /**
   * Alarm when more than this percentage of the region's requests were
   * answered by a fallback (another region or a degraded model).
   * @default 20
   */
  readonly thresholdPercent?: number;
  /**
   * Length of one evaluated period; a whole number of minutes.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Number of most recent periods evaluated.
   * @default 5
   */
  readonly evaluationPeriods?: number;
  /**
   * Number of breaching periods among `evaluationPeriods` that fire the alarm.
   * Note: at most `evaluationPeriods`.
   * @default 3
   */
  readonly datapointsToAlarm?: number;
  /**
   * Notified when the alarm fires and when it recovers. It must be a topic of
   * the alarm's region.
   * @default - no notification
   */
  readonly topic?: sns.ITopic;
}

/**
 * Alarms when too many of one region's requests fall back: its primary model
 * endpoint is throttling or failing. A period without requests counts as not
 * breaching.
 *
 * The alarm watches one plain metric (`AgentMetrics.fallbackRatio()`, the
 * share of requests that fell back) rather than metric math, so that a Route
 * 53 health check can watch it too (`AgentRouting`'s `alarm`).
 */
export class FallbackRateAlarm extends Construct {
  /** The alarm name this library uses for a region's fallback-rate alarm. */
  static nameFor(agentName: string, region: string): string {
    return `${agentName}-${region}-fallback-rate`;
  }

  readonly alarm: cloudwatch.Alarm;
  /** The metric the alarm watches (a share from 0 to 1). */
  readonly metric: cloudwatch.Metric;
  readonly thresholdPercent: number;

  constructor(scope: Construct, id: string, props: FallbackRateAlarmProps) {
    super(scope, id);
    const threshold = props.thresholdPercent ?? 20;
    const period = props.period ?? Duration.minutes(1);
    const evaluationPeriods = props.evaluationPeriods ?? 5;
    const datapointsToAlarm = props.datapointsToAlarm ?? 3;
    this.validate(props, { threshold, period, evaluationPeriods, datapointsToAlarm });
    if (threshold < NOISY_THRESHOLD_PERCENT) {
      Annotations.of(this).addWarningV2(
        'cdk-multi-region-agent:fallbackRateThresholdLow',
        `thresholdPercent ${threshold} is below ${NOISY_THRESHOLD_PERCENT}: short throttling bursts of a healthy endpoint will fire this alarm`,
      );
    }

    this.thresholdPercent = threshold;
    this.metric = props.metrics.fallbackRatio({ period });
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      alarmName: props.alarmName,
      alarmDescription: `More than ${threshold}% of the agent's requests in ${props.metrics.region} were answered by a fallback (another region or a degraded model) in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${period.toMinutes()} min. The metric is the share of requests (0-1).`,
      metric: this.metric,
      threshold: threshold / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      const action = new actions.SnsAction(props.topic);
      this.alarm.addAlarmAction(action);
      this.alarm.addOkAction(action);
    }
  }

  private validate(props: FallbackRateAlarmProps, values: { threshold: number; period: Duration; evaluationPeriods: number; datapointsToAlarm: number }): void {
    const { threshold, period, evaluationPeriods, datapointsToAlarm } = values;
    if (!Number.isFinite(threshold) || threshold <= 0 || threshold >= 100) {
      throw new MultiRegionAgentError('InvalidThreshold', `thresholdPercent must be greater than 0 and less than 100, got ${threshold}`, this);
    }
    const seconds = period.toSeconds();
    if (seconds < 60 || seconds % 60 !== 0) {
      throw new MultiRegionAgentError(
        'InvalidPeriod',
        `period must be a whole number of minutes (Route 53 can only watch standard-resolution alarms), got ${seconds} s`,
        this,
      );
    }
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1 || evaluationPeriods * seconds > MAX_EVALUATION_SECONDS) {
      throw new MultiRegionAgentError(
        'InvalidEvaluationPeriods',
        `evaluationPeriods must be a positive integer and evaluationPeriods × period at most one day, got ${evaluationPeriods} × ${seconds} s`,
        this,
      );
    }
    if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
      throw new MultiRegionAgentError(
        'InvalidDatapointsToAlarm',
        `datapointsToAlarm must be an integer from 1 to evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`,
        this,
      );
    }
    // eslint-disable-next-line no-control-regex -- CloudWatch refuses control characters in alarm names: they are exactly what this matches.
    if (!Token.isUnresolved(props.alarmName) && !/^[^\u0000-\u001f]{1,255}$/.test(props.alarmName)) {
      throw new MultiRegionAgentError('InvalidAlarmName', `alarmName must be 1 to 255 printable characters, got '${props.alarmName}'`, this);
    }
    const stackRegion = Stack.of(this).region;
    if (Token.isUnresolved(stackRegion)) {
      throw new MultiRegionAgentError(
        'RegionRequired',
        `FallbackRateAlarm needs a stack with an explicit env.region (${props.metrics.region}): alarms watch metrics of their own region`,
        this,
      );
    }
    if (stackRegion !== props.metrics.region) {
      throw new MultiRegionAgentError(
        'AlarmInOtherRegion',
        `metrics: CloudWatch alarms watch metrics of their own region only; this stack is in ${stackRegion}, the metrics are ${props.metrics.region}'s. Create the alarm in ${props.metrics.region}'s stack`,
        this,
      );
    }
    const topicRegion = props.topic?.env.region;
    if (topicRegion && !Token.isUnresolved(topicRegion) && topicRegion !== stackRegion) {
      throw new MultiRegionAgentError(
        'TopicInOtherRegion',
        `topic: an alarm can only notify an SNS topic of its own region (${stackRegion}), got a topic in ${topicRegion}`,
        this,
      );
    }
  }
}
