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
 * last waiting call resumes it here (`resume`), in any region of the
 * jurisdiction, and streams the rest of it as a message's answer.
 */
import type { RuntimeConfig } from '../config';
import { boundedJson } from '../bounded-json';
import { AgentLoop, toolRunContext, type LoopHooks, type LoopOutcome, type LoopRequest } from '../agent/agent-loop';
import type { ToolOutcome, ToolRunner } from '../agent/tool-runner';
import type { ChatMessage, Clock } from '../chain/types';
import { notFound, type ConversationAccess } from '../http/access';
import type { Owner } from '../http/identity';
import { parseApprovalBody, parseIdempotencyKey, parseMessageText, type ConversationId } from '../http/request-schema';
import { answerHeaders, servedBy, type TrackedSink } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import type { FallbackChain } from '../chain/fallback-chain';
import {
  ApprovalAnsweredError,
  ApprovalNotFoundError,
  ConversationClaimedError,
  StateUnavailableError,
  waitsFor,
  type Claim,
  type ConversationRecord,
  type ConversationStore,
  type IdempotencyEntry,
  type ApprovalAnswer,
  type PendingApprovals,
  type StoredStep,
  type StoredTurn,
} from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { answerResult, endAnswer, storedAnswer, type BegunOutcome, type StoredAnswer } from './answer-end';
import { answerFormat, answerWriter, type AnswerFormat, type AnswerWriter } from './answer-writer';
import { ExchangeWrites } from './exchange-writes';
import { failureOf, requestInFlight, stateUnavailable, whileAvailable } from './failures';
import { historyOf } from './history';
import { PendingClaim } from './pending-claim';
import { replay } from './replay';
import { titleOf } from './title';
import { storedToolCall } from './stored-exchange';
import {
  approvalAnswered,
  approvalPending,
  completedStep,
  decisionOf,
  pausedExchangeOf,
  pendingApprovals,
  resumedMessages,
  toDecision,
  unknownToolUse,
  unresumedAnswer,
  waitingCalls,
} from './approvals';

/** The agent a runtime hosts: its instructions and loop settings, and its tools (in code and Lambda functions). */
export interface HostedAgent {
  instructions?: string;
  maxSteps: number;
  reasoning?: { budgetTokens: number };
  tools: ToolRunner;
}

export interface MessagePipelineProps {
  config: RuntimeConfig;
  store: ConversationStore;
  chain: FallbackChain;
  agent: HostedAgent;
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
  format: AnswerFormat;
  /** Epoch ms: when the request arrived; every deadline counts from here. */
  arrivedAt: number;
  /** Epoch ms: the end of the request's budget (every step, tool and stream of the loop). */
  budgetEnd: number;
  /** Epoch ms: the end of the serving environment's own time limit. */
  limit: number;
}

/** What the home region knows of the conversation before the model is called. */
interface LoadedState {
  record?: ConversationRecord;
  turns: StoredTurn[];
  degraded: boolean;
  idempotency?: IdempotencyEntry;
}

type Summary = { requestId: string; conversationId: string; caller: string; endUser?: string; clientGone: boolean };

function summaryOf(request: AgentHttpRequest, input: { conversation: ConversationId; owner: Owner }): Summary {
  return {
    requestId: request.requestId,
    conversationId: input.conversation.id,
    caller: input.owner.caller,
    ...(input.owner.endUser ? { endUser: input.owner.endUser } : {}),
    clientGone: request.signal?.aborted ?? false,
  };
}

export class MessagePipeline {
  private readonly loop: AgentLoop;

  constructor(private readonly props: MessagePipelineProps) {
    this.loop = new AgentLoop(props.chain, props.agent.tools);
  }

  async handle(request: AgentHttpRequest, conversation: ConversationId, sink: TrackedSink): Promise<void> {
    const input = this.parse(request, conversation);
    this.props.chain.requestArrived();
    const state = await this.load(input);
    if (state.idempotency && state.record && (await this.answerRetry(request, input, state.record, state.idempotency, sink))) return;
    await this.answer(request, input, state, sink);
  }

