/**
 * What the OpenAI and Anthropic emulators share: one HTTP/1.1 server on
 * loopback, API keys that are accepted or refused with 401, fault rules
 * like the Bedrock emulator's (status codes with the provider's own error
 * bodies, stalls, slow tokens, an error event or a cut after K tokens,
 * garbage), and a record of every call. Each provider's file says how its
 * requests read and its answers are written; the answers themselves are
 * the Bedrock emulator's model (bedrock-model.ts), so one conversation gets
 * the same answer from every provider, but for the model's name.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { FaultRules } from './fault-rules';
import { listen } from './listen';
import { answer, conversationStep, deltasOf, fragmentsOf, type ConverseRequest, type ModelAnswer } from './bedrock-model';
import type { ModelScript, ModelService, ScriptedReply } from './model-script';

export type ProviderFault =
  /** Answer this status with the provider's error body (429s and 529s carry retry-after). */
  | { status: number; message?: string; retryAfterSeconds?: number }
  /** Accept the request, then say nothing for stallMs: before the response headers, or (default) after them, before the first event. */
  | { stallMs: number; phase?: 'headers' | 'first-token' }
  | { tokenDelayMs: number }
  /** Stream K content deltas, then the provider's in-stream error event (and end). */
  | { failAfterTokens: number }
  /** Stream K content deltas, then close the stream without the provider's end events. */
  | { endAfterTokens: number }
  /** Answer 200 with what is not the provider's protocol: an HTML page (`body`), or a stream whose event data is not JSON (`stream`). */
  | { garbage: 'body' | 'stream' };

export interface ProviderFaultRule {
  /** Exact model name as received; all models when omitted. */
  model?: string;
  /** Only requests processed in this residency (`us`, `eu`, `global`); all when omitted. */
  residency?: string;
  /** Only this step of a tool loop (see the Bedrock emulator's rules). */
  step?: number;
  fault: ProviderFault;
  times?: number;
}

export interface ProviderCall {
  model: string;
  residency: string;
  status: number;
  stream: boolean;
  step: number;
  /** The API key the call presented. */
  apiKey: string;
  /** Whether a scripted turn answered the call. */
  scripted: boolean;
  at: number;
  request: unknown;
}

/** One event of a stream; deltas are what faults count. */
export interface StreamFrame {
  text: string;
  isDelta?: boolean;
}

/** What a provider's request says, once read. */
export interface ParsedRequest {
  model: string;
  residency: string;
  stream: boolean;
  /** The conversation in the Converse form the emulated model reads. */
  converse: ConverseRequest;
  /** OpenAI's `stream_options.include_usage`. */
  includeUsage?: boolean;
}

/** A refusal: status, the provider's error type and message. */
export class ProviderRefusal extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ProviderEmulatorOptions {
  /** Keys accepted; any other gets 401. @default ['test-key'] */
  apiKeys?: string[];
  /** Model names served; others get the provider's 404. */
  models: string[];
  /** @default 127.0.0.1 */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Delay between the response headers and the first event. @default 0 */
  firstTokenDelayMs?: number;
  /** Delay between two deltas. @default 0 */
  tokenDelayMs?: number;
  /** Scripted turns, answered before the default answers (see the Bedrock emulator's). @default - default answers only */
  script?: ModelScript;
}

/** The answer's parts as a provider's stream and body need them. */
export interface AnswerParts {
  answer: ModelAnswer;
  /** The answer's text deltas and tool inputs' fragments, by block. */
  blocks: Array<{ kind: 'text'; deltas: string[] } | { kind: 'toolUse'; id: string; name: string; fragments: string[]; input: unknown }>;
  inputTokens: number;
  outputTokens: number;
}

