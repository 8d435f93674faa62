/**
 * An emulator of Anthropic's Messages API (`POST /v1/messages`), streamed as
 * the real one streams: SSE events `message_start`, `content_block_start`,
 * `ping`, `content_block_delta` (`text_delta`, `input_json_delta`),
 * `content_block_stop`, `message_delta` (stop reason, output tokens) and
 * `message_stop`; an in-stream failure is an `error` event. Errors carry
 * Anthropic's body (`{"type":"error","error":{"type","message"},"request_id"}`),
 * 529 `overloaded_error` among them. `inference_geo` (`us`, `global`) is
 * the residency the request is processed in, and is echoed in the usage.
 */
import type * as http from 'node:http';
import type { ContentBlock, ConverseMessage, ConverseRequest } from './bedrock-model';
import {
  ProviderEmulator,
  ProviderRefusal,
  resultContent,
  type AnswerParts,
  type ParsedRequest,
  type ProviderEmulatorOptions,
  type StreamFrame,
} from './provider-emulator';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  429: 'Number of request tokens has exceeded your per-minute rate limit.',
  500: 'Internal server error',
  529: 'Overloaded',
};

type AnthropicBlock =
  | { type: 'text'; text?: string }
  | { type: 'tool_use'; id?: string; name?: string; input?: unknown }
  | { type: 'tool_result'; tool_use_id?: string; is_error?: boolean; content?: string | Array<{ type?: string; text?: string }> }
  | { type: string };

interface AnthropicMessage {
  role?: string;
  content?: string | AnthropicBlock[];
}

interface AnthropicBody {
  model?: unknown;
  max_tokens?: unknown;
  messages?: unknown;
  stream?: boolean;
  inference_geo?: unknown;
  tools?: Array<{ name?: string; description?: string; input_schema?: unknown }>;
}

export class AnthropicEmulator extends ProviderEmulator {
  static start(options: Partial<ProviderEmulatorOptions> = {}): Promise<AnthropicEmulator> {
    return new AnthropicEmulator({ models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'], ...options }).start();
  }

  protected readonly providerName = 'anthropic' as const;
  protected readonly requestIdHeader = 'request-id';

  /** The base URL a client is given (the SDK adds `/v1/messages`). */
  get baseUrl(): string {
    return this.origin;
  }

  /** The documented `x-api-key`, or `Authorization: Bearer`, which the SDK 1.x sends an API key as. */
  protected apiKeyOf(request: http.IncomingMessage): string | undefined {
    const key = request.headers['x-api-key'];
    return typeof key === 'string' ? key : /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  }

  protected errorTypeOf(status: number): string {
    return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  }

  protected defaultMessage(status: number): string {
    return DEFAULT_MESSAGES[status] ?? `Emulated ${status}`;
  }

  protected unauthorized(): ProviderRefusal {
    return new ProviderRefusal(401, 'authentication_error', 'invalid x-api-key');
  }

  protected unknownModel(model: string): ProviderRefusal {
    return new ProviderRefusal(404, 'not_found_error', `model: ${model}`);
  }

  protected errorBody(refusal: ProviderRefusal, requestId: string): string {
    return JSON.stringify({ type: 'error', error: { type: refusal.errorType, message: refusal.message }, request_id: requestId });
  }

  protected parse(path: string, headers: http.IncomingHttpHeaders, raw: unknown): ParsedRequest {
    if (path !== '/v1/messages') throw new ProviderRefusal(404, 'not_found_error', 'Not Found');
    if (!headers['anthropic-version']) throw new ProviderRefusal(400, 'invalid_request_error', 'anthropic-version: header is required');
    const body = raw as AnthropicBody;
    if (typeof body.model !== 'string') throw new ProviderRefusal(400, 'invalid_request_error', 'model: Field required');
    if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
      throw new ProviderRefusal(400, 'invalid_request_error', 'max_tokens: Field required');
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      throw new ProviderRefusal(400, 'invalid_request_error', 'messages: at least one message is required');
    const geo = body.inference_geo ?? 'global';
    if (geo !== 'us' && geo !== 'global') throw new ProviderRefusal(400, 'invalid_request_error', `inference_geo: Input should be 'global' or 'us'`);
    return { model: body.model, residency: geo, stream: body.stream === true, converse: converseOf(body, body.messages as AnthropicMessage[]) };
  }

  protected streamFrames(parsed: ParsedRequest, parts: AnswerParts, requestId: string): { frames: StreamFrame[]; tail: StreamFrame[] } {
    const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const frames: StreamFrame[] = [
      {
        text: event('message_start', {
          message: {
            id: `msg_${requestId}`,
            type: 'message',
            role: 'assistant',
            model: parsed.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: parts.inputTokens, output_tokens: 1 },
          },
        }),
      },
    ];
    parts.blocks.forEach((block, index) => {
      if (block.kind === 'text') {
        frames.push({ text: event('content_block_start', { index, content_block: { type: 'text', text: '' } }) });
        if (index === 0) frames.push({ text: event('ping', {}) });
        for (const text of block.deltas) frames.push({ text: event('content_block_delta', { index, delta: { type: 'text_delta', text } }), isDelta: true });
      } else {
        frames.push({
          text: event('content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_${block.id}`, name: block.name, input: {} } }),
        });
        for (const partial_json of block.fragments)
          frames.push({ text: event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }), isDelta: true });
      }
      frames.push({ text: event('content_block_stop', { index }) });
    });
    const tail: StreamFrame[] = [
      { text: event('message_delta', { delta: { stop_reason: parts.answer.stopReason, stop_sequence: null }, usage: { output_tokens: parts.outputTokens } }) },
      { text: event('message_stop', {}) },
    ];
    return { frames, tail };
  }

