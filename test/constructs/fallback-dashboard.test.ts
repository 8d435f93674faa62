import { Duration, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { TIERS } from '../../lambda/agent/config';
import { FallbackDashboard, type FallbackDashboardProps } from '../../lib/observability/fallback-dashboard';
import { FallbackRateAlarm } from '../../lib/observability/fallback-rate-alarm';
import { Jurisdiction } from '../../lib/governance/jurisdiction';
import { ACCOUNT, dashboardBody, euJurisdiction, regionStack, usJurisdiction, type DashboardWidget } from './routing-fixtures';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'];

function dashboardIn(props: Partial<FallbackDashboardProps> = {}): FallbackDashboard {
  const stack = regionStack('us-east-1');
  return new FallbackDashboard(stack, 'Dashboard', { agentName: 'support', jurisdictions: [usJurisdiction(), euJurisdiction()], ...props });
}

function widgetsOf(props: Partial<FallbackDashboardProps> = {}): DashboardWidget[] {
  return dashboardBody(dashboardIn(props).dashboard).widgets;
}

function widget(widgets: DashboardWidget[], title: string): DashboardWidget {
  const found = widgets.find((candidate) => candidate.properties.title === title);
  if (!found) throw new Error(`no widget titled '${title}' among: ${widgets.map((candidate) => candidate.properties.title).join(' | ')}`);
  return found;
}

/** A metric line of a graph: [namespace, name, dim, value, ..., options]. */
type Line = unknown[];
const optionsOf = (line: Line) =>
  line[line.length - 1] as { region?: string; stat?: string; id?: string; visible?: boolean; expression?: string; label?: string; accountId?: string };
const dimensionsOf = (line: Line): Record<string, unknown> => {
  const pairs = line.slice(2, -1);
  return Object.fromEntries(pairs.flatMap((value, index) => (index % 2 === 0 ? [[value, pairs[index + 1]]] : [])));
};
const metricLines = (graph: DashboardWidget, metricName: string) => (graph.properties.metrics as Line[]).filter((line) => line[1] === metricName);
const expressionLines = (graph: DashboardWidget) => (graph.properties.metrics as Line[]).filter((line) => line.length === 1).map(optionsOf);

describe('FallbackDashboard', () => {
  test('is named after the agent, so that two agents in one account never collide', () => {
    // GIVEN / WHEN
    const dashboard = dashboardIn();

    // THEN
    Template.fromStack(dashboard.dashboard.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'support-fallbacks' });
  });

  test("each region's fallback rate is metric math over that region's Fallbacks and Requests, 0 when there were no requests", () => {
    // GIVEN / WHEN
    const graph = widget(widgetsOf(), 'Fallback rate %');

    // THEN
    for (const region of REGIONS) {
      const suffix = region.replace(/-/g, '_');
      expect(expressionLines(graph)).toContainEqual(
        expect.objectContaining({
          expression: `IF(requests_${suffix} > 0, 100 * fallbacks_${suffix} / requests_${suffix}, 0)`,
          label: `${region} fallback rate %`,
        }),
      );
      for (const [metricName, id] of [
        ['Requests', `requests_${suffix}`],
        ['Fallbacks', `fallbacks_${suffix}`],
      ]) {
        const line = metricLines(graph, metricName).find((candidate) => optionsOf(candidate).id === id);
        expect(line?.[0]).toBe('MultiRegionAgent');
        expect(dimensionsOf(line!)).toEqual({ Region: region });
        expect(optionsOf(line!)).toEqual(expect.objectContaining({ region, stat: 'Sum', visible: false }));
      }
    }
    expect(graph.properties.annotations?.horizontal).toEqual([expect.objectContaining({ value: 20 })]);
  });

  test('requests by path, time to first token p50/p90/p99 and estimated cost are drawn for every region from its own region', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf();

    // THEN
    const requests = metricLines(widget(widgets, 'Requests by path'), 'Requests');
    const cost = metricLines(widget(widgets, 'Estimated cost (USD) by region and path'), 'EstimatedCost');
    const ttft = metricLines(widget(widgets, 'Time to first token (ms) p50 / p90 / p99'), 'TimeToFirstToken');
    for (const region of REGIONS) {
      for (const lines of [requests, cost]) {
        const paths = lines.filter((line) => optionsOf(line).region === region).map((line) => dimensionsOf(line));
        expect(paths).toEqual(TIERS.map((tier) => ({ Path: tier, Region: region })));
      }
      expect(ttft.filter((line) => optionsOf(line).region === region).map((line) => optionsOf(line).stat)).toEqual(['p50', 'p90', 'p99']);
    }
    expect(requests).toHaveLength(REGIONS.length * TIERS.length);
  });

  test('failed requests, breaker openings and degraded state are drawn for every region', () => {
    // GIVEN / WHEN
    const graph = widget(widgetsOf(), 'Failed requests, breakers opened and answers with degraded state');

    // THEN
    for (const metricName of ['FailedRequests', 'BreakerOpened', 'StateDegraded']) {
      expect(metricLines(graph, metricName).map((line) => optionsOf(line).region)).toEqual(REGIONS);
    }
  });

  test("target errors by reason and Bedrock's own throttles and time to first token per model are searched in each region", () => {
    // GIVEN / WHEN
    const widgets = widgetsOf();

    // THEN
    const searches = (title: string) => expressionLines(widget(widgets, title));
    // The dashboard's own region needs no region on its lines.
    const regionOf = (line: { region?: string }) => line.region ?? 'us-east-1';
    expect(searches('Target errors by reason').map((line) => [regionOf(line), line.expression])).toEqual(
      REGIONS.map((region) => [region, `SEARCH('{MultiRegionAgent,Region,Reason} MetricName="TargetErrors" Region="${region}"', 'Sum', 60)`]),
    );
    expect(searches('Bedrock: throttled invocations per model').map((line) => [regionOf(line), line.expression])).toEqual(
      REGIONS.map((region) => [region, `SEARCH('{AWS/Bedrock,ModelId} MetricName="InvocationThrottles"', 'Sum', 60)`]),
    );
    expect(searches('Bedrock: time to first token per model (ms, p90)').map((line) => [regionOf(line), line.expression])).toEqual(
      REGIONS.map((region) => [region, `SEARCH('{AWS/Bedrock,ModelId} MetricName="TimeToFirstToken"', 'p90', 60)`]),
    );
    expect(searches('Target errors by reason')[2].label).toBe("eu-west-1 ${PROP('Dim.Reason')}");
  });

  test('tool calls and tool errors are searched by tool in each region, one line per tool', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf();

    // THEN
    for (const [title, metricName] of [
      ['Tool calls by tool', 'ToolCalls'],
      ['Tool errors by tool', 'ToolErrors'],
    ]) {
      const searches = expressionLines(widget(widgets, title));
      expect(searches.map((line) => [line.region ?? 'us-east-1', line.expression, line.label])).toEqual(
        REGIONS.map((region) => [
          region,
          `SEARCH('{MultiRegionAgent,Region,Tool} MetricName="${metricName}" Region="${region}"', 'Sum', 60)`,
          `${region} \${PROP('Dim.Tool')}`,
        ]),
      );
    }
  });

  test('tool latency is searched by tool at p50 and p99 in each region', () => {
    // GIVEN / WHEN
    const searches = expressionLines(widget(widgetsOf(), 'Tool latency (ms) p50 / p99 by tool'));

    // THEN
    expect(searches.map((line) => line.expression)).toEqual(
      REGIONS.flatMap((region) =>
        ['p50', 'p99'].map((statistic) => `SEARCH('{MultiRegionAgent,Region,Tool} MetricName="ToolLatency" Region="${region}"', '${statistic}', 60)`),
      ),
    );
    expect(searches[1].label).toBe("us-east-1 ${PROP('Dim.Tool')} p99");
  });

  test('steps per message (the Average of Steps) are drawn for every region, step fallbacks (Sum) on the right axis', () => {
    // GIVEN / WHEN
    const graph = widget(widgetsOf(), 'Steps per message (average) and step fallbacks');

    // THEN
    const steps = metricLines(graph, 'Steps');
    const fallbacks = metricLines(graph, 'StepFallbacks');
    // Average is CloudWatch's default statistic, which the body leaves out.
    expect(steps.map((line) => [dimensionsOf(line), optionsOf(line).region, optionsOf(line).stat ?? 'Average'])).toEqual(
      REGIONS.map((region) => [{ Region: region }, region, 'Average']),
    );
    expect(fallbacks.map((line) => [dimensionsOf(line), optionsOf(line).stat, (optionsOf(line) as { yAxis?: string }).yAxis])).toEqual(
      REGIONS.map((region) => [{ Region: region }, 'Sum', 'right']),
    );
  });

  test('the tool graphs make two rows of their own', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf() as Array<DashboardWidget & { y: number }>;

    // THEN
    const rowOf = (title: string) => (widget(widgets, title) as DashboardWidget & { y: number }).y;
    expect(rowOf('Tool errors by tool')).toBe(rowOf('Tool calls by tool'));
    expect(rowOf('Steps per message (average) and step fallbacks')).toBe(rowOf('Tool latency (ms) p50 / p99 by tool'));
    expect(rowOf('Tool latency (ms) p50 / p99 by tool')).toBeGreaterThan(rowOf('Tool calls by tool'));
    const toolRows = new Set([rowOf('Tool calls by tool'), rowOf('Tool latency (ms) p50 / p99 by tool')]);
    const others = widgets.filter((candidate) => !/^(Tool|Steps)/.test(candidate.properties.title ?? '')).map((candidate) => candidate.y);
    expect(others.filter((y) => toolRows.has(y))).toEqual([]);
  });

  test('the tool metric factories name the region and the tool, with sums for counts, p50 for latency and the Average of steps', () => {
    // GIVEN
    const [metrics] = dashboardIn().metrics;

    // WHEN
    const described = [
      metrics.toolCalls('lookup_order'),
      metrics.toolErrors('lookup_order'),
      metrics.toolLatency('lookup_order'),
      metrics.steps(),
      metrics.stepFallbacks(),
    ].map((metric) => [metric.metricName, metric.statistic, metric.dimensions, metric.region]);

    // THEN
    const tool = { Region: 'us-east-1', Tool: 'lookup_order' };
    expect(described).toEqual([
      ['ToolCalls', 'Sum', tool, 'us-east-1'],
      ['ToolErrors', 'Sum', tool, 'us-east-1'],
      ['ToolLatency', 'p50', tool, 'us-east-1'],
      ['Steps', 'Average', { Region: 'us-east-1' }, 'us-east-1'],
      ['StepFallbacks', 'Sum', { Region: 'us-east-1' }, 'us-east-1'],
    ]);
  });

  test('Route 53 health-check status is read in us-east-1, where Route 53 publishes it, whatever the dashboard region', () => {
    // GIVEN
    const stack = regionStack('eu-west-1');

    // WHEN
    const dashboard = new FallbackDashboard(stack, 'Dashboard', { agentName: 'support', jurisdictions: [euJurisdiction()] });

    // THEN
    const [search] = expressionLines(widget(dashboardBody(dashboard.dashboard).widgets, 'Route 53 health checks (1 = healthy)'));
    expect(search).toEqual(
      expect.objectContaining({ region: 'us-east-1', expression: `SEARCH('{AWS/Route53,HealthCheckId} MetricName="HealthCheckStatus"', 'Minimum', 60)` }),
    );
  });

  test("DynamoDB's replication latency to each replica and conditional-check failures are read in the table's home region", () => {
    // GIVEN / WHEN
    const graph = widget(widgetsOf({ tableNames: { eu: 'support-eu-conversations' } }), 'DynamoDB support-eu-conversations (home eu-west-1)');

    // THEN
    const replication = metricLines(graph, 'ReplicationLatency');
    expect(replication.map((line) => [line[0], dimensionsOf(line), optionsOf(line).region])).toEqual([
      ['AWS/DynamoDB', { ReceivingRegion: 'eu-central-1', TableName: 'support-eu-conversations' }, 'eu-west-1'],
    ]);
    const conflicts = metricLines(graph, 'ConditionalCheckFailedRequests');
    expect(conflicts.map((line) => [dimensionsOf(line), optionsOf(line).region, optionsOf(line).stat])).toEqual([
      [{ TableName: 'support-eu-conversations' }, 'eu-west-1', 'Sum'],
    ]);
  });

  test('has no DynamoDB widget for a jurisdiction without a table name', () => {
    const titles = widgetsOf({ tableNames: { eu: 'support-eu-conversations' } }).map((candidate) => candidate.properties.title ?? '');
    expect(titles.filter((title) => title.startsWith('DynamoDB'))).toEqual(['DynamoDB support-eu-conversations (home eu-west-1)']);
  });

  test("shows each region's fallback-rate alarm in that region", () => {
    // GIVEN / WHEN
    const alarmNames = Object.fromEntries(REGIONS.map((region) => [region, FallbackRateAlarm.nameFor('support', region)]));
    const widgets = widgetsOf({ alarmNames });

    // THEN
    const alarms = widgets.filter((candidate) => candidate.properties.annotations?.alarms);
    expect(alarms.map((candidate) => [candidate.properties.region, candidate.properties.annotations?.alarms])).toEqual(
      REGIONS.map((region) => [region, [`arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:support-${region}-fallback-rate`]]),
    );
  });

  test("the dashboard's metric factories are per region, the same kind the alarms use", () => {
    // GIVEN / WHEN
    const dashboard = dashboardIn({ namespace: 'Agents/Support' });

    // THEN
    expect(dashboard.metrics.map((metrics) => [metrics.region, metrics.namespace])).toEqual(REGIONS.map((region) => [region, 'Agents/Support']));
    const ratio = dashboard.metrics[2].fallbackRatio();
    expect([ratio.namespace, ratio.metricName, ratio.dimensions, ratio.region, ratio.statistic]).toEqual([
      'Agents/Support',
      'Fallbacks',
      { Region: 'eu-west-1' },
      'eu-west-1',
      'Average',
    ]);
  });

  test('a custom namespace reaches every graph of our metrics', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf({ namespace: 'Agents/Support' });

    // THEN
    expect(metricLines(widget(widgets, 'Requests by path'), 'Requests').every((line) => line[0] === 'Agents/Support')).toBe(true);
    expect(expressionLines(widget(widgets, 'Target errors by reason'))[0].expression).toContain('{Agents/Support,Region,Reason}');
    expect(expressionLines(widget(widgets, 'Tool calls by tool'))[0].expression).toContain('{Agents/Support,Region,Tool}');
  });

  test('adding a region adds its lines and leaves the existing ones as they were', () => {
    // GIVEN
    const before = widget(widgetsOf({ jurisdictions: [Jurisdiction.eu(['eu-west-1'])] }), 'Requests by path').properties.metrics!;

    // WHEN
    const after = widget(widgetsOf({ jurisdictions: [Jurisdiction.eu(['eu-west-1', 'eu-central-1'])] }), 'Requests by path').properties.metrics!;

    // THEN
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(2 * before.length);
  });

  test.each([
    ['the agent name cannot name a dashboard', { agentName: 'support agent' }, /agentName must be 1 to 245 letters, digits, - or _/],
    ['there is no jurisdiction', { jurisdictions: [] }, /jurisdictions must list at least one jurisdiction/],
    [
      'a region belongs to two jurisdictions',
      { jurisdictions: [euJurisdiction(), Jurisdiction.custom({ name: 'eu2', regions: ['eu-central-1'], geography: 'eu' })] },
      /region eu-central-1 belongs to both/,
    ],
    ['a table name names an unknown jurisdiction', { tableNames: { apac: 'support-apac' } }, /tableNames: 'apac' is not one of the jurisdictions \(us, eu\)/],
    [
      'a table name is a reference into another stack',
      { tableNames: { eu: Token.asString({ Ref: 'Table' }) } },
      /tableNames: the name of 'eu''s table must be a plain string/,
    ],
    ['an alarm names an unknown region', { alarmNames: { 'ap-south-1': 'x' } }, /alarmNames: ap-south-1 is not a region of the jurisdictions/],
    ['the period is not whole minutes', { period: Duration.seconds(90) }, /period must be a whole number of minutes, got 90 s/],
    [
      'the threshold line is out of range',
      { fallbackRateThresholdPercent: 120 },
      /fallbackRateThresholdPercent must be greater than 0 and less than 100, got 120/,
    ],
  ])('throws if %s', (_, props, message) => {
    expect(() => dashboardIn(props as Partial<FallbackDashboardProps>)).toThrow(message);
  });

  test('errors name the construct', () => {
    expect(() => dashboardIn({ agentName: '' })).toThrow(/^agent-us-east-1\/Dashboard: agentName/);
  });
});

