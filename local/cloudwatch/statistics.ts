/**
 * CloudWatch statistics over the raw samples of one period: Sum, Average,
 * Minimum, Maximum, SampleCount and percentiles (pNN, pNN.N). A period
 * without samples has no data point, whatever the statistic.
 */

export type Statistic = (samples: readonly number[]) => number | null;

export class UnsupportedStatisticError extends Error {
  constructor(readonly statistic: string) {
    super(`statistic '${statistic}' is not one the local preview computes (Sum, Average, Minimum, Maximum, SampleCount, pNN)`);
  }
}

const NAMED: Record<string, Statistic> = {
  Sum: (samples) => samples.reduce((sum, value) => sum + value, 0),
  Average: (samples) => samples.reduce((sum, value) => sum + value, 0) / samples.length,
  Minimum: (samples) => Math.min(...samples),
  Maximum: (samples) => Math.max(...samples),
  SampleCount: (samples) => samples.length,
};

/** The function computing `name` (CloudWatch's spelling, as in a dashboard body or an alarm). */
export function statistic(name: string): Statistic {
  const named = NAMED[name];
  const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/i.exec(name);
  if (!named && !percentile) throw new UnsupportedStatisticError(name);
  const compute = named ?? ((samples: readonly number[]) => nearestRank(samples, Number(percentile![1])));
  return (samples) => (samples.length === 0 ? null : compute(samples));
}

/** The pth percentile by nearest rank: the smallest sample with at least p% of the samples at or below it. */
function nearestRank(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}
