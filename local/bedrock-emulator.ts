/**
 * A Bedrock Runtime emulator: Converse and ConverseStream on loopback, one
 * port per emulated region, speaking the wire protocol the real
 * @aws-sdk/client-bedrock-runtime expects (restJson1 errors with
 * `x-amzn-errortype`, AWS event-stream framing for streams). Each port serves
 * HTTP/2 cleartext (the SDK's NodeHttp2Handler) and HTTP/1.1 (fetch, curl),
 * told apart by the HTTP/2 connection preface.
 *
 * Answers are deterministic (a function of model, region and question) so
 * callers can assert who answered; faults are injected per region and model.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { listen } from './listen';

export type EmulatorFault =
  | { status: number; errorType?: string; message?: string }
  /** Accept the request, then say nothing for stallMs: before the response headers, or (default) after them, before the first event. */
  | { stallMs: number; phase?: 'headers' | 'first-token' }
  | { tokenDelayMs: number }
  /** Stream K text deltas, then an exception event (default modelStreamErrorException). */
  | { failAfterTokens: number; exceptionType?: string }
  /** Stream K text deltas, then end the stream cleanly without the stop event (a connection closed mid-answer). */
  | { endAfterTokens: number };

export interface FaultRule {
  region: string;
  /** Exact model id as received; all models when omitted. */
  model?: string;
  fault: EmulatorFault;
  /** Applies to the next N matching calls only; permanent until cleared when omitted. */
  times?: number;
}

export interface RecordedCall {
  region: string;
  modelId: string;
  operation: 'Converse' | 'ConverseStream';
  status: number;
  at: number;
  transport: 'h2' | 'http1';
  messages: number;
  request: unknown;
}

export interface BedrockEmulatorOptions {
  regions: string[];
  /** @default 127.0.0.1 */
  host?: string;
  /** Fixed ports per region; ephemeral when omitted. */
  ports?: Record<string, number>;
  /** Delay between the response headers and the first event. @default 0 */
  firstTokenDelayMs?: number;
  /** Delay between two text deltas. @default 0 */
  tokenDelayMs?: number;
}

/** Bedrock's modeled error type for each HTTP status; 504 (a gateway timeout) has none. */
const ERROR_TYPE_BY_STATUS: Record<number, string | undefined> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
  504: undefined,
};

const PREFACE_START = 'PRI * HTTP/2.0';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

interface RegionServer {
  region: string;
  listener: net.Server;
  sockets: Set<net.Socket>;
  endpoint: string;
}

interface ConverseBody {
  messages?: Array<{ role?: string; content?: Array<{ text?: string }> }>;
  system?: Array<{ text?: string }>;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class BedrockEmulator {
  static async start(options: BedrockEmulatorOptions): Promise<BedrockEmulator> {
    const emulator = new BedrockEmulator(options);
    await Promise.all(options.regions.map((region) => emulator.listen(region, options.host ?? '127.0.0.1', options.ports?.[region] ?? 0)));
    return emulator;
  }

  private readonly servers = new Map<string, RegionServer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private faults: FaultRule[] = [];
  private recorded: RecordedCall[] = [];
  private firstTokenDelayMs: number;
  private tokenDelayMs: number;
  private closed = false;

  private constructor(options: BedrockEmulatorOptions) {
    if (options.regions.length === 0) throw new Error('BedrockEmulator needs at least one region');
    this.firstTokenDelayMs = options.firstTokenDelayMs ?? 0;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
  }

  /** Region name → base URL of its emulated Bedrock Runtime endpoint. */
  get endpoints(): Record<string, string> {
    return Object.fromEntries([...this.servers.values()].map((server) => [server.region, server.endpoint]));
  }

  endpoint(region: string): string {
    const server = this.servers.get(region);
    if (!server) throw new Error(`BedrockEmulator has no region ${region}; it emulates ${[...this.servers.keys()].join(', ')}`);
    return server.endpoint;
  }

  injectFault(rule: FaultRule): void {
    this.endpoint(rule.region);
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
      throw new Error(`fault times must be a positive integer, got ${rule.times}`);
    }
    this.faults.push({ ...rule });
  }

  clearFaults(): void {
    this.faults = [];
  }

  calls(filter: { region?: string; modelId?: string } = {}): RecordedCall[] {
    return this.recorded.filter(
      (call) => (filter.region === undefined || call.region === filter.region) && (filter.modelId === undefined || call.modelId === filter.modelId),
    );
  }

  clearCalls(): void {
    this.recorded = [];
  }

