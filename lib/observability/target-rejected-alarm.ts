import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TargetErrorReason } from '../../lambda/agent/metric-names';
import { targetErrorAlarm, type TargetErrorAlarmProps } from './target-error-alarm';

/** Properties of a {@link TargetRejectedAlarm}: the region's metrics and the alarm's name. */
export type TargetRejectedAlarmProps = TargetErrorAlarmProps;

/**
 * One region's alarm on fallback targets that refuse requests Bedrock takes:
 * any `TargetErrors{Reason=TargetRejected}` (an outside provider's 400 for a
 * parameter or a form its API does not take) fires it. It is only called
 * when the targets before it failed, so each one is a fallback that was not
 * there when it was needed: one is enough.
 */
export class TargetRejectedAlarm extends Construct {
  /** The CloudWatch alarm. */
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TargetRejectedAlarmProps) {
    super(scope, id);
    this.alarm = targetErrorAlarm(
      this,
      TargetErrorReason.TargetRejected,
      `A fallback target whose API is not Bedrock's refused a request as invalid in ${props.metrics.region}: the target was skipped as misconfigured (see docs/providers.md).`,
      props,
    );
  }
}
