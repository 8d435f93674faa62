/**
 * Dashboard bodies and alarms evaluated over hand-made metric records, as
 * the CloudWatch console would draw them.
 */
import { alarmsOfTemplate, alarmStates, type AlarmDefinition } from '../../local/cloudwatch/alarms';
import { isoDurationMs, previewDashboard, type DashboardBody, type PreviewWidget } from '../../local/cloudwatch/dashboard';
import { MetricStore } from '../../local/cloudwatch/metric-store';

const MINUTE = 60_000;
/** A whole number of minutes, so that periods start where the samples do. */
const NOW = 1_000 * MINUTE + 30_000;

function emf(timestamp: number, region: string, values: Record<string, number>, extra: Record<string, string> = {}) {
  const dimensions = [['Region'], ...Object.keys(extra).map((name) => ['Region', name])];
  return {
    _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: 'Agent', Dimensions: dimensions, Metrics: Object.keys(values).map((Name) => ({ Name })) }] },
    Region: region,
    ...extra,
    ...values,
  };
}

function widget(properties: Record<string, unknown>): DashboardBody {
  return {
    widgets: [{ type: 'metric', x: 0, y: 0, width: 12, height: 6, properties: { view: 'timeSeries', region: 'us-east-1', period: 60, ...properties } }],
  };
}

const lastValues = (preview: PreviewWidget[]) => preview[0].series.map((series) => [series.label, series.values[series.values.length - 1]]);

test('a metric row is its statistic per period, in its own region, under its label', () => {
  // GIVEN three requests in us-west-2 this minute, one in us-east-1
  const store = new MetricStore();
  for (const at of [NOW - 20_000, NOW - 10_000, NOW - 5_000]) store.putEmf(emf(at, 'us-west-2', { Requests: 1, TimeToFirstToken: at % 7 }));
  store.putEmf(emf(NOW - 1_000, 'us-east-1', { Requests: 1 }));
  const body = widget({
    metrics: [
      ['Agent', 'Requests', 'Region', 'us-west-2', { region: 'us-west-2', stat: 'Sum', label: 'west' }],
      ['Agent', 'Requests', 'Region', 'us-west-2', { stat: 'Sum', label: 'west, looked for in us-east-1' }],
      ['.', '.', '.', 'us-east-1', { stat: 'SampleCount' }],
    ],
  });

  // WHEN
  const preview = previewDashboard(body, store, { region: 'us-east-1', now: NOW, rangeMs: 5 * MINUTE });

  // THEN
  expect(lastValues(preview)).toEqual([
    ['west', 3],
    ['west, looked for in us-east-1', null],
    ['Requests', 1],
  ]);
  expect(preview[0].series[0].times).toHaveLength(6);
  expect(preview[0].series[0].values.slice(0, 5)).toEqual([null, null, null, null, null]);
  expect(preview[0].hasData).toBe(true);
});

test('a math expression uses invisible rows by id; only visible rows are drawn', () => {
  const store = new MetricStore();
  for (const fallback of [1, 0, 0, 0]) store.putEmf(emf(NOW - 1_000, 'us-east-1', { Requests: 1, Fallbacks: fallback }));
  const body = widget({
    metrics: [
      [{ expression: 'IF(requests > 0, 100 * fallbacks / requests, 0)', label: 'fallback rate %' }],
      ['Agent', 'Requests', 'Region', 'us-east-1', { id: 'requests', visible: false, stat: 'Sum' }],
      ['Agent', 'Fallbacks', 'Region', 'us-east-1', { id: 'fallbacks', visible: false, stat: 'Sum' }],
    ],
  });

  const preview = previewDashboard(body, store, { region: 'us-east-1', now: NOW, rangeMs: MINUTE });

  expect(lastValues(preview)).toEqual([['fallback rate %', 25]]);
});

test('an expression naming an id no row has is an error on its series, and the widget has no data', () => {
  const store = new MetricStore();
  store.putEmf(emf(NOW - 1_000, 'us-east-1', { Requests: 1 }));
  const body = widget({
    metrics: [
      [{ expression: '100 * requests_typo', label: 'broken' }],
      ['Agent', 'Requests', 'Region', 'us-east-1', { id: 'requests', visible: false, stat: 'Sum' }],
    ],
  });

  const [preview] = previewDashboard(body, store, { region: 'us-east-1', now: NOW, rangeMs: MINUTE });

  expect(preview.series[0].error).toMatch(/Unrecognized identifier requests_typo/);
  expect(preview.hasData).toBe(false);
});

