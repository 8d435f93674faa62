/**
 * One message, as a pipeline of small steps:
 *
 *   parse → load (one strongly consistent read of the home region) →
 *   answer a retried request from the store, or run the fallback chain while
 *   the exchange number is claimed → persist both turns → finish the answer.
 *
 * Headers and `start` go out at the first model output, once the claim has
 * settled, so they name the target that answered and whether the state is
 * degraded. Turns are written only once a model has produced a first token,
 * and a request that ends without an answer gives its claim back, so a
 * request that fails or is refused stores no turn. An exchange is
 * acknowledged (`stored: true`) only once both its turns are durable; a turn
 * that could not be written makes the answer's state degraded.
 */
import type { RuntimeConfig } from '../config';
import type { FallbackChain } from '../chain/fallback-chain';
import type { Attempt, ChainOutcome, ChatMessage, Clock } from '../chain/types';
import { notFound, requireOwner, type ConversationAccess } from '../http/access';
import { HttpError } from '../http/http-error';
import type { Owner } from '../http/identity';
import { parseIdempotencyKey, parseMessageText, type ConversationId } from '../http/request-schema';
import { AgentHeader, answerHeaders, servedBy, type ServedBy, type TrackedSink } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import {
  StateUnavailableError,
  type Claim,
  type ConversationRecord,
  type ConversationStore,
  type IdempotencyEntry,
  type StoredTurn,
} from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { answerWriter, prefersJson, type AnswerWriter } from './answer-writer';
import { completeExchanges } from './history';
import { PendingClaim } from './pending-claim';

export interface MessagePipelineProps {
  config: RuntimeConfig;
  store: ConversationStore;
  chain: FallbackChain;
  telemetry: Telemetry;
  clock: Clock;
  access: ConversationAccess;
}

/** A parsed message request. */
interface MessageInput {
  conversation: ConversationId;
  text: string;
  owner: Owner;
  idempotencyKey?: string;
  wantsJson: boolean;
  /** Epoch ms: when the request arrived; every deadline counts from here. */
  arrivedAt: number;
  /** Epoch ms: the end of the request's budget (first tokens and streaming alike). */
  budgetEnd: number;
  /** Epoch ms: the end of the serving environment's own time limit. */
  limit: number;
}

/** What the home region knows of the conversation before the model is called. */
interface LoadedState {
  record?: ConversationRecord;
  history: ChatMessage[];
  degraded: boolean;
  idempotency?: IdempotencyEntry;
}

export class MessagePipeline {
  constructor(private readonly props: MessagePipelineProps) {}

  async handle(request: AgentHttpRequest, conversation: ConversationId, sink: TrackedSink): Promise<void> {
    const input = this.parse(request, conversation);
    const state = await this.load(input);
    if (state.idempotency && state.record && (await this.answerRetry(request, input, state.record, state.idempotency, sink))) return;
    await this.answer(request, input, state, sink);
  }

  private parse(request: AgentHttpRequest, conversation: ConversationId): MessageInput {
    const { config, clock } = this.props;
    const owner = requireOwner(request);
    const text = parseMessageText(request.body, config.limits.maxTextBytes);
    const idempotencyKey = parseIdempotencyKey(request.headers);
    const arrivedAt = clock.now();
    // Read now: the deadlines count from arrival, so the state read cannot push them past the Lambda's timeout.
    const remainingMs = request.remainingTimeMs();
    return {
      conversation,
      text,
      owner,
      idempotencyKey,
      wantsJson: prefersJson(request.headers.accept),
      arrivedAt,
      budgetEnd: arrivedAt + Math.min(config.deadlines.totalBudgetMs, remainingMs - config.deadlines.reserveMs),
      limit: arrivedAt + remainingMs,
    };
  }

  private async load(input: MessageInput): Promise<LoadedState> {
    const { config, store, telemetry, access } = this.props;
    const { id } = input.conversation;
    try {
      const loaded = await store.load(id, { turns: config.table.historyTurns, idempotencyKey: input.idempotencyKey });
      if (loaded.record) access.check(loaded.record, input.owner, id);
      else access.checkNewConversation(input.conversation);
      return { record: loaded.record, history: completeExchanges(loaded.turns), degraded: false, idempotency: loaded.idempotency };
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      telemetry.stateUnavailable(error);
      // Whether the conversation exists is unknown: an id that could belong to another jurisdiction is not processed here.
      access.checkNewConversation(input.conversation);
      return { history: [], degraded: true };
    }
  }

