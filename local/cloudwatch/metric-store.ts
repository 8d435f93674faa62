/**
 * The local stand-in for CloudWatch's metric storage: raw samples per
 * metric (region, namespace, name, dimensions), as CloudWatch keeps them
 * before computing statistics. It takes the embedded-metric-format records
 * the runtimes write (one datum per dimension set and metric, as CloudWatch
 * extracts them from a log line) and the data points the emulated services
 * publish for themselves (AWS/Bedrock, AWS/DynamoDB, AWS/Route53).
 */

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** One metric of one region, with its samples in time order. */
export interface MetricStream extends MetricIdentity {
  readonly region: string;
  /** Sample times (ms since the epoch), ascending, beside their values. */
  readonly times: readonly number[];
  readonly values: readonly number[];
}

export interface Datum extends MetricIdentity {
  readonly region: string;
  /** One sample or several (EMF may carry an array of values). */
  readonly value: number | readonly number[];
  /** @default - now */
  readonly timestamp?: number;
}

interface EmfDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

/** A three-hour window is all a playground run shows (CloudWatch keeps sub-minute data for three hours too). */
const DEFAULT_RETENTION_MS = 3 * 60 * 60 * 1000;

export class MetricStore {
  private readonly streams = new Map<string, { region: string; identity: MetricIdentity; times: number[]; values: number[] }>();
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(options: { retentionMs?: number; now?: () => number } = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  put(datum: Datum): void {
    const key = streamKey(datum.region, datum);
    let stream = this.streams.get(key);
    if (!stream) {
      stream = {
        region: datum.region,
        identity: { namespace: datum.namespace, metricName: datum.metricName, dimensions: { ...datum.dimensions } },
        times: [],
        values: [],
      };
      this.streams.set(key, stream);
    }
    const at = datum.timestamp ?? this.now();
    for (const value of typeof datum.value === 'number' ? [datum.value] : datum.value) {
      if (!Number.isFinite(value)) continue;
      // Records arrive nearly in order: insert from the end.
      let index = stream.times.length;
      while (index > 0 && stream.times[index - 1] > at) index--;
      stream.times.splice(index, 0, at);
      stream.values.splice(index, 0, value);
    }
    this.expire(stream, at);
  }

  /**
   * Takes one EMF record as CloudWatch Logs would: each metric of each
   * directive, once per dimension set, with the values of the record's
   * dimension keys. Returns the number of data taken (0 for a log line that
   * is not EMF). Locally every runtime writes to the same stdout, so the
   * record's region is its `Region` dimension unless `region` is given (the
   * runtime always sets it to its own region).
   */
  putEmf(record: Record<string, unknown>, region?: string): number {
    const aws = record._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
    if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return 0;
    const timestamp = typeof aws.Timestamp === 'number' ? aws.Timestamp : undefined;
    const where = region ?? (typeof record.Region === 'string' ? record.Region : undefined);
    if (!where) return 0;
    let taken = 0;
    for (const directive of aws.CloudWatchMetrics as EmfDirective[]) {
      if (typeof directive.Namespace !== 'string' || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) continue;
      for (const metric of directive.Metrics as Array<{ Name?: unknown }>) {
        if (typeof metric.Name !== 'string') continue;
        const raw = record[metric.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((value): value is number => typeof value === 'number');
        if (values.length === 0) continue;
        for (const set of directive.Dimensions as unknown[]) {
          if (!Array.isArray(set)) continue;
          // A dimension whose key is missing from the record makes CloudWatch drop that dimension set.
          if (!set.every((name) => typeof name === 'string' && typeof record[name] === 'string')) continue;
          const dimensions = Object.fromEntries((set as string[]).map((name) => [name, record[name] as string]));
          this.put({ region: where, namespace: directive.Namespace, metricName: metric.Name, dimensions, value: values, timestamp });
          taken++;
        }
      }
    }
    return taken;
  }

  /** The metrics of one region (every namespace), for queries and searches. */
  streamsOf(region: string): MetricStream[] {
    return [...this.streams.values()]
      .filter((stream) => stream.region === region)
      .map((stream) => ({ region: stream.region, ...stream.identity, times: stream.times, values: stream.values }));
  }

  /** The one metric of a region with exactly these dimensions, if it has any sample. */
  stream(region: string, identity: MetricIdentity): MetricStream | undefined {
    const stream = this.streams.get(streamKey(region, identity));
    return stream && { region, ...stream.identity, times: stream.times, values: stream.values };
  }

  clear(): void {
    this.streams.clear();
  }

  private expire(stream: { times: number[]; values: number[] }, now: number): void {
    let drop = 0;
    while (drop < stream.times.length && stream.times[drop] < now - this.retentionMs) drop++;
    if (drop > 0) {
      stream.times.splice(0, drop);
      stream.values.splice(0, drop);
    }
  }
}

function streamKey(region: string, identity: MetricIdentity): string {
  const dimensions = Object.keys(identity.dimensions)
    .sort()
    .map((name) => [name, identity.dimensions[name]]);
  return JSON.stringify([region, identity.namespace, identity.metricName, dimensions]);
}

/**
 * The samples of a stream grouped into `count` buckets of `widthMs` from
 * `start`: CloudWatch's periods, each holding the raw values a statistic is
 * computed over.
 */
export function bucketed(stream: Pick<MetricStream, 'times' | 'values'>, start: number, widthMs: number, count: number): number[][] {
  const buckets: number[][] = Array.from({ length: count }, () => []);
  const end = start + widthMs * count;
  for (let index = lowerBound(stream.times, start); index < stream.times.length && stream.times[index] < end; index++) {
    buckets[Math.floor((stream.times[index] - start) / widthMs)].push(stream.values[index]);
  }
  return buckets;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let [low, high] = [0, sorted.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
