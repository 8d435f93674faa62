/**
 * A CloudWatch dashboard body evaluated as the CloudWatch console would draw
 * it, over a local MetricStore: each metric widget's rows
 * (`[namespace, metricName, dimensionName, dimensionValue, …, {options}]`,
 * with `.` and `...` repeating the row above, or `[{expression, …}]`), their
 * `id`, `stat`, `period`, `region`, `label`, `visible` and `yAxis`, metric
 * math over the ids, SEARCH with dynamic labels (`${PROP('Dim.X')}`,
 * `${PROP('MetricName')}`, `${PROP('Namespace')}`, `${PROP('Region')}`),
 * alarm widgets (`annotations.alarms`, evaluated from the alarms'
 * definitions) and text widgets.
 *
 * `timeScale` compresses time for a local run of minutes: a period of P
 * seconds becomes P / timeScale seconds of wall clock, and the dashboard's
 * time range shrinks alike; the math is unchanged.
 */
import { alarmStates, type AlarmDefinition, type AlarmState } from './alarms';
import { bucketed, type MetricIdentity, type MetricStore } from './metric-store';
import { evaluate, MathError, type Grid, type MathValue, type Series } from './metric-math';
import { parseSearch } from './search';
import { statistic } from './statistics';

export interface DashboardBody {
  readonly start?: string;
  readonly widgets: readonly WidgetDefinition[];
}

export interface WidgetDefinition {
  readonly type: string;
  readonly x?: number;
  readonly y?: number;
  readonly width?: number;
  readonly height?: number;
  readonly properties: Record<string, unknown>;
}

export interface PreviewOptions {
  /** The dashboard's own region: the region of widgets that name none. */
  readonly region: string;
  /** @default Date.now() */
  readonly now?: number;
  /** A period of P seconds is drawn as P / timeScale seconds. @default 1 */
  readonly timeScale?: number;
  /** Time range shown, in wall-clock ms (after scaling). @default - the body's `start`, scaled (3 hours unscaled) */
  readonly rangeMs?: number;
  /** The alarms alarm widgets may name, by ARN. */
  readonly alarms?: readonly AlarmDefinition[];
  /** Why a metric cannot have data locally, when it cannot; shown on its empty series. */
  readonly explainMissing?: (metric: MetricIdentity & { readonly region: string }) => string | undefined;
}

export interface PreviewSeries {
  readonly label: string;
  readonly id?: string;
  readonly yAxis: 'left' | 'right';
  readonly color?: string;
  /** Start of each period (ms since the epoch). */
  readonly times: readonly number[];
  readonly values: ReadonlyArray<number | null>;
  /** Why this row has no data: an error in its expression, or a reason it cannot have any locally. */
  readonly error?: string;
  readonly note?: string;
}

export interface PreviewAlarm {
  readonly arn: string;
  readonly name?: string;
  readonly state?: AlarmState;
  /** The state after each period of the widget's series. */
  readonly states?: readonly AlarmState[];
  readonly threshold?: number;
  readonly error?: string;
}

export interface PreviewWidget {
  readonly type: 'text' | 'metric' | 'alarm' | 'unsupported';
  readonly title?: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly markdown?: string;
  readonly view?: string;
  readonly stacked?: boolean;
  readonly yAxis?: unknown;
  readonly horizontalAnnotations?: ReadonlyArray<{ value: number; label?: string; color?: string; yAxis?: string }>;
  readonly series: readonly PreviewSeries[];
  readonly alarms?: readonly PreviewAlarm[];
  /** Whether any series drawn has a data point (text widgets: always). */
  readonly hasData: boolean;
}

const DEFAULT_PERIOD_SECONDS = 300;
const DEFAULT_RANGE = '-PT3H';

export function previewDashboard(body: DashboardBody, store: MetricStore, options: PreviewOptions): PreviewWidget[] {
  const clock = new Clock(options, body.start);
  return body.widgets.map((widget) => previewWidget(widget, store, options, clock));
}

class Clock {
  readonly now: number;
  readonly scale: number;
  readonly rangeMs: number;

  constructor(options: PreviewOptions, start: string | undefined) {
    this.now = options.now ?? Date.now();
    this.scale = options.timeScale ?? 1;
    this.rangeMs = options.rangeMs ?? isoDurationMs(start ?? DEFAULT_RANGE) / this.scale;
  }

  /** The periods of `periodSeconds` (scaled) covering the range up to now, the current one included. */
  grid(periodSeconds: number): Grid {
    const widthMs = (periodSeconds * 1000) / this.scale;
    const start = Math.floor((this.now - this.rangeMs) / widthMs) * widthMs;
    return { start, widthMs, count: Math.floor((this.now - start) / widthMs) + 1 };
  }
}

