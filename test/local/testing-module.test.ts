/**
 * The testing module (`cdk-multi-region-agent/testing`) as a user's suite
 * drives it: a local deployment of a synthesized app, clients per location
 * and region, scripted model turns, faults per region, model and step, the
 * model calls and tool runs, and close() leaving nothing behind.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { createExampleApp } from '../../bin/app';
import { startLocalDeployment, type LocalDeployment } from '../../local/testing';
import { parseEvents } from '../../local/testing/agent-client';
import { exampleAssembly } from './example-assembly';

const SONNET_US = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const NOVA_US = 'us.amazon.nova-pro-v1:0';

let assembly: string;
let deployment: LocalDeployment;

beforeAll(async () => {
  // The run's one synthesis of the example (bundling its agent and its Lambda tool); each deployment reads it.
  assembly = await exampleAssembly();
  deployment = await startLocalDeployment({ assembly });
}, 180_000);

afterEach(() => deployment.reset());

afterAll(async () => {
  await deployment.close();
});

test('a client in a location is routed as Route 53 would, and its answer carries what served it', async () => {
  const reply = await deployment.client({ location: 'eu-central' }).send('hello there');

  expect(reply.status).toBe(200);
  expect(reply.runtimeRegion).toBe('eu-central-1');
  expect(reply.conversationId).toMatch(/^eu\./);
  expect(reply.path).toBe('primary');
  expect(reply.text).toBe(`Answer from ${reply.model} in eu-central-1 to: hello there`);
  expect(reply.events.map((event) => event.type)).toEqual(['start', ...reply.events.slice(1, -1).map(() => 'delta'), 'done']);
  expect(reply.stored).toBe(true);
});

test('scripted turns drive the loop: a tool call with the given input, then the text, and the rest answer as usual', async () => {
  // GIVEN the model of us-east-1 calls lookup_order with an odd order id, then answers in its own words
  deployment.script([{ toolCalls: [{ name: 'lookup_order', input: { orderId: 'NW-99001' } }] }, { text: 'Your parcel is in Reno.' }], { region: 'us-east-1' });
  const client = deployment.client({ region: 'us-east-1' });

  // WHEN a message is sent, and another after it
  const scripted = await client.send('where is it?');
  const after = await client.send('thanks', { conversationId: scripted.conversationId });

  // THEN the tool ran with that input, the scripted text answered, and the next message got the default answer
  expect(scripted.toolCalls).toEqual([expect.objectContaining({ name: 'lookup_order', input: { orderId: 'NW-99001' }, step: 1 })]);
  expect(scripted.toolResults).toEqual([expect.objectContaining({ name: 'lookup_order', ok: true, step: 1 })]);
  expect(scripted.text).toBe('Your parcel is in Reno.');
  expect(scripted.steps.map((step) => step.step)).toEqual([1, 2]);
  expect(deployment.toolRuns()).toEqual([
    expect.objectContaining({ region: 'us-east-1', tool: 'lookup_order', kind: 'lambda', input: { orderId: 'NW-99001' }, ok: true }),
  ]);
  expect(after.text).toMatch(/^Answer from .* to: thanks$/);
  expect(deployment.pendingTurns).toBe(0);
  expect(deployment.modelCalls({ region: 'us-east-1' }).map((call) => call.scripted)).toEqual([true, true, false]);
});

test('a scripted error at the primary falls back to the next target, which takes the next turn', async () => {
  deployment.script([{ error: { status: 503 } }, { text: 'from the fallback' }]);

  const reply = await deployment.client({ region: 'us-east-1' }).send('are you there?');

  expect(reply.text).toBe('from the fallback');
  expect(reply.path).toBe('regional-fallback');
  expect(deployment.modelCalls().map(({ region, status, scripted }) => ({ region, status, scripted }))).toEqual([
    { region: 'us-east-1', status: 503, scripted: true },
    { region: 'us-west-2', status: 200, scripted: true },
  ]);
});

test("a fault on the second step's primary makes the loop fall back between tool steps, and the history keeps both turns", async () => {
  // GIVEN us-east-1's primary model fails the loop's second call once
  deployment.faults.inject({ region: 'us-east-1', model: SONNET_US, step: 2, fault: { status: 503 }, times: 1 });
  const client = deployment.client({ region: 'us-east-1' });

  // WHEN a tool question is asked
  const reply = await client.send('Where is my order? lookup_order orderId=NW-10042');

  // THEN step 1 was the primary's, step 2 a fallback's, and the stored turns say so
  expect(reply.steps.map((step) => [step.step, step.path])).toEqual([
    [1, 'primary'],
    [2, 'regional-fallback'],
  ]);
  expect(reply.toolCalls[0]).toEqual(expect.objectContaining({ name: 'lookup_order', input: { orderId: 'NW-10042' } }));
  expect(deployment.modelCalls({ model: SONNET_US }).map(({ region, step, status, faulted }) => ({ region, step, status, faulted }))).toEqual([
    { region: 'us-east-1', step: 1, status: 200, faulted: false },
    { region: 'us-east-1', step: 2, status: 503, faulted: true },
    { region: 'us-west-2', step: 2, status: 200, faulted: false },
  ]);
  const history = await client.history(reply.conversationId);
  expect(history.map((turn) => turn.role)).toEqual(['user', 'assistant']);
  expect(history[1].steps?.map((step) => step.path)).toEqual(['primary', 'regional-fallback']);
});

test('faults and scripts naming a region or model the deployment does not have are refused, naming what it has', () => {
  expect(() => deployment.faults.inject({ region: 'mars-north-1', fault: { status: 503 } })).toThrow(
    /unknown region mars-north-1 \(the deployment has (?=[^)]*us-east-1)(?=[^)]*us-west-2)(?=[^)]*eu-west-1)(?=[^)]*eu-central-1)/,
  );
  expect(() => deployment.faults.inject({ region: 'eu-west-1', model: SONNET_US, fault: { status: 503 } })).toThrow(/no chain calls .* in eu-west-1/);
  expect(() => deployment.script([{ text: 'x' }], { region: 'ap-south-1' })).toThrow(/script: unknown region ap-south-1/);
  expect(() => deployment.script([{ text: 'x' }], { model: 'gpt-5' })).toThrow(/script: no chain calls gpt-5/);
  expect(() => deployment.script([{ text: 'x', error: { status: 503 } } as never])).toThrow(/text, toolCalls or error/);
  expect(() => deployment.client({ region: 'us-gov-west-1' })).toThrow(/unknown region us-gov-west-1/);
  expect(deployment.pendingTurns).toBe(0);
});

test('a scripted turn scoped to a model answers only that model: the degraded fallback speaks when both US regions throttle', async () => {
  for (const region of ['us-east-1', 'us-west-2']) deployment.faults.inject({ region, model: SONNET_US, fault: { status: 429 }, times: 1 });
  deployment.script([{ text: 'Nova here.' }], { model: NOVA_US });

  const reply = await deployment.client({ location: 'us' }).send('still there?');

  expect(reply).toEqual(expect.objectContaining({ text: 'Nova here.', path: 'model-fallback', model: NOVA_US, degraded: true }));
});

test('an answer that fails everywhere is returned with its error, not thrown', async () => {
  for (const region of ['us-east-1', 'us-west-2']) deployment.faults.inject({ region, fault: { status: 503 } });
  deployment.faults.inject({ provider: 'openai', fault: { status: 503 } });

  const reply = await deployment.client({ region: 'us-west-2' }).send('anyone?');

  expect(reply.status).toBeGreaterThanOrEqual(500);
  expect(reply.error).toEqual(expect.objectContaining({ retryable: true }));
  expect(reply.text).toBe('');
});

test('two deployments run at once in one process, each with its own script, faults and records; closing one leaves the other serving', async () => {
  const second = await startLocalDeployment({ assembly });
  try {
    second.script([{ text: 'second deployment' }]);
    deployment.faults.inject({ region: 'eu-west-1', fault: { status: 503 }, times: 1 });

    const [first, other] = await Promise.all([deployment.client({ region: 'eu-west-1' }).send('one'), second.client({ region: 'eu-west-1' }).send('two')]);

    expect(first.path).toBe('regional-fallback');
    expect(first.text).toMatch(/^Answer from/);
    expect(other).toEqual(expect.objectContaining({ path: 'primary', text: 'second deployment' }));
    expect(second.modelCalls()).toHaveLength(1);
    expect(deployment.modelCalls()).toHaveLength(2);
  } finally {
    await second.close();
  }
  expect((await deployment.client({ location: 'eu' }).send('still here')).status).toBe(200);
});

test('close() stops every server, leaves no handle behind and restores stdout, in any order', async () => {
  const write = process.stdout.write;
  const [a, b] = await Promise.all([startLocalDeployment({ assembly }), startLocalDeployment({ assembly })]);
  const url = b.regions[0].url;
  const before = process.getActiveResourcesInfo().length;

  await a.close();
  await b.close();
  await b.close();

  expect(process.stdout.write).toBe(write);
  await expect(fetch(`${url}/health`)).rejects.toThrow();
  expect(process.getActiveResourcesInfo().length).toBeLessThan(before);
});

test('from an App, the synthesized assembly lives in a temporary directory that close() removes', async () => {
  const { app } = createExampleApp({ context: {} });
  const local = await startLocalDeployment({ app });
  const directory = app.outdir;
  expect(fs.existsSync(directory)).toBe(true);

  await local.close();

  expect(directory.startsWith(fs.realpathSync(os.tmpdir()))).toBe(true);
  expect(fs.existsSync(directory)).toBe(false);
}, 120_000);

test('a port already taken is refused with PortTaken, and nothing is left running', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await expect(startLocalDeployment({ assembly, port })).rejects.toMatchObject({
      code: 'PortTaken',
      message: expect.stringContaining(`port ${port} is taken`),
    });
  } finally {
    blocker.close();
  }
});

test('an assembly with no agent runtime is refused with NoAgentRuntime, and an App without outdir leaves no directory', async () => {
  const app = new App();
  const directory = app.outdir;

  await expect(startLocalDeployment({ app })).rejects.toMatchObject({ code: 'NoAgentRuntime' });

  expect(fs.existsSync(directory)).toBe(false);
  expect(path.basename(directory)).toMatch(/^cdk\.out/);
});

describe("the example's delivery MCP server (a function behind an IAM function URL), served on loopback from its code asset", () => {
  const SLOT = { orderId: 'NW-10063', date: '2026-03-09', window: '08:00-12:00' };

  test("the agent reads an order's delivery slots from the MCP server the app deploys, served from its code asset", async () => {
    deployment.script([{ toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10063' } }] }, { text: 'Monday morning is open.' }], {
      region: 'eu-west-1',
    });

    const reply = await deployment.client({ region: 'eu-west-1' }).send('when can it come?');

    expect(reply.toolResults).toEqual([expect.objectContaining({ name: 'delivery_slots', ok: true, step: 1 })]);
    expect(reply.text).toBe('Monday morning is open.');
  });

  test('reschedule_delivery waits for approval, and runs on the server once approved', async () => {
    deployment.script([{ toolCalls: [{ name: 'reschedule_delivery', input: SLOT }] }, { text: 'Moved to Monday morning.' }], { region: 'eu-west-1' });
    const client = deployment.client({ region: 'eu-west-1' });

    const paused = await client.send('move it to Monday morning');
    const done = paused.events.find((event) => event.type === 'done') as { stopReason?: string } | undefined;
    const pending = paused.events.find((event) => (event.type as string) === 'approval_required') as unknown as { toolUseId: string; tool: string };

    expect(done?.stopReason).toBe('approval_required');
    expect(pending).toMatchObject({ tool: 'reschedule_delivery' });
    expect(paused.toolResults).toEqual([]);

    const region = deployment.regions.find((candidate) => candidate.region === 'eu-west-1')!;
    const response = await fetch(
      `${region.url}/v1/conversations/${encodeURIComponent(paused.conversationId)}/approvals/${encodeURIComponent(pending.toolUseId)}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ approved: true }),
      },
    );
    const resumed = parseEvents(await response.text());

    expect(response.status).toBe(200);
    expect(resumed).toContainEqual(expect.objectContaining({ type: 'tool_result', name: 'reschedule_delivery', ok: true }));
    expect(resumed).toContainEqual(expect.objectContaining({ type: 'done', stopReason: 'end_turn' }));
  });
  test('a 5xx of the MCP server on a call is an error result saying the tool may have run, and the next call runs', async () => {
    const client = deployment.client({ region: 'eu-west-1' });
    deployment.script([{ toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] }, { text: 'first' }], { region: 'eu-west-1' });
    await client.send('warm the tool list');
    deployment.faults.inject({ mcpServer: 'delivery', region: 'eu-west-1', fault: { status: 503 }, times: 1 });
    deployment.script(
      [
        { toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] },
        { text: 'failed' },
        { toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] },
        { text: 'ok' },
      ],
      { region: 'eu-west-1' },
    );

    const failed = await client.send('slots?');
    const after = await client.send('slots again?');

    expect(failed.toolResults).toEqual([
      expect.objectContaining({ name: 'delivery_slots', ok: false, error: expect.stringContaining('may have run the tool') }),
    ]);
    expect(after.toolResults).toEqual([expect.objectContaining({ name: 'delivery_slots', ok: true })]);
  });

  test('a slow MCP server outlasts the tool timeout (5 s): an error result, and the answer goes on', async () => {
    const client = deployment.client({ region: 'eu-west-1' });
    deployment.script([{ toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] }, { text: 'first' }], { region: 'eu-west-1' });
    await client.send('warm the tool list');
    deployment.faults.inject({ mcpServer: 'delivery', region: 'eu-west-1', fault: { delayMs: 60_000 }, times: 1 });
    deployment.script([{ toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] }, { text: 'the carrier is slow' }], { region: 'eu-west-1' });

    const reply = await client.send('slots?');

    expect(reply.toolResults).toEqual([expect.objectContaining({ name: 'delivery_slots', ok: false, error: 'delivery_slots did not finish within 5000 ms' })]);
    expect(reply.text).toBe('the carrier is slow');
  });

  test('MCP faults naming a server the deployment does not serve are refused, naming what it serves', async () => {
    // The servers are served once a region's runtime has read its agent (at start).
    expect(() => deployment.faults.inject({ mcpServer: 'billing', fault: { status: 503 } })).toThrow(
      /no MCP server billing runs here \(.*delivery \(eu-west-1\)/,
    );
    expect(() => deployment.faults.inject({ mcpServer: 'delivery', fault: { status: 404 } })).toThrow(/fault/);
  });

  test('the control API takes MCP faults over HTTP: 201 with the rule, 400 naming the field that is wrong', async () => {
    const post = (body: unknown) => fetch(`${deployment.url}/_local/faults`, { method: 'POST', body: JSON.stringify(body) });

    const dropped = await post({ mcpServer: 'delivery', fault: { dropSession: true } });
    const wrong = await post({ mcpServer: 'delivery', fault: { delayMs: -5 } });

    expect(dropped.status).toBe(201);
    expect(await dropped.json()).toEqual({ injected: { mcpServer: 'delivery', fault: { dropSession: true } } });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(await wrong.json())).toContain('fault');
    // The stateless example server issued no session: the next call runs as before.
    deployment.script([{ toolCalls: [{ name: 'delivery_slots', input: { orderId: 'NW-10042' } }] }, { text: 'ok' }], { region: 'us-east-1' });
    const reply = await deployment.client({ region: 'us-east-1' }).send('slots?');
    expect(reply.toolResults).toEqual([expect.objectContaining({ name: 'delivery_slots', ok: true })]);
  });
});
