import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TIERS } from '../../lambda/agent/config';
import { DEFAULT_METRICS_NAMESPACE, DimensionName, MetricName } from '../../lambda/agent/metric-names';
import { AgentMetrics } from './agent-metrics';
import { MultiRegionAgentError, withConstructPath } from '../errors';
import { validateJurisdictions, type Jurisdiction } from '../governance/jurisdiction';

/** Route 53 publishes health-check metrics in us-east-1 only. */
const ROUTE53_METRICS_REGION = 'us-east-1';
const HALF = 12;
const HEIGHT = 6;

/** Properties of a {@link FallbackDashboard}: the agent's name, its jurisdictions and their alarms. */
export interface FallbackDashboardProps {
  /** Prefixes the dashboard's name (`<agentName>-fallbacks`), which must be unique in the account. */
  readonly agentName: string;
  /** Every jurisdiction of the agent; each of their regions is shown. */
  readonly jurisdictions: readonly Jurisdiction[];
  /**
   * Conversation table name per jurisdiction name, for DynamoDB's own
   * signals in the jurisdiction's home region. Plain strings: a reference to
   * a table in another region's stack cannot cross regions.
   * @default - no DynamoDB widgets
   */
  readonly tableNames?: Readonly<Record<string, string>>;
  /**
   * Fallback-rate alarm name per region (`FallbackRateAlarm.nameFor`), each
   * shown in its region with its state.
   * @default - no alarm widgets
   */
  readonly alarmNames?: Readonly<Record<string, string>>;
  /**
   * Draws the alarms' threshold on the fallback-rate graph.
   * @default 20
   */
  readonly fallbackRateThresholdPercent?: number;
  /**
   * The runtime's metrics namespace.
   * @default 'MultiRegionAgent'
   */
  readonly namespace?: string;
  /**
   * Period of every graph; a whole number of minutes.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

/**
 * One CloudWatch dashboard over every region of the agent: requests by path,
 * fallback rate (metric math), time to first token p50/p90/p99, target errors
 * by reason, breaker openings and degraded state, estimated cost by region
 * and path, tool calls, errors and latency by tool with steps per message
 * and step fallbacks, and beside them the services' own signals: Bedrock throttles and
 * time to first token per model, DynamoDB replication latency and
 * conditional-check failures, Route 53 health-check status, and the
 * regions' fallback-rate alarms.
 *
 * Every metric names its region (and account), so the dashboard lives in any
 * one region's stack; alarms stay in their regions' stacks (`FallbackRateAlarm`).
 * Adding a region adds its lines; nothing else changes.
 */
export class FallbackDashboard extends Construct {
  /** The dashboard name this library uses for an agent. */
  static nameFor(agentName: string): string {
    return `${agentName}-fallbacks`;
  }

