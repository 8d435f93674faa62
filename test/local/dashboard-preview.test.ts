/**
 * The playground draws the FallbackDashboard the example app synthesizes,
 * from the runtimes' metric records and what the emulated services publish:
 * after a scripted run with faults, every widget has data, the only empty
 * series are those that cannot exist locally (each saying why), and a
 * dashboard whose math or dimensions are wrong draws errors or nothing.
 */
import type { DashboardBody, PreviewWidget } from '../../local/cloudwatch/dashboard';
import { EXAMPLE_SYNTH_TIMEOUT_MS } from '../../local/example-regions';
import { Playground } from '../../local/playground';
import { scriptedRun } from './scripted-run';
import { sharedExampleRegions } from './example-assembly';

let playground: Playground;

beforeAll(async () => {
  playground = await Playground.start({ ...(await sharedExampleRegions()), port: 0, firstTokenDelayMs: 5, tokenDelayMs: 2 });
  await scriptedRun(playground);
  // The example synthesizes with bundling first, as `npm run local` runs it.
}, 120_000 + EXAMPLE_SYNTH_TIMEOUT_MS);

afterAll(async () => {
  await playground?.close();
});

/** The body the playground evaluates: the synthesized one, which the changed copies below start from. */
const synthesized = (): DashboardBody => playground.views.synthesized().dashboards[0].body;
const changed = (replace: (json: string) => string): DashboardBody => JSON.parse(replace(JSON.stringify(synthesized()))) as DashboardBody;
const widgetTitled = (widgets: PreviewWidget[], title: string) => widgets.find((widget) => widget.title === title)!;
const present = (values: ReadonlyArray<number | null>) => values.filter((value): value is number => value !== null);

test('after a scripted run with faults, every widget of the synthesized dashboard has data', () => {
  // WHEN
  const { widgets, name } = playground.views.dashboard();

  // THEN
  expect(name).toBe('support-agent-fallbacks');
  expect(widgets).toHaveLength(synthesized().widgets.length);
  expect(widgets.filter((widget) => !widget.hasData).map((widget) => widget.title)).toEqual([]);
  expect(widgets.flatMap((widget) => widget.series.filter((series) => series.error))).toEqual([]);
});

test('the only series that cannot have data are DynamoDB replication latencies, each saying why', () => {
  const { widgets } = playground.views.dashboard();

  const explained = widgets.flatMap((widget) => widget.series.filter((series) => series.note).map((series) => [widget.title, series.label, series.note]));

  expect(explained).toEqual([
    ['DynamoDB support-agent-conversations-us (home us-east-1)', 'replication to us-west-2 (ms)', expect.stringMatching(/no replicas/)],
    ['DynamoDB support-agent-conversations-eu (home eu-west-1)', 'replication to eu-central-1 (ms)', expect.stringMatching(/no replicas/)],
  ]);
  for (const title of explained.map(([widgetTitle]) => widgetTitle)) {
    const conflicts = widgetTitled(widgets, title!).series.find((series) => series.label.startsWith('conditional check failures'))!;
    expect(present(conflicts.values).reduce((sum, value) => sum + value, 0)).toBeGreaterThanOrEqual(1);
  }
});

test("the services' own widgets show what the faults did: throttles per model, health checks per region, time to first token per model", () => {
  const { widgets } = playground.views.dashboard();

  const throttles = widgetTitled(widgets, 'Bedrock: throttled invocations per model').series.filter((series) => present(series.values).length > 0);
  const health = widgetTitled(widgets, 'Route 53 health checks (1 = healthy)').series;
  const ttft = widgetTitled(widgets, 'Bedrock: time to first token per model (ms, p90)').series.filter((series) => present(series.values).length > 0);

  expect(throttles.map((series) => series.label).sort()).toEqual([
    'us-east-1 us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'us-west-2 us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ]);
  expect(health.map((series) => series.label)).toEqual(['local-eu-central-1', 'local-eu-west-1', 'local-us-east-1', 'local-us-west-2']);
  expect(Math.min(...present(health.find((series) => series.label === 'local-eu-west-1')!.values))).toBe(0);
  expect(Math.min(...present(health.find((series) => series.label === 'local-us-east-1')!.values))).toBe(1);
  expect(ttft.map((series) => series.label)).toEqual(
    expect.arrayContaining(['us-west-2 us.amazon.nova-pro-v1:0', 'eu-central-1 eu.anthropic.claude-sonnet-4-5-20250929-v1:0']),
  );
});