  setLatency(options: { firstTokenDelayMs?: number; tokenDelayMs?: number }): void {
    this.firstTokenDelayMs = options.firstTokenDelayMs ?? this.firstTokenDelayMs;
    this.tokenDelayMs = options.tokenDelayMs ?? this.tokenDelayMs;
  }

  /** The text every healthy call for this model, region and question answers. */
  expectedAnswer(modelId: string, region: string, userText: string): string {
    return this.answerTokens(modelId, region, userText).join('');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(
      [...this.servers.values()].map(
        (server) =>
          new Promise<void>((resolve) => {
            for (const socket of server.sockets) socket.destroy();
            server.listener.close(() => resolve());
          }),
      ),
    );
    this.servers.clear();
  }

  private answerTokens(modelId: string, region: string, userText: string): string[] {
    const question = userText.trim().split(/\s+/).filter(Boolean).slice(0, 8).join(' ');
    const words = `Answer from ${modelId} in ${region} to: ${question}`.split(' ');
    return words.map((word, index) => (index === words.length - 1 ? word : `${word} `));
  }

  private async listen(region: string, host: string, port: number): Promise<void> {
    const handler =
      (transport: 'h2' | 'http1') => (request: http.IncomingMessage | http2.Http2ServerRequest, response: http.ServerResponse | http2.Http2ServerResponse) =>
        void this.handle(region, transport, request, response as unknown as http.ServerResponse);
    const h1 = http.createServer(handler('http1'));
    const h2 = http2.createServer(handler('h2'));
    // A session error (a client resetting mid-stream) must not take the emulator down.
    h2.on('sessionError', () => undefined);
    const sockets = new Set<net.Socket>();
    // Like a real endpoint, answer small frames at once rather than wait for Nagle's algorithm.
    const listener = net.createServer({ noDelay: true }, (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        const isHttp2 = chunk.subarray(0, PREFACE_START.length).toString('latin1') === PREFACE_START.slice(0, Math.min(chunk.length, PREFACE_START.length));
        if (isHttp2) {
          // node:http2 reads a net.Socket through its native handle, which would skip
          // the bytes already read here; a JS duplex in front replays them.
          h2.emit('connection', replayingDuplex(socket, chunk));
        } else {
          socket.unshift(chunk);
          h1.emit('connection', socket);
          socket.resume();
        }
      });
    });
    this.servers.set(region, { region, listener, sockets, endpoint: await listen(listener, port, host) });
  }

  private async handle(
    region: string,
    transport: 'h2' | 'http1',
    request: http.IncomingMessage | http2.Http2ServerRequest,
    response: http.ServerResponse,
  ): Promise<void> {
    const requestId = randomUUID();
    response.on('error', () => undefined);
    const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec((request.url ?? '').split('?')[0]);
    if (request.method !== 'POST' || !match) {
      writeError(response, requestId, new RequestError(404, 'UnknownOperationException', `No route for ${request.method} ${request.url}`));
      return;
    }
    const modelId = decodeURIComponent(match[1]);
    const operation = match[2] === 'converse' ? 'Converse' : 'ConverseStream';
    const aborted = new AbortController();
    response.on('close', () => aborted.abort());

    let body: ConverseBody;
    let rawBody: unknown;
    try {
      rawBody = JSON.parse((await readBody(request)).toString('utf8') || '{}');
      body = rawBody as ConverseBody;
    } catch {
      rawBody = undefined;
      body = {};
    }
    const fault = this.takeFault(region, modelId);
    const validationError = rawBody === undefined ? new RequestError(400, 'ValidationException', 'Malformed JSON body') : validate(body);
    const failure =
      fault && 'status' in fault
        ? new RequestError(fault.status, fault.errorType ?? ERROR_TYPE_BY_STATUS[fault.status], fault.message ?? `Emulated ${fault.status} from ${region}`)
        : validationError;
    this.recorded.push({
      region,
      modelId,
      operation,
      status: failure?.status ?? 200,
      at: Date.now(),
      transport,
      messages: body.messages?.length ?? 0,
      request: rawBody,
    });

    if (fault && 'stallMs' in fault && fault.phase === 'headers') {
      if (!(await this.sleep(fault.stallMs, aborted.signal))) return;
    }
    if (failure) {
      writeError(response, requestId, failure);
      return;
    }
    const tokens = this.answerTokens(modelId, region, lastUserText(body));
    const usage = { inputTokens: countInputTokens(body), outputTokens: tokens.length, totalTokens: countInputTokens(body) + tokens.length };
    const started = Date.now();
    if (operation === 'Converse') {
      if (fault && 'stallMs' in fault && fault.phase !== 'headers' && !(await this.sleep(fault.stallMs, aborted.signal))) return;
      if (!(await this.sleep(this.firstTokenDelayMs, aborted.signal))) return;
      const payload = JSON.stringify({
        output: { message: { role: 'assistant', content: [{ text: tokens.join('') }] } },
        stopReason: 'end_turn',
        usage,
        metrics: { latencyMs: Date.now() - started },
      });
      response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      response.end(payload);
      return;
    }
    await this.stream(response, requestId, tokens, usage, started, fault, aborted.signal);
  }

  private async stream(
    response: http.ServerResponse,
    requestId: string,
    tokens: string[],
    usage: { inputTokens: number; outputTokens: number; totalTokens: number },
    started: number,
    fault: EmulatorFault | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
    response.flushHeaders();
    const stall = fault && 'stallMs' in fault && fault.phase !== 'headers' ? fault.stallMs : 0;
    if (!(await this.sleep(this.firstTokenDelayMs + stall, signal))) return;
    const tokenDelay = fault && 'tokenDelayMs' in fault ? fault.tokenDelayMs : this.tokenDelayMs;
    const failAfter = fault && 'failAfterTokens' in fault ? fault.failAfterTokens : undefined;
    const endAfter = fault && 'endAfterTokens' in fault ? fault.endAfterTokens : undefined;

    response.write(event('messageStart', { role: 'assistant' }));
    for (const [index, text] of tokens.entries()) {
      if (failAfter !== undefined && index === failAfter) {
        const exceptionType = (fault as { exceptionType?: string }).exceptionType ?? 'modelStreamErrorException';
        response.end(exception(exceptionType, { message: `Emulated ${exceptionType} after ${failAfter} tokens` }));
        return;
      }
      if (endAfter !== undefined && index === endAfter) {
        response.end();
        return;
      }
      if (index > 0 && !(await this.sleep(tokenDelay, signal))) return;
      response.write(event('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }));
    }
    response.write(event('contentBlockStop', { contentBlockIndex: 0 }));
    response.write(event('messageStop', { stopReason: 'end_turn' }));
    response.end(event('metadata', { usage, metrics: { latencyMs: Date.now() - started } }));
  }

  private takeFault(region: string, modelId: string): EmulatorFault | undefined {
    const rule = this.faults.find((candidate) => candidate.region === region && (candidate.model === undefined || candidate.model === modelId));
    if (!rule) return undefined;
    if (rule.times !== undefined && --rule.times === 0) this.faults.splice(this.faults.indexOf(rule), 1);
    return rule.fault;
  }

  /** Resolves true after ms, or false as soon as the client goes away or the emulator closes. */
  private sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted || this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(!this.closed);
      }, ms);
      this.timers.add(timer);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A duplex over `socket` whose readable side starts with `head`, the bytes already consumed. */
