/**
 * The local CloudWatch's building blocks on hand-made data: statistics,
 * the metric store's reading of EMF records, metric math, search queries
 * and CloudFormation tokens.
 */
import { resolveCfn, UnresolvableTokenError } from '../../local/cloudwatch/cfn';
import { evaluate, MathError, parseExpression, type MathContext, type Series } from '../../local/cloudwatch/metric-math';
import { bucketed, MetricStore } from '../../local/cloudwatch/metric-store';
import { parseSearch, SearchSyntaxError } from '../../local/cloudwatch/search';
import { statistic, UnsupportedStatisticError } from '../../local/cloudwatch/statistics';

describe('statistics', () => {
  const samples = [5, 1, 4, 2, 3, 10, 6, 7, 9, 8];

  test.each([
    ['Sum', 55],
    ['Average', 5.5],
    ['Minimum', 1],
    ['Maximum', 10],
    ['SampleCount', 10],
    ['p50', 5],
    ['p90', 9],
    ['p99', 10],
    ['p10', 1],
    ['p99.9', 10],
  ])('%s of 1..10 is %d', (name, expected) => {
    expect(statistic(name)(samples)).toBe(expected);
  });

  test('a period without samples has no data point, whatever the statistic', () => {
    expect(statistic('Sum')([])).toBeNull();
    expect(statistic('p50')([])).toBeNull();
  });

  test('throws for a statistic the preview does not compute, naming it', () => {
    expect(() => statistic('tm99')).toThrow(UnsupportedStatisticError);
    expect(() => statistic('Avg')).toThrow(/'Avg'/);
  });
});

describe('MetricStore', () => {
  const record = {
    _aws: {
      Timestamp: 1_000,
      CloudWatchMetrics: [{ Namespace: 'Agent', Dimensions: [['Region'], ['Region', 'Path']], Metrics: [{ Name: 'Requests' }, { Name: 'Latency' }] }],
    },
    Region: 'eu-west-1',
    Path: 'primary',
    Requests: 1,
    Latency: [120, 80],
    other: 'not a metric',
  };

  test('an EMF record gives each metric once per dimension set, in the region its Region dimension names', () => {
    // GIVEN
    const store = new MetricStore();

    // WHEN
    const taken = store.putEmf(record);

    // THEN
    expect(taken).toBe(4);
    expect(store.stream('eu-west-1', { namespace: 'Agent', metricName: 'Requests', dimensions: { Region: 'eu-west-1' } })?.values).toEqual([1]);
    expect(store.stream('eu-west-1', { namespace: 'Agent', metricName: 'Requests', dimensions: { Path: 'primary', Region: 'eu-west-1' } })?.times).toEqual([
      1_000,
    ]);
    expect(store.stream('eu-west-1', { namespace: 'Agent', metricName: 'Latency', dimensions: { Region: 'eu-west-1' } })?.values).toEqual([120, 80]);
    expect(store.streamsOf('us-east-1')).toEqual([]);
  });

  test('a dimension set naming a key the record lacks is dropped, as CloudWatch drops it', () => {
    const store = new MetricStore();

    store.putEmf({ ...record, Path: undefined });

    expect(store.streamsOf('eu-west-1').map((stream) => Object.keys(stream.dimensions))).toEqual([['Region'], ['Region']]);
  });

  test('a log line that is not EMF is ignored', () => {
    const store = new MetricStore();

    expect(store.putEmf({ level: 'INFO', message: 'message completed', Region: 'eu-west-1' })).toBe(0);
    expect(store.streamsOf('eu-west-1')).toEqual([]);
  });

  test('samples are kept in time order and bucketed into periods', () => {
    const store = new MetricStore();
    const metric = { region: 'r', namespace: 'N', metricName: 'M', dimensions: {} };
    for (const [timestamp, value] of [
      [2_500, 3],
      [500, 1],
      [1_200, 2],
      [9_000, 4],
    ]) {
      store.put({ ...metric, timestamp, value });
    }

    const stream = store.stream('r', metric)!;

    expect(stream.times).toEqual([500, 1_200, 2_500, 9_000]);
    expect(bucketed(stream, 0, 1_000, 3)).toEqual([[1], [2], [3]]);
  });

  test('samples older than the retention are dropped', () => {
    const store = new MetricStore({ retentionMs: 1_000 });
    const metric = { region: 'r', namespace: 'N', metricName: 'M', dimensions: {} };

    store.put({ ...metric, timestamp: 0, value: 1 });
    store.put({ ...metric, timestamp: 5_000, value: 2 });

    expect(store.stream('r', metric)?.values).toEqual([2]);
  });
});

