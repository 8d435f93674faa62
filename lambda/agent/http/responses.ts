/**
 * Writing answers: the headers every answer carries, JSON bodies, SSE
 * events, and a sink that remembers whether the status line went out.
 */
import type { ChainTarget, Tier } from '../config';
import type { AgentHttpRequest, ResponseSink } from './types';

/** Header names of the public contract. */
export const AgentHeader = {
  path: 'x-agent-path',
  model: 'x-agent-model',
  region: 'x-agent-region',
  degraded: 'x-agent-degraded',
  requestId: 'x-request-id',
  /** `degraded` when the home region's state could not be read or written for this request. */
  state: 'x-agent-state',
  /** The region whose runtime handled the request (the model may have answered from another). */
  runtimeRegion: 'x-agent-runtime-region',
  /** Who processed the answer: `bedrock`, or an outside provider with its residency (`openai:eu`). */
  provider: 'x-agent-provider',
  /** `true` on the stored answer of a retried request (same Idempotency-Key). */
  replayed: 'idempotent-replayed',
} as const;

/** The target that served (or is serving) an answer, as the API describes it. */
export interface ServedBy {
  path: Tier;
  model: string;
  region: string;
  degraded: boolean;
  provider: string;
}

/** Tiers whose answers come from another model than the primary: flagged degraded, never silent. */
const DEGRADED_TIERS: readonly Tier[] = ['model-fallback', 'provider-fallback'];

/** `bedrock`, or an outside provider and its residency (`openai:eu`): what `x-agent-provider` says and turns store. */
export function providerLabel(provider: ChainTarget['provider'] | string | undefined): string {
  if (typeof provider === 'string') return provider;
  return provider ? `${provider.name}:${provider.residency}` : 'bedrock';
}

/** `target.provider`: a chain target's, or the label a stored turn kept. */
export function servedBy(target: Pick<ChainTarget, 'tier' | 'modelId' | 'region'> & { provider?: ChainTarget['provider'] | string }): ServedBy {
  return {
    path: target.tier,
    model: target.modelId,
    region: target.region,
    degraded: DEGRADED_TIERS.includes(target.tier),
    provider: providerLabel(target.provider),
  };
}

/** Headers naming what answered, sent with the first model output. */
export function answerHeaders(request: AgentHttpRequest, runtimeRegion: string, target: ServedBy, stateDegraded: boolean): Record<string, string> {
  return {
    [AgentHeader.requestId]: request.requestId,
    [AgentHeader.runtimeRegion]: runtimeRegion,
    [AgentHeader.path]: target.path,
    [AgentHeader.model]: target.model,
    [AgentHeader.region]: target.region,
    [AgentHeader.degraded]: String(target.degraded),
    [AgentHeader.provider]: target.provider,
    [AgentHeader.state]: stateDegraded ? 'degraded' : 'ok',
  };
}

function isEventStream(headers: Record<string, string>): boolean {
  const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return type !== undefined && type.toLowerCase().startsWith('text/event-stream');
}

export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** What an event stream sends when it has had nothing to say for a while: a comment, which SSE parsers skip. */
export const SSE_KEEP_ALIVE = ': ping\n\n';

export interface TrackedSinkOptions {
  /** An event stream silent for this long gets a keep-alive comment; without it, none is sent. */
  keepAliveMs?: number;
  /** Aborted when the client goes away: no keep-alive is sent after that. */
  signal?: AbortSignal;
}

/**
 * Remembers whether the status line has gone out, ends once, and sends no
 * body for HEAD (same status and headers as GET, RFC 9110). An event stream
 * (any rendering served as `text/event-stream`) is kept alive: after
 * `keepAliveMs` with nothing written, a comment goes out, until the end or
 * until the client leaves.
 */
export class TrackedSink implements ResponseSink {
  started = false;
  /** How a failure after the status line goes into the stream: the writer that started it sets its own format. */
  streamFailure: (failure: { code: string; message: string; retryable: boolean }) => string = (failure) => sse('error', failure);
  private ended = false;
  private keepAlive?: NodeJS.Timeout;
  private readonly stopKeepAlive = () => clearTimeout(this.keepAlive);

  constructor(
    private readonly sink: ResponseSink,
    private readonly headOnly: boolean,
    private readonly options: TrackedSinkOptions = {},
  ) {}

  start(status: number, headers: Record<string, string>): void {
    this.started = true;
    this.sink.start(status, headers);
    if (isEventStream(headers)) this.startKeepAlive();
  }

  write(chunk: string): void {
    if (this.ended || this.headOnly) return;
    this.sink.write(chunk);
    // Anything written is a sign of life: the next keep-alive is due a whole interval from now.
    this.keepAlive?.refresh();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopKeepAlive();
    this.options.signal?.removeEventListener('abort', this.stopKeepAlive);
    this.sink.end();
  }

  /** An answer without a body (204), with the headers every answer carries. */
  empty(request: AgentHttpRequest, runtimeRegion: string, status: number): void {
    this.start(status, { [AgentHeader.requestId]: request.requestId, [AgentHeader.runtimeRegion]: runtimeRegion });
    this.end();
  }

  private startKeepAlive(): void {
    const { keepAliveMs, signal } = this.options;
    if (keepAliveMs === undefined || this.headOnly || signal?.aborted) return;
    // write() re-arms the timer (refresh), so a comment goes out after each silent interval, and only then.
    this.keepAlive = setTimeout(() => this.write(SSE_KEEP_ALIVE), keepAliveMs);
    // The timer alone must not keep a process (a test, a local server shutting down) alive.
    this.keepAlive.unref();
    signal?.addEventListener('abort', this.stopKeepAlive, { once: true });
  }

  /** One JSON answer, with the headers every answer carries. */
  json(request: AgentHttpRequest, runtimeRegion: string, status: number, body: string, headers: Record<string, string> = {}): void {
    this.start(status, {
      ...headers,
      'content-type': 'application/json',
      [AgentHeader.requestId]: request.requestId,
      [AgentHeader.runtimeRegion]: runtimeRegion,
    });
    this.write(body);
    this.end();
  }
}
