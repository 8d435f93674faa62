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
 */
import type { RuntimeConfig } from '../config';
import { boundedJson } from '../bounded-json';
import { AgentLoop, pathOf, type LoopHooks, type LoopOutcome, type StepRecord } from '../agent/agent-loop';
import type { ToolRunner } from '../agent/tool-runner';
import type { Clock, Usage } from '../chain/types';
import { notFound, type ConversationAccess } from '../http/access';
import type { Owner } from '../http/identity';
import { parseIdempotencyKey, parseMessageText, type ConversationId } from '../http/request-schema';
import { answerHeaders, providerLabel, servedBy, type TrackedSink } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import type { FallbackChain } from '../chain/fallback-chain';
import {
  StateUnavailableError,
  type Claim,
  type ConversationRecord,
  type ConversationStore,
  type IdempotencyEntry,
  type StoredTurn,
} from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { answerFormat, answerWriter, type AnswerFormat, type AnswerWriter } from './answer-writer';
import { ExchangeWrites } from './exchange-writes';
import { failureOf, requestInFlight, stateUnavailable } from './failures';
import { historyOf } from './history';
import { PendingClaim } from './pending-claim';
import { replay } from './replay';
import { titleOf } from './title';
import { publicSteps, singleStep, storedSteps } from './stored-exchange';

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
    const { config, clock } = this.props;
    const owner = this.props.access.ownerOf(request);
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
      format: answerFormat(request),
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
      // A deleted conversation stores nothing more, and the model is not called for it.
      if (loaded.deleted) throw notFound(id);
      if (loaded.record) access.check(loaded.record, input.owner, id);
      else access.checkNewConversation(input.conversation);
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
    const cancel = new AbortController();
    request.signal?.addEventListener('abort', () => cancel.abort(), { once: true });
    const pending = this.claim(request, input, state, cancel);
    const writer = answerWriter(request, sink, config.region, input.format);
    const exchange = new ExchangeWrites((claim, turn) => this.storeTurn(conversationId, claim, turn), request.requestId, state.degraded);
    // MCP servers' tool lists, read at the first message and kept for a TTL: a server that cannot answer offers its last list.
    await agent.tools.prepare();

    const outcome = await this.loop.run(
      {
        history: historyOf(state.turns, { budgetBytes: config.table.historyBytes, withTools: agent.tools.specs.length > 0 }),
        text: input.text,
        system: agent.instructions,
        maxTokens: config.inference.maxTokens,
        temperature: config.inference.temperature,
        reasoning: agent.reasoning,
        maxSteps: agent.maxSteps,
        budgetEnd: input.budgetEnd,
        signal: cancel.signal,
        tools: { conversationId, caller: input.owner.callerId ?? input.owner.id, endUser: input.owner.endUser, region: config.region },
      },
      this.hooks(request, input, pending, exchange, writer),
    );

    const summary: Summary = {
      requestId: request.requestId,
      conversationId,
      caller: input.owner.caller,
      ...(input.owner.endUser ? { endUser: input.owner.endUser } : {}),
      clientGone: request.signal?.aborted ?? false,
    };
    if (outcome.kind === 'rejected' || outcome.kind === 'exhausted') return this.unanswered(input, state, outcome, pending, summary);
    await this.finish(input, outcome, exchange, writer, summary);
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
        // Without a claim, a retry of a keyed request could not find this one's answer, and would run the tools again.
        unreachable: () => (input.idempotencyKey !== undefined ? stateUnavailable() : undefined),
        onRefused: () => cancel.abort(),
      },
      state.degraded,
    );
  }

  /** Stores the answer with its steps, then ends it with what happened to the exchange. */
  private async finish(
    input: MessageInput,
    outcome: Extract<LoopOutcome, { kind: 'answered' | 'interrupted' }>,
    exchange: ExchangeWrites,
    writer: AnswerWriter,
    summary: Summary,
  ): Promise<void> {
    const { clock, telemetry } = this.props;
    const served = pathOf(outcome.steps);
    const usage = totalUsage(outcome.steps);
    const steps = storedSteps(outcome.steps);
    const stopReason = outcome.kind === 'answered' ? outcome.stopReason : undefined;
    exchange.write({
      role: 'assistant',
      text: outcome.text,
      time: isoTime(clock),
      region: served.region,
      path: served.tier,
      model: served.modelId,
      ...(served.provider ? { provider: providerLabel(served.provider) } : {}),
      ...(usage ? { usage } : {}),
      ...(steps ? { steps } : {}),
      ...(stopReason ? { stopReason } : { incomplete: true }),
    });
    const stored = await exchange.durable();
    const latencyMs = clock.now() - input.arrivedAt;
    const timeToFirstTokenMs = outcome.steps[0].timeToFirstTokenMs;
    const result = {
      turn: exchange.turn,
      ...servedBy(served),
      usage: usage ?? null,
      latencyMs,
      timeToFirstTokenMs,
      stored,
      state: exchange.state,
      steps: publicSteps(
        steps ?? [
          singleStep({
            path: served.tier,
            model: served.modelId,
            region: served.region,
            provider: served.provider && providerLabel(served.provider),
            text: outcome.text,
            stopReason,
          }),
        ],
      ),
    };
    telemetry.requestCompleted({
      ...summary,
      attempts: outcome.attempts,
      text: { question: input.text, answer: outcome.text },
      status: outcome.kind === 'answered' ? 200 : outcome.status,
      path: served.tier,
      target: served,
      timeToFirstTokenMs,
      latencyMs,
      usage,
      stateDegraded: exchange.degraded,
      stored,
      incomplete: outcome.kind === 'interrupted',
      steps: outcome.steps,
    });
    const conversationId = input.conversation.id;
    if (outcome.kind === 'answered') writer.end({ kind: 'answered', conversationId, text: outcome.text, stopReason: outcome.stopReason, result });
    else writer.end({ kind: 'interrupted', conversationId, text: outcome.text, code: outcome.code, status: outcome.status, message: outcome.message, result });
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

/** Every step's tokens, summed; undefined when no step reported any. */
function totalUsage(steps: readonly StepRecord[]): Usage | undefined {
  const reported = steps.flatMap((step) => (step.usage ? [step.usage] : []));
  if (reported.length === 0) return undefined;
  return reported.reduce((sum, usage) => ({ inputTokens: sum.inputTokens + usage.inputTokens, outputTokens: sum.outputTokens + usage.outputTokens }));
}

function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
