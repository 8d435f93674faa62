/**
 * The agent's HTTP API (see DESIGN.md): routing, validation, the message
 * flow and the response formats (SSE or one JSON body). Transport-free: it
 * reads an AgentHttpRequest and writes to a ResponseSink.
 *
 * Message flow: validate → read the conversation's recent turns from the
 * home region (one strongly consistent query) → run the fallback chain while
 * claiming the exchange number (which also creates the conversation and
 * checks ownership atomically) → at the first token send the headers naming
 * the target that answered → stream → store both turns → `done`.
 * Turns are written only once a model has produced a first token, and a
 * request that ends without an answer gives its claim back, so a request
 * that fails or is refused stores no turn.
 */
import type { ChainTarget, RuntimeConfig, Tier } from '../config';
import type { FallbackChain } from '../chain/fallback-chain';
import type { Attempt, ChainOutcome, ChatMessage, Clock } from '../chain/types';
import { ConversationClaimedError, StateUnavailableError, type ConversationRecord, type ConversationStore, type StoredTurn } from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { HttpError } from './http-error';
import { CONVERSATION_ID_PATTERN, messageBodySchema } from './request-schema';
import type { AgentHttpRequest, ResponseSink } from './types';

export interface AgentAppProps {
  config: RuntimeConfig;
  store: ConversationStore;
  chain: FallbackChain;
  telemetry: Telemetry;
  clock: Clock;
}

const MESSAGES_ROUTE = /^\/v1\/conversations\/([^/]+)\/messages$/;
const CONVERSATION_ROUTE = /^\/v1\/conversations\/([^/]+)$/;

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
} as const;

export class AgentApp {
  constructor(private readonly props: AgentAppProps) {}

  async handle(request: AgentHttpRequest, sink: ResponseSink): Promise<void> {
    const response = new TrackedSink(sink);
    try {
      await this.route(request, response);
    } catch (error) {
      const httpError = error instanceof HttpError ? error : new HttpError(500, 'internal_error', 'the agent failed unexpectedly');
      if (!(error instanceof HttpError)) this.props.telemetry.logger.error('unhandled error', { requestId: request.requestId, error: (error as Error).stack });
      if (response.started) {
        response.write(sse('error', { code: httpError.code, message: httpError.message, retryable: httpError.status >= 500 }));
        response.end();
      } else {
        this.sendJson(response, request, httpError.status, httpError.body(), httpError.headers);
      }
    }
  }

  private async route(request: AgentHttpRequest, sink: TrackedSink): Promise<void> {
    if (request.path === '/health') {
      requireMethod(request, 'GET');
      this.sendJson(sink, request, 200, JSON.stringify({ status: 'ok', region: this.props.config.region, jurisdiction: this.props.config.jurisdiction.name }));
      return;
    }
    const messages = MESSAGES_ROUTE.exec(request.path);
    if (messages) {
      requireMethod(request, 'POST');
      await this.postMessage(request, sink, this.conversationIdOf(messages[1]));
      return;
    }
    const conversation = CONVERSATION_ROUTE.exec(request.path);
    if (conversation) {
      requireMethod(request, 'GET');
      await this.getConversation(request, sink, this.conversationIdOf(conversation[1]));
      return;
    }
    throw new HttpError(404, 'not_found', `no route for ${request.method} ${request.path}`);
  }

  private async postMessage(request: AgentHttpRequest, sink: TrackedSink, conversationId: string): Promise<void> {
    const { config, store, chain, telemetry, clock } = this.props;
    const principal = requirePrincipal(request);
    const text = this.parseMessage(request);
    const wantsJson = prefersJson(request.headers.accept);
    const started = clock.now();
    // Read now: the deadlines count from here, so the state read below cannot push them past the Lambda's timeout.
    const remainingMs = request.remainingTimeMs() - config.deadlines.reserveMs;

    let stateDegraded = false;
    let history: ChatMessage[] = [];
    try {
      const recent = await store.loadRecent(conversationId, config.table.historyTurns);
      if (recent.record) this.checkAccess(recent.record, principal, conversationId);
      history = completeExchanges(recent.turns);
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      stateDegraded = true;
      telemetry.stateUnavailable(error);
    }

    // The exchange number is claimed while the model works on its first token, so the write costs
    // no time to first token. The claim also checks ownership atomically; a request that ends
    // without an answer gives its claim back.
    const cancel = new AbortController();
    request.signal?.addEventListener('abort', () => cancel.abort(), { once: true });
    let refusal: HttpError | undefined;
    // setImmediate: let the first model request go out before the claim's own serialization and signing.
    // When the read just failed, the answer is degraded anyway: do not wait on the same table a second time.
    const claim: Promise<number | undefined> = stateDegraded
      ? Promise.resolve(undefined)
      : new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => store.claimExchange(conversationId, principal, config.jurisdiction.name))
          .catch((error: unknown) => {
            if (error instanceof ConversationClaimedError) {
              refusal = this.accessError(error.record, principal, conversationId);
              cancel.abort();
            } else {
              stateDegraded = true;
              telemetry.stateUnavailable(error);
            }
            return undefined;
          });

