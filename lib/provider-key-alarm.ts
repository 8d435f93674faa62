import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TargetErrorReason } from '../lambda/agent/metric-names';
import type { AgentMetrics } from './agent-metrics';

export interface ProviderKeyAlarmProps {
  /** The region's runtime metrics. */
  readonly metrics: AgentMetrics;
  readonly alarmName: string;
  /** Notified when the alarm fires and when it clears. */
  readonly topic: sns.ITopic;
  /**
   * The period over which one refused key fires the alarm.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * One region's alarm on its outside providers' keys: any
 * `TargetErrors{Reason=KeyRejected}` (a key the provider refused even after a
 * fresh read, a 403 for the key's project, an empty or unreadable secret)
 * fires it. Such a target is
 * skipped on every request until someone fixes the key, so one is enough.
 */
export class ProviderKeyAlarm extends Construct {
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ProviderKeyAlarmProps) {
    super(scope, id);
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      alarmName: props.alarmName,
      alarmDescription: `An outside provider refused the runtime's API key (401 after a fresh read, or 403), or its secret is empty or unreadable, in ${props.metrics.region}: that target is skipped until the key is fixed (see README, Outside providers).`,
      metric: props.metrics.targetErrors(TargetErrorReason.KeyRejected, { period: props.period ?? Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No refused key, no data point: that is the healthy state.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new actions.SnsAction(props.topic);
    this.alarm.addAlarmAction(action);
    this.alarm.addOkAction(action);
  }
}