  private parse(request: AgentHttpRequest, conversation: ConversationId): MessageInput {
    const owner = this.props.access.ownerOf(request);
    const text = parseMessageText(request.body, this.props.config.limits.maxTextBytes);
    return { ...this.arrival(request, conversation, owner), text, idempotencyKey: parseIdempotencyKey(request.headers) };
  }

  /** The request's owner, rendering and deadlines; every deadline counts from its arrival. */
  private arrival(request: AgentHttpRequest, conversation: ConversationId, owner: Owner): Omit<MessageInput, 'text' | 'idempotencyKey'> {
    const { config, clock } = this.props;
    const arrivedAt = clock.now();
    // Read now: the deadlines count from arrival, so the state read cannot push them past the Lambda's timeout.
    const remainingMs = request.remainingTimeMs();
    return {
      conversation,
      owner,
      format: answerFormat(request),
      arrivedAt,
      budgetEnd: arrivedAt + Math.min(config.deadlines.totalBudgetMs, remainingMs - config.deadlines.reserveMs),
      limit: arrivedAt + remainingMs,
    };
  }

  /**
   * POST /v1/conversations/{id}/approvals/{toolUseId}: the owner's answer is
   * recorded with one conditional write (of two answers racing from two
   * regions, one is recorded; the other gets a 409 saying what was). The
   * answer to the last waiting call runs the approved calls and goes on
   * with the loop here, streaming the rest of the answer as a message's;
   * an answer to one of several waiting calls is a 202.
   */
  async resume(request: AgentHttpRequest, conversation: ConversationId, toolUseId: string, sink: TrackedSink): Promise<void> {
    const { config, clock, store, access } = this.props;
    const owner = access.ownerOf(request);
    const body = parseApprovalBody(request.body);
    const input: MessageInput = { ...this.arrival(request, conversation, owner), text: '' };
    const { id } = conversation;
    const loaded = await this.stored(() => store.load(id, { turns: config.table.historyTurns }));
    if (loaded.deleted || !loaded.record) throw notFound(id);
    access.check(loaded.record, owner, id);
    const approval = loaded.record.approval;
    // Own entries only: a tool-use id such as `constructor` names no call.
    const call = approval && Object.hasOwn(approval.calls, toolUseId) ? approval.calls[toolUseId] : undefined;
    if (!approval || !call) throw unknownToolUse(id, toolUseId);
    if (call.decision) throw approvalAnswered({ ...call, toolUseId });
    const decision = decisionOf(body, approval, clock.now());
    const approvals = await this.answerApproval(input, { toolUseId, ...decision, region: config.region });
    // The write's own count: of the answers to a step's calls, exactly one brings it to 0, and that one resumes.
    if (approvals.undecided > 0) {
      const waitingFor = Object.entries(approvals.calls).flatMap(([waiting, { decision: answered }]) => (answered ? [] : [waiting]));
      sink.json(request, config.region, 202, JSON.stringify({ conversationId: id, toolUseId, ...decision, waitingFor }));
      return;
    }
    this.props.chain.requestArrived();
    await this.resumeAnswer(request, input, loaded.record, loaded.turns, approvals, sink);
  }

  private async answerApproval(input: MessageInput, answer: ApprovalAnswer): Promise<PendingApprovals> {
    const { store, config, access } = this.props;
    const { id } = input.conversation;
    try {
      return await this.stored(() =>
        store.answerApproval(id, { owner: input.owner.id, ownerAliases: input.owner.aliases, jurisdiction: config.jurisdiction.name }, answer),
      );
    } catch (error) {
      if (error instanceof ApprovalAnsweredError) throw approvalAnswered(error.call);
      if (error instanceof ApprovalNotFoundError) throw unknownToolUse(id, answer.toolUseId);
      if (error instanceof ConversationClaimedError) throw access.refusal(error.record, input.owner, id) ?? notFound(id);
      throw error;
    }
  }

