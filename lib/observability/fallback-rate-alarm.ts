import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createAgentKey } from '../governance/agent-key';
import type { AgentMetrics } from './agent-metrics';
import { AlarmTopic } from './alarm-topic';
import { MultiRegionAgentError } from '../errors';

/** CloudWatch alarms evaluate at most one day of periods (below one-hour periods). */
const MAX_EVALUATION_SECONDS = 24 * 60 * 60;
/** Below this, ordinary throttling bursts of a healthy endpoint fire the alarm. */
const NOISY_THRESHOLD_PERCENT = 5;

/** Properties of a {@link FallbackRateAlarm}: the region's metrics, the alarm's name and when it fires. */
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
   * Requests a period must have for its fallback rate to count: the region
   * alarms only while it also had at least this many requests in
   * `datapointsToAlarm` of `evaluationPeriods` periods, so that a quiet
   * region with a few fallbacks in a minute neither pages nor (with
   * `AgentRouting`'s `requestVolumeAlarm`) leaves DNS. A positive integer.
   * @default 20
   */
  readonly minRequests?: number;
  /**
   * Notified when the region's alarm (`compositeAlarm`: rate and request
   * volume) fires and when it recovers: the topic for people. It must be a
   * topic of the alarm's region.
   * @default - a new `AlarmTopic` (`Notifications`), encrypted with `topicEncryptionKey`
   */
  readonly topic?: sns.ITopic;
  /**
   * Notified of every change between OK and ALARM of the rate alarm and the
   * request-volume alarm, which only feed the composite alarm and (with
   * `AgentRouting`'s `alarm`) Route 53: a record of when the region would
   * leave DNS, not a page (a busy region puts the volume alarm in ALARM).
   * Every metric alarm then has an action, as AWS Control Tower's
   * CT.CLOUDWATCH.PR.1 asks. It must be a topic of the alarm's region.
   * @default - a new `AlarmTopic` (`StateChanges`), encrypted with `topicEncryptionKey`
   */
  readonly stateChangeTopic?: sns.ITopic;
  /**
   * The KMS key of the topics created here (when `topic` or
   * `stateChangeTopic` is not given).
   * @default - a new KMS key (`TopicKey`) shared by them
   */
  readonly topicEncryptionKey?: kms.IKey;
}

/**
 * Alarms when too many of a busy region's requests fall back: its primary
 * model endpoint is throttling or failing. Three alarms:
 * - `alarm` (named `alarmName`): the fallback rate, on one plain metric
 *   (`AgentMetrics.fallbackRatio()`, the share of requests that fell back);
 * - `requestVolumeAlarm` (`<alarmName>-request-volume`): at least
 *   `minRequests` requests per period, on the plain `Requests` Sum;
 * - `compositeAlarm` (`<alarmName>-composite`): both at once. It is the one
 *   that notifies `topic` (people).
 * A period without requests counts as not breaching for both. The two metric
 * alarms notify `stateChangeTopic`, so that every alarm has an action.
 * Topics not given are created here, encrypted and open to these alarms only.
 *
 * The two metric alarms watch plain metrics rather than metric math so that
 * Route 53 health checks can watch them (`AgentRouting`'s `alarm` and
 * `requestVolumeAlarm`): Route 53 can watch neither metric-math nor
 * composite alarms, so it combines the two itself.
 */
export class FallbackRateAlarm extends Construct {
  /** The alarm name this library uses for a region's fallback-rate alarm. */
  static nameFor(agentName: string, region: string): string {
    return `${agentName}-${region}-fallback-rate`;
  }

  /** The name of the request-volume alarm beside the rate alarm `alarmName`. */
  static requestVolumeNameOf(alarmName: string): string {
    return `${alarmName}-request-volume`;
  }

  /** The name of the composite alarm (rate and volume) beside the rate alarm `alarmName`. */
  static compositeNameOf(alarmName: string): string {
    return `${alarmName}-composite`;
  }

