/**
 * Anthropic's Messages API, streamed: the engine's conversation as
 * alternating user and assistant messages (tool uses and tool results as
 * blocks), `inference_geo` from the target's residency on every request,
 * and the SSE events back as ModelEvents. Reasoning blocks are left out:
 * their signatures belong to the platform that wrote them.
 */
import { toolInputObject, type ChatMessage, type ContentBlock, type ModelEvent, type ModelRequest } from '../chain/types';
import type { ChainTarget } from '../config';
import { garbled, streamFailure } from './provider-error';
import { mintedToolUseId, parseData, resultText, type ProviderProtocol, type SseEvent, type StreamDecoder } from './protocol';

/** The Messages API version the runtime speaks. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic's stop reasons where they differ from Converse's. */
const STOP_REASONS: Record<string, string> = { refusal: 'content_filtered' };

type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

interface StreamEvent {
  type?: string;
  message?: { usage?: { input_tokens?: number; output_tokens?: number } };
  content_block?: { type?: string; id?: string; name?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: { output_tokens?: number };
  error?: { type?: string; message?: string };
}

function anthropicBlock(block: ContentBlock): AnthropicBlock[] {
  switch (block.type) {
    case 'text':
      // Anthropic refuses empty text blocks.
      return block.text ? [{ type: 'text', text: block.text }] : [];
    case 'toolUse':
      return [{ type: 'tool_use', id: block.toolUseId, name: block.name, input: toolInputObject(block.input) }];
    case 'toolResult':
      return [
        { type: 'tool_result', tool_use_id: block.toolUseId, content: resultText(block.content), ...(block.status === 'error' ? { is_error: true } : {}) },
      ];
    case 'reasoning':
      return [];
  }
}

/** The conversation as Anthropic wants it: no empty message, roles alternating (what is left out may leave two of one role together). */
export function anthropicMessages(messages: readonly ChatMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    const content = message.content.flatMap(anthropicBlock);
    if (content.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === message.role) last.content.push(...content);
    else out.push({ role: message.role, content });
  }
  return out;
}

export const anthropic: ProviderProtocol = {
  name: 'anthropic',
  // One host: inference_geo, in the body, says where inference runs.
  baseUrl: () => 'https://api.anthropic.com',
  path: '/v1/messages',
  authHeaders: (apiKey) => ({ 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION }),
  requestBody(target: ChainTarget, request: ModelRequest) {
    return {
      model: target.modelId,
      max_tokens: request.maxTokens,
      ...(request.system ? { system: request.system } : {}),
      messages: anthropicMessages(request.messages),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.tools && request.tools.length > 0
        ? { tools: request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.inputSchema })) }
        : {}),
      inference_geo: target.provider?.residency ?? 'global',
      stream: true,
    };
  },
  decoder: () => new AnthropicDecoder(),
};

class AnthropicDecoder implements StreamDecoder {
  done = false;
  private inputTokens = 0;
  private outputTokens = 0;
  private stopReason = 'end_turn';

  decode(event: SseEvent): ModelEvent[] {
    const data = parseData<StreamEvent>(event, (what) => garbled('anthropic', what));
    switch (data.type) {
      case 'message_start':
        this.inputTokens = data.message?.usage?.input_tokens ?? 0;
        this.outputTokens = data.message?.usage?.output_tokens ?? 0;
        return [];
      case 'content_block_start':
        return data.content_block?.type === 'tool_use'
          ? [{ type: 'toolUse', toolUseId: data.content_block.id || mintedToolUseId(), name: data.content_block.name ?? '' }]
          : [];
      case 'content_block_delta':
        if (data.delta?.type === 'text_delta' && data.delta.text) return [{ type: 'delta', text: data.delta.text }];
        if (data.delta?.type === 'input_json_delta' && data.delta.partial_json) return [{ type: 'toolInput', input: data.delta.partial_json }];
        return [];
      case 'content_block_stop':
        return [{ type: 'blockStop' }];
      case 'message_delta':
        if (data.delta?.stop_reason) this.stopReason = STOP_REASONS[data.delta.stop_reason] ?? data.delta.stop_reason;
        this.outputTokens = data.usage?.output_tokens ?? this.outputTokens;
        return [];
      case 'message_stop':
        this.done = true;
        return [
          { type: 'stop', stopReason: this.stopReason },
          { type: 'usage', inputTokens: this.inputTokens, outputTokens: this.outputTokens },
        ];
      case 'error':
        throw streamFailure('anthropic', data.error?.type, data.error?.message);
      default:
        // ping, and event types added later: nothing the answer needs.
        return [];
    }
  }
}