  /** The CloudWatch dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Per-region metric factories, the same metrics as each runtime's `AgentRuntime.metrics` (account: the dashboard's). */
  readonly metrics: readonly AgentMetrics[];

  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: FallbackDashboardProps) {
    super(scope, id);
    this.validate(props);
    this.period = props.period ?? Duration.minutes(1);
    const namespace = props.namespace ?? DEFAULT_METRICS_NAMESPACE;
    // Metrics name their region; their account is the dashboard's own.
    this.metrics = props.jurisdictions.flatMap((jurisdiction) => jurisdiction.regions.map((region) => new AgentMetrics({ region, namespace })));
    const perRegion = (make: (metrics: AgentMetrics) => cloudwatch.IMetric[]) => this.metrics.flatMap(make);
    const threshold = props.fallbackRateThresholdPercent ?? 20;

    const rows: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.TextWidget({
          markdown: [
            `# ${props.agentName}: fallbacks in ${this.metrics.length} regions`,
            "Paths: **primary** (the region's own endpoint), **regional-fallback** (same model, another region of the jurisdiction), **model-fallback** (a degraded model), **provider-fallback** (an outside provider's API, degraded). Fallback rate = Fallbacks / Requests × 100, where Fallbacks counts every request the primary did not serve, failed ones included. A step is one model call of a message's tool loop.",
          ].join('\n\n'),
          width: 2 * HALF,
          height: 2,
        }),
      ],
      [
        this.graph(
          'Requests by path',
          perRegion((metrics) => TIERS.map((tier) => metrics.requestsByPath(tier, { period: this.period, label: `${metrics.region} ${tier}` }))),
          { stacked: true },
        ),
        this.graph(
          'Fallback rate %',
          perRegion((metrics) => [metrics.fallbackRate({ period: this.period })]),
          {
            leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
            leftAnnotations: [{ value: threshold, label: `alarm threshold ${threshold}%`, color: cloudwatch.Color.RED }],
          },
        ),
      ],
      [
        this.graph(
          'Time to first token (ms) p50 / p90 / p99',
          perRegion((metrics) =>
            ['p50', 'p90', 'p99'].map((statistic) => metrics.timeToFirstToken({ period: this.period, statistic, label: `${metrics.region} ${statistic}` })),
          ),
        ),
        this.graph(
          'Target errors by reason',
          perRegion((metrics) => [this.searchBy(metrics, MetricName.TargetErrors, DimensionName.Reason, 'Sum')]),
          { stacked: true },
        ),
      ],
      [
        this.graph(
          'Failed requests, breakers opened and answers with degraded state',
          perRegion((metrics) => [
            metrics.failedRequests({ period: this.period, label: `${metrics.region} failed` }),
            metrics.breakerOpened({ period: this.period, label: `${metrics.region} breaker opened` }),
            metrics.stateDegraded({ period: this.period, label: `${metrics.region} state degraded` }),
          ]),
        ),
        this.graph(
          'Estimated cost (USD) by region and path',
          perRegion((metrics) => TIERS.map((tier) => metrics.estimatedCost(tier, { period: this.period, label: `${metrics.region} ${tier}` }))),
          { stacked: true },
        ),
      ],
      [
        this.graph(
          'Bedrock: throttled invocations per model',
          perRegion((metrics) => [
            this.search(metrics.region, '{AWS/Bedrock,ModelId} MetricName="InvocationThrottles"', 'Sum', `${metrics.region} \${PROP('Dim.ModelId')}`),
          ]),
        ),
        this.graph(
          'Bedrock: time to first token per model (ms, p90)',
          perRegion((metrics) => [
            this.search(metrics.region, '{AWS/Bedrock,ModelId} MetricName="TimeToFirstToken"', 'p90', `${metrics.region} \${PROP('Dim.ModelId')}`),
          ]),
        ),
      ],
      ...this.toolRows(perRegion),
      ...this.resilienceRows(perRegion),
      ...inRows([...this.tableWidgets(props), this.healthCheckWidget()]),
      ...inRows(this.alarmWidgets(props.alarmNames ?? {}), 4),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: FallbackDashboard.nameFor(props.agentName),
      widgets: rows,
      defaultInterval: Duration.hours(3),
    });
  }

  private validate(props: FallbackDashboardProps): void {
    if (!/^[A-Za-z0-9_-]{1,245}$/.test(props.agentName)) {
      throw new MultiRegionAgentError(
        'InvalidAgentName',
        `agentName must be 1 to 245 letters, digits, - or _ (it prefixes the dashboard name), got '${props.agentName}'`,
        this,
      );
    }
    withConstructPath(this, () => validateJurisdictions(props.jurisdictions));
    const seconds = (props.period ?? Duration.minutes(1)).toSeconds();
    if (seconds < 60 || seconds % 60 !== 0)
      throw new MultiRegionAgentError('InvalidPeriod', `period must be a whole number of minutes, got ${seconds} s`, this);
    const threshold = props.fallbackRateThresholdPercent ?? 20;
    if (!(threshold > 0 && threshold < 100)) {
      throw new MultiRegionAgentError('InvalidThreshold', `fallbackRateThresholdPercent must be greater than 0 and less than 100, got ${threshold}`, this);
    }
    const names = props.jurisdictions.map((jurisdiction) => jurisdiction.name);
    for (const [jurisdiction, tableName] of Object.entries(props.tableNames ?? {})) {
      if (!names.includes(jurisdiction))
        throw new MultiRegionAgentError('UnknownJurisdiction', `tableNames: '${jurisdiction}' is not one of the jurisdictions (${names.join(', ')})`, this);
      if (Token.isUnresolved(tableName)) {
        throw new MultiRegionAgentError(
          'TableNameToken',
          `tableNames: the name of '${jurisdiction}''s table must be a plain string (e.g. ConversationTable.tableNameFor), not a reference into another region's stack`,
          this,
        );
      }
    }
    const regions = props.jurisdictions.flatMap((jurisdiction) => jurisdiction.regions);
    for (const region of Object.keys(props.alarmNames ?? {})) {
      if (!regions.includes(region))
        throw new MultiRegionAgentError('UnknownRegion', `alarmNames: ${region} is not a region of the jurisdictions (${regions.join(', ')})`, this);
    }
  }

  private graph(title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, width: HALF, height: HEIGHT, period: this.period, ...options });
  }

  /** A SEARCH of one region's metrics; `label` may use dynamic labels such as `${PROP('Dim.ModelId')}`. */
  private search(region: string, query: string, statistic: string, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('${query}', '${statistic}', ${this.period.toSeconds()})`,
      label,
      period: this.period,
      searchRegion: region,
    });
  }

  /**
   * The agents' tool loops: calls, errors and latency by tool (searched, so
   * that every tool of every region shows without being listed here), steps
   * per message and the steps that fell back.
   */
  private toolRows(perRegion: (make: (metrics: AgentMetrics) => cloudwatch.IMetric[]) => cloudwatch.IMetric[]): cloudwatch.IWidget[][] {
    return [
      [
        this.graph(
          'Tool calls by tool',
          perRegion((metrics) => [this.searchBy(metrics, MetricName.ToolCalls, DimensionName.Tool, 'Sum')]),
          { stacked: true },
        ),
        this.graph(
          'Tool errors by tool',
          perRegion((metrics) => [this.searchBy(metrics, MetricName.ToolErrors, DimensionName.Tool, 'Sum')]),
          { stacked: true },
        ),
      ],
      [
        this.graph(
          'Tool latency (ms) p50 / p99 by tool',
          perRegion((metrics) =>
            ['p50', 'p99'].map((statistic) => this.searchBy(metrics, MetricName.ToolLatency, DimensionName.Tool, statistic, ` ${statistic}`)),
          ),
        ),
        this.graph(
          'Steps per message (average) and step fallbacks',
          perRegion((metrics) => [metrics.steps({ period: this.period, label: `${metrics.region} steps per message` })]),
          { right: perRegion((metrics) => [metrics.stepFallbacks({ period: this.period, label: `${metrics.region} step fallbacks` })]) },
        ),
      ],
    ];
  }

  /** A SEARCH of one region's runtime metric by a second dimension beside Region, one line per value of it. */
  private searchBy(metrics: AgentMetrics, metricName: MetricName, dimension: string, statistic: string, labelSuffix = ''): cloudwatch.MathExpression {
    return this.search(
      metrics.region,
      `{${metrics.namespace},${DimensionName.Region},${dimension}} MetricName="${metricName}" ${DimensionName.Region}="${metrics.region}"`,
      statistic,
      `${metrics.region} \${PROP('Dim.${dimension}')}${labelSuffix}`,
    );
  }

  /**
   * The fallback links as the probes see them (success and first-token time
   * per target, searched so that every target of every region shows), and
   * what protects the targets: the retry budget's refusals, hedges, and the
   * shared health's breaker openings and failures.
   */
  private resilienceRows(perRegion: (make: (metrics: AgentMetrics) => cloudwatch.IMetric[]) => cloudwatch.IMetric[]): cloudwatch.IWidget[][] {
    const line = (make: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric, metrics: AgentMetrics, what: string) =>
      make({ period: this.period, label: `${metrics.region} ${what}` });
    return [
      [
        this.graph(
          'Fallback links: probe success by target (minimum; 0 is a failed probe)',
          perRegion((metrics) => [this.searchBy(metrics, MetricName.ProbeSuccess, DimensionName.Target, 'Minimum')]),
          { leftYAxis: { min: 0, max: 1, showUnits: false } },
        ),
        this.graph(
          'Fallback links: probe time to first token by target (ms, p50)',
          perRegion((metrics) => [this.searchBy(metrics, MetricName.ProbeTimeToFirstToken, DimensionName.Target, 'p50')]),
        ),
      ],
      [
        this.graph(
          'Retry budget refusals, hedges started and hedges won',
          perRegion((metrics) => [
            line((options) => metrics.retryBudgetRefusals(options), metrics, 'budget refusals'),
            line((options) => metrics.hedgesStarted(options), metrics, 'hedges started'),
            line((options) => metrics.hedgesWon(options), metrics, 'hedges won'),
          ]),
        ),
        this.graph(
          "Shared target health: skips on another environment's breaker, breakers opened, unreadable records, table errors",
          perRegion((metrics) => [
            line((options) => metrics.sharedBreakerSkips(options), metrics, 'skipped on shared breaker'),
            line((options) => metrics.breakerOpened(options), metrics, 'breakers opened'),
            line((options) => metrics.sharedHealthInvalidRecords(options), metrics, 'unreadable records'),
            line((options) => metrics.sharedHealthErrors(options), metrics, 'table errors'),
          ]),
        ),
      ],
    ];
  }

  /** DynamoDB's own signals of each jurisdiction's table, from its home region (where turns are written). */
  private tableWidgets(props: FallbackDashboardProps): cloudwatch.IWidget[] {
    return props.jurisdictions
      .filter((jurisdiction) => props.tableNames?.[jurisdiction.name] !== undefined)
      .map((jurisdiction) => {
        const TableName = props.tableNames![jurisdiction.name];
        const home = jurisdiction.homeRegion;
        const dynamo = (metricName: string, dimensionsMap: Record<string, string>, statistic: string, label: string) =>
          new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName, dimensionsMap, statistic, period: this.period, region: home, label });
        const replicas = jurisdiction.regions.filter((region) => region !== home);
        return this.graph(
          `DynamoDB ${TableName} (home ${home})`,
          [dynamo('ConditionalCheckFailedRequests', { TableName }, 'Sum', 'conditional check failures (turn conflicts)')],
          {
            right: replicas.map((region) => dynamo('ReplicationLatency', { TableName, ReceivingRegion: region }, 'Average', `replication to ${region} (ms)`)),
          },
        );
      });
  }

  private healthCheckWidget(): cloudwatch.IWidget {
    // Every health check of the account: their ids are only known in the region stacks.
    return this.graph(
      'Route 53 health checks (1 = healthy)',
      [this.search(ROUTE53_METRICS_REGION, '{AWS/Route53,HealthCheckId} MetricName="HealthCheckStatus"', 'Minimum', "${PROP('Dim.HealthCheckId')}")],
      { leftYAxis: { min: 0, max: 1, showUnits: false } },
    );
  }

  /** Each region's alarm in its region: an alarm widget shows the alarm's metric, threshold and state. */
  private alarmWidgets(alarmNames: Readonly<Record<string, string>>): cloudwatch.IWidget[] {
    const stack = Stack.of(this);
    return Object.entries(alarmNames).map(([region, alarmName]) => {
      const arn = stack.formatArn({ service: 'cloudwatch', region, resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      return new cloudwatch.AlarmWidget({
        title: `${region} fallback-rate alarm (share of requests)`,
        alarm: cloudwatch.Alarm.fromAlarmArn(this, `Alarm-${region}`, arn),
        region,
        width: HALF / 2,
        height: HEIGHT,
        leftYAxis: { min: 0, max: 1, showUnits: false },
      });
    });
  }
}

/** Widgets in rows of `perRow`. */
function inRows(widgets: cloudwatch.IWidget[], perRow = 2): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [];
  for (let index = 0; index < widgets.length; index += perRow) rows.push(widgets.slice(index, index + perRow));
  return rows;
}
