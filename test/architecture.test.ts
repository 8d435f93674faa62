/**
 * docs/architecture.md is the map of the folders and the rule of what may
 * import what; this test holds the tree to it, so the page cannot drift:
 * every folder it lists exists, and no import crosses a line it draws.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const PAGE = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
/** `aws-cdk-lib` and `constructs` are one dependency for these rules: the CDK. */
const CDK = 'aws-cdk-lib';

/** The first column's folders of the table under `heading`, with the second column's text. */
function tableRows(heading: string): Array<{ folder: string; cell: string }> {
  const section = PAGE.split(/^## /m).find((part) => part.startsWith(heading));
  if (!section) throw new Error(`docs/architecture.md has no section '${heading}'`);
  return [...section.matchAll(/^\| `([^`]+)` \| (.*) \|$/gm)].map((row) => ({ folder: row[1], cell: row[2] }));
}

const allowed = new Map(tableRows('What may import what').map(({ folder, cell }) => [folder, [...cell.matchAll(/`([^`]+)`/g)].map((name) => name[1])]));

/** The longest listed folder holding `file`, whose row rules its imports. */
function ruleOf(file: string): string | undefined {
  return [...allowed.keys()].filter((folder) => file.startsWith(folder)).sort((a, b) => b.length - a.length)[0];
}

/** What a file imports that these rules know: a listed folder (by relative path), or the CDK. */
function importsOf(file: string): string[] {
  const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((match) => match[1]);
  return specifiers.flatMap((specifier) => {
    if (specifier === 'constructs' || specifier === CDK || specifier.startsWith(`${CDK}/`)) return [CDK];
    if (!specifier.startsWith('.')) return [];
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
    const folder = ruleOf(`${target}/`) ?? ruleOf(target) ?? [...allowed.keys()].find((listed) => `${target}/`.startsWith(listed));
    return folder ? [folder] : [];
  });
}

test('every folder the page lists exists', () => {
  const missing = tableRows('Folders')
    .map(({ folder }) => folder)
    .filter((folder) => !fs.existsSync(path.join(ROOT, folder)) || !fs.statSync(path.join(ROOT, folder)).isDirectory());
  expect(missing).toEqual([]);
});

test('no import crosses a line the page draws', () => {
  const sources = execFileSync('git', ['ls-files', '*.ts', '*.mts', '*.tsx'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file !== '' && !file.startsWith('examples/consumer/'));
  const crossings = sources.flatMap((file) => {
    const rule = ruleOf(file);
    if (!rule) return [];
    const permitted = allowed.get(rule)!;
    return importsOf(file)
      .filter((folder) => folder !== rule && !permitted.includes(folder))
      .map((folder) => `${file} imports ${folder}`);
  });
  expect(crossings).toEqual([]);
});

test('the rules are read from the page: lambda/ may import nothing else, lib/ the runtime and the CDK', () => {
  expect(allowed.get('lambda/')).toEqual([]);
  expect(allowed.get('lib/')).toEqual(['lambda/', CDK]);
});
