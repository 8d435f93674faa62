/**
 * An agent whose tools are written with zod/mini (zod 4's small build, whose
 * schemas have no Standard JSON Schema), bundled as the construct bundles any
 * agent (its own copy of zod in agent.mjs) and run by the runtime against
 * the Bedrock emulator: the model is offered the JSON Schema zod derives, the
 * input it sends is validated by the agent's schema, and the tool runs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { AgentCode } from '../../lib';
import { loadAgentAsset } from '../../lambda/agent/agent/agent-asset';
import { answerOf, postMessage, startHarness, type Harness } from './harness';

let harness: Harness | undefined;
let directory: string;

beforeAll(async () => {
  // GIVEN a stranger's agent written with zod/mini, bundled into a code asset's agent.mjs
  const { bundle } = AgentCode.fromEntry(path.join(__dirname, '..', 'constructs', 'agents', 'mini-schemas.ts')).bind(new Stack(new App(), 'Agent'));
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'zod-mini-agent-'));
  fs.writeFileSync(path.join(directory, 'agent.mjs'), bundle);
  // AND the runtime hosting it
  harness = await startHarness(undefined, { overrides: await loadAgentAsset(directory, {}) });
}, 60_000);

afterAll(async () => {
  await harness?.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

function offeredTools(): Array<{ toolSpec: { name: string; inputSchema: { json: Record<string, unknown> } } }> {
  return (
    harness!.emulator.calls()[0].request as { toolConfig: { tools: Array<{ toolSpec: { name: string; inputSchema: { json: Record<string, unknown> } } }> } }
  ).toolConfig.tools;
}

test("the model is offered the zod/mini schema's JSON Schema, and the tool runs with the input it validated", async () => {
  // WHEN a question names the tool (the emulator calls the tools a question names, with inputs typed by their JSON Schema)
  const result = await postMessage(harness!.server.url, 'eu.c-mini', { text: 'Seats? seat_map flight=AU412 cabin=business passengers=2' });

  // THEN the JSON Schema carries the types, bounds, pattern and description written in zod/mini
  expect(offeredTools()).toEqual([
    {
      toolSpec: expect.objectContaining({
        name: 'seat_map',
        inputSchema: {
          json: expect.objectContaining({
            type: 'object',
            required: ['flight', 'cabin', 'passengers'],
            properties: expect.objectContaining({
              flight: expect.objectContaining({ type: 'string', pattern: '^[A-Z]{2}\\d{1,4}$', description: 'IATA flight number, such as AU412' }),
              cabin: expect.objectContaining({ enum: ['economy', 'premium', 'business'] }),
              passengers: expect.objectContaining({ type: 'integer', minimum: 1, maximum: 9 }),
            }),
          }),
        },
      }),
    },
  ]);
  // AND the tool ran with the typed input; its Date and decimal came back as JSON
  expect(result.status).toBe(200);
  expect(result.events.find((event) => event.event === 'tool_result')?.data).toMatchObject({ name: 'seat_map', ok: true });
  expect(answerOf(result.events)).toContain('"seats":["14A","15A"],"fare":259.9,"departs":"2026-03-03T07:40:00.000Z"');
});

test("an input the zod/mini schema refuses is the tool's error, which the model reads: the tool does not run", async () => {
  const result = await postMessage(harness!.server.url, 'eu.c-mini-bad', { text: 'Seats? seat_map flight=AU412 cabin=business passengers=12' });

  expect(result.status).toBe(200);
  const toolResult = result.events.find((event) => event.event === 'tool_result')?.data as { ok: boolean; error?: string } | undefined;
  expect(toolResult).toMatchObject({ ok: false });
  expect(JSON.stringify(result.events)).toContain('passengers');
  expect(answerOf(result.events)).not.toContain('"seats"');
});