  /**
   * The resume path, as steps: read the paused exchange, run the decided
   * calls of its paused step, go on with the loop from the next step, and
   * write the exchange's answer over the paused one (or, when no model could
   * go on, the decided calls' results with it, before the failure is answered).
   */
  private async resumeAnswer(
    request: AgentHttpRequest,
    input: MessageInput,
    record: ConversationRecord,
    turns: StoredTurn[],
    approvals: PendingApprovals,
    sink: TrackedSink,
  ): Promise<void> {
    const { config } = this.props;
    const { id } = input.conversation;
    const { question, paused, steps } = await this.pausedExchange(id, record, approvals);
    input.text = question.text;
    const loopRequest = this.loopRequest(input, cancellationOf(request).signal);
    const last = steps.at(-1)!;
    const decided = await this.runDecided(last, approvals, loopRequest);
    const earlier = [...steps.slice(0, -1), completedStep(last, decided.map(storedToolCall))];
    const exchange = this.resumedExchange(request, id, record, approvals);
    const writer = answerWriter(request, sink, config.region, input.format);
    const history = this.history(turns.filter((turn) => turn.exchange < approvals.exchange));
    const outcome = await this.loop.run(
      { ...loopRequest, history: [], text: question.text, resume: { messages: resumedMessages(history, question, earlier), step: last.step + 1 } },
      this.resumedHooks(request, id, exchange, writer, { calls: decided, step: last.step }),
    );
    const summary = summaryOf(request, input);
    if (outcome.kind !== 'rejected' && outcome.kind !== 'exhausted') return this.finish(input, outcome, exchange, writer, summary, earlier);
    exchange.write(unresumedAnswer(paused, earlier, isoTime(this.props.clock)));
    await exchange.durable();
    throw failureOf(outcome);
  }

  /** The paused exchange the approvals belong to: its question and its paused answer; 404 when it is not one any more. */
  private async pausedExchange(id: string, record: ConversationRecord, approvals: PendingApprovals) {
    const exchangeTurns = await this.stored(() => this.props.store.loadExchange(id, record, approvals.exchange));
    const exchange = pausedExchangeOf(exchangeTurns);
    if (!exchange) throw unknownToolUse(id, Object.keys(approvals.calls)[0] ?? '');
    return exchange;
  }

  /** The paused step's waiting calls, each run or refused as its owner decided. */
  private runDecided(step: StoredStep, approvals: PendingApprovals, loopRequest: Omit<LoopRequest, 'history' | 'text'>): Promise<ToolOutcome[]> {
    const context = toolRunContext(loopRequest);
    return Promise.all(waitingCalls(step).map((call) => this.props.agent.tools.decided(call, toDecision(approvals.calls[call.id]), context)));
  }

  /** The exchange's claim as the paused answer left it: only the answer is written, over the paused one. */
  private resumedExchange(request: AgentHttpRequest, id: string, record: ConversationRecord, approvals: PendingApprovals): ExchangeWrites {
    const claim: Claim = { exchange: approvals.exchange, generation: record.generation, created: false };
    const exchange = new ExchangeWrites((held, turn) => this.storeTurn(id, held, turn, { overPaused: true }), request.requestId, false, 1);
    exchange.claimed(claim, undefined);
    return exchange;
  }

  /** A resumed answer's events: `start` (marked resumed) at its first output, with the decided calls as a message's answer shows its tool calls. */
  private resumedHooks(
    request: AgentHttpRequest,
    id: string,
    exchange: ExchangeWrites,
    writer: AnswerWriter,
    decided: { calls: ToolOutcome[]; step: number },
  ): LoopHooks {
    const { config } = this.props;
    const progress = this.progressHooks(writer);
    return {
      ...progress,
      onFirstOutput: async (target) => {
        writer.begin({
          headers: answerHeaders(request, config.region, servedBy(target), false),
          event: { conversationId: id, turn: exchange.turn, ...servedBy(target), state: exchange.state, requestId: request.requestId, resumed: true },
        });
        for (const call of decided.calls) {
          progress.onToolCall({ ...call, step: decided.step });
          progress.onToolResult({ ...call, step: decided.step });
        }
      },
    };
  }