describe('metric math', () => {
  const series = (label: string, values: Array<number | null>): Series => ({ label, values });
  const context = (ids: Record<string, Series | Series[]>): MathContext => ({
    grid: { start: 0, widthMs: 60_000, count: 4 },
    id: (name) => {
      if (!(name in ids)) throw new MathError(`Unrecognized identifier ${name}`);
      return ids[name];
    },
    search: () => [series('a', [1, 1, null, 1]), series('b', [2, null, 2, 2])],
  });
  const valuesOf = (value: unknown) => (value as Series).values;

  test('arithmetic follows precedence, with ^ binding right', () => {
    expect(evaluate('2 + 3 * 4', context({}))).toBe(14);
    expect(evaluate('(2 + 3) * 4', context({}))).toBe(20);
    expect(evaluate('2 ^ 3 ^ 2', context({}))).toBe(512);
    expect(evaluate('-2 ^ 2', context({}))).toBe(-4);
    expect(evaluate('10 - 4 - 3', context({}))).toBe(3);
  });

  test('two series combine where both have a point; a scalar applies to each point; division by zero has no point', () => {
    const ids = { m1: series('m1', [1, 2, null, 4]), m2: series('m2', [2, 0, 3, null]) };

    expect(valuesOf(evaluate('100 * m1 / m2', context(ids)))).toEqual([50, null, null, null]);
    expect(valuesOf(evaluate('m1 + 1', context(ids)))).toEqual([2, 3, null, 5]);
  });

  test('the fallback rate of the dashboard: IF(requests > 0, 100 * fallbacks / requests, 0)', () => {
    const ids = { requests: series('r', [4, 0, null, 10]), fallbacks: series('f', [1, 0, null, 10]) };

    const rate = evaluate('IF(requests > 0, 100 * fallbacks / requests, 0)', context(ids));

    expect(valuesOf(rate)).toEqual([25, 0, null, 100]);
  });

  test('IF without a false value has no point where the condition is false', () => {
    const ids = { m1: series('m1', [1, 5, 2, 7]) };

    expect(valuesOf(evaluate('IF(m1 > 3, m1)', context(ids)))).toEqual([null, 5, null, 7]);
  });

  test('comparisons and logic give 1 or 0', () => {
    const ids = { m1: series('m1', [1, 5, 2, 7]) };

    expect(valuesOf(evaluate('m1 >= 2 AND m1 != 7', context(ids)))).toEqual([0, 1, 1, 0]);
    expect(valuesOf(evaluate('m1 < 2 || m1 == 7', context(ids)))).toEqual([1, 0, 0, 1]);
    expect(valuesOf(evaluate('NOT (m1 > 4)', context(ids)))).toEqual([1, 0, 1, 0]);
  });

  test('an operation on what SEARCH returns applies to each series', () => {
    const result = evaluate("SEARCH('{N,D} M', 'Sum', 60) * 10", context({})) as Series[];

    expect(result.map((one) => one.values)).toEqual([
      [10, 10, null, 10],
      [20, null, 20, 20],
    ]);
  });

  test('SUM of an array is one series point by point; of one series, a scalar', () => {
    expect(valuesOf(evaluate("SUM(SEARCH('{N,D} M', 'Sum'))", context({})))).toEqual([3, 1, 2, 3]);
    expect(evaluate('SUM(m1)', context({ m1: series('m1', [1, null, 2, 3]) }))).toBe(6);
  });

  test('FILL fills the missing points with a number or the last value', () => {
    const ids = { m1: series('m1', [null, 2, null, 4]) };

    expect(valuesOf(evaluate('FILL(m1, 0)', context(ids)))).toEqual([0, 2, 0, 4]);
    expect(valuesOf(evaluate('FILL(m1, REPEAT)', context(ids)))).toEqual([null, 2, 2, 4]);
  });

  test('an unknown id, an unknown function and a syntax error are errors in the expression', () => {
    expect(() => evaluate('requests_us_east1 + 1', context({}))).toThrow(/Unrecognized identifier requests_us_east1/);
    expect(() => evaluate('ANOMALY_DETECTION_BAND(m1)', context({ m1: series('m1', [1, 1, 1, 1]) }))).toThrow(MathError);
    expect(() => parseExpression('IF(m1 > , 1)')).toThrow(MathError);
    expect(() => parseExpression('m1 +')).toThrow(MathError);
    expect(() => parseExpression("SEARCH('unterminated")).toThrow(/unterminated/);
  });
});

