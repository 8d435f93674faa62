/**
 * A Bedrock Runtime emulator: Converse and ConverseStream on loopback, one
 * port per emulated region, speaking the wire protocol the real
 * @aws-sdk/client-bedrock-runtime expects (restJson1 errors with
 * `x-amzn-errortype`, AWS event-stream framing for streams). Each port serves
 * HTTP/2 cleartext (the SDK's NodeHttp2Handler) and HTTP/1.1 (fetch, curl),
 * told apart by the HTTP/2 connection preface.
 *
 * Answers are deterministic (a function of model, region and conversation,
 * see bedrock-model.ts, tool use included) so callers can assert who
 * answered; faults are injected per region, model and tool-loop step.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import { FaultRules } from './fault-rules';
import { listen } from './listen';
import { answer, answerText, conversationStep, type ConverseRequest, type ToolOutcome } from './bedrock-model';
import { contentBlockOf, event, exception, framesOf, type Frame } from './bedrock-framing';
import { validateConverseRequest } from './bedrock-validation';
import type { Datum } from './cloudwatch/metric-store';
import type { ModelScript } from './model-script';

export { LOOP_FOREVER, type ToolOutcome } from './bedrock-model';

/** A fault of an emulated Bedrock endpoint: an error status, a stall, slow tokens, or a stream that breaks or ends early after some tokens. */
export type EmulatorFault =
  | { status: number; errorType?: string; message?: string }
  /** Accept the request, then say nothing for stallMs: before the response headers, or (default) after them, before the first event. */
  | { stallMs: number; phase?: 'headers' | 'first-token' }
  | { tokenDelayMs: number }
  /** Stream K content deltas (text, tool input or reasoning), then an exception event (default modelStreamErrorException). */
  | { failAfterTokens: number; exceptionType?: string }
  /** Stream K content deltas, then end the stream cleanly without the stop event (a connection closed mid-answer). */
  | { endAfterTokens: number };

export interface FaultRule {
  region: string;
  /** Exact model id as received; all models when omitted. */
  model?: string;
  /** Only calls of this step of a tool loop (1: the call that answers the user's text; n: after n - 1 rounds of tool results); every step when omitted. */
  step?: number;
  fault: EmulatorFault;
  /** Applies to the next N matching calls only; permanent until cleared when omitted. */
  times?: number;
  /** Applies to this fraction of the matching calls, drawn per call (e.g. 0.1 for a heavy tail); every call when omitted. */
  probability?: number;
  /** Applies to exactly one of each run of this many matching calls, at a random place in the run (10: an exact tenth); not with `probability`. */
  every?: number;
}

export interface RecordedCall {
  region: string;
  modelId: string;
  operation: 'Converse' | 'ConverseStream';
  status: number;
  at: number;
  transport: 'h2' | 'http1';
  messages: number;
  /** The call's step in its tool loop: 1 + the user messages after the last one asking in text. */
  step: number;
  /** Whether an injected fault applied to the call. */
  faulted: boolean;
  /** Whether a scripted turn answered the call. */
  scripted: boolean;
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
  /**
   * Receives the data points Bedrock publishes to CloudWatch (AWS/Bedrock,
   * per ModelId as called, in the endpoint's region): Invocations (accepted
   * calls, later failures included), InvocationThrottles,
   * InvocationClientErrors, InvocationServerErrors, TimeToFirstToken
   * (streams), InvocationLatency, InputTokenCount and OutputTokenCount.
   * @default - none published
   */
  publishMetric?: (datum: Datum) => void;
  /**
   * Scripted turns, answered before the default answers: a call takes the
   * next turn scoped to it, unless an injected fault or a validation error
   * refuses it first.
   * @default - default answers only
   */
  script?: ModelScript;
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

interface RegionServer {
  region: string;
  listener: net.Server;
  sockets: Set<net.Socket>;
  endpoint: string;
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
  private readonly faults = new FaultRules<FaultRule>();
  private recorded: RecordedCall[] = [];
  private firstTokenDelayMs: number;
  private tokenDelayMs: number;
  private closed = false;
  private readonly publishMetric?: (datum: Datum) => void;
  private readonly script?: ModelScript;