    let exchange: number | undefined;
    let userTurnStored: Promise<boolean> = Promise.resolve(false);
    const outcome = await chain.run(
      {
        messages: [...history, { role: 'user', text }],
        system: config.inference.systemPrompt,
        maxTokens: config.inference.maxTokens,
        temperature: config.inference.temperature,
      },
      {
        firstTokenBy: started + Math.min(config.deadlines.totalBudgetMs, remainingMs),
        hardDeadline: started + remainingMs,
        signal: cancel.signal,
        onFirstToken: async (target) => {
          exchange = await claim;
          if (refusal) throw refusal;
          if (exchange !== undefined) {
            userTurnStored = this.store(conversationId, {
              exchange,
              role: 'user',
              text,
              time: isoTime(clock),
              region: config.region,
              requestId: request.requestId,
            });
          }
          if (!wantsJson) {
            sink.start(200, {
              ...this.answerHeaders(request, target, stateDegraded),
              'content-type': 'text/event-stream; charset=utf-8',
              'cache-control': 'no-cache',
            });
            sink.write(
              sse('start', {
                conversationId,
                turn: exchange ?? null,
                ...describeTarget(target),
                state: stateDegraded ? 'degraded' : 'ok',
                requestId: request.requestId,
              }),
            );
          }
        },
        onDelta: (delta) => {
          if (!wantsJson) sink.write(sse('delta', { text: delta }));
        },
      },
    );

    const clientGone = request.signal?.aborted ?? false;
    const summary = {
      requestId: request.requestId,
      conversationId,
      attempts: outcome.attempts,
      stateDegraded,
      clientGone,
      text: { question: text, answer: '' },
    };
    if (outcome.kind === 'rejected' || outcome.kind === 'exhausted') {
      const claimed = await claim;
      if (claimed !== undefined) await store.abandonExchange(conversationId, claimed).catch((error: unknown) => telemetry.stateUnavailable(error));
      if (refusal) throw refusal;
      telemetry.requestCompleted({
        ...summary,
        status: outcome.kind === 'rejected' ? 400 : outcome.status,
        latencyMs: clock.now() - started,
        stored: false,
        incomplete: false,
      });
      throw failureOf(outcome);
    }

    const answerStored =
      exchange === undefined
        ? Promise.resolve(false)
        : this.store(conversationId, {
            exchange,
            role: 'assistant',
            text: outcome.text,
            time: isoTime(clock),
            region: outcome.target.region,
            path: outcome.target.tier,
            model: outcome.target.modelId,
            requestId: request.requestId,
            ...(outcome.kind === 'answered' ? { stopReason: outcome.stopReason } : { incomplete: true }),
          });
    // The exchange is acknowledged only once both turns are durable.
    const stored = (await Promise.all([userTurnStored, answerStored])).every(Boolean);
    const latencyMs = clock.now() - started;
    const result = {
      turn: exchange ?? null,
      ...describeTarget(outcome.target),
      usage: outcome.usage ?? null,
      latencyMs,
      timeToFirstTokenMs: outcome.timeToFirstTokenMs,
      stored,
      state: stateDegraded ? 'degraded' : 'ok',
    };
    telemetry.requestCompleted({
      ...summary,
      text: { question: text, answer: outcome.text },
      status: outcome.kind === 'answered' ? 200 : 502,
      path: outcome.target.tier,
      target: outcome.target,
      timeToFirstTokenMs: outcome.timeToFirstTokenMs,
      latencyMs,
      usage: outcome.usage,
      stored,
      incomplete: outcome.kind === 'interrupted',
    });

