/**
 * Tools from an MCP server, against the official SDK's server: the list
 * (filtered, prefixed, refreshed when it changes or the model names a tool
 * it lacks), calls and their metadata, a forgotten session, a call that may
 * have run (never sent twice), timeouts, errors, and both authentications.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { z } from 'zod';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { SecretsManagerEmulator } from '../../local/secrets-manager-emulator';
import { loadAgentAsset } from '../../lambda/agent/agent/agent-asset';
import type { McpServerSpec } from '../../lambda/agent/agent/asset-layout';
import { authenticatedFetch } from '../../lambda/agent/agent/mcp-auth';
import { McpServerTools, MCP_META_PREFIX } from '../../lambda/agent/agent/mcp-tools';
import { ToolRunner, type ToolOutcome } from '../../lambda/agent/agent/tool-runner';
import { systemClock, type Clock } from '../../lambda/agent/chain/types';
import { SecretValues } from '../../lambda/agent/providers/secret-values';
import { McpTestServer } from './mcp-test-server';
import { eventually } from '../eventually';

let server: McpTestServer | undefined;
let sources: McpServerTools[] = [];
let secrets: SecretsManagerEmulator | undefined;

afterEach(async () => {
  await Promise.all(sources.map((source) => source.close()));
  sources = [];
  await server?.close();
  server = undefined;
  await secrets?.close();
  secrets = undefined;
});

function spec(url: string, overrides: Partial<McpServerSpec> = {}): McpServerSpec {
  return { name: 'orders', url, region: 'eu-west-1', timeoutMs: 5000, ...overrides };
}

function source(server: McpTestServer, overrides: Partial<McpServerSpec> = {}, options: { clock?: Clock; problems?: string[] } = {}) {
  const made = new McpServerTools(spec(server.url, overrides), {
    fetch: authenticatedFetch(overrides.auth, {}),
    clock: options.clock ?? systemClock,
    onProblem: (_server, problem) => options.problems?.push(problem),
  });
  sources.push(made);
  return made;
}

function runner(...tools: McpServerTools[]): { runner: ToolRunner; completed: Array<{ name: string; ok: boolean; source?: string }> } {
  const completed: Array<{ name: string; ok: boolean; source?: string }> = [];
  return {
    completed,
    runner: new ToolRunner([], {
      resultBytes: 65_536,
      clock: systemClock,
      reporter: { toolCompleted: (name, ok, _ms, source) => completed.push({ name, ok, ...(source ? { source } : {}) }) },
      sources: tools,
    }),
  };
}

const CONTEXT = { conversationId: 'c-42', caller: 'user-7', endUser: 'end-9', region: 'eu-west-1' };

function run(tools: ToolRunner, name: string, input: unknown, id = `use-${name}`): Promise<ToolOutcome> {
  return tools.run({ id, name, input }, { ...CONTEXT, deadline: Date.now() + 60_000 });
}

describe('the tool list', () => {
  test('is the server tools, filtered by include and exclude, prefixed, with their schemas and approvals', async () => {
    server = await McpTestServer.start();
    const tools = await source(server, {
      include: ['get_order', 'refund_order', 'out_of_stock'],
      exclude: ['out_of_stock'],
      prefix: 'shop_',
      needsApproval: ['refund_order'],
    }).tools();

    expect(tools.map((tool) => tool.name)).toEqual(['shop_get_order', 'shop_refund_order']);
    expect(tools[0]).toMatchObject({ description: 'Reads an order', timeoutMs: 5000, needsApproval: false });
    expect(tools[0].inputSchema).toMatchObject({ type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] });
    expect(tools[1].needsApproval).toBe(true);
    expect(await tools[0].validate({ orderId: 7 })).toMatchObject({ ok: false });
  });

  test('is read once and kept for its TTL, then read again', async () => {
    server = await McpTestServer.start();
    let now = 1_000_000;
    const orders = source(server, {}, { clock: { now: () => now } });

    await orders.tools();
    await orders.tools();
    expect(server.methods.filter((method) => method === 'tools/list')).toHaveLength(1);
    now += 5 * 60_000;
    await orders.tools();
    expect(server.methods.filter((method) => method === 'tools/list')).toHaveLength(2);
    expect(server.initializations).toBe(1);
  });

  test('is read again when the server says it changed (notifications/tools/list_changed)', async () => {
    server = await McpTestServer.start();
    const orders = source(server);
    expect((await orders.tools()).map((tool) => tool.name)).not.toContain('track_parcel');

    server.addTool((mcp) => [
      mcp.registerTool('track_parcel', { description: 'Tracks a parcel', inputSchema: { parcelId: z.string() } }, async () => ({ content: [] })),
    ]);

    await eventually(async () => (await orders.tools()).some((tool) => tool.name === 'track_parcel'));
    expect(server.methods.filter((method) => method === 'tools/list').length).toBeGreaterThanOrEqual(2);
  });

  test('is read again when the model calls a name it does not have, and the call runs', async () => {
    // GIVEN a server that keeps no stream for notifications, whose list was read before a tool was added
    server = await McpTestServer.start({ sse: false });
    const orders = source(server);
    const { runner: tools, completed } = runner(orders);
    await tools.prepare();
    server.addTool((mcp) => [
      mcp.registerTool('track_parcel', { description: 'Tracks a parcel', inputSchema: { parcelId: z.string() } }, async ({ parcelId }) => ({
        content: [{ type: 'text', text: `${parcelId}: out for delivery` }],
      })),
    ]);

    // WHEN the model calls it
    const outcome = await run(tools, 'track_parcel', { parcelId: 'P-1' });

    // THEN the list is read again and the call runs, counted under the tool's own name and its server
    expect(outcome).toMatchObject({ ok: true, result: 'P-1: out for delivery' });
    expect(completed).toEqual([{ name: 'track_parcel', ok: true, source: 'orders' }]);
    expect(tools.specs.map((tool) => tool.name)).toContain('track_parcel');
  });

  test('is read again before the approval rule of a name it does not have: a new tool that needs approval waits', async () => {
    // GIVEN a server whose tools need approval, and whose list was read before the tool was added
    server = await McpTestServer.start({ sse: false });
    const orders = source(server, { needsApproval: ['cancel_order'] });
    const { runner: tools } = runner(orders);
    await tools.prepare();
    server.addTool((mcp) => [
      mcp.registerTool('cancel_order', { description: 'Cancels an order', inputSchema: { orderId: z.string() } }, async ({ orderId }) => ({
        content: [{ type: 'text', text: `${orderId}: cancelled` }],
      })),
    ]);

    // WHEN the loop asks whether the model's call of it needs approval
    const waits = await tools.needsApproval(
      { id: 'use-cancel', name: 'cancel_order', input: { orderId: 'A-1' } },
      { ...CONTEXT, deadline: Date.now() + 60_000 },
    );

    // THEN it does, and the tool has not run
    expect(waits).toBe(true);
    expect(server.runs.get('cancel_order') ?? 0).toBe(0);
  });

  test('leaves out a tool whose name Bedrock would refuse, and says so', async () => {
    server = await McpTestServer.start({
      tools: (mcp) => [
        mcp.registerTool('ok_tool', { inputSchema: {} }, async () => ({ content: [] })),
        mcp.registerTool('dotted.name', { inputSchema: {} }, async () => ({ content: [] })),
      ],
    });
    const problems: string[] = [];
    const tools = await source(server, {}, { problems }).tools();

    expect(tools.map((tool) => tool.name)).toEqual(['ok_tool']);
    expect(problems).toEqual([expect.stringContaining("'dotted.name' is left out")]);
  });

  test('that cannot be read leaves the last list, and an error result for a call', async () => {
    server = await McpTestServer.start();
    let now = 0;
    const problems: string[] = [];
    const orders = source(server, {}, { clock: { now: () => now }, problems });
    const { runner: tools } = runner(orders);
    await tools.prepare();
    now += 10 * 60_000;
    server.fail({ kind: 'status', status: 503, method: 'tools/list' });

    await tools.prepare();

    expect(tools.specs.map((tool) => tool.name)).toContain('get_order');
    expect(problems).toEqual([expect.stringContaining('could not be read')]);
    expect(await run(tools, 'get_order', { orderId: 'A-1' })).toMatchObject({ ok: true });
  });
});

describe('a call', () => {
  test('answers the structured result, and carries the conversation ids in _meta', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();

    const outcome = await run(tools, 'get_order', { orderId: 'NW-10042' }, 'tooluse_1');

    expect(outcome).toMatchObject({ ok: true, result: { orderId: 'NW-10042', total: 1234.56, placedAt: '2026-01-02T00:00:00.000Z' } });
    expect(server.calls[0]).toEqual({
      name: 'get_order',
      arguments: { orderId: 'NW-10042' },
      meta: {
        [`${MCP_META_PREFIX}conversationId`]: 'c-42',
        [`${MCP_META_PREFIX}caller`]: 'user-7',
        [`${MCP_META_PREFIX}endUser`]: 'end-9',
        [`${MCP_META_PREFIX}toolUseId`]: 'tooluse_1',
        [`${MCP_META_PREFIX}region`]: 'eu-west-1',
      },
    });
  });

  test("that the tool answers as an error (isError) is the model's error result", async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();

    expect(await run(tools, 'out_of_stock', {})).toMatchObject({ ok: false, error: 'out_of_stock failed: warehouse says: out of stock' });
  });

  test('answered with a JSON-RPC error is an error result naming the code, and the session goes on', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    server.fail({ kind: 'jsonRpcError', code: -32603, message: 'database unavailable', method: 'tools/call' });

    const outcome = await run(tools, 'get_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('error -32603: MCP error -32603: database unavailable') });
    expect(await run(tools, 'get_order', { orderId: 'A-2' })).toMatchObject({ ok: true });
    expect(server.initializations).toBe(1);
  });

  test('after the server forgot the session (404) initializes a new one and runs the tool once', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    server.forgetSessions();

    const outcome = await run(tools, 'refund_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: true, result: 'refunded A-1' });
    expect(server.initializations).toBe(2);
    expect(server.runs.get('refund_order')).toBe(1);
    expect(server.methods.filter((method) => method === 'tools/call')).toHaveLength(2);
  });

  test('twenty calls at once after the server forgot the session share one new session, and each tool runs once', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    server.forgetSessions();

    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, index) => run(tools, 'refund_order', { orderId: `A-${index}` }, `use-${index}`)));

    expect(outcomes.map((outcome) => outcome.result ?? outcome.error)).toEqual(Array.from({ length: 20 }, (_, index) => `refunded A-${index}`));
    expect(server.runs.get('refund_order')).toBe(20);
    expect(server.initializations).toBe(2);
  });

  test('a listing after the server forgot the session is read on a new session', async () => {
    server = await McpTestServer.start();
    let now = 0;
    const orders = source(server, {}, { clock: { now: () => now } });
    await orders.tools();
    server.forgetSessions();
    now += 10 * 60_000;

    expect((await orders.tools()).length).toBeGreaterThan(0);
    expect(server.initializations).toBe(2);
  });

  test('whose connection is cut after the tool ran is an error result saying it may have run, and is never sent again', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    server.fail({ kind: 'cutAfterRun', tool: 'refund_order' });

    const outcome = await run(tools, 'refund_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('may have run the tool') });
    expect(server.runs.get('refund_order')).toBe(1);
    expect(server.methods.filter((method) => method === 'tools/call')).toHaveLength(1);
  });

  test('answered 502 by a proxy is an error result saying it may have run, and is not sent again', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    server.fail({ kind: 'status', status: 502, method: 'tools/call' });

    const outcome = await run(tools, 'refund_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('may have run the tool') });
    expect(server.methods.filter((method) => method === 'tools/call')).toHaveLength(1);
  });

  test('that outlives its timeout is an error result, and the server is told to cancel it', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server, { timeoutMs: 300 }));
    await tools.prepare();

    const outcome = await run(tools, 'wait_forever', {});

    expect(outcome).toMatchObject({ ok: false, error: 'wait_forever did not finish within 300 ms' });
    await eventually(() => server!.methods.includes('notifications/cancelled'));
    expect(await run(tools, 'get_order', { orderId: 'A-1' })).toMatchObject({ ok: true });
  });

  test('to a slow server is an error result once its timeout passes, sent once, and the session goes on', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server, { timeoutMs: 300 }));
    await tools.prepare();
    server.fail({ kind: 'delay', delayMs: 3000, method: 'tools/call' });

    const outcome = await run(tools, 'refund_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: false, error: 'refund_order did not finish within 300 ms' });
    expect(server.runs.get('refund_order')).toBeUndefined();
    expect(await run(tools, 'get_order', { orderId: 'A-2' })).toMatchObject({ ok: true });
    expect(server.calls.map((call) => call.name)).toEqual(['refund_order', 'get_order']);
  });

  test('to a server that is down is an error result, never a crash', async () => {
    server = await McpTestServer.start();
    const { runner: tools } = runner(source(server));
    await tools.prepare();
    await server.close();

    const outcome = await run(tools, 'get_order', { orderId: 'A-1' });

    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/^get_order failed: /);
    server = undefined;
  });
});

test.each(['2025-06-18', '2025-03-26'])('a server that speaks only %s: the session uses its version, and tools list and run', async (version) => {
  server = await McpTestServer.start({ protocolVersion: version });
  const { runner: tools } = runner(source(server));
  await tools.prepare();

  expect(await run(tools, 'get_order', { orderId: 'A-1' })).toMatchObject({ ok: true, result: { orderId: 'A-1' } });
  expect(tools.specs.map((tool) => tool.name)).toContain('get_order');
  // Every request after the initialization names the negotiated version
  const versions = server.headers.slice(1).map((headers) => headers['mcp-protocol-version']);
  expect(new Set(versions)).toEqual(new Set([version]));
});

describe('authentication', () => {
  test('bearer: the token is read from Secrets Manager, and read again once when the server answers 401', async () => {
    secrets = await SecretsManagerEmulator.start({ region: 'eu-west-1' });
    const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: secrets.endpoint, credentials: LOCAL_CREDENTIALS });
    const { ARN } = await client.send(new CreateSecretCommand({ Name: 'mcp-orders-token', SecretString: 'token-one' }));
    let accepted = 'token-one';
    server = await McpTestServer.start({ authorize: async (request) => (request.headers.authorization === `Bearer ${accepted}` ? undefined : 401) });
    const orders = new McpServerTools(spec(server.url, { auth: { kind: 'bearer', secretArn: ARN! } }), {
      fetch: authenticatedFetch({ kind: 'bearer', secretArn: ARN! }, { secrets: new SecretValues(client, 300_000, systemClock) }),
      clock: systemClock,
    });
    sources.push(orders);
    const { runner: tools } = runner(orders);
    await tools.prepare();
    expect(await run(tools, 'get_order', { orderId: 'A-1' })).toMatchObject({ ok: true });

    // WHEN the token is rotated
    await client.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'token-two' }));
    accepted = 'token-two';

    // THEN the next call is refused once, and sent again with the new token: the tool runs once
    expect(await run(tools, 'refund_order', { orderId: 'A-1' })).toMatchObject({ ok: true });
    expect(server.runs.get('refund_order')).toBe(1);
    expect(secrets.reads.get('mcp-orders-token')).toBe(2);
    client.destroy();
  });

  test('bearer: a token the server refuses even when fresh leaves the server without tools, and says why', async () => {
    secrets = await SecretsManagerEmulator.start({ region: 'eu-west-1' });
    const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: secrets.endpoint, credentials: LOCAL_CREDENTIALS });
    const arn = secrets.create('mcp-token', 'wrong');
    server = await McpTestServer.start({ authorize: async () => 401 });
    const problems: string[] = [];
    const orders = new McpServerTools(spec(server.url), {
      fetch: authenticatedFetch({ kind: 'bearer', secretArn: arn }, { secrets: new SecretValues(client, 300_000, systemClock) }),
      clock: systemClock,
      onProblem: (_server, problem) => problems.push(problem),
    });
    sources.push(orders);
    const { runner: tools } = runner(orders);

    const outcome = await run(tools, 'get_order', { orderId: 'A-1' });

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining("there is no tool named 'get_order'") });
    expect(problems).toEqual([expect.stringContaining('401')]);
    // One fresh read of the token per refused initialization, never a loop.
    expect(secrets.reads.get('mcp-token')).toBe(2);
    client.destroy();
  });

  test('SigV4: every request is signed for the service and region, and the signature verifies server-side', async () => {
    const credentials = { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey };
    const verified: boolean[] = [];
    server = await McpTestServer.start({ sse: false, authorize: async (request, body) => await verifySigV4(request, body, credentials, verified) });
    const orders = new McpServerTools(spec(server.url), {
      fetch: authenticatedFetch({ kind: 'sigv4', service: 'lambda', region: 'eu-west-1' }, { credentials }),
      clock: systemClock,
    });
    sources.push(orders);
    const { runner: tools } = runner(orders);
    await tools.prepare();

    expect(await run(tools, 'get_order', { orderId: 'A-1' })).toMatchObject({ ok: true });
    expect(verified.length).toBeGreaterThanOrEqual(3);
    expect(verified.every(Boolean)).toBe(true);
    const authorization = String(server.headers.at(-1)?.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-date/);
    expect(authorization).toMatch(/SignedHeaders=[^,]*mcp-session-id/);
  });
});

/** Computes the signature again with the SDK's signer over the request as received; 403 when it differs. */
async function verifySigV4(
  request: import('node:http').IncomingMessage,
  body: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  verified: boolean[],
): Promise<number | undefined> {
  const authorization = String(request.headers.authorization ?? '');
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const url = new URL(request.url ?? '/', 'http://localhost');
  const [hostname, port] = String(request.headers.host).split(':');
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name] ?? '')]));
  const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'lambda', sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const expected = await signer.sign(
    { method: request.method ?? 'GET', protocol: 'http:', hostname, port: Number(port), path: url.pathname, query: {}, headers, body: body || undefined },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const ok = expected.headers.authorization === authorization && signedHeaders.includes('x-amz-content-sha256');
  verified.push(ok);
  return ok ? undefined : 403;
}

test("the code asset's mcp-servers.json, a URL known only at deployment read from AGENT_MCP_URLS", async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-asset-'));
  const specs: McpServerSpec[] = [
    { name: 'orders', url: '', region: 'eu-west-1', timeoutMs: 5000, auth: { kind: 'sigv4', service: 'lambda', region: 'eu-west-1' } },
    { name: 'docs', url: 'https://docs.example.com/mcp', residency: 'eu', timeoutMs: 3000, needsApproval: true },
  ];
  fs.writeFileSync(path.join(directory, 'mcp-servers.json'), JSON.stringify(specs));

  const asset = await loadAgentAsset(directory, { AGENT_MCP_URLS: JSON.stringify({ orders: 'https://abc.lambda-url.eu-west-1.on.aws/' }) });

  expect(asset.mcpServers).toEqual([{ ...specs[0], url: 'https://abc.lambda-url.eu-west-1.on.aws/' }, specs[1]]);
});