/** `-PT3H`, `-P1D`, `-PT15M`… as milliseconds. */
export function isoDurationMs(duration: string): number {
  const match = /^-?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) throw new Error(`'${duration}' is not an ISO 8601 duration such as -PT3H`);
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return ((((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

function previewWidget(widget: WidgetDefinition, store: MetricStore, options: PreviewOptions, clock: Clock): PreviewWidget {
  const properties = widget.properties ?? {};
  const base = {
    title: typeof properties.title === 'string' ? properties.title : undefined,
    x: widget.x ?? 0,
    y: widget.y ?? 0,
    width: widget.width ?? 6,
    height: widget.height ?? 6,
  };
  if (widget.type === 'text') return { ...base, type: 'text', markdown: String(properties.markdown ?? ''), series: [], hasData: true };
  if (widget.type !== 'metric') return { ...base, type: 'unsupported', series: [], hasData: false };
  const annotations = (properties.annotations ?? {}) as { horizontal?: PreviewWidget['horizontalAnnotations']; alarms?: string[] };
  const common = { ...base, view: properties.view as string | undefined, stacked: properties.stacked === true, yAxis: properties.yAxis };
  if (annotations.alarms?.length) return { ...common, ...alarmWidget(annotations.alarms, store, options, clock) };
  const series = new MetricRows(properties, store, options, clock).series();
  return {
    ...common,
    type: 'metric',
    horizontalAnnotations: annotations.horizontal,
    series,
    hasData: series.some((one) => one.values.some((value) => value !== null)),
  };
}

/** An alarm widget: each alarm's metric as its alarm sees it, its threshold and its state. */
function alarmWidget(
  arns: string[],
  store: MetricStore,
  options: PreviewOptions,
  clock: Clock,
): Pick<PreviewWidget, 'type' | 'series' | 'alarms' | 'hasData' | 'horizontalAnnotations'> {
  const series: PreviewSeries[] = [];
  const alarms: PreviewAlarm[] = arns.map((arn) => {
    const alarm = options.alarms?.find((candidate) => candidate.arn === arn);
    if (!alarm) return { arn, error: `no alarm with this ARN in the synthesized templates` };
    const grid = clock.grid(alarm.periodSeconds);
    const values = statisticSeries(store, alarm.region, alarm, alarm.statistic, grid);
    series.push({
      label: alarm.name,
      yAxis: 'left',
      times: times(grid),
      values,
      note: values.every((value) => value === null) ? explain(options, alarm.region, alarm) : undefined,
    });
    const states = alarmStates(alarm, values);
    return { arn, name: alarm.name, threshold: alarm.threshold, states, state: states[states.length - 1] };
  });
  return {
    type: 'alarm',
    series,
    alarms,
    horizontalAnnotations: alarms.flatMap((alarm) =>
      alarm.threshold === undefined ? [] : [{ value: alarm.threshold, label: `${alarm.name} threshold`, color: '#d62728' }],
    ),
    hasData: series.some((one) => one.values.some((value) => value !== null)),
  };
}

function explain(options: PreviewOptions, region: string, metric: MetricIdentity): string | undefined {
  return options.explainMissing?.({ region, namespace: metric.namespace, metricName: metric.metricName, dimensions: metric.dimensions });
}

type Row =
  { kind: 'metric'; id: string; metric: MetricIdentity; options: RowOptions } | { kind: 'expression'; id: string; expression: string; options: RowOptions };

interface RowOptions {
  id?: string;
  label?: string;
  stat?: string;
  period?: number;
  region?: string;
  visible?: boolean;
  yAxis?: 'left' | 'right';
  color?: string;
  expression?: string;
}

/** The rows of one metric widget, evaluated lazily by id so that expressions can use any other row. */
class MetricRows {
  private readonly rows: Row[];
  private readonly cache = new Map<string, MathValue>();
  private readonly evaluating = new Set<string>();

  constructor(
    private readonly properties: Record<string, unknown>,
    private readonly store: MetricStore,
    private readonly options: PreviewOptions,
    private readonly clock: Clock,
  ) {
    this.rows = parseRows((properties.metrics ?? []) as unknown[][]);
  }

  series(): PreviewSeries[] {
    return this.rows
      .filter((row) => row.options.visible !== false)
      .flatMap((row): PreviewSeries[] => {
        const grid = this.clock.grid(this.periodOf(row));
        const base = { id: row.options.id, yAxis: row.options.yAxis ?? ('left' as const), color: row.options.color, times: times(grid) };
        let value: MathValue;
        try {
          value = this.value(row, grid);
        } catch (error) {
          // What CloudWatch shows in place of the graph: an unknown id, a bad expression or search, an unknown statistic.
          if (!(error instanceof Error)) throw error;
          return [{ ...base, label: row.options.label ?? row.id, values: new Array<null>(grid.count).fill(null), error: error.message }];
        }
        const list = typeof value === 'number' ? [{ label: '', values: new Array<number>(grid.count).fill(value) }] : Array.isArray(value) ? value : [value];
        return list.map((one) => {
          const note = one.values.every((point) => point === null) && one.metric ? explain(this.options, one.metric.region, one.metric) : undefined;
          return { ...base, label: labelOf(row, one, Array.isArray(value)), values: one.values, note };
        });
      });
  }

  private periodOf(row: Row): number {
    return row.options.period ?? (this.properties.period as number | undefined) ?? DEFAULT_PERIOD_SECONDS;
  }

  private regionOf(row: Row): string {
    return row.options.region ?? (this.properties.region as string | undefined) ?? this.options.region;
  }

  private value(row: Row, grid: Grid): MathValue {
    const key = `${row.id}@${grid.widthMs}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    if (this.evaluating.has(key)) throw new MathError(`the expression of ${row.id} depends on itself`);
    this.evaluating.add(key);
    try {
      const value = row.kind === 'metric' ? this.metric(row, grid) : this.expression(row, grid);
      this.cache.set(key, value);
      return value;
    } finally {
      this.evaluating.delete(key);
    }
  }

  private metric(row: Extract<Row, { kind: 'metric' }>, grid: Grid): Series {
    const region = this.regionOf(row);
    const stat = row.options.stat ?? (this.properties.stat as string | undefined) ?? 'Average';
    return { label: row.metric.metricName, metric: { ...row.metric, region }, values: statisticSeries(this.store, region, row.metric, stat, grid) };
  }

  private expression(row: Extract<Row, { kind: 'expression' }>, grid: Grid): MathValue {
    const region = this.regionOf(row);
    return evaluate(row.expression, {
      grid,
      id: (name) => {
        const other = this.rows.find((candidate) => candidate.options.id === name);
        if (!other) throw new MathError(`Unrecognized identifier ${name}: no metric or expression of this widget has that id`);
        return this.value(other, grid);
      },
      search: (query, stat) => {
        const search = parseSearch(query);
        return this.store
          .streamsOf(region)
          .filter((stream) => search.matches(stream))
          .map((stream) => ({ label: defaultSearchLabel(stream), metric: stream, values: statisticSeries(this.store, region, stream, stat, grid) }))
          .sort((a, b) => a.label.localeCompare(b.label));
      },
    });
  }
}

function parseRows(metrics: unknown[][]): Row[] {
  let previous: string[] = [];
  return metrics.map((raw, index) => {
    const last = raw[raw.length - 1];
    const options = (last !== null && typeof last === 'object' ? last : {}) as RowOptions;
    const strings = (options === last ? raw.slice(0, -1) : raw).map(String);
    const id = options.id ?? `row${index + 1}`;
    if (options.expression !== undefined) return { kind: 'expression', id, expression: options.expression, options };
    // `...` repeats the rest of the row above; `.` its value at this position.
    const expanded = strings.flatMap((value, position) => (value === '...' ? previous.slice(position) : [value === '.' ? previous[position] : value]));
    previous = expanded;
    const [namespace, metricName, ...pairs] = expanded;
    const dimensions: Record<string, string> = {};
    for (let pair = 0; pair + 1 < pairs.length; pair += 2) dimensions[pairs[pair]] = pairs[pair + 1];
    return { kind: 'metric', id, metric: { namespace, metricName, dimensions }, options };
  });
}

function statisticSeries(store: MetricStore, region: string, metric: MetricIdentity, stat: string, grid: Grid): Array<number | null> {
  const compute = statistic(stat);
  const stream = store.stream(region, metric);
  if (!stream) return new Array<null>(grid.count).fill(null);
  return bucketed(stream, grid.start, grid.widthMs, grid.count).map((samples) => compute(samples));
}

function times(grid: Grid): number[] {
  return Array.from({ length: grid.count }, (_, index) => grid.start + index * grid.widthMs);
}

function defaultSearchLabel(metric: MetricIdentity): string {
  const values = Object.values(metric.dimensions);
  return values.length > 0 ? values.join(' ') : metric.metricName;
}

/**
 * The legend of one series: the row's label with its dynamic labels filled
 * in from the series' metric; for a search without dynamic labels,
 * `<label> <metric's own label>` as CloudWatch shows it.
 */
function labelOf(row: Row, series: Series, fromArray: boolean): string {
  const label = row.options.label;
  if (label === undefined) return series.label || row.id;
  const metric = series.metric;
  if (fromArray && !label.includes('${PROP(')) return `${label} ${series.label}`.trim();
  return label.replace(/\$\{PROP\('([^']+)'\)\}/g, (whole, property: string) => {
    if (!metric) return whole;
    if (property === 'MetricName') return metric.metricName;
    if (property === 'Namespace') return metric.namespace;
    if (property === 'Region') return metric.region;
    const dimension = /^Dim\.(.+)$/.exec(property);
    return dimension ? (metric.dimensions[dimension[1]] ?? '') : whole;
  });
}