  protected streamError(requestId: string): string {
    return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: requestId })}\n\n`;
  }

  protected completeBody(parsed: ParsedRequest, parts: AnswerParts, requestId: string): unknown {
    return {
      id: `msg_${requestId}`,
      type: 'message',
      role: 'assistant',
      model: parsed.model,
      content: parts.blocks.map((block) =>
        block.kind === 'text'
          ? { type: 'text', text: block.deltas.join('') }
          : { type: 'tool_use', id: `toolu_${block.id}`, name: block.name, input: block.input },
      ),
      stop_reason: parts.answer.stopReason,
      stop_sequence: null,
      usage: { input_tokens: parts.inputTokens, output_tokens: parts.outputTokens, inference_geo: parsed.residency },
    };
  }
}

function blocksOf(content: AnthropicMessage['content']): AnthropicBlock[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : (content ?? []);
}

function resultText(content: Extract<AnthropicBlock, { type: 'tool_result' }>['content']): string {
  return typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join('');
}

/** The conversation in Converse form; refuses what Anthropic refuses (roles that do not alternate, a tool_result answering no tool_use). */
function converseOf(body: AnthropicBody, messages: AnthropicMessage[]): ConverseRequest {
  const converse: ConverseMessage[] = [];
  let asked = new Set<string>();
  messages.forEach((message, index) => {
    if (message.role !== 'user' && message.role !== 'assistant')
      throw new ProviderRefusal(400, 'invalid_request_error', `messages.${index}.role: Input should be 'user' or 'assistant'`);
    if (index === 0 && message.role !== 'user') throw new ProviderRefusal(400, 'invalid_request_error', 'messages: first message must use the "user" role');
    if (index > 0 && messages[index - 1].role === message.role) {
      throw new ProviderRefusal(
        400,
        'invalid_request_error',
        'messages: roles must alternate between "user" and "assistant", but found multiple "' + message.role + '" roles in a row',
      );
    }
    const content: ContentBlock[] = [];
    blocksOf(message.content).forEach((block, position) => {
      if (block.type === 'text') content.push({ text: (block as { text?: string }).text ?? '' });
      else if (block.type === 'tool_use') {
        const use = block as Extract<AnthropicBlock, { type: 'tool_use' }>;
        content.push({ toolUse: { toolUseId: (use.id ?? '').replace(/^toolu_/, 'tooluse_'), name: use.name, input: use.input } });
      } else if (block.type === 'tool_result') {
        const result = block as Extract<AnthropicBlock, { type: 'tool_result' }>;
        if (!asked.has(result.tool_use_id ?? '')) {
          throw new ProviderRefusal(
            400,
            'invalid_request_error',
            `messages.${index}.content.${position}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${result.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
          );
        }
        content.push({
          toolResult: {
            toolUseId: (result.tool_use_id ?? '').replace(/^toolu_/, 'tooluse_'),
            status: result.is_error ? 'error' : 'success',
            content: resultContent(resultText(result.content)),
          },
        });
      }
    });
    asked = new Set(blocksOf(message.content).flatMap((block) => (block.type === 'tool_use' ? [(block as { id?: string }).id ?? ''] : [])));
    converse.push({ role: message.role, content });
  });
  return {
    messages: converse,
    toolConfig: body.tools
      ? { tools: body.tools.map((tool) => ({ toolSpec: { name: tool.name, description: tool.description, inputSchema: { json: tool.input_schema } } })) }
      : undefined,
  };
}