  private constructor(options: BedrockEmulatorOptions) {
    if (options.regions.length === 0) throw new Error('BedrockEmulator needs at least one region');
    this.firstTokenDelayMs = options.firstTokenDelayMs ?? 0;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.publishMetric = options.publishMetric;
    this.script = options.script;
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
    if (rule.step !== undefined && (!Number.isInteger(rule.step) || rule.step < 1)) {
      throw new Error(`fault step must be a positive integer, got ${rule.step}`);
    }
    if (rule.probability !== undefined && !(rule.probability > 0 && rule.probability <= 1)) {
      throw new Error(`fault probability must be above 0 and at most 1, got ${rule.probability}`);
    }
    if (rule.probability !== undefined && rule.every !== undefined) throw new Error('fault probability and every exclude each other: give one');
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
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

  /** The text every healthy call for this model, region and question answers (when it calls no tool). */
  expectedAnswer(modelId: string, region: string, userText: string): string {
    return answerText(modelId, region, userText);
  }

  /** The final text of a tool loop for this question, quoting the outcomes of every tool round in order. */
  expectedToolAnswer(modelId: string, region: string, userText: string, outcomes: readonly ToolOutcome[]): string {
    return answerText(modelId, region, userText, outcomes);
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
    const receivedAt = Date.now();
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

    let body: ConverseRequest;
    let rawBody: unknown;
    try {
      rawBody = JSON.parse((await readBody(request)).toString('utf8') || '{}');
      body = rawBody as ConverseRequest;
    } catch {
      rawBody = undefined;
      body = {};
    }
    const step = Array.isArray(body.messages) ? conversationStep(body.messages) : 1;
    const fault = this.takeFault(region, modelId, step);
    const refusal = rawBody === undefined ? 'Malformed JSON body' : validateConverseRequest(body, modelId);
    const refused =
      fault && 'status' in fault
        ? new RequestError(fault.status, fault.errorType ?? ERROR_TYPE_BY_STATUS[fault.status], fault.message ?? `Emulated ${fault.status} from ${region}`)
        : refusal !== undefined
          ? new RequestError(400, 'ValidationException', refusal)
          : undefined;
    const scripted = refused ? undefined : this.script?.take({ service: 'bedrock', region, model: modelId });
    const failure =
      refused ?? (scripted?.kind === 'error' ? new RequestError(scripted.status, ERROR_TYPE_BY_STATUS[scripted.status], scripted.message) : undefined);
    this.recorded.push({
      region,
      modelId,
      operation,
      status: failure?.status ?? 200,
      at: Date.now(),
      transport,
      messages: body.messages?.length ?? 0,
      step,
      faulted: fault !== undefined,
      scripted: scripted !== undefined,
      request: rawBody,
    });

    if (fault && 'stallMs' in fault && fault.phase === 'headers') {
      if (!(await this.sleep(fault.stallMs, aborted.signal))) return;
    }
    const metric: MetricOf = (metricName, value = 1) =>
      this.publishMetric?.({ region, namespace: 'AWS/Bedrock', metricName, dimensions: { ModelId: modelId }, value });
    // Throttled calls and calls refused before processing count as neither invocations nor errors of the model.
    if (failure?.status === 429) metric('InvocationThrottles');
    else if (failure && failure.status < 500) metric('InvocationClientErrors');
    else metric('Invocations');
    if (failure && failure.status >= 500) metric('InvocationServerErrors');
    if (failure) {
      writeError(response, requestId, failure);
      return;
    }
    const reply = scripted?.kind === 'answer' ? scripted.answer : answer(modelId, region, body);
    const frames = framesOf(reply.blocks);
    const inputTokens = countInputTokens(body);
    const usage = { inputTokens, outputTokens: frames.outputTokens, totalTokens: inputTokens + frames.outputTokens };
    const started = Date.now();
    const completed = () => {
      metric('InvocationLatency', Date.now() - receivedAt);
      metric('InputTokenCount', usage.inputTokens);
      metric('OutputTokenCount', usage.outputTokens);
    };
    if (operation === 'Converse') {
      if (fault && 'stallMs' in fault && fault.phase !== 'headers' && !(await this.sleep(fault.stallMs, aborted.signal))) return;
      if (!(await this.sleep(this.firstTokenDelayMs, aborted.signal))) return;
      const payload = JSON.stringify({
        output: { message: { role: 'assistant', content: reply.blocks.map(contentBlockOf) } },
        stopReason: reply.stopReason,
        usage,
        metrics: { latencyMs: Date.now() - started },
      });
      response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      response.end(payload);
      completed();
      return;
    }
    const outcome = await this.stream(response, requestId, frames.frames, reply.stopReason, usage, started, fault, aborted.signal, () =>
      metric('TimeToFirstToken', Date.now() - receivedAt),
    );
    if (outcome === 'completed') completed();
    else if (outcome === 'failed') metric('InvocationServerErrors');
  }

  private async stream(
    response: http.ServerResponse,
    requestId: string,
    frames: Frame[],
    stopReason: string,
    usage: { inputTokens: number; outputTokens: number; totalTokens: number },
    started: number,
    fault: EmulatorFault | undefined,
    signal: AbortSignal,
    onFirstToken: () => void,
  ): Promise<'completed' | 'failed' | 'abandoned'> {
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
    response.flushHeaders();
    const stall = fault && 'stallMs' in fault && fault.phase !== 'headers' ? fault.stallMs : 0;
    if (!(await this.sleep(this.firstTokenDelayMs + stall, signal))) return 'abandoned';
    const tokenDelay = fault && 'tokenDelayMs' in fault ? fault.tokenDelayMs : this.tokenDelayMs;
    const failAfter = fault && 'failAfterTokens' in fault ? fault.failAfterTokens : undefined;
    const endAfter = fault && 'endAfterTokens' in fault ? fault.endAfterTokens : undefined;

    response.write(event('messageStart', { role: 'assistant' }));
    let deltas = 0;
    for (const frame of frames) {
      if (frame.isDelta) {
        if (failAfter !== undefined && deltas === failAfter) {
          const exceptionType = (fault as { exceptionType?: string }).exceptionType ?? 'modelStreamErrorException';
          response.end(exception(exceptionType, { message: `Emulated ${exceptionType} after ${failAfter} tokens` }));
          return 'failed';
        }
        if (endAfter !== undefined && deltas === endAfter) {
          response.end();
          return 'failed';
        }
        if (deltas > 0 && !(await this.sleep(tokenDelay, signal))) return 'abandoned';
        if (deltas === 0) onFirstToken();
        deltas++;
      }
      response.write(frame.bytes);
    }
    response.write(event('messageStop', { stopReason }));
    response.end(event('metadata', { usage, metrics: { latencyMs: Date.now() - started } }));
    return 'completed';
  }

  private takeFault(region: string, modelId: string, step: number): EmulatorFault | undefined {
    return this.faults.take(
      (rule) =>
        rule.region === region &&
        (rule.model === undefined || rule.model === modelId) &&
        (rule.step === undefined || rule.step === step) &&
        (rule.probability === undefined || Math.random() < rule.probability),
    )?.fault;
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

/** Words in the request, a stand-in for its input tokens. */
function countInputTokens(body: ConverseRequest): number {
  const texts = [
    ...(body.system ?? []).map((block) => block.text ?? ''),
    ...(body.messages ?? []).flatMap((message) =>
      (message.content ?? []).map((block) => {
        if (block.toolUse) return JSON.stringify(block.toolUse.input ?? {});
        if (block.toolResult) return JSON.stringify(block.toolResult.content ?? []);
        return block.text ?? block.reasoningContent?.reasoningText?.text ?? '';
      }),
    ),
  ];
  return texts.reduce((sum, text) => sum + text.split(/\s+/).filter(Boolean).length, 0);
}

/** Publishes one AWS/Bedrock data point of the call (1 unless said). */
type MetricOf = (metricName: string, value?: number) => void;

function writeError(response: http.ServerResponse, requestId: string, error: RequestError): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': requestId };
  if (error.errorType) headers['x-amzn-errortype'] = error.errorType;
  response.writeHead(error.status, headers);
  response.end(JSON.stringify({ message: error.message }));
}