  /** A store call whose unavailability is a 503 (and counted). */
  private stored<T>(call: () => Promise<T>): Promise<T> {
    return whileAvailable(this.props.telemetry, call);
  }

  private async load(input: MessageInput): Promise<LoadedState> {
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
    input: MessageInput,
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

  private async answer(request: AgentHttpRequest, input: MessageInput, state: LoadedState, sink: TrackedSink): Promise<void> {
    const { config, agent } = this.props;
    const conversationId = input.conversation.id;
    const cancel = cancellationOf(request);
    const pending = this.claim(request, input, state, cancel);
    const writer = answerWriter(request, sink, config.region, input.format);
    const exchange = new ExchangeWrites((claim, turn) => this.storeTurn(conversationId, claim, turn), request.requestId, state.degraded);
    // MCP servers' tool lists, read at the first message and kept for a TTL: a server that cannot answer offers its last list.
    await agent.tools.prepare();

    const outcome = await this.loop.run(
      {
        ...this.loopRequest(input, cancel.signal),
        history: this.history(state.turns),
        text: input.text,
      },
      this.hooks(request, input, pending, exchange, writer),
    );

    const summary = summaryOf(request, input);
    if (outcome.kind === 'rejected' || outcome.kind === 'exhausted') return this.unanswered(input, state, outcome, pending, summary);
    await this.finish(input, outcome, exchange, writer, summary);
  }

  /** What the model is sent of these past turns. */
  private history(turns: StoredTurn[]): ChatMessage[] {
    const { config, agent } = this.props;
    return historyOf(turns, { budgetBytes: config.table.historyBytes, withTools: agent.tools.specs.length > 0 });
  }

  /** What every run of the loop for this request shares: the agent, the budget, the tools' context. */
  private loopRequest(input: MessageInput, signal: AbortSignal): Omit<LoopRequest, 'history' | 'text'> {
    const { config, agent } = this.props;
    return {
      system: agent.instructions,
      maxTokens: config.inference.maxTokens,
      temperature: config.inference.temperature,
      reasoning: agent.reasoning,
      maxSteps: agent.maxSteps,
      budgetEnd: input.budgetEnd,
      signal,
      toolContext: {
        conversationId: input.conversation.id,
        caller: input.owner.callerId ?? input.owner.id,
        endUser: input.owner.endUser,
        region: config.region,
      },
    };
  }

  /**
   * What the loop reports, as the answer: at the first output, the claim
   * settles (a refusal ends the request before anything is sent), the
   * question is written, and headers and `start` go out; then each later
   * step, tool call and result, and text.
   */
  private hooks(request: AgentHttpRequest, input: MessageInput, pending: PendingClaim, exchange: ExchangeWrites, writer: AnswerWriter): LoopHooks {
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
      ...this.progressHooks(writer),
    };
  }

  /** Each later step, tool call and result, and text, as the answer's events. */
  private progressHooks(writer: AnswerWriter): Omit<LoopHooks, 'onFirstOutput'> {
    const { config } = this.props;
    return {
      onStep: (step, target) => writer.progress('step', { step, ...servedBy(target) }),
      onText: (delta) => writer.text(delta),
      onToolCall: ({ id, name, input: toolInput, step }) =>
        writer.progress('tool_call', { id, name, input: boundedJson(toolInput, config.limits.toolResultBytes), step }),
      onToolResult: ({ id, name, ok, durationMs, step, error, truncated }) =>
        writer.progress('tool_result', { id, name, ok, durationMs, step, ...(error ? { error } : {}), ...(truncated ? { truncated } : {}) }),
    };
  }

