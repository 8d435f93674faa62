/**
 * The travel desk agent, tested on this machine with the package's testing
 * module: the app of lib/app.ts synthesized and run locally (every region,
 * the agent's tools, the conversation tables), with emulated models.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startLocalDeployment, type LocalDeployment } from 'cdk-multi-region-agent/testing';
import { createApp } from '../lib/app';

const SONNET_EU = 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0';

let deployment: LocalDeployment;

beforeAll(async () => {
  deployment = await startLocalDeployment({ app: createApp() });
}, 120_000);

afterEach(() => deployment.reset());

afterAll(async () => {
  await deployment.close();
});

test('the code tool converts a price with the input the model gives it', async () => {
  // GIVEN the model asks for a conversion, then answers with its result
  deployment.script([{ toolCalls: [{ name: 'convert_currency', input: { amount: 1250.5, from: 'EUR', to: 'JPY' } }] }, { text: 'That is about 204,169 yen.' }]);

  // WHEN a traveller in Europe asks
  const reply = await deployment.client({ location: 'eu' }).send('How much is 1250.50 EUR in yen?');

  // THEN the tool ran in the EU with that input, and its result (a Date included) went back to the model
  expect(reply.toolCalls).toEqual([expect.objectContaining({ name: 'convert_currency', input: { amount: 1250.5, from: 'EUR', to: 'JPY' } })]);
  expect(reply.toolResults).toEqual([expect.objectContaining({ name: 'convert_currency', ok: true })]);
  expect(reply.text).toBe('That is about 204,169 yen.');
  expect(deployment.toolRuns()).toEqual([
    expect.objectContaining({
      tool: 'convert_currency',
      kind: 'code',
      region: reply.runtimeRegion,
      output: { amount: 204169.14, currency: 'JPY', rateDate: new Date('2026-12-01T00:00:00Z') },
    }),
  ]);
  expect(reply.runtimeRegion).toMatch(/^eu-/);
});

test('the Lambda tool answers, and its failure for an unknown flight goes to the model as an error', async () => {
  deployment.script([
    {
      toolCalls: [
        { name: 'flight_status', input: { flightNumber: 'LH1234' } },
        { name: 'flight_status', input: { flightNumber: 'ZZ0000' } },
      ],
    },
  ]);

  const reply = await deployment.client({ location: 'us' }).send('Are my flights on time?');

  expect(reply.toolResults.map((result) => [result.ok, result.error ?? null])).toEqual([
    [true, null],
    [false, expect.stringContaining('no flight ZZ0000')],
  ]);
  expect(deployment.toolRuns({ tool: 'flight_status' }).map((run) => run.output ?? run.error)).toEqual(
    expect.arrayContaining([{ flightNumber: 'LH1234', from: 'FRA', to: 'LIS', status: 'delayed', delayMinutes: 45 }, expect.stringContaining('ZZ0000')]),
  );
  expect(reply.runtimeRegion).toBe('us-east-1');
  // The default answer after the tool round quotes both outcomes.
  expect(reply.text).toContain('flight_status failed');
});

test("the loop falls back to the EU's other region when the primary fails between tool steps, and the conversation keeps both exchanges", async () => {
  // GIVEN eu-central-1's primary model fails the second model call of a message once
  deployment.faults.inject({ region: 'eu-central-1', model: SONNET_EU, step: 2, fault: { status: 503 }, times: 1 });
  const traveller = deployment.client({ region: 'eu-central-1' });

  // WHEN a question needs the Lambda tool (the emulated model calls the tools a question names)
  const first = await traveller.send('Is my flight late? flight_status flightNumber=LH1234');
  const second = await traveller.send('thanks!', { conversationId: first.conversationId });

  // THEN the tool step was the primary's, the answer came from eu-west-1, and nothing left the EU
  expect(first.steps.map((step) => [step.path, step.region])).toEqual([
    ['primary', 'eu-central-1'],
    ['regional-fallback', 'eu-west-1'],
  ]);
  expect(first.text).toContain('"delayMinutes":45');
  expect(deployment.modelCalls().every((call) => call.region.startsWith('eu-'))).toBe(true);
  expect(second.path).toBe('primary');
  const history = await traveller.history(first.conversationId);
  expect(history.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  expect(history[1].steps?.map((step) => step.path)).toEqual(['primary', 'regional-fallback']);
});
