import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AgentMetrics } from './agent-metrics';
import { MultiRegionAgentError } from './errors';

export interface FallbackRateAlarmProps {
  /** The region's metrics; the alarm's stack must be in that region (alarms watch local metrics only). */
  readonly metrics: AgentMetrics;
  /** Unique per account and region, e.g. `<agent>-<region>-fallback-rate`. */
  readonly alarmName: string;
  /** @default 20 (% of requests answered by a fallback) */
  readonly thresholdPercent?: number;
  /** @default Duration.minutes(1) */
  readonly period?: Duration;
  /** @default 5 */
  readonly evaluationPeriods?: number;
  /** @default 3 */
  readonly datapointsToAlarm?: number;
  /** Notified when the alarm fires and when it recovers. @default - no notification */
  readonly topic?: sns.ITopic;
}

/**
 * Alarms when too many of a region's requests fall back: the primary model
 * endpoint is throttling or failing. No traffic counts as 0%, not missing.
 */
export class FallbackRateAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FallbackRateAlarmProps) {
    super(scope, id);
    const threshold = props.thresholdPercent ?? 20;
    const evaluationPeriods = props.evaluationPeriods ?? 5;
    const datapointsToAlarm = props.datapointsToAlarm ?? 3;
    if (!(threshold > 0 && threshold <= 100)) {
      throw new MultiRegionAgentError('InvalidThreshold', `thresholdPercent must be in (0, 100], got ${threshold}`, this);
    }
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
      throw new MultiRegionAgentError('InvalidEvaluationPeriods', `evaluationPeriods must be a positive integer, got ${evaluationPeriods}`, this);
    }
    if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
      throw new MultiRegionAgentError('InvalidDatapoints', `datapointsToAlarm must be between 1 and evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`, this);
    }
    const stackRegion = Stack.of(this).region;
    if (!Token.isUnresolved(stackRegion) && stackRegion !== props.metrics.region) {
      throw new MultiRegionAgentError('AlarmInOtherRegion', `metrics: CloudWatch alarms watch metrics of their own region; this stack is in ${stackRegion}, the metrics in ${props.metrics.region}`, this);
    }
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      alarmName: props.alarmName,
      alarmDescription: `More than ${threshold}% of ${props.metrics.region}'s agent requests fell back to another region or model`,
      metric: props.metrics.fallbackRate({ period: props.period }),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.topic) {
      this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
      this.alarm.addOkAction(new actions.SnsAction(props.topic));
    }
  }
}
