/**
 * A tool use is given back to the model of the next step, which may be
 * another provider's: its input goes back as the same JSON object to each,
 * even when what a model sent was not one.
 */
import { converseRequest } from '../../lambda/agent/converse';
import { anthropicMessages } from '../../lambda/agent/providers/anthropic';
import { openAiMessages } from '../../lambda/agent/providers/openai';
import type { ChatMessage } from '../../lambda/agent/chain/types';
import type { ChainTarget } from '../../lambda/agent/config';

const claude: ChainTarget = { modelId: 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0', region: 'eu-west-1', tier: 'primary' };

/** A step whose tool use carried `input`, and its (error) result. */
function stepWith(input: unknown): ChatMessage[] {
  return [
    { role: 'user', content: [{ type: 'text', text: 'ship order NW-1' }] },
    { role: 'assistant', content: [{ type: 'toolUse', toolUseId: 'tooluse_1', name: 'ship_order', input }] },
    { role: 'user', content: [{ type: 'toolResult', toolUseId: 'tooluse_1', status: 'error', content: [{ text: 'invalid input for ship_order' }] }] },
  ];
}

/** The input each provider would be sent for the step's tool use. */
function inputsSent(input: unknown): { bedrock: unknown; anthropic: unknown; openai: unknown } {
  const messages = stepWith(input);
  const bedrock = converseRequest(claude, { messages, maxTokens: 100 }).messages?.[1].content?.[0];
  const anthropic = anthropicMessages(messages)[1].content[0];
  const openai = openAiMessages(messages, undefined)[1];
  return {
    bedrock: bedrock && 'toolUse' in bedrock ? bedrock.toolUse?.input : undefined,
    anthropic: typeof anthropic === 'object' && anthropic.type === 'tool_use' ? anthropic.input : undefined,
    openai: 'tool_calls' in openai ? JSON.parse(openai.tool_calls![0].function.arguments) : undefined,
  };
}

test.each([
  ['an array', ['NW-1', 'NW-2']],
  ['text that did not parse as JSON (a cut stream of arguments)', '{"orderId": "NW-1", "expr'],
  ['a number', 42],
  ['null', null],
])('a tool use whose input was %s is given back to Bedrock, Anthropic and OpenAI as {}', (_name, input) => {
  expect(inputsSent(input)).toEqual({ bedrock: {}, anthropic: {}, openai: {} });
});

test('an object input is given back to each as it was, decimals and nesting included', () => {
  const input = { orderId: 'NW-1', weightKg: 2.75, address: { lines: ['1 Quay St', 'Dublin'], eircode: null } };

  expect(inputsSent(input)).toEqual({ bedrock: input, anthropic: input, openai: input });
});