export abstract class ProviderEmulator {
  private server?: http.Server;
  private url = '';
  private readonly faults = new FaultRules<ProviderFaultRule>();
  private recorded: ProviderCall[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  private apiKeys: string[];
  private tokenDelayMs: number;
  private closed = false;

  protected constructor(protected readonly options: ProviderEmulatorOptions) {
    this.apiKeys = options.apiKeys ?? ['test-key'];
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
  }

  /** `openai`, `anthropic`: names the answers' region (`Answer from gpt-4o in openai-eu`). */
  protected abstract readonly providerName: Exclude<ModelService, 'bedrock'>;
  /** The key the request presents, or undefined. */
  protected abstract apiKeyOf(request: http.IncomingMessage): string | undefined;
  /** Reads the request; throws a ProviderRefusal when the provider would refuse it. */
  protected abstract parse(path: string, headers: http.IncomingHttpHeaders, body: unknown): ParsedRequest;
  protected abstract errorBody(refusal: ProviderRefusal, requestId: string): string;
  protected abstract streamFrames(parsed: ParsedRequest, parts: AnswerParts, requestId: string): { frames: StreamFrame[]; tail: StreamFrame[] };
  protected abstract streamError(requestId: string): string;
  protected abstract completeBody(parsed: ParsedRequest, parts: AnswerParts, requestId: string): unknown;
  /** The status a fault's status code is refused with, and the provider's error type for it. */
  protected abstract errorTypeOf(status: number): string;
  protected abstract requestIdHeader: string;

  protected async start(): Promise<this> {
    this.server = http.createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.url = await listen(this.server, this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    return this;
  }

  /** The server's origin, e.g. http://127.0.0.1:4321. */
  get origin(): string {
    return this.url;
  }

  /** Replaces the accepted keys (a rotation: the old key now gets 401). */
  setApiKeys(keys: string[]): void {
    this.apiKeys = [...keys];
  }

  setLatency(options: { tokenDelayMs?: number }): void {
    this.tokenDelayMs = options.tokenDelayMs ?? this.tokenDelayMs;
  }

  injectFault(rule: ProviderFaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  calls(filter: { model?: string; residency?: string } = {}): ProviderCall[] {
    return this.recorded.filter(
      (call) => (filter.model === undefined || call.model === filter.model) && (filter.residency === undefined || call.residency === filter.residency),
    );
  }

  clearCalls(): void {
    this.recorded = [];
  }

  /** The region label the answers name for a residency: `openai-eu`. */
  regionLabel(residency: string): string {
    return `${this.providerName}-${residency}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const requestId = `req_${randomUUID().replace(/-/g, '')}`;
    response.on('error', () => undefined);
    const aborted = new AbortController();
    response.on('close', () => aborted.abort());
    const raw = await readBody(request);
    const apiKey = this.apiKeyOf(request) ?? '';
    let parsed: ParsedRequest | undefined;
    let body: unknown;
    try {
      if (request.method !== 'POST') throw new ProviderRefusal(404, this.errorTypeOf(404), `Unknown request URL: ${request.method} ${request.url}`);
      try {
        body = JSON.parse(raw || '{}');
      } catch {
        throw new ProviderRefusal(400, this.errorTypeOf(400), 'We could not parse the JSON body of your request.');
      }
      if (!this.apiKeys.includes(apiKey)) throw this.unauthorized(apiKey);
      parsed = this.parse((request.url ?? '').split('?')[0], request.headers, body);
      if (!this.options.models.includes(parsed.model)) throw this.unknownModel(parsed.model);
    } catch (error) {
      if (!(error instanceof ProviderRefusal)) throw error;
      this.record(parsed, error.status, apiKey, body);
      this.writeError(response, error, requestId);
      return;
    }
    const step = conversationStep(parsed.converse.messages ?? []);
    const fault = this.faults.take(
      (rule) =>
        (rule.model === undefined || rule.model === parsed.model) &&
        (rule.residency === undefined || rule.residency === parsed.residency) &&
        (rule.step === undefined || rule.step === step),
    )?.fault;
    const scripted = fault && 'status' in fault ? undefined : this.options.script?.take({ service: this.providerName, model: parsed.model });
    const status = fault && 'status' in fault ? fault.status : scripted?.kind === 'error' ? scripted.status : 200;
    this.record(parsed, status, apiKey, body, step, scripted !== undefined);
    if (fault && 'stallMs' in fault && fault.phase === 'headers' && !(await this.sleep(fault.stallMs, aborted.signal))) return;
    if (scripted?.kind === 'error') {
      this.writeError(response, new ProviderRefusal(scripted.status, this.errorTypeOf(scripted.status), scripted.message), requestId);
      return;
    }
    if (fault && 'status' in fault) {
      this.writeError(
        response,
        new ProviderRefusal(fault.status, this.errorTypeOf(fault.status), fault.message ?? this.defaultMessage(fault.status)),
        requestId,
        fault.retryAfterSeconds,
      );
      return;
    }
    if (fault && 'garbage' in fault && fault.garbage === 'body') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    }
    const parts = this.partsOf(parsed, scripted);
    if (!parsed.stream) {
      if (fault && 'stallMs' in fault && fault.phase !== 'headers' && !(await this.sleep(fault.stallMs, aborted.signal))) return;
      response.writeHead(200, { 'content-type': 'application/json', [this.requestIdHeader]: requestId });
      response.end(JSON.stringify(this.completeBody(parsed, parts, requestId)));
      return;
    }
    await this.stream(response, parsed, parts, requestId, fault, aborted.signal);
  }

  private async stream(
    response: http.ServerResponse,
    parsed: ParsedRequest,
    parts: AnswerParts,
    requestId: string,
    fault: ProviderFault | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', [this.requestIdHeader]: requestId });
    response.flushHeaders();
    const stall = fault && 'stallMs' in fault && fault.phase !== 'headers' ? fault.stallMs : 0;
    if (!(await this.sleep((this.options.firstTokenDelayMs ?? 0) + stall, signal))) return;
    if (fault && 'garbage' in fault) {
      response.end('data: {"choices": [ {"delta": oops\n\n');
      return;
    }
    const { frames, tail } = this.streamFrames(parsed, parts, requestId);
    const tokenDelay = fault && 'tokenDelayMs' in fault ? fault.tokenDelayMs : this.tokenDelayMs;
    const failAfter = fault && 'failAfterTokens' in fault ? fault.failAfterTokens : undefined;
    const endAfter = fault && 'endAfterTokens' in fault ? fault.endAfterTokens : undefined;
    let deltas = 0;
    for (const frame of frames) {
      if (frame.isDelta) {
        if (failAfter === deltas) {
          response.end(this.streamError(requestId));
          return;
        }
        if (endAfter === deltas) {
          response.end();
          return;
        }
        if (deltas > 0 && !(await this.sleep(tokenDelay, signal))) return;
        deltas++;
      }
      response.write(frame.text);
    }
    response.end(tail.map((frame) => frame.text).join(''));
  }

  private partsOf(parsed: ParsedRequest, scripted: ScriptedReply | undefined): AnswerParts {
    const reply = scripted?.kind === 'answer' ? scripted.answer : answer(parsed.model, this.regionLabel(parsed.residency), parsed.converse);
    const blocks: AnswerParts['blocks'] = reply.blocks.flatMap((block): AnswerParts['blocks'] => {
      if (block.kind === 'text') return [{ kind: 'text', deltas: deltasOf(block.text) }];
      if (block.kind === 'toolUse') {
        const id = block.toolUseId.replace(/^tooluse_/, '');
        return [{ kind: 'toolUse', id, name: block.name, fragments: fragmentsOf(JSON.stringify(block.input)), input: block.input }];
      }
      return [];
    });
    const outputTokens = blocks.reduce((sum, block) => sum + (block.kind === 'text' ? block.deltas.length : block.fragments.length), 0);
    return { answer: reply, blocks, inputTokens: Math.max(1, Math.ceil(JSON.stringify(parsed.converse.messages ?? []).length / 4)), outputTokens };
  }

  private writeError(response: http.ServerResponse, refusal: ProviderRefusal, requestId: string, retryAfterSeconds?: number): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', [this.requestIdHeader]: requestId };
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    response.writeHead(refusal.status, headers);
    response.end(this.errorBody(refusal, requestId));
  }

  protected abstract unauthorized(apiKey: string): ProviderRefusal;
  protected abstract unknownModel(model: string): ProviderRefusal;
  protected abstract defaultMessage(status: number): string;

  private record(parsed: ParsedRequest | undefined, status: number, apiKey: string, request: unknown, step = 1, scripted = false): void {
    // A refusal before the request was read (a wrong key) still records the model it asked for.
    const asked = (request as { model?: unknown } | undefined)?.model;
    this.recorded.push({
      model: parsed?.model ?? (typeof asked === 'string' ? asked : ''),
      residency: parsed?.residency ?? '',
      status,
      stream: parsed?.stream ?? false,
      step,
      apiKey,
      scripted,
      at: Date.now(),
      request,
    });
  }

  private sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(!this.closed);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** A tool result's text as the emulated model reads it: JSON when it parses (the providers carry results as text). */
export function resultContent(text: string): Array<{ json?: unknown; text?: string }> {
  try {
    return [{ json: JSON.parse(text) }];
  } catch {
    return [{ text }];
  }
}
