/**
 * The documentation's way of running agentctl in this repository, `npm run
 * agentctl -- ...`, run as written against the Route 53 emulator; and no
 * command in README or docs/ that could make npx fetch an unrelated package
 * named agentctl.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExitCode } from '../../cli/agentctl/main';
import { readDocPages } from '../docs/doc-pages';
import { CREDENTIALS, runCommand, seedExampleFleet, useEmulator } from './agentctl-fixture';

const DOCS = readDocPages()
  .map((page) => page.text)
  .join('\n');

let npmCache: string;
beforeAll(() => {
  npmCache = fs.mkdtempSync(path.join(os.tmpdir(), 'agentctl-npm-cache-'));
});
afterAll(() => fs.rmSync(npmCache, { recursive: true, force: true }));

/** `npm run agentctl -- <args>` in the repository, as docs/operations.md says. */
function npmRunAgentctl(args: readonly string[]) {
  return runCommand('npm', ['run', 'agentctl', '--', ...args], { ...CREDENTIALS, npm_config_cache: npmCache, npm_config_update_notifier: 'false' });
}

describe('npm run agentctl', () => {
  const emulator = useEmulator();

  test('status, as the docs write it, shows every region of the agent', async () => {
    // GIVEN
    seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const result = await npmRunAgentctl(['status', '--endpoint', emulator().endpoint]);

    // THEN
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.stdout).toContain('Agent support-bot, jurisdiction eu');
    expect(result.stdout).toContain('Agent support-bot, jurisdiction us');
    expect(result.stdout).toMatch(/^eu-west-1 +healthy \(\d+\/\d+ checkers\) +yes +no /m);
    expect(result.stdout).toMatch(/^us-east-1 +healthy \(\d+\/\d+ checkers\) +no +yes /m);
  });

  test("agentctl's exit code comes through npm (a refused drain is 6)", async () => {
    // GIVEN every EU region but one drained
    seedExampleFleet(emulator(), { euWest1: { inverted: true } });

    // WHEN
    const result = await npmRunAgentctl(['drain', 'eu-central-1', '--endpoint', emulator().endpoint]);

    // THEN
    expect(result.exitCode).toBe(ExitCode.refused);
    expect(result.stderr).toContain('Refusing to drain eu-central-1');
  });
});

test('the docs run agentctl with `npm run agentctl --` here and `npx --no agentctl` in a consumer project, never a bare `npx agentctl`', () => {
  const commands = DOCS.split('\n').filter((line) => /^\s*\$ .*\bagentctl\b/.test(line));

  expect(commands.length).toBeGreaterThan(0);
  for (const command of commands) expect(command).toMatch(/\$ npm run agentctl -- (status|drain|restore)/);
  expect(DOCS).not.toMatch(/npx agentctl/);
  expect(DOCS).toContain('npx --no agentctl');
});
