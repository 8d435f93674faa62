/**
 * One message, as a pipeline of small steps:
 *
 *   parse → load (one strongly consistent read of the home region) →
 *   answer a retried request from the store, or run the agent loop while the
 *   exchange number is claimed → persist both turns → finish the answer.
 *
 * Headers and `start` go out at the request's first model output, once the
 * claim has settled, so they name the target that answered and whether the
 * state is degraded. Turns are written only once a model has produced a
 * first output, and a request that ends without an answer gives its claim
 * back, so a request that fails or is refused stores no turn.
 *
 * An answer may pause for approvals (see approvals.ts); the answer to its
 * last waiting call resumes it in approval-pipeline.ts. What both routes
 * share (deadlines, the loop's request, progress events, finishing) is in
 * answer-steps.ts.
 */
import type { LoopHooks, LoopOutcome } from '../agent/agent-loop';
import { notFound } from '../http/access';
import { parseIdempotencyKey, parseMessageText, type ConversationId } from '../http/request-schema';
import { answerHeaders, servedBy, type TrackedSink } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import { StateUnavailableError, waitsFor, type ConversationRecord, type IdempotencyEntry, type StoredTurn } from '../store/conversation-store';
import { answerWriter, type AnswerWriter } from './answer-writer';
import { AnswerSteps, cancellationOf, isoTime, summaryOf, type AnswerInput, type PipelineProps, type Summary } from './answer-steps';
import { ExchangeWrites } from './exchange-writes';
import { failureOf, requestInFlight, stateUnavailable } from './failures';
import { PendingClaim } from './pending-claim';
import { replay } from './replay';
import { titleOf } from './title';
import { approvalPending } from './approvals';

/** What the home region knows of the conversation before the model is called. */
interface LoadedState {
  record?: ConversationRecord;
  turns: StoredTurn[];
  degraded: boolean;
  idempotency?: IdempotencyEntry;
}

export class MessagePipeline {
  private readonly steps: AnswerSteps;

  constructor(private readonly props: PipelineProps) {
    this.steps = new AnswerSteps(props);
  }

  async handle(request: AgentHttpRequest, conversation: ConversationId, sink: TrackedSink): Promise<void> {
    const input = this.parse(request, conversation);
    this.props.chain.requestArrived();
    const state = await this.load(input);
    if (state.idempotency && state.record && (await this.answerRetry(request, input, state.record, state.idempotency, sink))) return;
    await this.answer(request, input, state, sink);
  }

  private parse(request: AgentHttpRequest, conversation: ConversationId): AnswerInput {
    const owner = this.props.access.ownerOf(request);
    const text = parseMessageText(request.body, this.props.config.limits.maxTextBytes);
    return { ...this.steps.arrival(request, conversation, owner), text, idempotencyKey: parseIdempotencyKey(request.headers) };
  }

  private async load(input: AnswerInput): Promise<LoadedState> {
    const { config, store, telemetry, access } = this.props;
    const { id } = input.conversation;
    try {
      const loaded = await store.load(id, { turns: config.table.historyTurns, idempotencyKey: input.idempotencyKey });
      // A deleted conversation stores nothing more, and the model is not called for it.
      if (loaded.deleted) throw notFound(id);
      if (loaded.record) access.check(loaded.record, input.owner, id);
      else access.checkNewConversation(input.conversation);
      // Before the model is called; the claim checks it again in its conditional write.
      if (loaded.record?.approval && waitsFor(loaded.record.approval, this.props.clock.now())) throw approvalPending(loaded.record.approval);
      return { record: loaded.record, turns: loaded.turns, degraded: false, idempotency: loaded.idempotency };
    } catch (error) {
      if (!(error instanceof StateUnavailableError)) throw error;
      telemetry.stateUnavailable(error);
      // Whether the conversation exists is unknown: an id that could belong to another jurisdiction is not processed here.
      access.checkNewConversation(input.conversation);
      // Degraded mode cannot tell a retry from a first try: a keyed request would run its tools again, so it waits instead.
      if (input.idempotencyKey !== undefined) throw stateUnavailable();
      return { turns: [], degraded: true };
    }
  }

  /**
   * A request whose Idempotency-Key was used before in this conversation:
   * the stored exchange is answered again, or 409 while it is in flight.
   * False when the earlier request died without an answer: this one takes over.
   */
  private async answerRetry(
    request: AgentHttpRequest,
    input: AnswerInput,
    record: ConversationRecord,
    entry: IdempotencyEntry,
    sink: TrackedSink,
  ): Promise<boolean> {
    const { store, telemetry, config, clock } = this.props;
    const turns = await store.loadExchange(input.conversation.id, record, entry.exchange).catch((error: unknown) => {
      telemetry.stateUnavailable(error);
      throw stateUnavailable();
    });
    const answer = turns.find((turn) => turn.role === 'assistant');
    if (answer) {
      replay(answer, {
        request,
        conversationId: input.conversation.id,
        writer: answerWriter(request, sink, config.region, input.format),
        runtimeRegion: config.region,
        latencyMs: clock.now() - input.arrivedAt,
        toolBytes: config.limits.toolResultBytes,
      });
      telemetry.requestReplayed({ requestId: request.requestId, conversationId: input.conversation.id, caller: input.owner.caller, turn: answer.exchange });
      return true;
    }
    if (entry.inFlightUntil > clock.now()) throw requestInFlight();
    return false;
  }