    if (wantsJson) {
      const headers = this.answerHeaders(request, outcome.target, stateDegraded);
      if (outcome.kind === 'answered') {
        this.sendJson(sink, request, 200, JSON.stringify({ conversationId, text: outcome.text, stopReason: outcome.stopReason, ...result }), headers);
      } else {
        const failure = new HttpError(502, 'stream_interrupted', outcome.message, { retryable: true, partialText: outcome.text, ...result });
        this.sendJson(sink, request, failure.status, failure.body(), headers);
      }
      return;
    }
    if (outcome.kind === 'answered') sink.write(sse('done', { stopReason: outcome.stopReason, ...result }));
    else sink.write(sse('error', { code: 'stream_interrupted', message: outcome.message, retryable: true, ...result }));
    sink.end();
  }

  private async getConversation(request: AgentHttpRequest, sink: TrackedSink, conversationId: string): Promise<void> {
    const principal = requirePrincipal(request);
    let loaded: { record?: ConversationRecord; turns: StoredTurn[] };
    try {
      loaded = await this.props.store.loadAll(conversationId);
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      this.props.telemetry.stateUnavailable(error);
      throw new HttpError(503, 'state_unavailable', 'the conversation store is unreachable; try again shortly', {}, { 'retry-after': '1' });
    }
    if (!loaded.record) throw notFound(conversationId);
    this.checkAccess(loaded.record, principal, conversationId);
    const turns = loaded.turns.map((turn) => ({
      turn: turn.exchange,
      role: turn.role,
      text: turn.text,
      path: turn.path ?? null,
      model: turn.model ?? null,
      region: turn.region,
      time: turn.time,
      ...(turn.incomplete ? { incomplete: true } : {}),
    }));
    this.sendJson(sink, request, 200, JSON.stringify({ conversationId, jurisdiction: loaded.record.jurisdiction, turns }));
  }

  private conversationIdOf(encoded: string): string {
    let id: string;
    try {
      id = decodeURIComponent(encoded);
    } catch {
      throw invalidConversationId();
    }
    const match = CONVERSATION_ID_PATTERN.exec(id);
    if (!match) throw invalidConversationId();
    const prefix = match[1];
    if (prefix !== undefined && prefix !== this.props.config.jurisdiction.name) {
      if (!(prefix in this.props.config.jurisdictionHosts)) {
        throw new HttpError(400, 'invalid_conversation_id', `conversation id prefix '${prefix}' names no known jurisdiction`);
      }
      throw this.wrongJurisdiction(prefix);
    }
    return id;
  }

  private parseMessage(request: AgentHttpRequest): string {
    const { maxTextBytes } = this.props.config.limits;
    const body = request.body ?? '';
    // JSON escaping can take up to 6 bytes per text byte; anything larger cannot hold an acceptable text.
    if (Buffer.byteLength(body) > maxTextBytes * 6 + 1024) throw tooLarge(maxTextBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'invalid_json', 'the body must be a JSON object such as {"text": "..."}');
    }
    const result = messageBodySchema.safeParse(parsed);
    if (!result.success) {
      throw new HttpError(400, 'invalid_request', result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
    }
    if (Buffer.byteLength(result.data.text) > maxTextBytes) throw tooLarge(maxTextBytes);
    return result.data.text;
  }

  /** 404 for someone else's conversation (never reveal it exists), 421 for another jurisdiction's. */
  private checkAccess(record: ConversationRecord, principal: string, conversationId: string): void {
    const refusal = this.accessError(record, principal, conversationId);
    if (refusal) throw refusal;
  }

  private accessError(record: ConversationRecord, principal: string, conversationId: string): HttpError | undefined {
    if (record.owner !== principal) return notFound(conversationId);
    if (record.jurisdiction !== this.props.config.jurisdiction.name) return this.wrongJurisdiction(record.jurisdiction);
    return undefined;
  }

  private wrongJurisdiction(jurisdiction: string): HttpError {
    const host = this.props.config.jurisdictionHosts[jurisdiction];
    return new HttpError(421, 'wrong_jurisdiction', `this conversation is held in jurisdiction ${jurisdiction}${host ? `; send it to https://${host}` : ''}`, {
      jurisdiction,
      ...(host ? { host } : {}),
    });
  }

  private async store(conversationId: string, turn: StoredTurn): Promise<boolean> {
    try {
      await this.props.store.putTurn(conversationId, turn);
      return true;
    } catch (error) {
      this.props.telemetry.stateUnavailable(error);
      return false;
    }
  }

  private answerHeaders(request: AgentHttpRequest, target: ChainTarget, stateDegraded: boolean): Record<string, string> {
    return {
      [AgentHeader.requestId]: request.requestId,
      [AgentHeader.runtimeRegion]: this.props.config.region,
      [AgentHeader.path]: target.tier,
      [AgentHeader.model]: target.modelId,
      [AgentHeader.region]: target.region,
      [AgentHeader.degraded]: String(target.tier === 'model-fallback'),
      [AgentHeader.state]: stateDegraded ? 'degraded' : 'ok',
    };
  }

  private sendJson(sink: TrackedSink, request: AgentHttpRequest, status: number, body: string, headers: Record<string, string> = {}): void {
    sink.start(status, {
      ...headers,
      'content-type': 'application/json',
      [AgentHeader.requestId]: request.requestId,
      [AgentHeader.runtimeRegion]: this.props.config.region,
    });
    sink.write(body);
    sink.end();
  }
}

