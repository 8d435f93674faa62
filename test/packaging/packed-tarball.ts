/**
 * One `npm pack` per test run, shared by the packaging tests (package.test.ts,
 * consumer.test.ts): packing builds the package (tsc and the runtime bundle)
 * into the repository's dist/, so two packs would cost twice and, in parallel
 * workers, write dist/ at once.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { oncePerRun } from '../once-per-run';

const root = path.join(__dirname, '..', '..');

/** Copies the run's packed tarball into `directory` (packing it first if no file has yet) and returns its file name. */
export async function copyPackedTarball(directory: string): Promise<string> {
  const packed = await oncePerRun('packed', async (destination) => {
    await promisify(execFile)('npm', ['pack', '--pack-destination', destination], {
      cwd: root,
      env: { ...process.env, npm_config_update_notifier: 'false' },
      maxBuffer: 64 * 1024 * 1024,
    });
  });
  const name = fs.readdirSync(packed).find((file) => file.endsWith('.tgz'))!;
  fs.copyFileSync(path.join(packed, name), path.join(directory, name));
  return name;
}
