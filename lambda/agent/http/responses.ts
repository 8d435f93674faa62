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

export function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Remembers whether the status line has gone out, ends once, and sends no
 * body for HEAD (same status and headers as GET, RFC 9110).
 */
export class TrackedSink implements ResponseSink {
  started = false;
  /** How a failure after the status line goes into the stream: the writer that started it sets its own format. */
  streamFailure: (failure: { code: string; message: string; retryable: boolean }) => string = (failure) => sse('error', failure);
  private ended = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly headOnly: boolean,
  ) {}

  start(status: number, headers: Record<string, string>): void {
    this.started = true;
    this.sink.start(status, headers);
  }

  write(chunk: string): void {
    if (!this.ended && !this.headOnly) this.sink.write(chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.end();
  }

  /** An answer without a body (204), with the headers every answer carries. */
  empty(request: AgentHttpRequest, runtimeRegion: string, status: number): void {
    this.start(status, { [AgentHeader.requestId]: request.requestId, [AgentHeader.runtimeRegion]: runtimeRegion });
    this.end();
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