describe('search queries', () => {
  const metric = (metricName: string, dimensions: Record<string, string>, namespace = 'MultiRegionAgent') => ({ namespace, metricName, dimensions });

  test("the schema finds the namespace's metrics with exactly its dimension names", () => {
    const query = parseSearch('{MultiRegionAgent,Region,Reason} MetricName="TargetErrors"');

    expect(query.matches(metric('TargetErrors', { Region: 'us-east-1', Reason: 'Throttled' }))).toBe(true);
    expect(query.matches(metric('TargetErrors', { Region: 'us-east-1' }))).toBe(false);
    expect(query.matches(metric('TargetErrors', { Region: 'us-east-1', Reason: 'Throttled', Path: 'primary' }))).toBe(false);
    expect(query.matches(metric('TargetErrors', { Region: 'us-east-1', Reason: 'Throttled' }, 'Other'))).toBe(false);
    expect(query.matches(metric('Requests', { Region: 'us-east-1', Reason: 'Throttled' }))).toBe(false);
  });

  test('a quoted value matches exactly, an unquoted one as part of the value in any case', () => {
    const m = metric('TimeToFirstToken', { ModelId: 'us.anthropic.claude-sonnet-4-5' }, 'AWS/Bedrock');

    expect(parseSearch('{AWS/Bedrock,ModelId} ModelId="us.anthropic.claude-sonnet-4-5"').matches(m)).toBe(true);
    expect(parseSearch('{AWS/Bedrock,ModelId} ModelId="claude"').matches(m)).toBe(false);
    expect(parseSearch('{AWS/Bedrock,ModelId} ModelId=CLAUDE').matches(m)).toBe(true);
    expect(parseSearch('{AWS/Bedrock,ModelId} sonnet').matches(m)).toBe(true);
    expect(parseSearch('{AWS/Bedrock,ModelId} MetricName="Invocations"').matches(m)).toBe(false);
  });

  test('terms side by side must all match; OR, NOT and parentheses combine them', () => {
    const throttled = metric('TargetErrors', { Region: 'us-east-1', Reason: 'Throttled' });

    expect(parseSearch('Region="us-east-1" Reason="ServerError"').matches(throttled)).toBe(false);
    expect(parseSearch('Region="us-east-1" (Reason="ServerError" OR Reason="Throttled")').matches(throttled)).toBe(true);
    expect(parseSearch('Region="us-east-1" AND NOT Reason="Throttled"').matches(throttled)).toBe(false);
    expect(parseSearch('{"MultiRegionAgent", Region, Reason}').matches(throttled)).toBe(true);
  });

  test('throws for a query without schema or term, or an unclosed schema', () => {
    expect(() => parseSearch('  ')).toThrow(SearchSyntaxError);
    expect(() => parseSearch('{AWS/Bedrock,ModelId MetricName="x"')).toThrow(/closing brace/);
  });
});

describe('CloudFormation tokens', () => {
  const env = { region: 'us-east-1', accountId: '111111111111' };

  test("Fn::Join, Fn::Sub and the pseudo parameters resolve in the stack's environment", () => {
    const body = {
      'Fn::Join': ['', ['{"region":"', { Ref: 'AWS::Region' }, '","arn":"arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'AWS::AccountId' }, '"}']],
    };

    expect(JSON.parse(resolveCfn(body, env) as string)).toEqual({ region: 'us-east-1', arn: 'arn:aws:x:111111111111' });
    expect(resolveCfn({ 'Fn::Sub': '${AWS::Region}-${AWS::AccountId}' }, env)).toBe('us-east-1-111111111111');
    expect(resolveCfn({ nested: [{ Ref: 'AWS::URLSuffix' }] }, env)).toEqual({ nested: ['amazonaws.com'] });
  });

  test('throws for what only a deployment knows, naming where it is', () => {
    expect(() => resolveCfn({ a: { 'Fn::GetAtt': ['Alarm', 'Arn'] } }, env)).toThrow(UnresolvableTokenError);
    expect(() => resolveCfn({ a: { Ref: 'MyTable' } }, env)).toThrow(/\$\.a: Ref MyTable/);
  });
});
