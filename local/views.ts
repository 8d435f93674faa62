/**
 * What the playground's page draws, served by the front door under
 * `/_local/`: the synthesized dashboard evaluated over the runtimes' and
 * emulated services' metrics (`/_local/dashboard`), live per-region charts
 * (`/_local/charts`), each region's shared target health
 * (`/_local/shared-health`), the local Route 53 health checks and how long
 * the last region failure took to move traffic (`/_local/health-checks`),
 * where each caller location is routed
 * (`/_local/routing`), and the page's chart and markdown libraries from
 * node_modules (`/_local/assets/…`), so that the page works offline.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as http from 'node:http';
import { TIERS } from '../lambda/agent/config';
import type { HealthRecord } from '../lambda/agent/health/health-record';
import { DimensionName, MetricName } from '../lambda/agent/metric-names';
import { previewDashboard, type DashboardBody, type PreviewWidget, type WidgetDefinition } from './cloudwatch/dashboard';
import type { MetricIdentity, MetricStore } from './cloudwatch/metric-store';
import type { SynthesizedMonitoring } from './cloudwatch/synthesized';
import type { PlaygroundRegion } from './front-door';
import type { HealthCheckReport } from './health-checks';

/** Caller locations the page offers, each routed as the front door would route it. */
export const CALLER_LOCATIONS = ['us', 'us-west', 'eu', 'eu-central', 'apac'];

/**
 * Browser builds, by the name the page asks for: the package and file
 * (marked's exports map names only its ESM entry, so files are found beside
 * package.json). The published package copies them to web/vendor/<name>
 * beside the bundled playground (scripts/bundle-runtime.ts).
 */
export const WEB_ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'uplot.js': { pkg: 'uplot', file: 'dist/uPlot.iife.min.js', type: 'text/javascript' },
  'uplot.css': { pkg: 'uplot', file: 'dist/uPlot.min.css', type: 'text/css' },
  'marked.js': { pkg: 'marked', file: 'lib/marked.umd.js', type: 'text/javascript' },
};

/**
 * Metrics that cannot have data locally, and why: shown on their empty
 * series instead of leaving a reader to guess.
 */
export function explainMissing(metric: MetricIdentity): string | undefined {
  if (metric.namespace === 'AWS/DynamoDB' && metric.metricName === 'ReplicationLatency') {
    return 'cannot exist locally: the playground keeps one table per jurisdiction with no replicas, so nothing replicates';
  }
  return undefined;
}

export interface ViewsOptions {
  regions: readonly PlaygroundRegion[];
  store: MetricStore;
  /** The synthesized app's dashboards and alarms (read once, when first needed). */
  monitoring?: () => SynthesizedMonitoring;
  /** A dashboard period of P seconds is drawn as P / timeScale seconds. */
  timeScale: number;
  namespace: string;
  /** The region the front door would pick for a caller at `location`. */
  routeOf: (location: string) => PlaygroundRegion;
  /** Where a caller is when a request does not say (`LOCAL_LOCATION`): the page's first pick. */
  defaultLocation: string;
  /** The local Route 53 health checks: settings, each region's status, the last failover. */
  healthChecks?: () => HealthCheckReport;
}

export interface DashboardPreview {
  name: string;
  region: string;
  timeScale: number;
  widgets: PreviewWidget[];
  skippedAlarms: readonly string[];
}

export class PlaygroundViews {
  private monitoring?: SynthesizedMonitoring;
  private readonly options: ViewsOptions;

  constructor(options: ViewsOptions) {
    this.options = { ...options };
  }

  /** The synthesized dashboards and alarms, read on first use. */
  synthesized(): SynthesizedMonitoring {
    if (!this.options.monitoring) throw new Error('this playground was started without a synthesized app (PlaygroundOptions.monitoring)');
    this.monitoring ??= this.options.monitoring();
    return this.monitoring;
  }