function replayingDuplex(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read: () => socket.resume(),
    write: (chunk, encoding, callback) => socket.write(chunk, encoding, callback),
    final: (callback) => socket.end(callback),
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

function readBody(request: http.IncomingMessage | http2.Http2ServerRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The checks Bedrock applies to a Converse request that a runtime is most likely to get wrong. */
function validate(body: ConverseBody): RequestError | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return new RequestError(400, 'ValidationException', 'messages must contain at least one message');
  }
  if (messages[0].role !== 'user') {
    return new RequestError(400, 'ValidationException', 'A conversation must start with a user message.');
  }
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index];
    if (index > 0 && message.role === messages[index - 1].role) {
      return new RequestError(400, 'ValidationException', 'A conversation must alternate between user and assistant roles.');
    }
    if (
      !Array.isArray(message.content) ||
      message.content.length === 0 ||
      message.content.some((block) => typeof block.text === 'string' && block.text.trim() === '')
    ) {
      return new RequestError(400, 'ValidationException', `messages.${index}.content: The text field in the ContentBlock object is blank.`);
    }
  }
  if (messages[messages.length - 1].role !== 'user') {
    return new RequestError(400, 'ValidationException', 'A conversation must end with a user message.');
  }
  return undefined;
}

function lastUserText(body: ConverseBody): string {
  const last = body.messages?.[body.messages.length - 1];
  return (last?.content ?? []).map((block) => block.text ?? '').join(' ');
}

function countInputTokens(body: ConverseBody): number {
  const texts = [...(body.system ?? []), ...(body.messages ?? []).flatMap((message) => message.content ?? [])].map((block) => block.text ?? '');
  return texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
}

function event(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function exception(exceptionType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function writeError(response: http.ServerResponse, requestId: string, error: RequestError): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': requestId };
  if (error.errorType) headers['x-amzn-errortype'] = error.errorType;
  response.writeHead(error.status, headers);
  response.end(JSON.stringify({ message: error.message }));
}