  /**
   * A request whose Idempotency-Key was used before in this conversation:
   * the stored exchange is answered again, or 409 while it is in flight.
   * False when the earlier request died without an answer: this one takes over.
   */
  private async answerRetry(
    request: AgentHttpRequest,
    input: MessageInput,
    record: ConversationRecord,
    entry: IdempotencyEntry,
    sink: TrackedSink,
  ): Promise<boolean> {
    const turns = await this.props.store.loadExchange(input.conversation.id, record, entry.exchange).catch((error: unknown) => {
      this.props.telemetry.stateUnavailable(error);
      throw stateUnavailable();
    });
    const answer = turns.find((turn) => turn.role === 'assistant');
    if (answer) {
      this.replay(request, input, answer, sink);
      return true;
    }
    if (entry.inFlightUntil > this.props.clock.now()) throw requestInFlight();
    return false;
  }

  private replay(request: AgentHttpRequest, input: MessageInput, answer: StoredTurn, sink: TrackedSink): void {
    const { config, telemetry, clock } = this.props;
    const target: ServedBy = { path: answer.path ?? 'primary', model: answer.model ?? '', region: answer.region, degraded: answer.path === 'model-fallback' };
    const writer = answerWriter(request, sink, config.region, input.wantsJson);
    const base = { turn: answer.exchange, ...target, state: 'ok', replayed: true };
    writer.begin({
      headers: { ...answerHeaders(request, config.region, target, false), [AgentHeader.replayed]: 'true' },
      event: { conversationId: input.conversation.id, ...base, requestId: request.requestId },
    });
    writer.text(answer.text);
    const result = { ...base, usage: answer.usage ?? null, latencyMs: clock.now() - input.arrivedAt, timeToFirstTokenMs: null, stored: true };
    if (answer.incomplete)
      writer.end({ kind: 'interrupted', conversationId: input.conversation.id, text: answer.text, message: 'the stored answer was cut short', result });
    else writer.end({ kind: 'answered', conversationId: input.conversation.id, text: answer.text, stopReason: answer.stopReason ?? 'end_turn', result });
    telemetry.requestReplayed({ requestId: request.requestId, conversationId: input.conversation.id, caller: input.owner.caller, turn: answer.exchange });
  }

  private async answer(request: AgentHttpRequest, input: MessageInput, state: LoadedState, sink: TrackedSink): Promise<void> {
    const { config, chain, clock } = this.props;
    const conversationId = input.conversation.id;
    const cancel = new AbortController();
    request.signal?.addEventListener('abort', () => cancel.abort(), { once: true });
    const pending = new PendingClaim(
      {
        store: this.props.store,
        conversationId,
        claimant: {
          owner: input.owner.id,
          ownerAliases: input.owner.aliases,
          jurisdiction: config.jurisdiction.name,
          requestId: request.requestId,
          idempotencyKey: input.idempotencyKey,
          inFlightUntil: input.limit,
        },
        refusalFor: (record) => this.props.access.refusal(record, input.owner, conversationId) ?? notFound(conversationId),
        inFlight: requestInFlight,
        onRefused: () => cancel.abort(),
      },
      state.degraded,
    );
    const writer = answerWriter(request, sink, config.region, input.wantsJson);
    const exchange = new ExchangeWrites((claim, turn) => this.storeTurn(conversationId, claim, turn), request.requestId, state.degraded);

    const outcome = await chain.run(
      {
        messages: [...state.history, { role: 'user', text: input.text }],
        system: config.inference.systemPrompt,
        maxTokens: config.inference.maxTokens,
        temperature: config.inference.temperature,
      },
      {
        firstTokenBy: input.budgetEnd,
        hardDeadline: input.budgetEnd,
        signal: cancel.signal,
        onFirstToken: async (target) => {
          const settled = await pending.settled();
          if (settled.refusal) throw settled.refusal;
          exchange.claimed(settled.claim, settled.unavailable);
          exchange.write({ role: 'user', text: input.text, time: isoTime(clock), region: config.region });
          writer.begin({
            headers: answerHeaders(request, config.region, servedBy(target), exchange.degraded),
            event: { conversationId, turn: exchange.turn, ...servedBy(target), state: exchange.state, requestId: request.requestId },
          });
        },
        onDelta: (delta) => writer.text(delta),
      },
    );

    const clientGone = request.signal?.aborted ?? false;
    const summary = {
      requestId: request.requestId,
      conversationId,
      caller: input.owner.caller,
      attempts: outcome.attempts,
      clientGone,
      text: { question: input.text, answer: '' },
    };
    if (outcome.kind === 'rejected' || outcome.kind === 'exhausted') {
      const settled = await pending.settled();
      await pending.release().catch((error: unknown) => this.props.telemetry.stateUnavailable(error));
      if (settled.refusal) throw settled.refusal;
      this.props.telemetry.requestCompleted({
        ...summary,
        stateDegraded: state.degraded || settled.unavailable !== undefined,
        status: outcome.kind === 'rejected' ? 400 : outcome.status,
        latencyMs: clock.now() - input.arrivedAt,
        stored: false,
        incomplete: false,
      });
      throw failureOf(outcome);
    }
    await this.finish(input, outcome, exchange, writer, summary);
  }