/** Remembers whether the status line has gone out, and adds the headers every answer carries. */
class TrackedSink implements ResponseSink {
  started = false;
  private ended = false;

  constructor(private readonly sink: ResponseSink) {}

  start(status: number, headers: Record<string, string>): void {
    this.started = true;
    this.sink.start(status, headers);
  }

  write(chunk: string): void {
    if (!this.ended) this.sink.write(chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.end();
  }
}

function describeTarget(target: ChainTarget): { path: Tier; model: string; region: string; degraded: boolean } {
  return { path: target.tier, model: target.modelId, region: target.region, degraded: target.tier === 'model-fallback' };
}

/** Past exchanges that have both a question and a complete answer, as alternating model messages. */
function completeExchanges(turns: StoredTurn[]): ChatMessage[] {
  const byExchange = new Map<number, { user?: StoredTurn; assistant?: StoredTurn }>();
  for (const turn of turns) {
    const pair = byExchange.get(turn.exchange) ?? {};
    pair[turn.role] = turn;
    byExchange.set(turn.exchange, pair);
  }
  return [...byExchange.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, pair]) =>
      pair.user && pair.assistant && !pair.assistant.incomplete
        ? [
            { role: 'user' as const, text: pair.user.text },
            { role: 'assistant' as const, text: pair.assistant.text },
          ]
        : [],
    );
}

function failureOf(outcome: Extract<ChainOutcome, { kind: 'rejected' | 'exhausted' }>): HttpError {
  const attempts = outcome.attempts.map(publicAttempt);
  if (outcome.kind === 'rejected') return new HttpError(400, 'model_rejected_request', outcome.message, { attempts });
  const code = outcome.status === 504 ? 'deadline_exceeded' : outcome.status === 429 ? 'throttled' : 'all_targets_failed';
  const headers: Record<string, string> = outcome.status === 429 || outcome.status === 503 ? { 'retry-after': '1' } : {};
  return new HttpError(outcome.status, code, outcome.message, { retryable: outcome.status !== 502, attempts }, headers);
}

function publicAttempt(attempt: Attempt) {
  return {
    path: attempt.tier,
    model: attempt.modelId,
    region: attempt.region,
    outcome: attempt.outcome,
    reason: attempt.reason ?? null,
    status: attempt.status ?? null,
    durationMs: attempt.durationMs,
  };
}

function requireMethod(request: AgentHttpRequest, method: string): void {
  if (request.method !== method) throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed here; use ${method}`, {}, { allow: method });
}

function requirePrincipal(request: AgentHttpRequest): string {
  if (!request.principal) throw new HttpError(401, 'unauthenticated', 'the request carries no authenticated identity');
  return request.principal;
}

function prefersJson(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/json') && !accept.includes('text/event-stream');
}

function notFound(conversationId: string): HttpError {
  return new HttpError(404, 'not_found', `conversation ${conversationId} not found`);
}

function invalidConversationId(): HttpError {
  return new HttpError(
    400,
    'invalid_conversation_id',
    'conversation ids are 1-128 characters of A-Z a-z 0-9 _ -, optionally prefixed with a jurisdiction and a dot (eu.abc123)',
  );
}

function tooLarge(maxTextBytes: number): HttpError {
  return new HttpError(413, 'too_large', `text must be at most ${maxTextBytes} bytes of UTF-8`);
}

function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
