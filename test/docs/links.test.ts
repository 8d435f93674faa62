/**
 * The links between README and the topic pages lead somewhere: a relative
 * link names a file of the repository, and its `#anchor` a heading of that
 * page (GitHub's anchors: lower case, punctuation dropped, spaces as dashes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, readDocPages, type DocPage } from './doc-pages';

const LINK = /\]\(([^)\s]+)\)/g;

/** GitHub's anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code fences). */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading) anchors.add(anchorOf(heading[1]));
  }
  return anchors;
}

/** The relative links of a page that lead nowhere, as `page: target`. */
function brokenLinks(page: DocPage): string[] {
  const broken: string[] = [];
  for (const [, target] of page.text.matchAll(LINK)) {
    if (/^[a-z]+:/.test(target)) continue;
    const [file, anchor] = target.split('#');
    const resolved = file === '' ? path.join(ROOT, page.file) : path.resolve(path.dirname(path.join(ROOT, page.file)), file);
    const ok = fs.existsSync(resolved) && (!anchor || !resolved.endsWith('.md') || anchorsOf(resolved).has(anchor));
    if (!ok) broken.push(`${page.file}: ${target}`);
  }
  return broken;
}

test('every relative link of README and docs/ names an existing file and heading', () => {
  const pages = readDocPages();

  expect(pages.flatMap(brokenLinks)).toEqual([]);
  expect(pages.flatMap((page) => [...page.text.matchAll(LINK)]).length).toBeGreaterThan(20);
});

test('README links every topic page of docs/', () => {
  const readme = readDocPages().find((page) => page.file === 'README.md')!;
  const topics = fs.readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md'));

  expect(topics.filter((name) => !readme.text.includes(`](docs/${name})`))).toEqual([]);
});

test('a link to a missing heading or file is caught', () => {
  const page: DocPage = { file: 'docs/made-up.md', text: '[ok](performance.md#cold-start) [gone](performance.md#warm-start) [none](nowhere.md)' };

  expect(brokenLinks(page)).toEqual(['docs/made-up.md: performance.md#warm-start', 'docs/made-up.md: nowhere.md']);
});