  private async answer(request: AgentHttpRequest, input: AnswerInput, state: LoadedState, sink: TrackedSink): Promise<void> {
    const { config, agent } = this.props;
    const conversationId = input.conversation.id;
    const cancel = cancellationOf(request);
    const pending = this.claim(request, input, state, cancel);
    const writer = answerWriter(request, sink, config.region, input.format);
    const exchange = new ExchangeWrites((claim, turn) => this.steps.storeTurn(conversationId, claim, turn), request.requestId, state.degraded);
    // MCP servers' tool lists, read at the first message and kept for a TTL: a server that cannot answer offers its last list.
    await agent.tools.prepare();

    const outcome = await this.steps.run(
      {
        ...this.steps.loopRequest(input, cancel.signal),
        history: this.steps.history(state.turns),
        text: input.text,
      },
      this.hooks(request, input, pending, exchange, writer),
    );

    const summary = summaryOf(request, input);
    if (outcome.kind === 'rejected' || outcome.kind === 'exhausted') return this.unanswered(input, state, outcome, pending, summary);
    await this.steps.finish(input, outcome, exchange, writer, summary);
  }

  /**
   * What the loop reports, as the answer: at the first output, the claim
   * settles (a refusal ends the request before anything is sent), the
   * question is written, and headers and `start` go out; then each later
   * step, tool call and result, and text.
   */
  private hooks(request: AgentHttpRequest, input: AnswerInput, pending: PendingClaim, exchange: ExchangeWrites, writer: AnswerWriter): LoopHooks {
    const { config, clock } = this.props;
    return {
      onFirstOutput: async (target) => {
        const settled = await pending.settled();
        if (settled.refusal) throw settled.refusal;
        exchange.claimed(settled.claim, settled.unavailable);
        exchange.write({ role: 'user', text: input.text, time: isoTime(clock), region: config.region });
        writer.begin({
          headers: answerHeaders(request, config.region, servedBy(target), exchange.degraded),
          event: { conversationId: input.conversation.id, turn: exchange.turn, ...servedBy(target), state: exchange.state, requestId: request.requestId },
        });
      },
      ...this.steps.progressHooks(writer),
    };
  }

  /** No target produced a first output (or the request was refused): the claim is given back, and the failure answered. */
  private async unanswered(
    input: AnswerInput,
    state: LoadedState,
    outcome: Extract<LoopOutcome, { kind: 'rejected' | 'exhausted' }>,
    pending: PendingClaim,
    summary: Summary,
  ): Promise<never> {
    const { clock, telemetry } = this.props;
    const settled = await pending.settled();
    await pending.release().catch((error: unknown) => telemetry.stateUnavailable(error));
    if (settled.refusal) throw settled.refusal;
    telemetry.requestCompleted({
      ...summary,
      attempts: outcome.attempts,
      text: { question: input.text, answer: '' },
      stateDegraded: state.degraded || settled.unavailable !== undefined,
      status: outcome.kind === 'rejected' ? 400 : outcome.status,
      latencyMs: clock.now() - input.arrivedAt,
      stored: false,
      incomplete: false,
      steps: [],
    });
    throw failureOf(outcome);
  }

  private claim(request: AgentHttpRequest, input: AnswerInput, state: LoadedState, cancel: AbortController): PendingClaim {
    const conversationId = input.conversation.id;
    return new PendingClaim(
      {
        store: this.props.store,
        conversationId,
        claimant: {
          owner: input.owner.id,
          ownerAliases: input.owner.aliases,
          jurisdiction: this.props.config.jurisdiction.name,
          requestId: request.requestId,
          idempotencyKey: input.idempotencyKey,
          inFlightUntil: input.limit,
          // Only until the conversation has one: the claim keeps the first message's.
          title: state.record?.title === undefined ? titleOf(input.text) : undefined,
        },
        refusalFor: (record) => this.props.access.refusal(record, input.owner, conversationId) ?? notFound(conversationId),
        inFlight: requestInFlight,
        approvalPending,
        // Without a claim, a retry of a keyed request could not find this one's answer, and would run the tools again.
        unreachable: () => (input.idempotencyKey !== undefined ? stateUnavailable() : undefined),
        onRefused: () => cancel.abort(),
      },
      state.degraded,
    );
  }
}