describe('the resilience rows', () => {
  test('probe success and time to first token are searched by target in each region', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf();

    // THEN
    for (const [title, metricName, statistic] of [
      ['Fallback links: probe success by target (minimum; 0 is a failed probe)', 'ProbeSuccess', 'Minimum'],
      ['Fallback links: probe time to first token by target (ms, p50)', 'ProbeTimeToFirstToken', 'p50'],
    ]) {
      expect(expressionLines(widget(widgets, title)).map((line) => [line.region ?? 'us-east-1', line.expression, line.label])).toEqual(
        REGIONS.map((region) => [
          region,
          `SEARCH('{MultiRegionAgent,Region,Target} MetricName="${metricName}" Region="${region}"', '${statistic}', 60)`,
          `${region} \${PROP('Dim.Target')}`,
        ]),
      );
    }
  });

  test('budget refusals, hedges and the shared health are drawn as sums for every region', () => {
    // GIVEN / WHEN
    const widgets = widgetsOf();

    // THEN
    const graphs: Array<[string, string[]]> = [
      ['Retry budget refusals, hedges started and hedges won', ['RetryBudgetRefusals', 'HedgesStarted', 'HedgesWon']],
      [
        "Shared target health: skips on another environment's breaker, breakers opened, unreadable records, table errors",
        ['SharedBreakerSkips', 'BreakerOpened', 'SharedHealthInvalidRecords', 'SharedHealthErrors'],
      ],
    ];
    for (const [title, metricNames] of graphs) {
      const graph = widget(widgets, title);
      for (const metricName of metricNames) {
        expect(metricLines(graph, metricName).map((line) => [dimensionsOf(line), optionsOf(line).region, optionsOf(line).stat])).toEqual(
          REGIONS.map((region) => [{ Region: region }, region, 'Sum']),
        );
      }
    }
  });
});
