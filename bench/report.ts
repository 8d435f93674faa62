/** What the benchmarks print: percentiles of sorted samples, milliseconds, ratios to a baseline, and a Markdown table on stdout. */

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** A row comparing sorted samples with a baseline measured in the same run: p50, p99, the baseline's p50 and their ratio. */
export function ratioRow(name: string, measured: number[], baseline: number[], note = ''): string[] {
  const median = percentile(measured, 50);
  const baselineMedian = percentile(baseline, 50);
  return [name, fmt(median), fmt(percentile(measured, 99)), fmt(baselineMedian), `${(median / baselineMedian).toFixed(2)}×`, note];
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (cell ?? '').padEnd(widths[column])).join(' | ')} |`;
  const output = [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
  process.stdout.write(`${output}\n`);
}
