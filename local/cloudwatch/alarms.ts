/**
 * CloudWatch metric alarms read from synthesized templates
 * (`AWS::CloudWatch::Alarm` on one metric) and evaluated as CloudWatch
 * does: the statistic of each period, the most recent `EvaluationPeriods`
 * periods, ALARM when at least `DatapointsToAlarm` of them breach, and
 * missing periods treated as `TreatMissingData` says: breaching or
 * notBreaching; with ignore, fewer points than `DatapointsToAlarm` keep the
 * state; with missing (the default) too, except that no data at all is
 * INSUFFICIENT_DATA.
 */
import { resolveCfn, type CfnEnvironment } from './cfn';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmDefinition {
  readonly arn: string;
  readonly name: string;
  readonly region: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

const COMPARISONS: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanThreshold: (value, threshold) => value > threshold,
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

interface AlarmProperties {
  AlarmName?: unknown;
  Namespace?: unknown;
  MetricName?: unknown;
  Dimensions?: Array<{ Name: string; Value: string }>;
  Statistic?: unknown;
  ExtendedStatistic?: unknown;
  Period?: unknown;
  EvaluationPeriods?: unknown;
  DatapointsToAlarm?: unknown;
  Threshold?: unknown;
  ComparisonOperator?: unknown;
  TreatMissingData?: unknown;
  Metrics?: unknown;
}

/**
 * The named single-metric alarms of a template, in the stack's environment.
 * Alarms on metric math, anomaly bands or unnamed alarms are left out (and
 * listed in `skipped`, with why).
 */
export function alarmsOfTemplate(
  template: { Resources?: Record<string, { Type?: string; Properties?: unknown }> },
  env: CfnEnvironment,
): { alarms: AlarmDefinition[]; skipped: string[] } {
  const alarms: AlarmDefinition[] = [];
  const skipped: string[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    // Only what the evaluation reads: actions and descriptions may name resources known only after deployment (a topic's ARN).
    const {
      AlarmActions: _alarm,
      OKActions: _ok,
      InsufficientDataActions: _insufficient,
      AlarmDescription: _description,
      ...evaluated
    } = (resource.Properties ?? {}) as Record<string, unknown>;
    const properties = resolveCfn(evaluated, env) as AlarmProperties;
    const name = properties.AlarmName;
    const statistic = properties.Statistic ?? properties.ExtendedStatistic;
    const comparison = String(properties.ComparisonOperator);
    if (typeof name !== 'string') skipped.push(`${logicalId}: no AlarmName, so no dashboard can name it`);
    else if (properties.Metrics !== undefined) skipped.push(`${name}: alarms on metric math are not evaluated locally`);
    else if (!(comparison in COMPARISONS)) skipped.push(`${name}: comparison ${comparison} is not evaluated locally`);
    else {
      const evaluationPeriods = Number(properties.EvaluationPeriods);
      alarms.push({
        arn: `arn:${env.partition ?? 'aws'}:cloudwatch:${env.region}:${env.accountId}:alarm:${name}`,
        name,
        region: env.region,
        namespace: String(properties.Namespace),
        metricName: String(properties.MetricName),
        dimensions: Object.fromEntries((properties.Dimensions ?? []).map((dimension) => [dimension.Name, dimension.Value])),
        statistic: String(statistic),
        periodSeconds: Number(properties.Period),
        evaluationPeriods,
        datapointsToAlarm: Number(properties.DatapointsToAlarm ?? evaluationPeriods),
        threshold: Number(properties.Threshold),
        comparisonOperator: comparison,
        treatMissingData: (properties.TreatMissingData as AlarmDefinition['treatMissingData'] | undefined) ?? 'missing',
      });
    }
  }
  return { alarms, skipped };
}

/**
 * The alarm's state after each period of `datapoints` (the statistic of
 * each period, null where a period has no data), evaluated over the
 * `evaluationPeriods` periods ending there. The last one is its state now.
 */
export function alarmStates(alarm: AlarmDefinition, datapoints: ReadonlyArray<number | null>): AlarmState[] {
  const breaches = COMPARISONS[alarm.comparisonOperator];
  const states: AlarmState[] = [];
  let state: AlarmState = 'INSUFFICIENT_DATA';
  for (let end = 0; end < datapoints.length; end++) {
    const window = datapoints.slice(Math.max(0, end - alarm.evaluationPeriods + 1), end + 1);
    const breaching = window.filter((value) => (value === null ? alarm.treatMissingData === 'breaching' : breaches(value, alarm.threshold))).length;
    const present = window.filter((value) => value !== null).length;
    const countsMissing = alarm.treatMissingData === 'breaching' || alarm.treatMissingData === 'notBreaching';
    if (breaching >= alarm.datapointsToAlarm) state = 'ALARM';
    else if (countsMissing || present >= alarm.datapointsToAlarm) state = 'OK';
    // Too few points to decide: `ignore` keeps the state, `missing` too unless there is no data at all.
    else if (present === 0 && alarm.treatMissingData === 'missing') state = 'INSUFFICIENT_DATA';
    states.push(state);
  }
  return states;
}