test("the fallback rate is the synthesized metric math over the runtimes' records, period by period", () => {
  const { widgets } = playground.views.dashboard();

  const rate = widgetTitled(widgets, 'Fallback rate %').series.find((series) => series.label === 'us-east-1 fallback rate %')!;
  const fallbacks = playground.metrics.stream('us-east-1', { namespace: 'MultiRegionAgent', metricName: 'Fallbacks', dimensions: { Region: 'us-east-1' } })!;

  // Each request writes Fallbacks 0 or 1 beside Requests 1: a period's rate is their mean × 100.
  const width = rate.times[1] - rate.times[0];
  const expected = rate.times.map((start) => {
    const inPeriod = fallbacks.values.filter((_, index) => fallbacks.times[index] >= start && fallbacks.times[index] < start + width);
    return inPeriod.length === 0 ? null : (100 * inPeriod.reduce((sum, value) => sum + value, 0)) / inPeriod.length;
  });
  expect(width).toBe(5_000);
  expect(rate.values.map((value) => (value === null ? null : Math.round(value * 1e6) / 1e6))).toEqual(
    expected.map((value) => (value === null ? null : Math.round(value * 1e6) / 1e6)),
  );
  expect(Math.max(...present(rate.values))).toBeGreaterThan(0);
});

test('a dashboard whose math names an id that no metric has draws an error instead of the rate', () => {
  const body = changed((json) =>
    json.replace(
      'IF(requests_us_east_1 > 0, 100 * fallbacks_us_east_1 / requests_us_east_1, 0)',
      'IF(requests_us_east1 > 0, 100 * fallbacks_us_east_1 / requests_us_east1, 0)',
    ),
  );

  const rate = widgetTitled(playground.views.dashboard({ body }).widgets, 'Fallback rate %').series;

  expect(rate.find((series) => series.label === 'us-east-1 fallback rate %')).toMatchObject({
    error: expect.stringMatching(/Unrecognized identifier requests_us_east1/),
  });
  expect(rate.filter((series) => !series.error)).toHaveLength(3);
});

test('a dashboard whose dimension name is wrong draws empty graphs', () => {
  // GIVEN the per-path requests and the tool searches asking for `region` instead of `Region`
  const body = changed((json) => json.replaceAll('"Region","', '"region","').replaceAll(',Region,Tool}', ',region,Tool}'));

  const { widgets } = playground.views.dashboard({ body });

  expect(widgetTitled(widgets, 'Requests by path').hasData).toBe(false);
  expect(widgetTitled(widgets, 'Tool calls by tool').hasData).toBe(false);
  expect(widgetTitled(widgets, 'Bedrock: throttled invocations per model').hasData).toBe(true);
});

