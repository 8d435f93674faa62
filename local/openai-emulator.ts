/**
 * An emulator of OpenAI's Chat Completions API (`POST /v1/chat/completions`),
 * streamed as the real one streams: `chat.completion.chunk` objects as SSE
 * `data:` lines, tool calls as `delta.tool_calls` fragments, a last chunk
 * with empty `choices` and the usage when `stream_options.include_usage` is
 * set, then `data: [DONE]`. Errors carry OpenAI's body
 * (`{"error":{"message","type","param","code"}}`). A data-residency host is
 * a path prefix: `<origin>/eu/v1` stands for `https://eu.api.openai.com/v1`.
 */
import type * as http from 'node:http';
import type { ConverseMessage, ConverseRequest } from './bedrock-model';
import {
  ProviderEmulator,
  ProviderRefusal,
  resultContent,
  type AnswerParts,
  type ParsedRequest,
  type ProviderEmulatorOptions,
  type StreamFrame,
} from './provider-emulator';

export const OPENAI_RESIDENCIES = ['us', 'eu'] as const;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'invalid_request_error',
  404: 'invalid_request_error',
  429: 'requests',
  500: 'server_error',
  503: 'server_error',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  429: 'Rate limit reached for requests. Please try again later.',
  500: 'The server had an error while processing your request. Sorry about that!',
  502: 'Bad gateway.',
  503: 'The engine is currently overloaded, please try again later.',
  504: 'Gateway timeout.',
};

interface OpenAiMessage {
  role?: string;
  content?: string | Array<{ type?: string; text?: string }> | null;
  tool_calls?: Array<{ id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
}

interface OpenAiBody {
  model?: unknown;
  messages?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: Array<{ type?: string; function?: { name?: string; description?: string; parameters?: unknown } }>;
}

export class OpenAiEmulator extends ProviderEmulator {
  static start(options: Partial<ProviderEmulatorOptions> = {}): Promise<OpenAiEmulator> {
    return new OpenAiEmulator({ models: ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini'], ...options }).start();
  }

  protected readonly providerName = 'openai' as const;
  protected readonly requestIdHeader = 'x-request-id';

  /** The base URL a client is given for a residency (`global`: the plain API). */
  baseUrl(residency: 'global' | (typeof OPENAI_RESIDENCIES)[number] = 'global'): string {
    return residency === 'global' ? `${this.origin}/v1` : `${this.origin}/${residency}/v1`;
  }

  protected apiKeyOf(request: http.IncomingMessage): string | undefined {
    return /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  }

  protected errorTypeOf(status: number): string {
    return ERROR_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  }

  protected defaultMessage(status: number): string {
    return DEFAULT_MESSAGES[status] ?? `Emulated ${status}.`;
  }

  protected unauthorized(apiKey: string): ProviderRefusal {
    const shown = apiKey ? `${apiKey.slice(0, 3)}*****${apiKey.slice(-4)}` : '';
    return new ProviderRefusal(
      401,
      'invalid_request_error',
      apiKey
        ? `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key.",
      'invalid_api_key',
    );
  }

  protected unknownModel(model: string): ProviderRefusal {
    return new ProviderRefusal(404, 'invalid_request_error', `The model \`${model}\` does not exist or you do not have access to it.`, 'model_not_found');
  }

  protected errorBody(refusal: ProviderRefusal): string {
    return JSON.stringify({ error: { message: refusal.message, type: refusal.errorType, param: null, code: refusal.code ?? null } });
  }

  protected parse(path: string, _headers: http.IncomingHttpHeaders, raw: unknown): ParsedRequest {
    const match = /^(?:\/(us|eu))?\/v1\/chat\/completions$/.exec(path);
    if (!match) throw new ProviderRefusal(404, 'invalid_request_error', `Invalid URL (POST ${path})`, 'unknown_url');
    const body = raw as OpenAiBody;
    if (typeof body.model !== 'string')
      throw new ProviderRefusal(400, 'invalid_request_error', "Missing required parameter: 'model'.", 'missing_required_parameter');
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new ProviderRefusal(400, 'invalid_request_error', "Invalid 'messages': empty array. Expected an array with minimum length 1.", 'empty_array');
    }
    return {
      model: body.model,
      residency: match[1] ?? 'global',
      stream: body.stream === true,
      converse: converseOf(body, body.messages as OpenAiMessage[]),
      includeUsage: body.stream_options?.include_usage === true,
    };
  }

  protected streamFrames(parsed: ParsedRequest, parts: AnswerParts, requestId: string): { frames: StreamFrame[]; tail: StreamFrame[] } {
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: unknown, finishReason: string | null = null) =>
      `data: ${JSON.stringify({ id: `chatcmpl-${requestId}`, object: 'chat.completion.chunk', created, model: parsed.model, system_fingerprint: 'fp_emulated', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
    const frames: StreamFrame[] = [{ text: chunk({ role: 'assistant', content: '', refusal: null }) }];
    let toolIndex = 0;
    for (const block of parts.blocks) {
      if (block.kind === 'text') {
        for (const delta of block.deltas) frames.push({ text: chunk({ content: delta }), isDelta: true });
        continue;
      }
      const index = toolIndex++;
      frames.push({ text: chunk({ tool_calls: [{ index, id: `call_${block.id}`, type: 'function', function: { name: block.name, arguments: '' } }] }) });
      for (const fragment of block.fragments) frames.push({ text: chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }), isDelta: true });
    }
    const tail: StreamFrame[] = [{ text: chunk({}, parts.answer.stopReason === 'tool_use' ? 'tool_calls' : 'stop') }];
    if (parsed.includeUsage) {
      tail.push({
        text: `data: ${JSON.stringify({ id: `chatcmpl-${requestId}`, object: 'chat.completion.chunk', created, model: parsed.model, system_fingerprint: 'fp_emulated', choices: [], usage: usageOf(parts) })}\n\n`,
      });
    }
    tail.push({ text: 'data: [DONE]\n\n' });
    return { frames, tail };
  }

  protected streamError(): string {
    return `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } })}\n\n`;
  }

  protected completeBody(parsed: ParsedRequest, parts: AnswerParts, requestId: string): unknown {
    const text = parts.blocks.flatMap((block) => (block.kind === 'text' ? block.deltas : [])).join('');
    const toolCalls = parts.blocks.flatMap((block) =>
      block.kind === 'toolUse' ? [{ id: `call_${block.id}`, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } }] : [],
    );
    return {
      id: `chatcmpl-${requestId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: parsed.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text || null, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
          logprobs: null,
          finish_reason: parts.answer.stopReason === 'tool_use' ? 'tool_calls' : 'stop',
        },
      ],
      usage: usageOf(parts),
    };
  }
}

