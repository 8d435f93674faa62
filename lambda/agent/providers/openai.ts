/**
 * OpenAI's Chat Completions API, streamed: the engine's conversation as
 * `messages` (tool calls on the assistant message, each result a `tool`
 * message right after it), tools as functions, and the chunks back as
 * ModelEvents (text, tool calls by index, the finish reason, and the usage
 * chunk that `stream_options.include_usage` adds).
 */
import { toolInputObject, type ChatMessage, type ModelEvent, type ModelRequest } from '../chain/types';
import type { ChainTarget, ProviderResidency } from '../config';
import { garbled, streamFailure } from './provider-error';
import { mintedToolUseId, parseData, resultText, type ProviderProtocol, type SseEvent, type StreamDecoder } from './protocol';

const HOSTS: Record<ProviderResidency, string> = { global: 'api.openai.com', us: 'us.api.openai.com', eu: 'eu.api.openai.com' };

/** OpenAI's finish reasons in the engine's (Converse's) stop reasons. */
const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  length: 'max_tokens',
  content_filter: 'content_filtered',
};

type OpenAiMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> }
  | { role: 'tool'; tool_call_id: string; content: string };

interface Chunk {
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string; type?: string };
}

export function openAiMessages(messages: readonly ChatMessage[], system: string | undefined): OpenAiMessage[] {
  const out: OpenAiMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of messages) {
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    if (message.role === 'assistant') {
      const calls = message.content.flatMap((block) =>
        block.type === 'toolUse'
          ? [{ id: block.toolUseId, type: 'function' as const, function: { name: block.name, arguments: JSON.stringify(toolInputObject(block.input)) } }]
          : [],
      );
      if (text || calls.length > 0) out.push({ role: 'assistant', content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
      continue;
    }
    // Results answer the calls of the message before: they come first, as tool messages; the user's text after.
    for (const block of message.content) {
      if (block.type !== 'toolResult') continue;
      const content = resultText(block.content);
      out.push({ role: 'tool', tool_call_id: block.toolUseId, content: block.status === 'error' ? JSON.stringify({ error: content }) : content });
    }
    if (text) out.push({ role: 'user', content: text });
  }
  return out;
}

export const openAi: ProviderProtocol = {
  name: 'openai',
  baseUrl: (residency) => `https://${HOSTS[residency]}/v1`,
  path: '/chat/completions',
  authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
  requestBody(target: ChainTarget, request: ModelRequest) {
    return {
      model: target.modelId,
      messages: openAiMessages(request.messages, request.system),
      max_completion_tokens: request.maxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.tools && request.tools.length > 0
        ? {
            tools: request.tools.map((tool) => ({
              type: 'function',
              function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
            })),
          }
        : {}),
      stream: true,
      stream_options: { include_usage: true },
    };
  },
  decoder: () => new OpenAiDecoder(),
};

class OpenAiDecoder implements StreamDecoder {
  done = false;
  /** Index of the tool call whose arguments are streaming, if one is open. */
  private openTool?: number;
  private openText = false;

  decode(event: SseEvent): ModelEvent[] {
    if (event.data === '[DONE]') {
      this.done = true;
      return [];
    }
    const chunk = parseData<Chunk>(event, (what) => garbled('openai', what));
    if (chunk.error) throw streamFailure('openai', chunk.error.type, chunk.error.message);
    const events: ModelEvent[] = [];
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) {
      if (this.openTool !== undefined) events.push(...this.close());
      this.openText = true;
      events.push({ type: 'delta', text: choice.delta.content });
    }
    for (const call of choice?.delta?.tool_calls ?? []) {
      if (call.index !== this.openTool) {
        events.push(...this.close());
        this.openTool = call.index;
        events.push({ type: 'toolUse', toolUseId: call.id || mintedToolUseId(), name: call.function?.name ?? '' });
      }
      if (call.function?.arguments) events.push({ type: 'toolInput', input: call.function.arguments });
    }
    if (choice?.finish_reason) events.push(...this.close(), { type: 'stop', stopReason: STOP_REASONS[choice.finish_reason] ?? choice.finish_reason });
    if (chunk.usage) events.push({ type: 'usage', inputTokens: chunk.usage.prompt_tokens ?? 0, outputTokens: chunk.usage.completion_tokens ?? 0 });
    return events;
  }

  private close(): ModelEvent[] {
    const open = this.openText || this.openTool !== undefined;
    this.openText = false;
    this.openTool = undefined;
    return open ? [{ type: 'blockStop' }] : [];
  }
}