test("GET /_local/dashboard serves the preview; /_local/charts the live per-region charts, or one region's; /_local/routing where each location goes", async () => {
  const dashboard = (await (await fetch(`${playground.url}/_local/dashboard?scale=12`)).json()) as { widgets: PreviewWidget[]; timeScale: number };
  const charts = (await (await fetch(`${playground.url}/_local/charts?seconds=600&period=5`)).json()) as {
    regions: Array<{ region: string; charts: PreviewWidget[] }>;
  };
  const routing = (await (await fetch(`${playground.url}/_local/routing`)).json()) as {
    defaultLocation: string;
    locations: Array<{ location: string; region: string }>;
  };
  const oneRegion = (await (await fetch(`${playground.url}/_local/charts?seconds=600&period=5&region=eu-west-1`)).json()) as typeof charts;
  const unknownRegion = await fetch(`${playground.url}/_local/charts?region=mars-north-1`);
  const badScale = await fetch(`${playground.url}/_local/dashboard?scale=-1`);
  const uplot = await fetch(`${playground.url}/_local/assets/uplot.js`);

  expect(dashboard.timeScale).toBe(12);
  expect(dashboard.widgets.every((widget) => widget.hasData)).toBe(true);
  expect(charts.regions.map((region) => [region.region, region.charts.map((chart) => [chart.title, chart.hasData])])).toEqual(
    ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'].map((region) => [
      region,
      [
        ['Requests by path', true],
        ['Fallback rate %', true],
        ['Time to first token (ms)', true],
        ['Fallback links: probe success by target', true],
        ['Fallback links: probe time to first token (ms)', true],
        ['Budget refusals, hedges, shared breakers', true],
      ],
    ]),
  );
  const probeLines = charts.regions[0].charts.find((chart) => chart.title === 'Fallback links: probe success by target')!.series.map((line) => line.label);
  // (one line per link of us-east-1's chain: Claude and Nova in both US regions, and GPT-4o of a US project)
  expect(probeLines.sort()).toEqual([
    'openai:us/gpt-4o@us-east-1',
    'us.amazon.nova-pro-v1:0@us-east-1',
    'us.amazon.nova-pro-v1:0@us-west-2',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0@us-east-1',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0@us-west-2',
  ]);
  expect(routing.defaultLocation).toBe('us');
  expect(routing.locations).toEqual(
    expect.arrayContaining([
      { location: 'us', region: 'us-east-1', jurisdiction: 'us' },
      { location: 'eu-central', region: 'eu-central-1', jurisdiction: 'eu' },
    ]),
  );
  // AND ?region= gives one region's charts (the page draws one at a time); a region not deployed is a 400 naming the ones that are
  expect(oneRegion.regions.map((region) => [region.region, region.charts.length])).toEqual([['eu-west-1', 6]]);
  expect(unknownRegion.status).toBe(400);
  expect(await unknownRegion.json()).toEqual({
    error: { code: 'bad_request', message: 'region must be one of us-east-1, us-west-2, eu-west-1, eu-central-1, got mars-north-1' },
  });
  expect(badScale.status).toBe(400);
  expect(uplot.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect(await uplot.text()).toContain('uPlot');
});

test("GET /_local/shared-health shows each region's shared breakers: the probes' recoveries, and a breaker the region's failures opened", async () => {
  // GIVEN eu-central-1's primary failing until the page is read: three users' calls in a row open its breaker
  // (the fault is held, not counted: a scheduled probe in between would otherwise take one of the failures, or find
  // the target answering again and close the breaker before the read)
  const primary = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0@eu-central-1';
  const control = await fetch(`${playground.url}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ region: 'eu-central-1', model: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', fault: { status: 503 } }),
  });
  expect(control.status).toBe(201);
  for (let index = 0; index < 3; index += 1) {
    const minted = await fetch(`${playground.url}/v1/conversations`, { method: 'POST', headers: { 'x-local-location': 'eu-central' } });
    const { conversationId } = (await minted.json()) as { conversationId: string };
    const answer = await fetch(`${playground.url}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-local-location': 'eu-central' },
      body: JSON.stringify({ text: 'hello' }),
    });
    await answer.text();
  }
  await playground.regions.find((region) => region.region === 'eu-central-1')!.server.runtime.sharedHealth!.flush();
  // AND a probe failing on it as well (a failed probe writes nothing: it takes users' calls to open a breaker)
  await playground.probes();

  // WHEN the page asks for the regions' shared health
  const { regions } = (await (await fetch(`${playground.url}/_local/shared-health`)).json()) as {
    regions: Array<{ region: string; records: Array<{ target: string; state?: string; by?: string; firstTokenMs?: number }> }>;
  };
  await fetch(`${playground.url}/_local/faults`, { method: 'DELETE' });

  // THEN every region shows its probed links as closed by the probe, and eu-central-1 its primary held open by its runtime
  expect(regions.map((region) => region.region)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1']);
  const euCentral = regions.find((region) => region.region === 'eu-central-1')!.records;
  expect(euCentral.find((record) => record.target === primary)).toMatchObject({ state: 'open', by: 'this environment' });
  const usEast = regions.find((region) => region.region === 'us-east-1')!.records;
  expect(usEast.filter((record) => record.state === 'closed' && record.by === 'probe').map((record) => record.target)).toContain(
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0@us-east-1',
  );
});
