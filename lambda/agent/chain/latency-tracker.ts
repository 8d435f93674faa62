/**
 * Rolling average of each target's recent time to first token (or to
 * failure, so that a slow-failing target ranks behind a fast one). The chain
 * orders candidates of the same tier by it.
 */
export class LatencyTracker {
  private readonly samples = new Map<string, number[]>();
  private readonly recorded = new Map<string, number>();

  constructor(private readonly window: number) {}

  record(key: string, milliseconds: number): void {
    const list = this.samples.get(key) ?? [];
    list.push(milliseconds);
    if (list.length > this.window) list.shift();
    this.samples.set(key, list);
    this.recorded.set(key, this.recordedCount(key) + 1);
  }

  /** How many samples were ever recorded for the target: tells whether it was measured since some earlier moment. */
  recordedCount(key: string): number {
    return this.recorded.get(key) ?? 0;
  }

  /** The p-th percentile (0–100) of the recent samples, or undefined for a target never measured. */
  percentile(key: string, p: number): number | undefined {
    const list = this.samples.get(key);
    if (!list || list.length === 0) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  }

  /** The average of the recent samples, or undefined for a target never measured. */
  average(key: string): number | undefined {
    const list = this.samples.get(key);
    if (!list || list.length === 0) return undefined;
    return list.reduce((sum, value) => sum + value, 0) / list.length;
  }
}
