import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TargetErrorReason } from '../../lambda/agent/metric-names';
import { targetErrorAlarm, type TargetErrorAlarmProps } from './target-error-alarm';

/** Properties of a {@link ProviderKeyAlarm}: the region's metrics and the alarm's name. */
export type ProviderKeyAlarmProps = TargetErrorAlarmProps;

/**
 * One region's alarm on its outside providers' keys: any
 * `TargetErrors{Reason=KeyRejected}` (a key the provider refused even after a
 * fresh read, a 403 for the key's project, an empty or unreadable secret)
 * fires it. Such a target is
 * skipped on every request until someone fixes the key, so one is enough.
 */
export class ProviderKeyAlarm extends Construct {
  /** The CloudWatch alarm. */
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ProviderKeyAlarmProps) {
    super(scope, id);
    this.alarm = targetErrorAlarm(
      this,
      TargetErrorReason.KeyRejected,
      `An outside provider refused the runtime's API key (401 after a fresh read, or 403), or its secret is empty or unreadable, in ${props.metrics.region}: that target is skipped until the key is fixed (see docs/providers.md).`,
      props,
    );
  }
}