  /** Draws a new synthesis's dashboards, alarms and metrics namespace from now on (a swap under `agentctl local --watch`). */
  resynthesized(monitoring: SynthesizedMonitoring, namespace: string): void {
    this.options.monitoring = () => monitoring;
    this.options.namespace = namespace;
    this.monitoring = monitoring;
  }

  /** The first synthesized dashboard (or `body` in its place, e.g. a changed copy) as CloudWatch would draw it now. */
  dashboard(options: { body?: DashboardBody; timeScale?: number; rangeMs?: number; now?: number } = {}): DashboardPreview {
    const { dashboards, alarms, skippedAlarms } = this.synthesized();
    const [dashboard] = dashboards;
    if (!dashboard) throw new Error('the synthesized app has no AWS::CloudWatch::Dashboard');
    const timeScale = options.timeScale ?? this.options.timeScale;
    const widgets = previewDashboard(options.body ?? dashboard.body, this.options.store, {
      region: dashboard.region,
      timeScale,
      rangeMs: options.rangeMs,
      now: options.now,
      alarms,
      explainMissing,
    });
    return { name: dashboard.name, region: dashboard.region, timeScale, widgets, skippedAlarms };
  }

  /**
   * Per region, in periods of `periodSeconds`: requests by path, fallback rate %, time to first token p50/p99, the
   * fallback links as the probes see them, and the retry budget's refusals, hedges and shared breakers.
   */
  charts(options: {
    seconds: number;
    periodSeconds: number;
    now?: number;
    /** Only this region's (the page draws one at a time); every region's when absent. */
    region?: string;
  }): Array<{ region: string; jurisdiction: string; charts: PreviewWidget[] }> {
    const regions = this.options.regions.filter((region) => options.region === undefined || region.region === options.region);
    return regions.map((region) => ({
      region: region.region,
      jurisdiction: region.jurisdiction,
      charts: previewDashboard({ widgets: this.liveWidgets(region.region, options.periodSeconds) }, this.options.store, {
        region: region.region,
        rangeMs: options.seconds * 1000,
        now: options.now,
      }),
    }));
  }

  /** Per region, the shared target-health records its runtime acts on: breakers held open, runs of failures, shared first-token times. */
  sharedHealth(): Array<{ region: string; records: HealthRecord[] }> {
    return this.options.regions.map((region) => ({ region: region.region, records: region.server.runtime.sharedHealth?.records() ?? [] }));
  }

