/**
 * `agentctl local`'s reader over apps of a stranger, from their synthesized
 * cloud assemblies alone: a hand-composed app (table, runtime and tools in
 * three stacks, a NodejsFunction tool bundled at synthesis, a CommonJS
 * asset tool imported across stacks), three jurisdictions of
 * MultiRegionAgent, and the bad input each names its fix for.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LocalDeploymentError, readLocalDeployment, type LocalDeployment } from '../../local/assembly/read-assembly';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { Playground } from '../../local/playground';
import { startLocal } from '../../local/run-local';
import { handComposedApp, synthesized, tableOnlyApp, threeJurisdictionApp } from './assembly-apps/apps';

const removals: Array<() => void> = [];
let handComposed: string;
let threeJurisdictions: string;

beforeAll(() => {
  for (const [build, set] of [
    [handComposedApp, (directory: string) => (handComposed = directory)],
    [threeJurisdictionApp, (directory: string) => (threeJurisdictions = directory)],
  ] as const) {
    const { directory, remove } = synthesized(build);
    removals.push(remove);
    set(directory);
  }
}, 120_000);

afterAll(() => {
  for (const remove of removals) remove();
});

/** Expects `run` to throw a LocalDeploymentError of this code, and answers its message. */
async function failure(code: string, run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(LocalDeploymentError);
    expect((error as LocalDeploymentError).code).toBe(code);
    return (error as Error).message;
  }
  throw new Error(`expected a ${code} LocalDeploymentError`);
}

