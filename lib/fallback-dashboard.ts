import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TIERS } from '../lambda/agent/config';
import { DEFAULT_METRICS_NAMESPACE, DimensionName, MetricName } from '../lambda/agent/metric-names';
import { AgentMetrics } from './agent-metrics';
import { MultiRegionAgentError } from './errors';
import type { Jurisdiction } from './jurisdiction';

export interface FallbackDashboardProps {
  /** Names the dashboard (`<agentName>-fallbacks`), unique per account. */
  readonly agentName: string;
  /** Every jurisdiction of the agent; each of their regions is shown. */
  readonly jurisdictions: readonly Jurisdiction[];
  /** Conversation table name per jurisdiction name, for DynamoDB's own signals. @default - no DynamoDB widgets */
  readonly tableNames?: Record<string, string>;
  /** Fallback-rate alarm name per region, for the alarm status widget. @default - no alarm widget */
  readonly alarmNames?: Record<string, string>;
  /** Draws the alarm threshold on the fallback-rate graph. @default 20 */
  readonly fallbackRateThresholdPercent?: number;
  /** @default 'MultiRegionAgent' */
  readonly namespace?: string;
  /** @default Duration.minutes(1) */
  readonly period?: Duration;
}

/**
 * One CloudWatch dashboard over every region: requests by path, fallback
 * rate, time to first token, target errors by reason, breaker openings,
 * degraded state, estimated cost, and beside them the services' own signals
 * (Bedrock throttles and time to first token, DynamoDB replication and
 * conditional-check failures, Route 53 health checks). Every metric carries
 * its region, so the dashboard can live in any one region.
 */
export class FallbackDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Per-region metric factories, the same the alarms use. */
  readonly metrics: readonly AgentMetrics[];

  constructor(scope: Construct, id: string, props: FallbackDashboardProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(props.agentName)) {
      throw new MultiRegionAgentError('InvalidAgentName', `agentName must be letters, digits, - and _ (a dashboard name), got '${props.agentName}'`, this);
    }
    if (props.jurisdictions.length === 0) throw new MultiRegionAgentError('NoJurisdictions', 'jurisdictions must list at least one jurisdiction', this);
    const period = props.period ?? Duration.minutes(1);
    const account = Stack.of(this).account;
    const namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
    this.metrics = props.jurisdictions.flatMap((jurisdiction) => jurisdiction.regions.map((region) => new AgentMetrics({ region, account, namespace })));
    const each = <T>(make: (metrics: AgentMetrics) => T[]) => this.metrics.flatMap(make);
    const search = (region: string, expression: string, label: string, statistic = 'Sum') =>
      new cloudwatch.MathExpression({ expression: `SEARCH('${expression}', '${statistic}', ${period.toSeconds()})`, label, period, searchRegion: region, searchAccount: account });
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, period, ...options });

    const widgets: cloudwatch.IWidget[][] = [
      [new cloudwatch.TextWidget({ markdown: `# ${props.agentName}: fallbacks across ${this.metrics.length} regions\nFallback rate = Fallbacks / Requests × 100. Paths: primary, regional-fallback, model-fallback (degraded).`, width: 24, height: 2 })],
      [
        graph('Requests by path', each((metrics) => TIERS.map((tier) => metrics.requestsByPath(tier, { period, label: `${metrics.region} ${tier}` }))), { stacked: true }),
        graph('Fallback rate %', each((metrics) => [metrics.fallbackRate({ period })]), {
          leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
          leftAnnotations: [{ value: props.fallbackRateThresholdPercent ?? 20, label: 'alarm threshold', color: cloudwatch.Color.RED }],
        }),
      ],
      [
        graph('Time to first token (ms) p50 / p90 / p99', each((metrics) => ['p50', 'p90', 'p99'].map((statistic) => metrics.timeToFirstToken({ period, statistic, label: `${metrics.region} ${statistic}` })))),
        graph(
          'Target errors by reason',
          each((metrics) => [search(metrics.region, `{${namespace},${DimensionName.Region},${DimensionName.Reason}} MetricName="${MetricName.TargetErrors}" ${DimensionName.Region}="${metrics.region}"`, `${metrics.region}`)]),
          { stacked: true },
        ),
      ],
      [
        graph('Breaker openings and degraded state', each((metrics) => [metrics.breakerOpened({ period, label: `${metrics.region} breaker opened` }), metrics.stateDegraded({ period, label: `${metrics.region} state degraded` })])),
        graph('Estimated cost (USD) by region and path', each((metrics) => TIERS.map((tier) => metrics.estimatedCost(tier, { period, label: `${metrics.region} ${tier}` }))), { stacked: true }),
      ],
      [
        graph('Bedrock: invocation throttles per model', each((metrics) => [search(metrics.region, '{AWS/Bedrock,ModelId} MetricName="InvocationThrottles"', `${metrics.region}`)])),
        graph('Bedrock: time to first token per model (ms)', each((metrics) => [search(metrics.region, '{AWS/Bedrock,ModelId} MetricName="TimeToFirstToken"', `${metrics.region}`, 'Average')])),
      ],
    ];

    const dynamoWidgets = props.jurisdictions
      .filter((jurisdiction) => props.tableNames?.[jurisdiction.name])
      .map((jurisdiction) => {
        const tableName = props.tableNames![jurisdiction.name];
        const dynamo = (metricName: string, dimensionsMap: Record<string, string>, statistic: string, label: string) =>
          new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName, dimensionsMap, statistic, period, region: jurisdiction.homeRegion, account, label });
        const replicas = jurisdiction.regions.filter((region) => region !== jurisdiction.homeRegion);
        return graph(`DynamoDB ${tableName} (home ${jurisdiction.homeRegion})`, [
          ...replicas.map((region) => dynamo('ReplicationLatency', { TableName: tableName, ReceivingRegion: region }, 'Average', `replication to ${region} (ms)`)),
          dynamo('ConditionalCheckFailedRequests', { TableName: tableName }, 'Sum', 'conditional check failures'),
        ]);
      });
    if (dynamoWidgets.length > 0) widgets.push(dynamoWidgets);

    const health = graph('Route 53 health checks (1 = healthy)', [search('us-east-1', '{AWS/Route53,HealthCheckId} MetricName="HealthCheckStatus"', 'health check', 'Minimum')], { leftYAxis: { min: 0, max: 1 } });
    const alarmNames = Object.entries(props.alarmNames ?? {});
    const alarmWidget = alarmNames.length
      ? [
          new cloudwatch.AlarmStatusWidget({
            title: 'Fallback-rate alarms',
            alarms: alarmNames.map(([region, name]) => cloudwatch.Alarm.fromAlarmArn(this, `Alarm-${region}`, Stack.of(this).formatArn({ service: 'cloudwatch', region, resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }))),
            width: 12,
            height: 6,
          }),
        ]
      : [];
    widgets.push([health, ...alarmWidget]);

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { dashboardName: `${props.agentName}-fallbacks`, widgets, defaultInterval: Duration.hours(3) });
  }
}
