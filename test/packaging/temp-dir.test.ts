/**
 * Tests leave nothing in the OS temp dir. A jest of its own, with a TMPDIR
 * of its own (test files run in parallel workers: counting the shared one
 * would count theirs), runs a synthesis that bundles an agent; once it has
 * ended, that TMPDIR must be as empty as it started.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

test('a jest run that synthesizes and bundles leaves its TMPDIR as empty as it found it', () => {
  // GIVEN an empty temp dir
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-temp-count-'));
  try {
    const before = fs.readdirSync(tmpdir);

    // WHEN jest runs the synthesis fixture with it as TMPDIR (its cache kept elsewhere: a cache is meant to stay)
    const run = childProcess.spawnSync(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--disable-warning=ExperimentalWarning',
        path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--ci',
        '--runInBand',
        '--cacheDirectory',
        path.join(ROOT, 'node_modules', '.cache', 'jest-temp-dir-test'),
        '--testMatch',
        '**/packaging/fixtures/synthesis.fixture.ts',
      ],
      { cwd: ROOT, env: { ...process.env, TMPDIR: tmpdir }, encoding: 'utf8', timeout: 120_000 },
    );

    // THEN it passed, and left nothing
    expect({ status: run.status, output: run.status === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ status: 0, output: '' });
    expect(before).toEqual([]);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true });
  }
});