  /** The fallback-rate alarm (named `alarmName`). */
  readonly alarm: cloudwatch.Alarm;
  /** The metric the alarm watches (a share from 0 to 1). */
  readonly metric: cloudwatch.Metric;
  /** The fallback share, in percent, above which the rate alarm fires. */
  readonly thresholdPercent: number;
  /** In ALARM while the region had at least `minRequests` requests per period. */
  readonly requestVolumeAlarm: cloudwatch.Alarm;
  /** The rate alarm and the request-volume alarm both in ALARM: the region's alarm for people (notifications, dashboards). */
  readonly compositeAlarm: cloudwatch.CompositeAlarm;
  /** Requests a period must have for its fallback rate to count. */
  readonly minRequests: number;
  /** The topic the composite alarm notifies. */
  readonly topic: sns.ITopic;
  /** The topic the rate and request-volume alarms notify. */
  readonly stateChangeTopic: sns.ITopic;
  /** The key of the topics created here, made on first need. */
  private topicKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: FallbackRateAlarmProps) {
    super(scope, id);
    const threshold = props.thresholdPercent ?? 20;
    const period = props.period ?? Duration.minutes(1);
    const evaluationPeriods = props.evaluationPeriods ?? 5;
    const datapointsToAlarm = props.datapointsToAlarm ?? 3;
    const minRequests = props.minRequests ?? 20;
    this.validate(props, { threshold, period, evaluationPeriods, datapointsToAlarm, minRequests });
    if (threshold < NOISY_THRESHOLD_PERCENT) {
      Annotations.of(this).addWarningV2(
        'cdk-multi-region-agent:fallbackRateThresholdLow',
        `thresholdPercent ${threshold} is below ${NOISY_THRESHOLD_PERCENT}: short throttling bursts of a healthy endpoint will fire this alarm`,
      );
    }

    this.thresholdPercent = threshold;
    this.minRequests = minRequests;
    const region = props.metrics.region;
    const window = `in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${period.toMinutes()} min`;
    const evaluation = { evaluationPeriods, datapointsToAlarm, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    this.metric = props.metrics.fallbackRatio({ period });
    this.alarm = new cloudwatch.Alarm(this, 'Resource', {
      alarmName: props.alarmName,
      alarmDescription: `More than ${threshold}% of the agent's requests in ${region} were answered by a fallback (another region or a degraded model) ${window}. The metric is the share of requests (0-1). Alone it also fires in a quiet region; ${FallbackRateAlarm.compositeNameOf(props.alarmName)} needs ${minRequests} requests per period as well.`,
      metric: this.metric,
      threshold: threshold / 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...evaluation,
    });
    this.requestVolumeAlarm = new cloudwatch.Alarm(this, 'RequestVolume', {
      alarmName: FallbackRateAlarm.requestVolumeNameOf(props.alarmName),
      alarmDescription: `The agent in ${region} had at least ${minRequests} requests ${window}: enough for its fallback rate to count.`,
      metric: props.metrics.requestVolume({ period }),
      threshold: minRequests,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...evaluation,
    });
    this.compositeAlarm = new cloudwatch.CompositeAlarm(this, 'Composite', {
      compositeAlarmName: FallbackRateAlarm.compositeNameOf(props.alarmName),
      alarmDescription: `More than ${threshold}% of the agent's requests in ${region} fell back while it had at least ${minRequests} requests per period (${window}).`,
      alarmRule: cloudwatch.AlarmRule.allOf(this.alarm, this.requestVolumeAlarm),
    });
    this.topic = props.topic ?? this.newTopic('Notifications', props, `${region} agent alarm (fallback rate with request volume)`);
    this.stateChangeTopic = props.stateChangeTopic ?? this.newTopic('StateChanges', props, `${region} agent alarm inputs (rate, request volume)`);
    const notify = (alarm: cloudwatch.AlarmBase, topic: sns.ITopic) => {
      const action = new actions.SnsAction(topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    };
    notify(this.compositeAlarm, this.topic);
    notify(this.alarm, this.stateChangeTopic);
    notify(this.requestVolumeAlarm, this.stateChangeTopic);
  }

  /** An encrypted topic that only this construct's alarms may publish to (the names all start with the rate alarm's). */
  private newTopic(id: string, props: FallbackRateAlarmProps, displayName: string): sns.ITopic {
    this.topicKey ??= props.topicEncryptionKey ?? createAgentKey(this, 'TopicKey', `Alarm topics of ${this.node.path}`);
    return new AlarmTopic(this, id, { displayName, alarmNamePrefix: props.alarmName, encryptionKey: this.topicKey }).topic;
  }

  private validate(
    props: FallbackRateAlarmProps,
    values: { threshold: number; period: Duration; evaluationPeriods: number; datapointsToAlarm: number; minRequests: number },
  ): void {
    const { threshold, period, evaluationPeriods, datapointsToAlarm, minRequests } = values;
    if (!Number.isInteger(minRequests) || minRequests < 1) {
      throw new MultiRegionAgentError('InvalidMinRequests', `minRequests must be a positive integer (requests per period), got ${minRequests}`, this);
    }
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
    // CloudWatch refuses control characters in alarm names. The derived names (the longest adds '-request-volume') must fit CloudWatch's 255 characters too.
    const maxLength = 255 - FallbackRateAlarm.requestVolumeNameOf('').length;
    if (!Token.isUnresolved(props.alarmName) && !new RegExp(`^[^\\u0000-\\u001f]{1,${maxLength}}$`).test(props.alarmName)) {
      throw new MultiRegionAgentError(
        'InvalidAlarmName',
        `alarmName must be 1 to ${maxLength} printable characters (derived alarm names add a suffix), got '${props.alarmName}'`,
        this,
      );
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
    for (const [prop, topic] of [
      ['topic', props.topic],
      ['stateChangeTopic', props.stateChangeTopic],
    ] as const) {
      const topicRegion = topic?.env.region;
      if (topicRegion && !Token.isUnresolved(topicRegion) && topicRegion !== stackRegion) {
        throw new MultiRegionAgentError(
          'TopicInOtherRegion',
          `${prop}: an alarm can only notify an SNS topic of its own region (${stackRegion}), got a topic in ${topicRegion}`,
          this,
        );
      }
    }
  }
}
