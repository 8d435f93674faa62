/**
 * What several test files need and none changes (a packed tarball, a
 * synthesized assembly), made once per test run in the run's temporary
 * directory (test/temp-dir.ts): the first file to ask makes it; the others,
 * in its worker or another, wait for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runDirectory } from './temp-dir';

/** The directory `make` filled, under the run's directory as `name`; `make` runs in the first file that asks. */
export async function oncePerRun(name: string, make: (directory: string) => void | Promise<void>): Promise<string> {
  const directory = path.join(runDirectory(), name);
  const failure = `${directory}.failed`;
  try {
    fs.mkdirSync(`${directory}.lock`);
  } catch {
    return madeByAnother(directory, failure);
  }
  const partial = `${directory}.partial`;
  fs.mkdirSync(partial);
  try {
    await make(partial);
  } catch (error) {
    fs.writeFileSync(failure, String((error as Error).stack ?? error));
    throw error;
  }
  // A rename: the waiting files see the directory whole, or not at all.
  fs.renameSync(partial, directory);
  return directory;
}

async function madeByAnother(directory: string, failure: string): Promise<string> {
  for (;;) {
    if (fs.existsSync(directory)) return directory;
    if (fs.existsSync(failure)) throw new Error(`another test file failed to make ${path.basename(directory)}: ${fs.readFileSync(failure, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
