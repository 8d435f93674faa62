/**
 * The Tool dimension of the tool metrics: declared tools only. The model
 * is untrusted (a prompt can make it ask for any name), so a name it makes
 * up is counted under `unknown` instead of minting a custom metric.
 */
import { z } from 'zod';
import { defineAgent, tool } from '../../lambda/agent/agent/definition';
import type { InvokeTarget, ModelEvent } from '../../lambda/agent/chain/types';
import { answerOf, postMessage, startHarness, type Harness } from './harness';

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const INVENTED = Array.from({ length: 40 }, (_, index) => `exfiltrate_${index}_${'x'.repeat(index)}`);

/** A model that, on its first step, asks for the one declared tool and forty it made up; then answers. */
const inventiveModel: InvokeTarget = async function* (_target, request): AsyncGenerator<ModelEvent> {
  if (request.messages.some((message) => message.content.some((block) => block.type === 'toolResult'))) {
    yield { type: 'delta', text: 'done' };
    yield { type: 'stop', stopReason: 'end_turn' };
    return;
  }
  for (const [index, name] of ['get_time', ...INVENTED].entries()) {
    yield { type: 'toolUse', toolUseId: `use-${index}`, name };
    yield { type: 'toolInput', input: '{}' };
    yield { type: 'blockStop' };
  }
  yield { type: 'stop', stopReason: 'tool_use' };
};

test('tools the model invents are counted under Tool=unknown, and only declared tools get a dimension of their own', async () => {
  // GIVEN an agent with one tool, and a model that asks for forty more
  const agent = defineAgent({ tools: { get_time: tool({ description: 'The time', inputSchema: z.object({}), execute: () => ({ at: new Date(0) }) }) } });
  harness = await startHarness(undefined, { overrides: { agent, invoke: inventiveModel } });

  // WHEN
  const result = await postMessage(harness.server.url, 'eu.c-invented', { text: 'what time is it?' });

  // THEN the message is answered, and the metrics know two tools: the declared one and `unknown`
  expect(answerOf(result.events)).toBe('done');
  const tools = new Set(harness.output.metrics(['Region', 'Tool']).map((record) => record.Tool));
  expect(tools).toEqual(new Set(['get_time', 'unknown']));
  expect(harness.output.sum('ToolCalls', ['Region', 'Tool'], { Tool: 'unknown' })).toBe(INVENTED.length);
  expect(harness.output.sum('ToolErrors', ['Region', 'Tool'], { Tool: 'unknown' })).toBe(INVENTED.length);
  expect(harness.output.sum('ToolErrors', ['Region', 'Tool'], { Tool: 'get_time' })).toBe(0);
});
