/**
 * What `agentctl local --watch` watches: every directory under the app's,
 * those made after the start included, and nothing under the directories it
 * skips (node_modules, the assembly's output), whose changes never reach it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { watchSources } from '../../local/watch-sources';

let root: string;
let stop: () => void = () => undefined;
const seen: string[] = [];
let waiting: { file: string; resolve: () => void } | undefined;

/** Resolves once a change of `file` (relative to the root) was reported. */
function changeOf(file: string): Promise<void> {
  if (seen.includes(file)) return Promise.resolve();
  return new Promise((resolve) => {
    waiting = { file, resolve };
  });
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'watch-sources-'));
  for (const directory of ['node_modules/some-package', 'cdk.out/asset.1', 'agent/tools']) fs.mkdirSync(path.join(root, directory), { recursive: true });
  seen.length = 0;
  stop = watchSources(
    root,
    (file) => /^(node_modules|cdk\.out)(\/|$)/.test(file),
    (file) => {
      seen.push(file);
      if (waiting?.file === file) waiting.resolve();
    },
  );
});

afterEach(() => {
  stop();
  fs.rmSync(root, { recursive: true, force: true });
});

test('a save deep in the sources is reported; saves under skipped directories, made before it, are not', async () => {
  fs.writeFileSync(path.join(root, 'node_modules', 'some-package', 'index.js'), 'module.exports = 1;');
  fs.writeFileSync(path.join(root, 'cdk.out', 'asset.1', 'index.mjs'), 'export {};');

  fs.writeFileSync(path.join(root, 'agent', 'tools', 'greet.ts'), 'export const greet = 1;');
  await changeOf(path.join('agent', 'tools', 'greet.ts'));

  expect(seen.filter((file) => file.startsWith('node_modules') || file.startsWith('cdk.out'))).toEqual([]);
});

test('a directory made after the start is watched too', async () => {
  fs.mkdirSync(path.join(root, 'agent', 'prompts'));
  await changeOf(path.join('agent', 'prompts'));

  fs.writeFileSync(path.join(root, 'agent', 'prompts', 'system.md'), 'Be brief.');
  await changeOf(path.join('agent', 'prompts', 'system.md'));

  expect(seen).toContain(path.join('agent', 'prompts', 'system.md'));
});
