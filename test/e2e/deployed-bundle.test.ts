/**
 * End to end: synthesize the example app as `cdk synth` does (runtime and
 * agent bundled by esbuild), take the EU home region's Lambda code asset
 * and AGENT_CONFIG out of the cloud assembly, and run that exact asset in a
 * fresh process through the local Lambda response-streaming adapter,
 * against the emulators: a whole conversation with one fallback, and the
 * example agent's tool loop with its Lambda tool and its MCP server (the
 * MCP client is a chunk of the bundle, imported only when configured).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createExampleApp } from '../../bin/app';
import { handler as deliveryMcp } from '../../examples/support-agent/delivery-mcp';
import { handler as lookupOrder } from '../../examples/support-agent/order-lookup';
import { BedrockEmulator } from '../../local/bedrock-emulator';
import { LocalDynamoDb } from '../../local/dynamodb';
import { FunctionUrlHost } from '../../local/function-url-host';
import { LambdaEmulator, type LambdaHandler } from '../../local/lambda-emulator';
import { answerOf, parseSse } from '../runtime/harness';

const CLAUDE = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';

let outdir: string;
let emulator: BedrockEmulator;
let dynamo: LocalDynamoDb;
let lambda: LambdaEmulator;
let delivery: FunctionUrlHost;
let host: ChildProcess;
let url: string;
let lookupOrderArn: string;
let deployed: { directory: string; bundle: string; config: Record<string, unknown>; toolFunctions: string };

beforeAll(async () => {
  // GIVEN the synthesized example app
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-e2e-'));
  const previous = process.env.CDK_OUTDIR;
  process.env.CDK_OUTDIR = outdir;
  createExampleApp().app.synth();
  if (previous === undefined) delete process.env.CDK_OUTDIR;
  else process.env.CDK_OUTDIR = previous;
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'support-agent-eu-west-1.template.json'), 'utf8'));
  // The agent runtime's function (the one configured by AGENT_CONFIG), not the example's tool function beside it.
  const fn = Object.values(
    template.Resources as Record<string, { Type: string; Properties: { Code: { S3Key: string }; Environment: { Variables: Record<string, string> } } }>,
  ).find((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Environment?.Variables.AGENT_CONFIG !== undefined)!;
  // The function's code is the asset whose hash names its S3 object: cdk.out/asset.<hash>/.
  const assetHash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
  const directory = path.join(outdir, `asset.${assetHash}`);
  const variables = fn.Properties.Environment.Variables;
  deployed = {
    directory,
    bundle: path.join(directory, 'index.mjs'),
    config: JSON.parse(variables.AGENT_CONFIG),
    toolFunctions: JSON.stringify(variables.AGENT_TOOL_FUNCTIONS),
  };

  // AND the emulators in place of Bedrock, the home region's table and the tool's function
  emulator = await BedrockEmulator.start({ regions: ['eu-west-1', 'eu-central-1'] });
  dynamo = await LocalDynamoDb.start();
  await dynamo.createConversationTable((deployed.config.table as { name: string }).name);
  lambda = await LambdaEmulator.start();
  lookupOrderArn = lambda.register('arn:aws:lambda:eu-west-1:123456789012:function:lookup-order', lookupOrder as LambdaHandler);
  // AND the delivery MCP server's function behind a stand-in function URL
  delivery = await FunctionUrlHost.start(deliveryMcp as LambdaHandler, { functionName: 'delivery', timeoutMs: 10_000 });

  // AND the bundle running in its own process, configured as deployed plus local endpoints
  ({ host, url } = await startHost(deployed.directory, {
    ...deployed.config,
    endpoints: { bedrock: emulator.endpoints, dynamodb: dynamo.endpoint, lambda: lambda.endpoint },
  }));
}, 120_000);

afterAll(async () => {
  host?.kill();
  await emulator?.close();
  await dynamo?.close();
  await lambda?.close();
  await delivery?.close();
  fs.rmSync(outdir, { recursive: true, force: true });
});

/** The asset in `directory` running in a process of its own through the local Lambda host, with `config` as AGENT_CONFIG. */
async function startHost(directory: string, config: Record<string, unknown>): Promise<{ host: ChildProcess; url: string }> {
  const started = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'local', 'lambda-host.ts'), path.join(directory, 'index.mjs')], {
    env: {
      ...process.env,
      AGENT_CONFIG: JSON.stringify(config),
      // CloudFormation resolves the tool's ARN at deployment; here it is the emulated function's.
      AGENT_TOOL_FUNCTIONS: JSON.stringify({ lookup_order: lookupOrderArn }),
      // And the MCP server's function URL.
      AGENT_MCP_URLS: JSON.stringify({ delivery: delivery.url }),
      // The Lambda runtime's code directory, where the asset's agent files are.
      LAMBDA_TASK_ROOT: directory,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'eu-west-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const listening = await new Promise<string>((resolve, reject) => {
    started.stdout!.on('data', (chunk: Buffer) => {
      const match = /LAMBDA_HOST_URL=(\S+)/.exec(String(chunk));
      if (match) resolve(match[1]);
    });
    started.once('exit', (code) => reject(new Error(`the Lambda host exited with ${code}`)));
  });
  return { host: started, url: listening };
}

