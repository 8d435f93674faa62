/** The project's documentation as a reader meets it: README.md and every topic page in docs/. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

/** A page, by its path from the repository's root. */
export interface DocPage {
  readonly file: string;
  readonly text: string;
}

/** README.md first, then docs/*.md in name order (docs/api/, generated and not committed, is not a page). */
export function readDocPages(): DocPage[] {
  const topicPages = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => path.join('docs', name));
  return ['README.md', ...topicPages].map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
}
