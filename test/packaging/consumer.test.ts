/**
 * The example consumer (examples/consumer) end to end, as its own
 * developers would run it: the package packed and installed from its
 * tarball (everything else from the npm registry), `cdk synth`, the
 * project's own test suite (vitest, written against
 * cdk-multi-region-agent/testing only), and `agentctl local` answering a
 * message with a tool call and a fallback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyPackedTarball } from './packed-tarball';

const root = path.join(__dirname, '..', '..');
let workDir: string;
let projectDir: string;

const run = (command: string, args: string[]) =>
  execFileSync(command, args, {
    cwd: projectDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false', CDK_DISABLE_CLI_TELEMETRY: 'true', NODE_OPTIONS: '', NO_COLOR: '1' },
  });

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-consumer-'));
  const tarball = await copyPackedTarball(workDir);
  projectDir = path.join(workDir, 'consumer');
  fs.cpSync(path.join(root, 'examples', 'consumer'), projectDir, {
    recursive: true,
    filter: (source) => !/(^|[\\/])(node_modules|cdk\.out)$/.test(source),
  });
  run('npm', ['pkg', 'set', `dependencies.cdk-multi-region-agent=file:../${tarball}`]);
  // Packages `npm ci` cached here come from the cache; the rest (vitest) from the registry.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund']);
}, 300_000);

afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

test('the consumer type-checks and synthesizes with the CDK CLI, its agent and its Lambda tool bundled', () => {
  run(path.join('node_modules', '.bin', 'tsc'), ['-p', '.']);
  run('npm', ['run', 'synth']);

  const out = path.join(projectDir, 'cdk.out');
  const templates = fs.readdirSync(out).filter((file) => file.endsWith('.template.json'));
  expect(templates).toEqual(expect.arrayContaining(['travel-desk-eu-central-1.template.json', 'travel-desk-us-east-1.template.json']));
  const assets = fs.readdirSync(out).filter((entry) => entry.startsWith('asset.'));
  expect(assets.some((asset) => fs.existsSync(path.join(out, asset, 'agent.mjs')))).toBe(true);
}, 240_000);

test("the consumer's own test suite passes against cdk-multi-region-agent/testing", () => {
  const output = run('npm', ['test', '--', '--reporter=verbose']);

  expect(output).toMatch(/Tests\s+3 passed \(3\)/);
}, 240_000);

test('agentctl local runs the synthesized consumer: a message answered with a tool call and a fallback between its steps', async () => {
  // GIVEN `agentctl local` on the consumer's cdk.out (the synthesis of the first test), on a free port
  const local = spawn(path.join(projectDir, 'node_modules', '.bin', 'agentctl'), ['local', '--assembly', 'cdk.out', '--port', '0'], {
    cwd: projectDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  try {
    const url = await frontDoorOf(local);
    // AND eu-central-1's primary failing the second model call once
    const fault = await fetch(`${url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ region: 'eu-central-1', model: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', step: 2, fault: { status: 503 }, times: 1 }),
    });
    expect(fault.status).toBe(201);

    // WHEN a caller in central Europe asks a question that needs the Lambda tool
    const located = { 'x-local-location': 'eu-central' };
    const { conversationId } = (await (await fetch(`${url}/v1/conversations`, { method: 'POST', headers: located })).json()) as { conversationId: string };
    const answer = await fetch(`${url}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { ...located, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Is my flight late? flight_status flightNumber=LH1234' }),
    });
    const body = await answer.text();

    // THEN the tool ran, and the loop's second step came from the EU's other region
    expect(answer.status).toBe(200);
    expect(body).toMatch(/event: tool_call\ndata: \{[^\n]*"name":"flight_status"/);
    const done = JSON.parse(/event: done\ndata: (.*)/.exec(body)![1]) as { steps: Array<{ path: string; region: string }> };
    expect(done.steps.map((step) => [step.path, step.region])).toEqual([
      ['primary', 'eu-central-1'],
      ['regional-fallback', 'eu-west-1'],
    ]);
  } finally {
    local.kill('SIGTERM');
    await new Promise((resolve) => local.once('exit', resolve));
  }
}, 120_000);

/** The front door's URL, once `agentctl local` prints it; rejects with its output if it exits first. */
function frontDoorOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /front door (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url) resolve(url);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`agentctl local exited (${code}) before listening:\n${output}`)));
  });
}