describe('a hand-composed app (no MultiRegionAgent)', () => {
  let deployment: LocalDeployment;
  beforeAll(() => {
    deployment = readLocalDeployment(handComposed);
  });

  test('finds the runtime of the Agent stack, with its AGENT_CONFIG resolved and its code asset', () => {
    expect(deployment.runtimes.map((runtime) => [runtime.stackName, runtime.region, runtime.jurisdiction])).toEqual([['Agent', 'ca-central-1', 'ca']]);
    expect(deployment.configs[0].table.name).toBe('shop-conversations-ca');
    expect(deployment.tables).toEqual({ ca: 'shop-conversations-ca' });
    const files = fs.readdirSync(deployment.runtimes[0].codeDirectory).sort();
    expect(files).toEqual(['chunks', 'index.mjs', 'instructions.md', 'lambda-tools.json']);
    // No Route 53 records in this app: nobody is kept in by location.
    expect(deployment.keepLocatedUsers).toEqual([]);
  });

  test('finds each Lambda tool in its own stack and asset: the ESM bundle of the NodejsFunction, the CommonJS file of the imported function', () => {
    const tools = Object.fromEntries(deployment.runtimes[0].lambdaTools.map((tool) => [tool.name, tool]));
    expect(path.basename(tools.order_status.file)).toBe('index.mjs');
    expect(tools.order_status).toMatchObject({ exportName: 'handler', timeoutMs: 7000, environment: { ORDERS_TABLE: 'shop-conversations-ca' } });
    expect(tools.order_status.source).toMatch(/^Agent\/OrderStatus/);
    expect(path.basename(tools.greet.file)).toBe('index.js');
    expect(tools.greet).toMatchObject({ exportName: 'greet', timeoutMs: 3000, environment: { GREETING: 'Bonjour' } });
    expect(tools.greet.source).toMatch(/^Tools\/Greet/);
    expect(tools.greet.functionArn).toMatch(/^arn:aws:lambda:ca-central-1:210987654321:function:Tools-Greet/);
  });

  test('runs: the front door answers, and each tool runs in the Lambda emulator with its environment, called by the ARN the runtime is given', async () => {
    const playground = await Playground.start({ ...deployment, port: 0 });
    const lambda = new LambdaClient({ region: 'ca-central-1', endpoint: playground.lambda.endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      const minted = await fetch(`${playground.url}/v1/conversations`, { method: 'POST', headers: { 'x-local-location': 'ca' } });
      expect(minted.status).toBe(201);
      expect(((await minted.json()) as { conversationId: string }).conversationId).toMatch(/^ca\./);
      const answers: Record<string, unknown> = {};
      for (const tool of deployment.runtimes[0].lambdaTools) {
        const input = tool.name === 'greet' ? { name: 'Zoé' } : { orderId: 'A-1' };
        const result = await lambda.send(new InvokeCommand({ FunctionName: tool.functionArn, Payload: JSON.stringify({ tool: tool.name, input }) }));
        expect(result.FunctionError).toBeUndefined();
        answers[tool.name] = JSON.parse(Buffer.from(result.Payload!).toString('utf8'));
      }
      expect(answers).toEqual({
        greet: { greeting: 'Bonjour, Zoé' },
        order_status: { orderId: 'A-1', status: 'shipped', table: 'shop-conversations-ca', at: '2026-01-02T00:00:00.000Z', total: 12.5 },
      });
      // The tool's environment is set for its calls only.
      expect(process.env.GREETING).toBeUndefined();
    } finally {
      lambda.destroy();
      await playground.close();
    }
  });
});

test('with a state directory, a conversation survives a restart of the whole deployment', async () => {
  const state = fs.mkdtempSync(path.join(path.dirname(handComposed), 'local-state-'));
  try {
    const first = await startLocal({ assembly: handComposed, port: 0, statePath: state });
    const minted = await fetch(`${first.playground.url}/v1/conversations`, { method: 'POST', headers: { 'x-local-location': 'ca' } });
    const { conversationId } = (await minted.json()) as { conversationId: string };
    await first.close();

    const second = await startLocal({ assembly: handComposed, port: 0, statePath: state });
    try {
      const stored = await fetch(`${second.playground.url}/v1/conversations/${conversationId}`, { headers: { 'x-local-location': 'ca' } });
      expect(stored.status).toBe(200);
      expect(((await stored.json()) as { conversationId: string }).conversationId).toBe(conversationId);
    } finally {
      await second.close();
    }
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});

describe('three jurisdictions of MultiRegionAgent', () => {
  test('one runtime per region, each with its jurisdiction, table and bundled agent; located users kept where geolocation records say', () => {
    const deployment = readLocalDeployment(threeJurisdictions);
    expect(deployment.runtimes.map((runtime) => `${runtime.region}:${runtime.jurisdiction}`).sort()).toEqual([
      'ap-northeast-1:apac',
      'eu-central-1:eu',
      'eu-west-1:eu',
      'us-east-1:us',
    ]);
    expect(Object.keys(deployment.tables).sort()).toEqual(['apac', 'eu', 'us']);
    expect(new Set(Object.values(deployment.tables)).size).toBe(3);
    for (const region of Object.keys(deployment.agents)) expect(fs.readdirSync(deployment.agents[region].codeDirectory)).toContain('agent.mjs');
    expect(deployment.keepLocatedUsers).toEqual(['eu', 'us']);
    expect(deployment.routing.regionNames['eu-central-1']).toContain('eu-central-1.help.example.org');
    expect(deployment.routing.jurisdictionNames.eu).toContain('eu.help.example.org');
    expect(deployment.routing.geolocations.find((route) => route.location === 'continent:EU')).toMatchObject({
      name: 'help.example.org',
      jurisdiction: 'eu',
    });
    // The dashboards and alarms of the monitoring stack, for the preview.
    expect(deployment.monitoring().dashboards.length).toBeGreaterThan(0);
  });
});

describe('bad input names its fix', () => {
  test('an assembly with no agent runtime says what was looked for', async () => {
    const { directory, remove } = synthesized(tableOnlyApp);
    try {
      const message = await failure('NoAgentRuntime', () => readLocalDeployment(directory));
      expect(message).toContain('JustATable');
      expect(message).toContain('AGENT_CONFIG');
      expect(message).toContain('AgentRuntime');
    } finally {
      remove();
    }
  });

  test('an assembly synthesized with bundling skipped', async () => {
    const { directory, remove } = synthesized(handComposedApp, { 'aws:cdk:bundling-stacks': [] });
    try {
      expect(await failure('AssetNotBundled', () => readLocalDeployment(directory))).toMatch(/bundling skipped.*npx cdk synth/s);
    } finally {
      remove();
    }
  });

  test('no assembly at the directory, a template that cannot be read, an asset manifest that cannot be read', async () => {
    expect(await failure('AssemblyUnreadable', () => readLocalDeployment(path.join(handComposed, 'nothing-here')))).toContain('npx cdk synth');
    const copy = fs.mkdtempSync(path.join(path.dirname(handComposed), 'local-assembly-copy-'));
    try {
      fs.cpSync(handComposed, copy, { recursive: true });
      fs.writeFileSync(path.join(copy, 'Agent.template.json'), '{ "Resources": ');
      expect(await failure('StackUnreadable', () => readLocalDeployment(copy))).toMatch(/stack Agent .*synthesize the app again/);
      fs.cpSync(path.join(handComposed, 'Agent.template.json'), path.join(copy, 'Agent.template.json'));
      fs.writeFileSync(path.join(copy, 'Tools.assets.json'), 'not json');
      expect(await failure('StackUnreadable', () => readLocalDeployment(copy))).toMatch(/asset manifest of stack Tools/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test('a Lambda tool whose handler cannot be loaded names the tool and the file', async () => {
    const { directory, remove } = synthesized((app) => handComposedApp(app, { brokenTool: true }));
    try {
      const message = await failure('ToolUnloadable', () => Playground.start({ ...readLocalDeployment(directory), port: 0 }));
      expect(message).toContain("Lambda tool 'greet'");
      expect(message).toMatch(/index\.js/);
      expect(message).toContain('missing configuration: PRICE_LIST');
    } finally {
      remove();
    }
  });

  test('a port already taken, before anything starts', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      expect(await failure('PortTaken', () => startLocal({ assembly: handComposed, port }))).toContain('--port');
    } finally {
      taken.close();
    }
  });

  test('an app that fails to synthesize shows its error', async () => {
    const app = `node -e "console.error('Error: jurisdictions: the region mars-1 is unknown'); process.exit(3)"`;
    const message = await failure('SynthFailed', () => startLocal({ appDirectory: handComposed, app, outdir: path.join(handComposed, 'unused'), port: 0 }));
    expect(message).toContain('exited with 3');
    expect(message).toContain('the region mars-1 is unknown');
  });
});