  /** Serves the views' routes; false when the request is not one of them. */
  async serve(request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<boolean> {
    try {
      return this.route(request, response, url);
    } catch (error) {
      if (!(error instanceof ViewError)) throw error;
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'bad_request', message: error.message } }));
      return true;
    }
  }

  /** `?region=`, one of the deployment's regions, or undefined when not given. */
  private regionParameter(url: URL): string | undefined {
    const region = url.searchParams.get('region') ?? undefined;
    const known = this.options.regions.map((one) => one.region);
    if (region !== undefined && !known.includes(region)) throw new ViewError(`region must be one of ${known.join(', ')}, got ${region}`);
    return region;
  }

  private route(request: http.IncomingMessage, response: http.ServerResponse, url: URL): boolean {
    const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const number = (name: string, fallback: number, max: number) => {
      const value = Number(url.searchParams.get(name) ?? fallback);
      if (!Number.isFinite(value) || value <= 0 || value > max)
        throw new ViewError(`${name} must be a number from 0 to ${max}, got ${url.searchParams.get(name)}`);
      return value;
    };
    const asset = /^\/_local\/assets\/([\w.-]+)$/.exec(url.pathname);
    if (request.method !== 'GET') return false;
    if (url.pathname === '/_local/dashboard') {
      json(
        this.dashboard({
          timeScale: number('scale', this.options.timeScale, 3600),
          rangeMs: url.searchParams.has('minutes') ? number('minutes', 15, 180) * 60_000 : undefined,
        }),
      );
    } else if (url.pathname === '/_local/charts') {
      json({
        regions: this.charts({ seconds: number('seconds', 300, 3 * 3600), periodSeconds: number('period', 5, 3600), region: this.regionParameter(url) }),
      });
    } else if (url.pathname === '/_local/shared-health') {
      json({ regions: this.sharedHealth() });
    } else if (url.pathname === '/_local/health-checks' && this.options.healthChecks) {
      json(this.options.healthChecks());
    } else if (url.pathname === '/_local/routing') {
      const { defaultLocation } = this.options;
      json({
        defaultLocation,
        locations: [...new Set([...CALLER_LOCATIONS, defaultLocation])].map((location) => {
          const region = this.options.routeOf(location);
          return { location, region: region.region, jurisdiction: region.jurisdiction };
        }),
      });
    } else if (asset && WEB_ASSETS[asset[1]]) {
      const { pkg, file, type } = WEB_ASSETS[asset[1]];
      const shipped = path.join(__dirname, 'web', 'vendor', asset[1]);
      response.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'max-age=3600' });
      fs.createReadStream(fs.existsSync(shipped) ? shipped : path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file)).pipe(response);
    } else {
      return false;
    }
    return true;
  }

  /** The page's live charts, written as dashboard widgets so that the same evaluator draws them. */
  private liveWidgets(region: string, period: number): WidgetDefinition[] {
    const ns = this.options.namespace;
    const metric = (name: string, options: Record<string, unknown>, dimensions: string[] = []) => [
      ns,
      name,
      ...dimensions,
      DimensionName.Region,
      region,
      { period, ...options },
    ];
    const widget = (title: string, metrics: unknown[][], extra: Record<string, unknown> = {}): WidgetDefinition => ({
      type: 'metric',
      properties: { title, region, period, metrics, ...extra },
    });
    return [
      widget(
        'Requests by path',
        TIERS.map((tier) => metric(MetricName.Requests, { stat: 'Sum', label: tier }, [DimensionName.Path, tier])),
        { stacked: true },
      ),
      widget('Fallback rate %', [
        [{ expression: 'IF(requests > 0, 100 * fallbacks / requests, 0)', label: 'fallback rate %' }],
        metric(MetricName.Requests, { stat: 'Sum', id: 'requests', visible: false }),
        metric(MetricName.Fallbacks, { stat: 'Sum', id: 'fallbacks', visible: false }),
      ]),
      widget(
        'Time to first token (ms)',
        ['p50', 'p99'].map((stat) => metric(MetricName.TimeToFirstToken, { stat, label: stat })),
      ),
      widget('Fallback links: probe success by target', [this.searchByTarget(region, MetricName.ProbeSuccess, 'Minimum', period)]),
      widget('Fallback links: probe time to first token (ms)', [this.searchByTarget(region, MetricName.ProbeTimeToFirstToken, 'p50', period)]),
      widget('Budget refusals, hedges, shared breakers', [
        metric(MetricName.RetryBudgetRefusals, { stat: 'Sum', label: 'budget refusals' }),
        metric(MetricName.HedgesStarted, { stat: 'Sum', label: 'hedges started' }),
        metric(MetricName.HedgesWon, { stat: 'Sum', label: 'hedges won' }),
        metric(MetricName.SharedBreakerSkips, { stat: 'Sum', label: "skipped on another environment's breaker" }),
        metric(MetricName.BreakerOpened, { stat: 'Sum', label: 'breakers opened' }),
      ]),
    ];
  }

  /** One line per target of the region's probes, found by SEARCH as the dashboard finds them. */
  private searchByTarget(region: string, metricName: MetricName, statistic: string, period: number): unknown[] {
    const query = `{${this.options.namespace},${DimensionName.Region},${DimensionName.Target}} MetricName="${metricName}" ${DimensionName.Region}="${region}"`;
    return [{ expression: `SEARCH('${query}', '${statistic}', ${period})`, label: `\${PROP('Dim.${DimensionName.Target}')}` }];
  }
}

class ViewError extends Error {}
