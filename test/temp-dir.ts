/**
 * One temporary directory per test run, removed when the run ends. Jest runs
 * each test file in a sandbox whose `process` never emits `exit`, so what
 * synthesis cleans up at exit (CDK's `cdk.out…` of an App without outdir,
 * the library's staged code directories) would stay in the OS temp dir after
 * every run. Workers are started after this and inherit TMPDIR, so whatever
 * any test file writes under `os.tmpdir()` lands here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const VARIABLE = 'CDK_MULTI_REGION_AGENT_TEST_TMPDIR';

export function setup(): void {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-test-run-'));
  process.env[VARIABLE] = directory;
  process.env.TMPDIR = directory;
}

/** The run's temporary directory, for what test files share within one run (test/packaging/packed-tarball.ts). */
export function runDirectory(): string {
  const directory = process.env[VARIABLE];
  if (!directory) throw new Error(`${VARIABLE} is not set: run jest with jest.config.js, whose globalSetup makes the run's directory`);
  return directory;
}

export function teardown(): void {
  const directory = process.env[VARIABLE];
  if (directory) fs.rmSync(directory, { recursive: true, force: true });
}
