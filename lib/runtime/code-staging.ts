import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let root: string | undefined;

/**
 * Writes `files` (by path, `/`-separated) into a directory named after their names and contents, and
 * returns it: the same files give the same directory, so that regions whose
 * code is the same share one directory (and CDK one asset).
 *
 * The directories live under a temporary folder of this process, removed
 * when it exits: CDK copies an asset into the cloud assembly when the
 * function is created, so nothing needs them afterwards.
 */
export function stageDirectory(files: Readonly<Record<string, string | Uint8Array>>): string {
  const names = Object.keys(files).sort();
  const hash = createHash('sha256');
  for (const name of names) {
    const contents = Buffer.from(files[name]);
    hash.update(`${name}\0${contents.length}\0`).update(contents);
  }
  const directory = path.join(stagingRoot(), hash.digest('hex').slice(0, 32));
  if (!fs.existsSync(directory)) {
    // Written beside, then renamed: a directory that exists is always complete.
    const partial = `${directory}.partial`;
    fs.mkdirSync(partial, { recursive: true });
    for (const name of names) {
      fs.mkdirSync(path.dirname(path.join(partial, name)), { recursive: true });
      fs.writeFileSync(path.join(partial, name), files[name]);
    }
    fs.renameSync(partial, directory);
  }
  return directory;
}

function stagingRoot(): string {
  if (!root) {
    const created = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-multi-region-agent-'));
    process.once('exit', () => fs.rmSync(created, { recursive: true, force: true }));
    root = created;
  }
  return root;
}