  /** No target produced a first output (or the request was refused): the claim is given back, and the failure answered. */
  private async unanswered(
    input: MessageInput,
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

  private claim(request: AgentHttpRequest, input: MessageInput, state: LoadedState, cancel: AbortController): PendingClaim {
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

  /**
   * Stores the answer with its steps (after `earlier` ones, for a resumed
   * answer), then ends it with what happened to the exchange: store, result,
   * telemetry, response.
   */
  private async finish(
    input: MessageInput,
    outcome: BegunOutcome,
    exchange: ExchangeWrites,
    writer: AnswerWriter,
    summary: Summary,
    earlier: StoredStep[] = [],
  ): Promise<void> {
    const { clock } = this.props;
    const answer = storedAnswer(outcome, earlier, isoTime(clock));
    exchange.write(answer.turn);
    const { stored, approvals } = await this.persist(input, exchange, outcome);
    const latencyMs = clock.now() - input.arrivedAt;
    const result = answerResult(outcome, answer, exchange, latencyMs, stored);
    this.reportCompleted(input, outcome, answer, exchange, summary, { latencyMs, stored });
    endAnswer(writer, input.conversation.id, outcome, result, approvals);
  }

  /**
   * Waits for the exchange's turns to be durable; a paused answer's waiting
   * calls are then held on the conversation, and it counts as stored only
   * once they are.
   */
  private async persist(input: MessageInput, exchange: ExchangeWrites, outcome: BegunOutcome): Promise<{ stored: boolean; approvals?: PendingApprovals }> {
    const stored = await exchange.durable();
    if (outcome.kind !== 'paused') return { stored };
    const approvals = stored ? await this.holdApprovals(input, exchange, outcome) : undefined;
    return { stored: approvals !== undefined, approvals };
  }

  /** The request's log line and metrics: a paused answer the table could not hold counts as a 503, incomplete. */
  private reportCompleted(
    input: MessageInput,
    outcome: BegunOutcome,
    answer: StoredAnswer,
    exchange: ExchangeWrites,
    summary: Summary,
    { latencyMs, stored }: { latencyMs: number; stored: boolean },
  ): void {
    const paused = outcome.kind === 'paused' && !stored;
    this.props.telemetry.requestCompleted({
      ...summary,
      attempts: outcome.attempts,
      text: { question: input.text, answer: outcome.text },
      status: outcome.kind === 'interrupted' ? outcome.status : paused ? 503 : 200,
      path: answer.served.tier,
      target: answer.served,
      timeToFirstTokenMs: outcome.steps[0].timeToFirstTokenMs,
      latencyMs,
      usage: answer.usage,
      stateDegraded: exchange.degraded,
      stored,
      incomplete: outcome.kind === 'interrupted' || paused,
      steps: outcome.steps,
    });
  }

  /** Holds a paused answer's waiting calls on the conversation; undefined when the table could not take them. */
  private async holdApprovals(
    input: MessageInput,
    exchange: ExchangeWrites,
    outcome: Extract<LoopOutcome, { kind: 'paused' }>,
  ): Promise<PendingApprovals | undefined> {
    const { store, telemetry, clock, config } = this.props;
    const claim = exchange.currentClaim;
    if (!claim) return undefined;
    const approvals = pendingApprovals(claim.exchange, exchange.requestId, outcome.approvals, clock.now() + config.limits.approvalTtlSeconds * 1000);
    try {
      await store.holdApprovals(input.conversation.id, claim, approvals);
      return approvals;
    } catch (error) {
      telemetry.stateUnavailable(error);
      return undefined;
    }
  }

  /** Writes one turn; false (and the state degraded) when it could not be stored. */
  private async storeTurn(conversationId: string, claim: Claim, turn: StoredTurn, options?: { overPaused?: boolean }): Promise<boolean> {
    try {
      await this.props.store.putTurn(conversationId, claim, turn, options);
      return true;
    } catch (error) {
      this.props.telemetry.stateUnavailable(error);
      return false;
    }
  }
}

/** Aborted when the client goes away, or by the request itself (a claim refused). */
function cancellationOf(request: AgentHttpRequest): AbortController {
  const cancel = new AbortController();
  request.signal?.addEventListener('abort', () => cancel.abort(), { once: true });
  return cancel;
}

function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