  /** Stores the answer, then ends it with what happened to the exchange. */
  private async finish(
    input: MessageInput,
    outcome: Extract<ChainOutcome, { kind: 'answered' | 'interrupted' }>,
    exchange: ExchangeWrites,
    writer: AnswerWriter,
    summary: { requestId: string; conversationId: string; caller: string; attempts: readonly Attempt[]; clientGone: boolean },
  ): Promise<void> {
    const { clock, telemetry } = this.props;
    exchange.write({
      role: 'assistant',
      text: outcome.text,
      time: isoTime(clock),
      region: outcome.target.region,
      path: outcome.target.tier,
      model: outcome.target.modelId,
      ...(outcome.usage ? { usage: outcome.usage } : {}),
      ...(outcome.kind === 'answered' ? { stopReason: outcome.stopReason } : { incomplete: true }),
    });
    const stored = await exchange.durable();
    const latencyMs = clock.now() - input.arrivedAt;
    const result = {
      turn: exchange.turn,
      ...servedBy(outcome.target),
      usage: outcome.usage ?? null,
      latencyMs,
      timeToFirstTokenMs: outcome.timeToFirstTokenMs,
      stored,
      state: exchange.state,
    };
    telemetry.requestCompleted({
      ...summary,
      text: { question: input.text, answer: outcome.text },
      status: outcome.kind === 'answered' ? 200 : 502,
      path: outcome.target.tier,
      target: outcome.target,
      timeToFirstTokenMs: outcome.timeToFirstTokenMs,
      latencyMs,
      usage: outcome.usage,
      stateDegraded: exchange.degraded,
      stored,
      incomplete: outcome.kind === 'interrupted',
    });
    const conversationId = input.conversation.id;
    if (outcome.kind === 'answered') writer.end({ kind: 'answered', conversationId, text: outcome.text, stopReason: outcome.stopReason, result });
    else writer.end({ kind: 'interrupted', conversationId, text: outcome.text, message: outcome.message, result });
  }

  /** Writes one turn; false (and the state degraded) when it could not be stored. */
  private async storeTurn(conversationId: string, claim: Claim, turn: StoredTurn): Promise<boolean> {
    try {
      await this.props.store.putTurn(conversationId, claim, turn);
      return true;
    } catch (error) {
      this.props.telemetry.stateUnavailable(error);
      return false;
    }
  }
}

/** The two turns of one exchange: written as they come, acknowledged once both are durable. */
class ExchangeWrites {
  private claim?: Claim;
  private unavailable: boolean;
  private readonly writes: Array<Promise<boolean>> = [];
  private failed = false;

  constructor(
    private readonly storeTurn: (claim: Claim, turn: StoredTurn) => Promise<boolean>,
    private readonly requestId: string,
    degraded: boolean,
  ) {
    this.unavailable = degraded;
  }

  claimed(claim: Claim | undefined, unavailable: unknown): void {
    this.claim = claim;
    if (unavailable !== undefined || !claim) this.unavailable = true;
  }

  get turn(): number | null {
    return this.claim?.exchange ?? null;
  }

  get degraded(): boolean {
    return this.unavailable || this.failed;
  }

  get state(): 'ok' | 'degraded' {
    return this.degraded ? 'degraded' : 'ok';
  }

  write(turn: Omit<StoredTurn, 'exchange' | 'requestId'>): void {
    const claim = this.claim;
    if (!claim) return;
    this.writes.push(
      this.storeTurn(claim, { ...turn, exchange: claim.exchange, requestId: this.requestId }).then((stored) => {
        if (!stored) this.failed = true;
        return stored;
      }),
    );
  }

  /** True when both turns are stored. */
  async durable(): Promise<boolean> {
    const results = await Promise.all(this.writes);
    return this.claim !== undefined && results.length === 2 && results.every(Boolean);
  }
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

function requestInFlight(): HttpError {
  return new HttpError(
    409,
    'request_in_flight',
    'a request with this Idempotency-Key is still being answered; retry shortly',
    { retryable: true },
    { 'retry-after': '1' },
  );
}

export function stateUnavailable(): HttpError {
  return new HttpError(503, 'state_unavailable', 'the conversation store is unreachable; try again shortly', { retryable: true }, { 'retry-after': '1' });
}

function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
