import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { targetKey } from '../../lambda/agent/chain/types';
import { CONFIG_ENV_VAR, type ChainTarget, type RuntimeConfigInput } from '../../lambda/agent/config';
import { DimensionName, MetricName } from '../../lambda/agent/metric-names';
import { grantBedrockTargets } from '../chain/bedrock-grants';
import { stageDirectory } from '../runtime/code-staging';
import { MultiRegionAgentError } from '../errors';
import { LogEncryption } from '../governance/log-encryption';
import type { ResolvedProviderTarget, ResolvedTarget } from '../chain/model-chain';
import type { ProviderKeys } from '../providers/provider-keys';
import { probeHandler, RUNTIME_HANDLER } from '../runtime/runtime-bundle';
import type { TargetHealthTable } from './target-health-table';

/** How often the chain's targets are probed. */
export interface TargetProbeOptions {
  /**
   * Time between two probes of every target: whole minutes, from 1 to 60.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
}

/** Properties of a {@link TargetProbe}: the region's configuration and targets, what it may read, and its logs. */
export interface TargetProbeProps extends TargetProbeOptions {
  /** The region's runtime configuration (AGENT_CONFIG): the chain, deadlines, the shared-health table. */
  readonly runtimeConfig: RuntimeConfigInput;
  /** The region's resolved targets: the probe may invoke exactly these, as the runtime may. */
  readonly targets: readonly ResolvedTarget[];
  /** The region's targets outside Bedrock, probed through their APIs with the runtime's keys. @default - none */
  readonly providerTargets?: readonly ResolvedProviderTarget[];
  /** The secrets of those targets' keys: the probe may read exactly these, as the runtime may. @default - none: the probe may read no secret */
  readonly providerKeys?: ProviderKeys;
  /** The region's shared health, which learns of the targets that answered. @default - none */
  readonly healthTable?: TargetHealthTable;
  /** How long the probe's log group keeps its records. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** How the probe's log group is encrypted. @default LogEncryption.kms() */
  readonly logEncryption?: LogEncryption;
  /** The CloudWatch namespace of the probe's metrics. @default 'MultiRegionAgent' */
  readonly metricsNamespace?: string;
}

/**
 * The scheduled probe of a region's fallback links: an EventBridge Scheduler
 * schedule invokes a small function every `interval`, which calls every
 * target of the chain once with a minimal request (a fixed one-word prompt,
 * one output token, no user data), publishes `ProbeSuccess` and
 * `ProbeTimeToFirstToken` per target, and tells the shared health of the
 * targets that answered. One alarm per target fires when three probes in a
 * row fail (or none ran), so a broken link is known before a user needs it;
 * `addAlarmAction()` says whom to tell (`MultiRegionAgent` adds the region's
 * alarm topic).
 */
export class TargetProbe extends Construct {
  /** The probe's Lambda function. */
  readonly function: lambda.Function;
  /** The EventBridge Scheduler schedule that runs it. */
  readonly schedule: scheduler.CfnSchedule;
  /** Per target key (`<modelId>@<region>`), the alarm on its probes. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: TargetProbeProps) {
    super(scope, id);
    const interval = props.interval ?? Duration.minutes(1);
    const minutes = interval.toSeconds() / 60;
    if (!Token.isUnresolved(interval.toSeconds()) && !(Number.isInteger(minutes) && minutes >= 1 && minutes <= 60)) {
      throw new MultiRegionAgentError('InvalidProbeInterval', `probes.interval must be whole minutes from 1 to 60, got ${interval.toSeconds()} s`, this);
    }
    const region = Stack.of(this).region;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: (props.logEncryption ?? LogEncryption.kms()).keyFor(this, 'LogKey'),
    });
    // Our own role: writing to its one log group, instead of the managed basic-execution policy for every group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Agent target probe (${region})`,
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });
    const firstTokenTimeoutMs = props.runtimeConfig.deadlines?.firstTokenTimeoutMs ?? 5000;
    this.function = new lambda.Function(this, 'Default', {
      role,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Every target is probed at once, each within its first-token deadline.
      timeout: Duration.millis(firstTokenTimeoutMs + 15_000),
      // One probe at a time: a slow one is never joined by the next.
      reservedConcurrentExecutions: 1,
      logGroup,
      environment: { [CONFIG_ENV_VAR]: JSON.stringify(props.runtimeConfig) },
      description: `Multi-region agent target probe (${region})`,
      // Stacks whose bundling is skipped (`aws:cdk:bundling-stacks`) are not deployed: their asset goes without the handler.
      code: lambda.Code.fromAsset(stageDirectory(Stack.of(this).bundlingRequired ? probeHandler() : {})),
      handler: RUNTIME_HANDLER,
    });
    grantBedrockTargets(this.function, Stack.of(this), props.targets);
    props.providerKeys?.grantRead(this.function);
    props.healthTable?.grantHealthWrites(this.function);
    // The L2 Schedule's target role is shared by the stack and may invoke every version (`<arn>:*`): this one invokes only this function.
    const schedulerRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Invokes the agent target probe (${region})`,
      inlinePolicies: {
        Invoke: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] })],
        }),
      },
    });
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      scheduleExpression: `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`,
      flexibleTimeWindow: { mode: 'OFF' },
      // A missed probe is not worth repeating: the next one comes within the interval.
      target: { arn: this.function.functionArn, roleArn: schedulerRole.roleArn, retryPolicy: { maximumRetryAttempts: 0 } },
      description: `Probes the agent's model targets in ${region}`,
    });
    const probed: readonly ChainTarget[] = [...props.targets, ...(props.providerTargets ?? [])];
    this.alarms = Object.fromEntries(probed.map((target) => [targetKey(target), this.alarmFor(target, interval, props.metricsNamespace, region)]));
  }

  /** Notifies `action` (e.g. an `SnsAction` on the region's alarm topic) when a link breaks and when it mends. */
  addAlarmAction(action: cloudwatch.IAlarmAction): void {
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }

  /** Three probes in a row without an answer (or without a probe at all) is a broken link. */
  private alarmFor(target: ChainTarget, interval: Duration, namespace: string | undefined, region: string): cloudwatch.Alarm {
    const metric = new cloudwatch.Metric({
      namespace: namespace ?? 'MultiRegionAgent',
      metricName: MetricName.ProbeSuccess,
      dimensionsMap: { [DimensionName.Region]: region, [DimensionName.Target]: targetKey(target) },
      statistic: 'Maximum',
      period: interval,
    });
    return new cloudwatch.Alarm(this, `Alarm${targetKey(target).replace(/[^A-Za-z0-9]/g, '')}`, {
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `Probes of ${targetKey(target)} (${target.tier}) from ${region} failed three times in a row: this fallback link is broken`,
    });
  }
}
