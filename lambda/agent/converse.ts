/**
 * The engine's messages in Bedrock's Converse form, and Bedrock's stream
 * events in the engine's, for one target. What the target's model cannot
 * read is left out here: reasoning blocks of another model family (a
 * fallback to another model never sees them), and prompt-cache points for a
 * model without prompt caching.
 */
import type {
  ContentBlock as BedrockBlock,
  ConverseStreamCommandInput,
  ConverseStreamOutput,
  Message,
  SystemContentBlock,
  Tool,
} from '@aws-sdk/client-bedrock-runtime';
import { modelFamilyOf, type ChainTarget } from './config';
import { toolInputObject, type ChatMessage, type ContentBlock, type ModelEvent, type ModelRequest } from './chain/types';

/** The family whose models Bedrock offers extended thinking for, through `additionalModelRequestFields.thinking`. */
const THINKING_FAMILY = 'anthropic';

export function converseRequest(target: ChainTarget, request: ModelRequest): ConverseStreamCommandInput {
  const family = modelFamilyOf(target.modelId);
  const thinking = request.reasoning && family === THINKING_FAMILY && canThink(request.messages, family) ? request.reasoning : undefined;
  return {
    modelId: target.modelId,
    messages: request.messages
      .map((message): Message => ({ role: message.role, content: message.content.flatMap((block) => converseBlock(block, family)) }))
      .filter((message) => (message.content ?? []).length > 0),
    system: systemOf(request.system, target.promptCaching === true),
    toolConfig:
      request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map((tool): Tool => ({
              toolSpec: { name: tool.name, description: tool.description, inputSchema: { json: tool.inputSchema as never } },
            })),
          }
        : undefined,
    // Thinking tokens count against maxTokens, and Anthropic refuses a temperature with thinking on.
    inferenceConfig: thinking ? { maxTokens: request.maxTokens + thinking.budgetTokens } : { maxTokens: request.maxTokens, temperature: request.temperature },
    additionalModelRequestFields: thinking ? { thinking: { type: 'enabled', budget_tokens: thinking.budgetTokens } } : undefined,
  };
}

/**
 * With thinking on, Anthropic wants the assistant message that asked for
 * the tools being answered to begin with its own reasoning. A step after one
 * another model served (a fallback), or after history, which stores no
 * reasoning, has none to give back: that step runs without thinking.
 */
function canThink(messages: ChatMessage[], family: string): boolean {
  const last = messages.at(-1);
  if (!last?.content.some((block) => block.type === 'toolResult')) return true;
  const asked = messages.at(-2);
  const first = asked?.role === 'assistant' ? asked.content[0] : undefined;
  return first?.type === 'reasoning' && first.family === family;
}

function systemOf(system: string | undefined, promptCaching: boolean): SystemContentBlock[] | undefined {
  if (!system) return undefined;
  // A cache point after the instructions: long instructions are read from the cache on every later step and message.
  return promptCaching ? [{ text: system }, { cachePoint: { type: 'default' } }] : [{ text: system }];
}

function converseBlock(block: ContentBlock, family: string): BedrockBlock[] {
  switch (block.type) {
    case 'text':
      return block.text ? [{ text: block.text }] : [];
    case 'toolUse':
      // Input the model sent as something other than a JSON object was refused as the tool's error; Bedrock wants an object back.
      return [{ toolUse: { toolUseId: block.toolUseId, name: block.name, input: toolInputObject(block.input) as never } }];
    case 'toolResult':
      return [
        {
          toolResult: {
            toolUseId: block.toolUseId,
            status: block.status,
            content: block.content.map((content) => ('json' in content ? { json: content.json as never } : { text: content.text })),
          },
        },
      ];
    case 'reasoning':
      if (block.family !== family) return [];
      if (block.redacted) return [{ reasoningContent: { redactedContent: Buffer.from(block.redacted, 'base64') } }];
      return [{ reasoningContent: { reasoningText: { text: block.text ?? '', signature: block.signature } } }];
  }
}

/** One Converse stream event in the engine's vocabulary; undefined for events it does not use (messageStart, for one). */
export function modelEventOf(event: ConverseStreamOutput): ModelEvent | undefined {
  const toolUse = event.contentBlockStart?.start?.toolUse;
  if (toolUse) return { type: 'toolUse', toolUseId: toolUse.toolUseId ?? '', name: toolUse.name ?? '' };
  const delta = event.contentBlockDelta?.delta;
  if (delta?.text) return { type: 'delta', text: delta.text };
  if (delta?.toolUse) return { type: 'toolInput', input: delta.toolUse.input ?? '' };
  if (delta?.reasoningContent) {
    const { text, signature, redactedContent } = delta.reasoningContent;
    return { type: 'reasoning', text, signature, redacted: redactedContent ? Buffer.from(redactedContent).toString('base64') : undefined };
  }
  if (event.contentBlockStop) return { type: 'blockStop' };
  if (event.messageStop) return { type: 'stop', stopReason: event.messageStop.stopReason ?? 'end_turn' };
  if (event.metadata?.usage) return { type: 'usage', inputTokens: event.metadata.usage.inputTokens ?? 0, outputTokens: event.metadata.usage.outputTokens ?? 0 };
  return undefined;
}
