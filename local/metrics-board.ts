/**
 * The local playground's per-region figures, computed from the same EMF
 * records the runtime writes for CloudWatch (see lambda/agent/telemetry.ts),
 * so that the web page shows what the dashboard would.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DimensionName, MetricName } from '../lambda/agent/metric-names';

export interface RegionFigures {
  requests: number;
  byPath: Record<string, number>;
  fallbacks: number;
  failed: number;
  stateDegraded: number;
  breakerOpened: number;
  targetErrors: Record<string, number>;
  /** Fallbacks / Requests × 100, as the dashboard computes it. */
  fallbackRatePercent: number;
  timeToFirstTokenP50Ms: number | null;
}

interface EmfRecord {
  _aws?: { CloudWatchMetrics?: Array<{ Dimensions: string[][] }> };
  [key: string]: unknown;
}

/** What is counted per region; the rate and the median are computed from it in snapshot(). */
type RegionTally = Omit<RegionFigures, 'fallbackRatePercent' | 'timeToFirstTokenP50Ms'> & { ttft: number[] };

export class MetricsBoard {
  private readonly regions = new Map<string, RegionTally>();

  /** Takes one JSON line written by a runtime; ignores anything that is not an EMF record. */
  record(line: EmfRecord): void {
    const dimensionSets = line._aws?.CloudWatchMetrics?.[0]?.Dimensions ?? [];
    const region = line[DimensionName.Region];
    if (typeof region !== 'string') return;
    const figures = this.figures(region);
    const value = (name: string) => Number(line[name] ?? 0);
    // One record may carry its values under several dimension sets, as CloudWatch reads it.
    for (const set of dimensionSets.map((dimensions) => dimensions.join())) this.tally(figures, set, line, value);
  }

  private tally(figures: RegionTally, set: string, line: EmfRecord, value: (name: string) => number): void {
    if (set === DimensionName.Region) {
      figures.requests += value(MetricName.Requests);
      figures.fallbacks += value(MetricName.Fallbacks);
      figures.failed += value(MetricName.FailedRequests);
      figures.stateDegraded += value(MetricName.StateDegraded);
      figures.breakerOpened += value(MetricName.BreakerOpened);
      if (line[MetricName.TimeToFirstToken] !== undefined) figures.ttft.push(value(MetricName.TimeToFirstToken));
    } else if (set === [DimensionName.Region, DimensionName.Path].join()) {
      const path = String(line[DimensionName.Path]);
      figures.byPath[path] = (figures.byPath[path] ?? 0) + value(MetricName.Requests);
    } else if (set === [DimensionName.Region, DimensionName.Reason].join()) {
      const reason = String(line[DimensionName.Reason]);
      figures.targetErrors[reason] = (figures.targetErrors[reason] ?? 0) + value(MetricName.TargetErrors);
    }
  }

  snapshot(): Record<string, RegionFigures> {
    return Object.fromEntries(
      [...this.regions.entries()].map(([region, { ttft, ...figures }]) => {
        const sorted = [...ttft].sort((a, b) => a - b);
        return [
          region,
          {
            ...figures,
            fallbackRatePercent: figures.requests > 0 ? Math.round((1000 * figures.fallbacks) / figures.requests) / 10 : 0,
            timeToFirstTokenP50Ms: sorted.length > 0 ? sorted[Math.floor((sorted.length - 1) / 2)] : null,
          },
        ];
      }),
    );
  }

  private figures(region: string): RegionTally {
    let figures = this.regions.get(region);
    if (!figures) {
      figures = { requests: 0, byPath: {}, fallbacks: 0, failed: 0, stateDegraded: 0, breakerOpened: 0, targetErrors: {}, ttft: [] };
      this.regions.set(region, figures);
    }
    return figures;
  }
}

interface OutputTap {
  onLine: (line: Record<string, unknown>) => void;
  echo: boolean;
}

/** A deployment's hold on the process's output: what it started within reads its runtimes' lines. */
export interface RuntimeOutput {
  /** Runs `start`, and everything it starts (servers, their requests, timers), as this deployment's. */
  within<T>(start: () => Promise<T>): Promise<T>;
  /** Stops reading; the streams are restored once no deployment reads them. */
  untap(): void;
}

/** The taps of the deployments running in this process, and how to put the streams back once the last one is gone. */
const taps = new Set<OutputTap>();
let restoreStreams: (() => void) | undefined;
/** Whose code is writing: a deployment's servers and timers carry its tap, as does every request they serve. */
const writer = new AsyncLocalStorage<OutputTap>();

/**
 * Reads the JSON lines this process writes to stdout and stderr (Powertools
 * writes there, as Lambda expects) and hands them to `onLine`; other output
 * passes through. With `echo`, the JSON lines are printed too. A line written
 * by code started `within` goes to that tap only, so that two deployments in
 * one process (two playgrounds, a test's and a page's) never count each
 * other's requests; a line from anywhere else goes to every tap. The streams
 * are patched once however many deployments tap them, and restored when the
 * last one untaps, in whatever order they close.
 */
export function tapRuntimeOutput(onLine: (line: Record<string, unknown>) => void, options: { echo?: boolean } = {}): RuntimeOutput {
  const tap: OutputTap = { onLine, echo: options.echo ?? false };
  taps.add(tap);
  restoreStreams ??= patchStreams();
  return {
    within: (start) => writer.run(tap, start),
    untap: () => {
      if (!taps.delete(tap) || taps.size > 0) return;
      restoreStreams?.();
      restoreStreams = undefined;
    },
  };
}

function patchStreams(): () => void {
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write;
    const write = original.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      const text = String(chunk);
      if (!text.startsWith('{')) return write(chunk, ...rest);
      const lines: Array<Record<string, unknown>> = [];
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          lines.push(JSON.parse(line));
        } catch {
          // Not one of ours: leave it to the terminal.
          return write(chunk, ...rest);
        }
      }
      // A deployment's line is its own (none once it has closed); any other is everyone's.
      const own = writer.getStore();
      const readers = own ? [own].filter((tap) => taps.has(tap)) : [...taps];
      for (const tap of readers) lines.forEach((line) => tap.onLine(line));
      return readers.some((tap) => tap.echo) ? write(chunk, ...rest) : true;
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}
