import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { TargetErrorReason } from '../../lambda/agent/metric-names';
import type { AgentMetrics } from './agent-metrics';

export interface TargetErrorAlarmProps {
  /** The region's runtime metrics. */
  readonly metrics: AgentMetrics;
  /** The alarm's name, unique per account and region. */
  readonly alarmName: string;
  /** Notified when the alarm fires and when it clears. */
  readonly topic: sns.ITopic;
  /**
   * The period over which one such error fires the alarm.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * An alarm that one `TargetErrors{Reason=<reason>}` fires: for a
 * misconfigured target, skipped on every request until someone fixes it, one
 * is enough. It notifies the topic when it fires and when it clears.
 */
export function targetErrorAlarm(scope: Construct, reason: TargetErrorReason, description: string, props: TargetErrorAlarmProps): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, 'Resource', {
    alarmName: props.alarmName,
    alarmDescription: description,
    metric: props.metrics.targetErrors(reason, { period: props.period ?? Duration.minutes(5) }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    // No such error, no data point: that is the healthy state.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const action = new actions.SnsAction(props.topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}
