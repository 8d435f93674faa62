/** Terminal output helpers: aligned tables and a progress line. */

export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * One status line that is rewritten in place on a terminal; elsewhere (logs,
 * CI) a new line is written only when the `key` of the message changes, so a
 * long wait does not flood the log.
 */
export class ProgressLine {
  private lastKey?: string;
  private open = false;

  constructor(private readonly stream: OutputStream) {}

  update(message: string, key: string = message): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\u001b[2K${message}`);
      this.open = true;
    } else if (key !== this.lastKey) {
      this.stream.write(`${message}\n`);
    }
    this.lastKey = key;
  }

  /** Ends the line on a terminal so that what follows starts on its own line. */
  finish(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }
}
