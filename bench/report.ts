/** What the benchmarks print: percentiles of sorted samples, milliseconds, ratios to a baseline, and a Markdown table on stdout. */
import * as os from 'node:os';

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Milliseconds as seconds, for the tables of slow things (start, synthesis). */
export const seconds = (ms: number, digits = 1) => (ms / 1000).toFixed(digits);

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

/** The machine's load as the benchmarks note it beside their figures: load averages (1, 5, 15 min) and cores. */
export function machineLoad(): string {
  const load = os
    .loadavg()
    .map((average) => average.toFixed(1))
    .join(' ');
  return `load average: ${load} on ${os.cpus().length} cores`;
}

/** A table whose rows were printed one by one as they were measured, printed again whole under the machine's load. */
export function printSummary(header: string[], rows: string[][]): void {
  process.stdout.write(`\n${machineLoad()}\n\n`);
  printTable(header, rows);
}

/** One row as it is measured. */
export function printRow(row: string[]): void {
  process.stdout.write(`| ${row.join(' | ')} |\n`);
}