function usageOf(parts: AnswerParts) {
  return { prompt_tokens: parts.inputTokens, completion_tokens: parts.outputTokens, total_tokens: parts.inputTokens + parts.outputTokens };
}

function textOf(content: OpenAiMessage['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

/** The conversation in the emulated model's Converse form; refuses what OpenAI refuses (a tool message answering no tool call). */
function converseOf(body: OpenAiBody, messages: OpenAiMessage[]): ConverseRequest {
  const converse: ConverseMessage[] = [];
  const pending = new Set<string>();
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') return;
    if (message.role === 'tool') {
      if (!message.tool_call_id || !pending.has(message.tool_call_id)) {
        throw new ProviderRefusal(
          400,
          'invalid_request_error',
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
        );
      }
      pending.delete(message.tool_call_id);
      const block = {
        toolResult: {
          toolUseId: message.tool_call_id.replace(/^call_/, 'tooluse_'),
          status: 'success' as const,
          content: resultContent(textOf(message.content)),
        },
      };
      const last = converse.at(-1);
      if (last?.role === 'user' && last.content?.every((candidate) => candidate.toolResult)) last.content.push(block);
      else converse.push({ role: 'user', content: [block] });
      return;
    }
    if (pending.size > 0) {
      throw new ProviderRefusal(
        400,
        'invalid_request_error',
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending].join(', ')}`,
      );
    }
    if (message.role === 'user') converse.push({ role: 'user', content: [{ text: textOf(message.content) }] });
    else if (message.role === 'assistant') {
      const calls = message.tool_calls ?? [];
      for (const call of calls) pending.add(call.id ?? '');
      converse.push({
        role: 'assistant',
        content: [
          ...(textOf(message.content) ? [{ text: textOf(message.content) }] : []),
          ...calls.map((call) => ({
            toolUse: {
              toolUseId: (call.id ?? '').replace(/^call_/, 'tooluse_'),
              name: call.function?.name,
              input: parseArguments(call.function?.arguments, index),
            },
          })),
        ],
      });
    } else
      throw new ProviderRefusal(
        400,
        'invalid_request_error',
        `Invalid value: '${message.role}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'developer'.`,
      );
  });
  const request: ConverseRequest = {
    messages: converse,
    toolConfig: body.tools
      ? {
          tools: body.tools.map((tool) => ({
            toolSpec: { name: tool.function?.name, description: tool.function?.description, inputSchema: { json: tool.function?.parameters } },
          })),
        }
      : undefined,
  };
  return request;
}

function parseArguments(text: string | undefined, index: number): unknown {
  try {
    return JSON.parse(text ?? '{}');
  } catch {
    throw new ProviderRefusal(400, 'invalid_request_error', `Invalid 'messages[${index}].tool_calls[0].function.arguments': not valid JSON.`);
  }
}