async function say(text: string, conversationId = 'eu.e2e-1', to = url): Promise<{ status: number; headers: Headers; events: ReturnType<typeof parseSse> }> {
  const response = await fetch(`${to}/v1/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  return { status: response.status, headers: response.headers, events: parseSse(await response.text()) };
}

test('the synthesized asset holds the minified ESM runtime, the bundled agent, the Lambda tool spec and the MCP server spec; the environment holds no instructions', () => {
  const code = fs.readFileSync(deployed.bundle, 'utf8');

  expect(fs.readdirSync(deployed.directory).sort()).toEqual(['agent.mjs', 'chunks', 'index.mjs', 'lambda-tools.json', 'mcp-servers.json']);
  // The delivery server's URL is known at deployment only: the spec leaves it to AGENT_MCP_URLS.
  expect(JSON.parse(fs.readFileSync(path.join(deployed.directory, 'mcp-servers.json'), 'utf8'))).toEqual([
    expect.objectContaining({ name: 'delivery', url: '', region: 'eu-west-1', auth: { kind: 'sigv4', service: 'lambda', region: 'eu-west-1' } }),
  ]);
  expect(JSON.parse(fs.readFileSync(path.join(deployed.directory, 'lambda-tools.json'), 'utf8'))).toEqual([expect.objectContaining({ name: 'lookup_order' })]);
  expect(JSON.stringify(deployed.config)).not.toContain('Northwind');
  expect(deployed.toolFunctions).toContain('lookup_order');
  expect(code.startsWith('import')).toBe(true);
  // Minified: thousands of characters per line (esbuild's readable output averages under 40).
  expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
  expect(deployed.config).toMatchObject({ region: 'eu-west-1', table: { homeRegion: 'eu-west-1' } });
});

test('a full conversation through the deployed bundle, with one regional fallback', async () => {
  // GIVEN the primary endpoint fails once
  emulator.injectFault({ region: 'eu-west-1', model: CLAUDE, fault: { status: 503 }, times: 1 });

  // WHEN two messages are sent
  const first = await say('what is the capital of France');
  const second = await say('and of Italy');

  // THEN the first was answered by the regional fallback, visibly
  expect(first.status).toBe(200);
  expect(first.headers.get('x-agent-path')).toBe('regional-fallback');
  expect(first.headers.get('x-agent-region')).toBe('eu-central-1');
  expect(first.events.map((event) => event.event).filter((name) => name !== 'delta')).toEqual(['start', 'done']);
  expect(answerOf(first.events)).toBe(emulator.expectedAnswer(CLAUDE, 'eu-central-1', 'what is the capital of France'));
  // AND the second by the recovered primary, with the first exchange as history
  expect(second.headers.get('x-agent-path')).toBe('primary');
  expect(emulator.calls().at(-1)).toMatchObject({ region: 'eu-west-1', messages: 3 });
  // AND the stored conversation reads back in order
  const stored = (await (await fetch(`${url}/v1/conversations/eu.e2e-1`)).json()) as { turns: Array<{ role: string; path: string | null; region: string }> };
  expect(stored.turns.map((turn) => `${turn.role} ${turn.path ?? ''} ${turn.region}`)).toEqual([
    'user  eu-west-1',
    'assistant regional-fallback eu-central-1',
    'user  eu-west-1',
    'assistant primary eu-west-1',
  ]);
});

test('a bad request gets its JSON error through the streaming adapter', async () => {
  const response = await fetch(`${url}/v1/conversations/eu.e2e-1/messages`, { method: 'POST', body: '{"text": ""}' });

  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
});

test("the deployed bundle runs the example agent's loop: the Lambda tool, then the AI SDK tool, then the answer", async () => {
  const question = 'Can I return it? lookup_order orderId=NW-10057 then refund_policy reason=damaged category=socks daysSinceDelivery=3 opened=true';

  const result = await say(question, 'eu.e2e-tools');

  expect(result.status).toBe(200);
  expect(result.events.filter((event) => event.event === 'tool_call').map((event) => event.data.name)).toEqual(['lookup_order', 'refund_policy']);
  expect(result.events.filter((event) => event.event === 'tool_result').every((event) => event.data.ok === true)).toBe(true);
  expect(answerOf(result.events)).toContain('refund_policy={"eligible":true,"outcome":"replace-or-refund"');
  expect(lambda.calls()).toHaveLength(1);
  // The instructions came from the bundled agent, not from the environment.
  const firstCall = emulator.calls({ region: 'eu-west-1' }).at(-3)!.request as { system: Array<{ text?: string }> };
  expect(firstCall.system[0].text).toContain('Northwind Outfitters');
});

test("the deployed bundle calls the example's MCP server through the MCP client chunk it imports when configured", async () => {
  const result = await say('When can it come? delivery_slots orderId=NW-10042', 'eu.e2e-mcp');

  expect(result.status).toBe(200);
  expect(result.events.filter((event) => event.event === 'tool_call').map((event) => event.data.name)).toEqual(['delivery_slots']);
  expect(result.events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ name: 'delivery_slots', ok: true });
  expect(delivery.invocations).toBeGreaterThan(0);
  // The handler file itself holds no MCP client: it is a chunk beside it.
  expect(fs.readFileSync(deployed.bundle, 'utf8')).not.toContain('notifications/tools/list_changed');
});

test("an asset missing the outside providers' chunk keeps serving from Bedrock: a chain naming a provider does not bring the environment down", async () => {
  // GIVEN the deployed asset damaged (its outside providers' chunk gone), and a chain that ends with an OpenAI target
  const damaged = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-damaged-'));
  fs.cpSync(deployed.directory, damaged, { recursive: true });
  const chunks = fs.readdirSync(path.join(damaged, 'chunks')).filter((file) => file.startsWith('outside-providers-'));
  expect(chunks).toHaveLength(1);
  fs.rmSync(path.join(damaged, 'chunks', chunks[0]));
  const openAi = { modelId: 'gpt-4o', region: 'eu-west-1', tier: 'provider-fallback', provider: { name: 'openai', residency: 'eu', secret: 'openai-eu' } };
  const config = { ...deployed.config, chain: [...(deployed.config.chain as unknown[]), openAi] };
  const running = await startHost(damaged, { ...config, endpoints: { bedrock: emulator.endpoints, dynamodb: dynamo.endpoint, lambda: lambda.endpoint } });
  try {
    // WHEN it is asked, after the chunk's import failed beside the cold start, and asked again
    const first = await say('hello', 'eu.e2e-damaged-1', running.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await say('hello again', 'eu.e2e-damaged-2', running.url);

    // THEN both are answered by the primary, and the process is still up
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('x-agent-path')).toBe('primary');
    expect(running.host.exitCode).toBeNull();
  } finally {
    running.host.kill();
    fs.rmSync(damaged, { recursive: true, force: true });
  }
});
