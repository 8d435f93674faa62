/**
 * The steps every answer takes, whichever route it comes by (a new message,
 * message-pipeline.ts; the answer to a paused answer's last approval,
 * approval-pipeline.ts): its deadlines from arrival, the loop's request and
 * the events of its progress, and the end of it (store the answer, hold a
 * paused answer's waiting calls, report, end the response).
 */
import type { RuntimeConfig } from '../config';
import { boundedJson } from '../bounded-json';
import { AgentLoop, type LoopHooks, type LoopOutcome, type LoopRequest } from '../agent/agent-loop';
import type { ToolRunner } from '../agent/tool-runner';
import type { ChatMessage, Clock } from '../chain/types';
import type { ConversationAccess } from '../http/access';
import type { Owner } from '../http/identity';
import type { ConversationId } from '../http/request-schema';
import { servedBy } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import type { FallbackChain } from '../chain/fallback-chain';
import type { Claim, ConversationStore, PendingApprovals, StoredStep, StoredTurn } from '../store/conversation-store';
import type { Telemetry } from '../telemetry';
import { answerResult, endAnswer, storedAnswer, type BegunOutcome, type StoredAnswer } from './answer-end';
import { answerFormat, type AnswerFormat, type AnswerWriter } from './answer-writer';
import type { ExchangeWrites } from './exchange-writes';
import { historyOf } from './history';
import { pendingApprovals } from './approvals';

/** The agent a runtime hosts: its instructions and loop settings, and its tools (in code and Lambda functions). */
export interface HostedAgent {
  instructions?: string;
  maxSteps: number;
  reasoning?: { budgetTokens: number };
  tools: ToolRunner;
}

/** What the message and approval pipelines are given. */
export interface PipelineProps {
  config: RuntimeConfig;
  store: ConversationStore;
  chain: FallbackChain;
  agent: HostedAgent;
  telemetry: Telemetry;
  clock: Clock;
  access: ConversationAccess;
}

/** A parsed request to answer: a message, or the approval that resumes a paused one (its question). */
export interface AnswerInput {
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

/** The request's identity in its log line. */
export type Summary = { requestId: string; conversationId: string; caller: string; endUser?: string; clientGone: boolean };

export function summaryOf(request: AgentHttpRequest, input: { conversation: ConversationId; owner: Owner }): Summary {
  return {
    requestId: request.requestId,
    conversationId: input.conversation.id,
    caller: input.owner.caller,
    ...(input.owner.endUser ? { endUser: input.owner.endUser } : {}),
    clientGone: request.signal?.aborted ?? false,
  };
}

export class AnswerSteps {
  private readonly loop: AgentLoop;

  constructor(private readonly props: PipelineProps) {
    this.loop = new AgentLoop(props.chain, props.agent.tools);
  }

  /** The request's owner, rendering and deadlines; every deadline counts from its arrival. */
  arrival(request: AgentHttpRequest, conversation: ConversationId, owner: Owner): Omit<AnswerInput, 'text' | 'idempotencyKey'> {
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

  /** What the model is sent of these past turns. */
  history(turns: StoredTurn[]): ChatMessage[] {
    const { config, agent } = this.props;
    return historyOf(turns, { budgetBytes: config.table.historyBytes, withTools: agent.tools.specs.length > 0 });
  }

  /** What every run of the loop for this request shares: the agent, the budget, the tools' context. */
  loopRequest(input: AnswerInput, signal: AbortSignal): Omit<LoopRequest, 'history' | 'text'> {
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

  /** Runs the agent loop: model calls and tool runs, reported through the hooks. */
  run(request: LoopRequest, hooks: LoopHooks): Promise<LoopOutcome> {
    return this.loop.run(request, hooks);
  }

  /** Each later step, tool call and result, and text, as the answer's events. */
  progressHooks(writer: AnswerWriter): Omit<LoopHooks, 'onFirstOutput'> {
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

  /**
   * Stores the answer with its steps (after `earlier` ones, for a resumed
   * answer), then ends it with what happened to the exchange: store, result,
   * telemetry, response.
   */
  async finish(
    input: AnswerInput,
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

  /** Writes one turn; false (and the state degraded) when it could not be stored. */
  async storeTurn(conversationId: string, claim: Claim, turn: StoredTurn, options?: { overPaused?: boolean }): Promise<boolean> {
    try {
      await this.props.store.putTurn(conversationId, claim, turn, options);
      return true;
    } catch (error) {
      this.props.telemetry.stateUnavailable(error);
      return false;
    }
  }

  /**
   * Waits for the exchange's turns to be durable; a paused answer's waiting
   * calls are then held on the conversation, and it counts as stored only
   * once they are.
   */
  private async persist(input: AnswerInput, exchange: ExchangeWrites, outcome: BegunOutcome): Promise<{ stored: boolean; approvals?: PendingApprovals }> {
    const stored = await exchange.durable();
    if (outcome.kind !== 'paused') return { stored };
    const approvals = stored ? await this.holdApprovals(input, exchange, outcome) : undefined;
    return { stored: approvals !== undefined, approvals };
  }

  /** The request's log line and metrics: a paused answer the table could not hold counts as a 503, incomplete. */
  private reportCompleted(
    input: AnswerInput,
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
    input: AnswerInput,
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
}

/** Aborted when the client goes away, or by the request itself (a claim refused). */
export function cancellationOf(request: AgentHttpRequest): AbortController {
  const cancel = new AbortController();
  request.signal?.addEventListener('abort', () => cancel.abort(), { once: true });
  return cancel;
}

export function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
