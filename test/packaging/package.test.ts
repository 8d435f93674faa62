/**
 * The package as consumers get it: `npm pack` (which builds and prebundles
 * the runtime), installed into a fresh CDK app with no bundler
 * configuration, whose stacks then synthesize with the prebundled runtime,
 * and with the app's own agent entry bundled from the installed package.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { copyPackedTarball } from './packed-tarball';

const root = path.join(__dirname, '..', '..');
const rootPackage = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
let workDir: string;
let appDir: string;

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-package-'));
  const tarball = await copyPackedTarball(workDir);
  appDir = path.join(workDir, 'app');
  fs.mkdirSync(appDir);
  fs.writeFileSync(
    path.join(appDir, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      dependencies: {
        'cdk-multi-region-agent': `file:../${tarball}`,
        'aws-cdk-lib': rootPackage.devDependencies['aws-cdk-lib'],
        constructs: rootPackage.devDependencies.constructs,
      },
    }),
  );
  // Packages come from the cache `npm ci` filled; their metadata, which `npm ci`
  // does not cache, from the registry when missing (a fresh CI machine).
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir);
}, 240_000);

afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

test('the tarball holds compiled JavaScript, type declarations and the prebundled runtime, and no sources', () => {
  const installed = path.join(appDir, 'node_modules', 'cdk-multi-region-agent');

  for (const file of [
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/runtime/agent-runtime.d.ts',
    'dist/lambda/agent/config.d.ts',
    'dist/lambda-bundle/agent/index.mjs',
    'dist/lambda/agent/agent/index.js',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'types/agent.d.ts',
    'types/text-modules.d.ts',
    'dist/bin/agentctl.js',
    // agentctl local: the playground bundled with what it runs, and the page it serves.
    'dist/local/run-local.js',
    'dist/local/web/index.html',
    'dist/local/web/vendor/uplot.js',
    'dist/local/web/vendor/uplot.css',
    'dist/local/web/vendor/marked.js',
  ]) {
    expect(fs.existsSync(path.join(installed, file))).toBe(true);
  }
  expect(fs.existsSync(path.join(installed, 'lib'))).toBe(false);
  expect(fs.existsSync(path.join(installed, 'lambda', 'agent', 'index.ts'))).toBe(false);
});

test('cdk-multi-region-agent/client resolves for a consumer, and signs with SigV4 through its lazily loaded signer', () => {
  const script = `
const { AgentAuth, AgentClient, agentEndpoints } = require('cdk-multi-region-agent/client');
new AgentClient({ endpoints: agentEndpoints('agent.example.com', { eu: ['eu-west-1'] }) });
AgentAuth.sigv4({ accessKeyId: 'AKID', secretAccessKey: 'secret' })
  .authorize({ method: 'POST', url: 'https://eu-west-1.agent.example.com/v1/conversations', headers: {} }, 'eu-west-1')
  .then((headers) => process.stdout.write(headers.authorization));
`;

  const authorization = execFileSync(process.execPath, ['-e', script], { cwd: appDir, encoding: 'utf8' });

  expect(authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}$/,
  );
});

test('a fresh CDK app that installs the tarball synthesizes, deploying the prebundled runtime', () => {
  // GIVEN a consumer app in plain JavaScript
  fs.writeFileSync(
    path.join(appDir, 'app.js'),
    `const { App } = require('aws-cdk-lib');
const { MultiRegionAgent, Jurisdiction, BedrockModel, ModelChain } = require('cdk-multi-region-agent');
const app = new App({ outdir: 'cdk.out' });
new MultiRegionAgent(app, 'consumer', {
  account: '123456789012',
  hostedZone: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' },
  recordName: 'agent.example.com',
  jurisdictions: [Jurisdiction.eu(['eu-west-1'])],
  chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5),
});
app.synth();
`,
  );

  // WHEN
  execFileSync(process.execPath, ['app.js'], { cwd: appDir, stdio: 'pipe' });

  // THEN every stack is there, and the function's code is the prebundled ESM handler
  const out = path.join(appDir, 'cdk.out');
  expect(
    fs
      .readdirSync(out)
      .filter((file) => file.endsWith('.template.json'))
      .sort(),
  ).toEqual(['consumer-eu-home.template.json', 'consumer-eu-west-1.template.json', 'consumer-monitoring.template.json']);
  const template = JSON.parse(fs.readFileSync(path.join(out, 'consumer-eu-west-1.template.json'), 'utf8'));
  const fn = Object.values(template.Resources as Record<string, { Type: string; Properties: { Handler: string; Runtime: string } }>).find(
    (resource) => resource.Type === 'AWS::Lambda::Function',
  )!;
  expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x' });
  const assets = fs.readdirSync(out).filter((entry) => entry.startsWith('asset.'));
  expect(assets.some((asset) => fs.existsSync(path.join(out, asset, 'index.mjs')))).toBe(true);
});

test("a fresh CDK app's own agent entry imports cdk-multi-region-agent/agent, type-checks, and is bundled and validated at synthesis", () => {
  // GIVEN an agent entry as a user writes it: the package's agent contract, instructions from Markdown
  fs.mkdirSync(path.join(appDir, 'agent'), { recursive: true });
  fs.writeFileSync(path.join(appDir, 'agent', 'instructions.md'), '# Greeter\n\nGreet the user by name, using the greet tool.\n');
  fs.writeFileSync(
    path.join(appDir, 'agent', 'agent.ts'),
    `import { defineAgent, tool } from 'cdk-multi-region-agent/agent';
import instructions from './instructions.md';

export default defineAgent({
  instructions,
  maxSteps: 3,
  tools: {
    greet: tool({
      description: 'Greets someone',
      inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      execute: (input: { name: string }) => \`Hello, \${input.name}!\`,
    }),
  },
});
`,
  );
  // AND an app that runs it, in plain JavaScript with no bundler configuration
  fs.writeFileSync(
    path.join(appDir, 'agent-app.js'),
    `const path = require('node:path');
const { App } = require('aws-cdk-lib');
const { AgentCode, MultiRegionAgent, Jurisdiction, BedrockModel, ModelChain } = require('cdk-multi-region-agent');
const app = new App({ outdir: 'cdk.out.agent' });
const agent = new MultiRegionAgent(app, 'greeter', {
  account: '123456789012',
  hostedZone: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' },
  recordName: 'agent.example.com',
  jurisdictions: [Jurisdiction.eu(['eu-west-1'])],
  chain: ModelChain.of(BedrockModel.ANTHROPIC_CLAUDE_SONNET_4_5),
  agent: AgentCode.fromEntry(path.join(__dirname, 'agent', 'agent.ts')),
});
app.synth();
process.stdout.write(JSON.stringify(agent.runtimes[0].agentManifest));
`,
  );
  fs.writeFileSync(
    path.join(appDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['agent/agent.ts'],
    }),
  );

  // WHEN the entry is type-checked against the installed package, and the app synthesizes
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', appDir], { cwd: appDir, stdio: 'pipe' });
  const manifest = JSON.parse(execFileSync(process.execPath, ['agent-app.js'], { cwd: appDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));

  // THEN the definition was read from the bundle
  expect(manifest).toMatchObject({ maxSteps: 3, tools: [{ name: 'greet', description: 'Greets someone' }] });
  // AND the runtime's asset holds the prebundled handler and the agent's bundle, with the contract of the installed package in it
  const out = path.join(appDir, 'cdk.out.agent');
  const asset = fs
    .readdirSync(out)
    .map((entry) => path.join(out, entry))
    .find((entry) => fs.existsSync(path.join(entry, 'agent.mjs')))!;
  expect(fs.readdirSync(asset).sort()).toEqual(['agent.mjs', 'chunks', 'index.mjs']);
  const bundle = fs.readFileSync(path.join(asset, 'agent.mjs'), 'utf8');
  expect(bundle).toContain('Greet the user by name');
  expect(bundle).toContain('cdk-multi-region-agent/agent@1');
});

test('agentctl runs from the installed package', () => {
  const output = execFileSync(path.join(appDir, 'node_modules', '.bin', 'agentctl'), ['--help'], { encoding: 'utf8' });

  expect(output).toMatch(/^Usage: agentctl <command>/);
});

test('cdk-multi-region-agent/testing loads with require and with import as one module, and the constructs load none of it', () => {
  const node = (script: string) => execFileSync(process.execPath, ['-e', script], { cwd: appDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  const both = JSON.parse(
    node(`const cjs = require('cdk-multi-region-agent/testing');
import('cdk-multi-region-agent/testing').then((esm) => process.stdout.write(JSON.stringify({
  cjs: typeof cjs.startLocalDeployment, esm: typeof esm.startLocalDeployment, same: esm.LocalDeployment === cjs.LocalDeployment,
})));`),
  );
  const loaded = JSON.parse(
    node(`require('cdk-multi-region-agent'); require('cdk-multi-region-agent/agent');
process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('/dist/local/'))));`),
  );

  expect(both).toEqual({ cjs: 'function', esm: 'function', same: true });
  expect(loaded).toEqual([]);
});

test("the testing module's types resolve for ES module and CommonJS callers", () => {
  fs.mkdirSync(path.join(appDir, 'typed'), { recursive: true });
  const use = `const deployment: LocalDeployment = await startLocalDeployment({ assembly: 'cdk.out', port: 0 });
const reply: AgentReply = await deployment.client({ location: 'eu' }).send('hi');
const path: string | undefined = reply.path;
deployment.script([{ toolCalls: [{ name: 'greet', input: { name: path } }] }, { error: { status: 503 } }]);
await deployment.close();
`;
  fs.writeFileSync(
    path.join(appDir, 'typed', 'esm.mts'),
    `import { startLocalDeployment, type AgentReply, type LocalDeployment } from 'cdk-multi-region-agent/testing';\n${use}`,
  );
  fs.writeFileSync(
    path.join(appDir, 'typed', 'cjs.cts'),
    `import { startLocalDeployment, type AgentReply, type LocalDeployment } from 'cdk-multi-region-agent/testing';\nexport async function main() {\n${use}}\n`,
  );
  fs.writeFileSync(
    path.join(appDir, 'typed', 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );

  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(appDir, 'typed')], {
    cwd: appDir,
    stdio: 'pipe',
  });
});

test("`npx agentctl local` in the consumer app runs its own synthesized assembly: the greeter's agent answers through the front door", async () => {
  // GIVEN the greeter app above, synthesized into cdk.out.agent, and the package's bin
  const agentctl = spawn(path.join(appDir, 'node_modules', '.bin', 'agentctl'), ['local', '--assembly', 'cdk.out.agent', '--port', '0', '--token-ms', '0'], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    // WHEN it has started
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      agentctl.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /front door (http:\/\/[\d.:]+)/.exec(output);
        if (match) resolve(match[1]);
      });
      agentctl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      agentctl.once('exit', (code) => reject(new Error(`agentctl local exited with ${code}: ${output}`)));
    });
    const minted = await fetch(`${url}/v1/conversations`, { method: 'POST', headers: { 'x-local-location': 'eu' } });
    const { conversationId } = (await minted.json()) as { conversationId: string };
    const answer = await fetch(`${url}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-local-location': 'eu' },
      body: JSON.stringify({ text: 'hello' }),
    });

    // THEN the EU region of the consumer's own deployment answers, and the page is served with its scripts
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-agent-region')).toBe('eu-west-1');
    expect((await fetch(`${url}/_local/assets/uplot.js`)).status).toBe(200);
  } finally {
    agentctl.kill('SIGTERM');
  }
}, 120_000);