test('SEARCH draws a series per metric found in its region, labelled with its dynamic labels', () => {
  const store = new MetricStore();
  store.putEmf(emf(NOW - 3_000, 'us-west-2', { TargetErrors: 1 }, { Reason: 'Throttled' }));
  store.putEmf(emf(NOW - 2_000, 'us-west-2', { TargetErrors: 1 }, { Reason: 'Throttled' }));
  store.putEmf(emf(NOW - 1_000, 'us-west-2', { TargetErrors: 1 }, { Reason: 'ServerError' }));
  store.putEmf(emf(NOW - 1_000, 'us-east-1', { TargetErrors: 1 }, { Reason: 'ServerError' }));
  const search = `SEARCH('{Agent,Region,Reason} MetricName="TargetErrors" Region="us-west-2"', 'Sum', 60)`;
  const body = widget({
    metrics: [
      [{ expression: search, label: "us-west-2 ${PROP('Dim.Reason')}", region: 'us-west-2' }],
      [{ expression: search, label: 'in us-east-1' }],
      [{ expression: search, label: 'no dynamic label', region: 'us-west-2' }],
    ],
  });

  const preview = previewDashboard(body, store, { region: 'us-east-1', now: NOW, rangeMs: MINUTE });

  expect(lastValues(preview)).toEqual([
    ['us-west-2 ServerError', 1],
    ['us-west-2 Throttled', 2],
    ['no dynamic label us-west-2 ServerError', 1],
    ['no dynamic label us-west-2 Throttled', 2],
  ]);
});

test('a time scale draws a 60 s period as 5 s of wall clock and shrinks the range alike', () => {
  // GIVEN a request in the last 5-second period, two in the current one
  const store = new MetricStore();
  store.putEmf(emf(NOW - 4_000, 'us-east-1', { Requests: 1 }));
  store.putEmf(emf(NOW + 500, 'us-east-1', { Requests: 1 }));
  store.putEmf(emf(NOW + 800, 'us-east-1', { Requests: 1 }));
  const body = { ...widget({ metrics: [['Agent', 'Requests', 'Region', 'us-east-1', { stat: 'Sum' }]] }), start: '-PT1H' };

  // WHEN
  const [preview] = previewDashboard(body, store, { region: 'us-east-1', now: NOW + 1_000, timeScale: 12 });

  // THEN one hour scaled is 5 minutes of 5-second periods
  const { times, values } = preview.series[0];
  expect(times[1] - times[0]).toBe(5_000);
  expect(times).toHaveLength(61);
  expect(values.slice(-2)).toEqual([1, 2]);
});

test('text widgets keep their markdown; other widget types are marked unsupported', () => {
  const body: DashboardBody = {
    widgets: [
      { type: 'text', width: 24, height: 2, properties: { markdown: '# Title' } },
      { type: 'log', properties: { query: 'fields @message' } },
    ],
  };

  const preview = previewDashboard(body, new MetricStore(), { region: 'us-east-1', now: NOW });

  expect(preview.map(({ type, markdown, hasData }) => ({ type, markdown, hasData }))).toEqual([
    { type: 'text', markdown: '# Title', hasData: true },
    { type: 'unsupported', markdown: undefined, hasData: false },
  ]);
});

test('a metric that cannot have data locally carries the reason on its empty series', () => {
  const body = widget({ metrics: [['AWS/DynamoDB', 'ReplicationLatency', 'ReceivingRegion', 'us-west-2', 'TableName', 't', { region: 'us-east-1' }]] });

  const [preview] = previewDashboard(body, new MetricStore(), {
    region: 'us-east-1',
    now: NOW,
    explainMissing: (metric) => (metric.metricName === 'ReplicationLatency' ? 'no replicas locally' : undefined),
  });

  expect(preview.series[0].note).toBe('no replicas locally');
});

test('ISO 8601 durations of dashboards read as milliseconds', () => {
  expect(isoDurationMs('-PT3H')).toBe(3 * 60 * MINUTE);
  expect(isoDurationMs('-P1DT30M')).toBe(24 * 60 * MINUTE + 30 * MINUTE);
  expect(() => isoDurationMs('3 hours')).toThrow(/ISO 8601/);
});

