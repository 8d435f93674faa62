/**
 * README's shell commands, run as a newcomer types them in this repository:
 * `npm run local` answers through its front door, `npx cdk synth` writes the
 * example's stacks; `npm install` and `npm test` are what `.ci/run` runs.
 * The deploy commands need an AWS account: they are held to the context keys
 * the example app reads. A command added to README without a way to run it
 * here fails the first test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_DEFAULTS } from '../../bin/app';
import { ROOT, readDocPages } from './doc-pages';
import { hangUpMidUpload } from '../local/hang-up';

const README = readDocPages().find((page) => page.file === 'README.md')!.text;

/** Every command line of README's `sh` blocks, comments and continuation lines as written. */
function readmeCommands(): string[] {
  const blocks = [...README.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((match) => match[1]);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** How each README command is run: by this file, by .ci/run, or (needing AWS) checked for what it passes. */
const RUN_BY: ReadonlyArray<readonly [RegExp, string]> = [
  [/^npm install$/, '.ci/run'],
  [/^npm test$/, '.ci/run'],
  [/^npm run local$/, 'this file'],
  [/^npx cdk synth$/, 'this file'],
  [/^export CDK_DISABLE_CLI_TELEMETRY=true$/, '.ci/run'],
  [/^ctx=".*"$/, 'this file (its keys)'],
  [/^for region in .*; do$|^done$/, 'needs AWS'],
  [/^npx cdk bootstrap aws:\/\/\d{12}\/\$region \$ctx$/, 'needs AWS'],
  [/^npx cdk deploy --all \$ctx$/, 'needs AWS'],
];

test('every shell command of README is run here or by CI, or needs an AWS account', () => {
  const commands = readmeCommands();
  const ciScript = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');

  expect(commands).toEqual(expect.arrayContaining(['npm install', 'npm run local', 'npm test', 'npx cdk synth']));
  expect(commands.filter((command) => !RUN_BY.some(([pattern]) => pattern.test(command)))).toEqual([]);
  for (const [pattern, runner] of RUN_BY) {
    if (runner !== '.ci/run') continue;
    const command = commands.find((candidate) => pattern.test(candidate));
    if (command) expect(ciScript.split('\n').map((line) => line.trim())).toContain(command);
  }
});

test("the deploy commands' context sets exactly what the example app reads", () => {
  const ctx = readmeCommands().find((command) => command.startsWith('ctx='))!;
  const keys = [...ctx.matchAll(/-c (\w+)=/g)].map((match) => match[1]);

  expect(keys.sort()).toEqual(Object.keys(EXAMPLE_DEFAULTS).sort());
});

describe('npm run local', () => {
  let local: { child: ChildProcess; url: string };

  beforeAll(async () => {
    local = await startNpmRunLocal();
  }, 300_000);

  afterAll(() => stopProcessGroup(local?.child));

  test('answers a new conversation through the front door', async () => {
    const created = await fetch(`${local.url}/v1/conversations`, { method: 'POST' });
    const { conversationId } = (await created.json()) as { conversationId: string };

    const answer = await fetch(`${local.url}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ text: 'hello from the front door' }),
    });

    expect(created.status).toBe(201);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ conversationId, stored: true, text: expect.stringContaining('hello from the front door') });
  });

  test("keeps serving after a client hangs up mid-upload to a region's agent API", async () => {
    const [region] = (await (await fetch(`${local.url}/_local/regions`)).json()) as Array<{ baseUrl: string }>;

    await hangUpMidUpload(region.baseUrl, '/v1/conversations/gone-1/messages');

    expect(local.child.exitCode).toBeNull();
    expect((await fetch(`${region.baseUrl}/health`)).status).toBe(200);
  });
});

test('npx cdk synth writes every stack of the example offline', async () => {
  const output = fs.mkdtempSync(path.join(os.tmpdir(), 'front-door-synth-'));
  try {
    const { code, stderr } = await run('npx', ['cdk', 'synth', '--quiet', '--output', output]);

    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const templates = fs.readdirSync(output).filter((file) => file.endsWith('.template.json'));
    expect(templates.sort()).toEqual(
      [
        'support-agent-eu-central-1',
        'support-agent-eu-home',
        'support-agent-eu-west-1',
        'support-agent-monitoring',
        'support-agent-us-east-1',
        'support-agent-us-home',
        'support-agent-us-west-2',
      ].map((stack) => `${stack}.template.json`),
    );
  } finally {
    fs.rmSync(output, { recursive: true, force: true });
  }
}, 300_000);

/** `npm run local -- --port 0` in its own process group (npm, sh and tsx), until it prints the front door's URL. */
async function startNpmRunLocal(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('npm', ['run', 'local', '--', '--port', '0'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, npm_config_update_notifier: 'false', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      printed += String(chunk);
      const match = /front door (http:\/\/\S+) /.exec(printed);
      if (match) resolve(match[1]);
    });
    child.stderr!.on('data', (chunk: Buffer) => (printed += String(chunk)));
    child.once('exit', (code) => reject(new Error(`npm run local exited with ${code}:\n${printed}`)));
  });
  return { child, url };
}

async function stopProcessGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}