describe('alarms', () => {
  const template = {
    Resources: {
      Rate: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: 'agent-us-east-1-fallback-rate',
          Namespace: 'Agent',
          MetricName: 'Fallbacks',
          Dimensions: [{ Name: 'Region', Value: { Ref: 'AWS::Region' } }],
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 5,
          DatapointsToAlarm: 3,
          Threshold: 0.2,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        },
      },
      Math: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'math', Metrics: [], ComparisonOperator: 'GreaterThanThreshold' } },
      Other: { Type: 'AWS::SNS::Topic', Properties: {} },
    },
  };
  const env = { region: 'us-east-1', accountId: '111111111111' };
  const [rate] = alarmsOfTemplate(template, env).alarms;
  const withMissing = (treatMissingData: AlarmDefinition['treatMissingData']): AlarmDefinition => ({ ...rate, treatMissingData });

  test("a template's single-metric alarms are read with their ARN; metric-math alarms are listed as skipped", () => {
    const { alarms, skipped } = alarmsOfTemplate(template, env);

    expect(alarms).toEqual([
      expect.objectContaining({
        arn: 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:agent-us-east-1-fallback-rate',
        dimensions: { Region: 'us-east-1' },
        statistic: 'Average',
        periodSeconds: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        threshold: 0.2,
      }),
    ]);
    expect(skipped).toEqual(['math: alarms on metric math are not evaluated locally']);
  });

  test('3 breaching periods of the last 5 fire the alarm; it recovers when fewer than 3 remain', () => {
    const states = alarmStates(rate, [0.5, 0, 0.5, null, 0.5, 0.5, 0, 0, 0]);

    expect(states).toEqual(['OK', 'OK', 'OK', 'OK', 'ALARM', 'ALARM', 'ALARM', 'OK', 'OK']);
  });

  test('missing data: notBreaching is OK, breaching counts, missing is INSUFFICIENT_DATA, ignore keeps the state', () => {
    const datapoints = [0.5, 0.5, 0.5, null, null, null, null, null];

    expect(alarmStates(withMissing('notBreaching'), datapoints).slice(-1)).toEqual(['OK']);
    expect(alarmStates(withMissing('breaching'), datapoints).slice(-1)).toEqual(['ALARM']);
    expect(alarmStates(withMissing('missing'), datapoints).slice(-1)).toEqual(['INSUFFICIENT_DATA']);
    expect(alarmStates(withMissing('ignore'), datapoints).slice(-1)).toEqual(['ALARM']);
    expect(alarmStates(withMissing('missing'), [null])).toEqual(['INSUFFICIENT_DATA']);
  });

  test("an alarm widget draws the alarm's metric as it sees it, its threshold and its state", () => {
    // GIVEN 3 of the last 5 minutes with more than 20% fallbacks
    const store = new MetricStore();
    for (const minutesAgo of [4, 2, 0]) store.putEmf(emf(NOW - minutesAgo * MINUTE - 1_000, 'us-east-1', { Requests: 1, Fallbacks: 1 }));
    store.putEmf(emf(NOW - 3 * MINUTE - 1_000, 'us-east-1', { Requests: 1, Fallbacks: 0 }));
    const body: DashboardBody = {
      widgets: [
        {
          type: 'metric',
          properties: { title: 'alarm', region: 'us-east-1', annotations: { alarms: [rate.arn, 'arn:aws:cloudwatch:us-east-1:1:alarm:gone'] } },
        },
      ],
    };

    // WHEN
    const [preview] = previewDashboard(body, store, { region: 'us-east-1', now: NOW, rangeMs: 10 * MINUTE, alarms: [rate] });

    // THEN
    expect(preview.type).toBe('alarm');
    expect(preview.series[0].values.slice(-5)).toEqual([1, 0, 1, null, 1]);
    expect(preview.alarms?.[0]).toMatchObject({ name: rate.name, state: 'ALARM', threshold: 0.2 });
    expect(preview.alarms?.[1].error).toMatch(/no alarm with this ARN/);
    expect(preview.horizontalAnnotations).toEqual([expect.objectContaining({ value: 0.2 })]);
    expect(preview.hasData).toBe(true);
  });
});
