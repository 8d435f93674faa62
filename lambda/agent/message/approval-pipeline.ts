/**
 * The approvals route, as a pipeline of small steps:
 *
 *   parse → load (the conversation and its waiting calls) → record the
 *   owner's answer with one conditional write → 202 while other calls wait,
 *   or resume the paused answer: run the decided calls, go on with the loop,
 *   and finish it as a message's answer (answer-steps.ts).
 *
 * An answer pauses for approvals in a message's loop (see approvals.ts); the
 * answer to its last waiting call resumes it here, in any region of the
 * jurisdiction, and streams the rest of it as a message's answer.
 */
import { toolRunContext, type LoopHooks, type LoopRequest } from '../agent/agent-loop';
import type { ToolOutcome } from '../agent/tool-runner';
import { notFound } from '../http/access';
import { parseApprovalBody, type ConversationId } from '../http/request-schema';
import { answerHeaders, servedBy, type TrackedSink } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import {
  ApprovalAnsweredError,
  ApprovalNotFoundError,
  ConversationClaimedError,
  type ApprovalAnswer,
  type Claim,
  type ConversationRecord,
  type PendingApprovals,
  type StoredStep,
  type StoredTurn,
} from '../store/conversation-store';
import { answerWriter, type AnswerWriter } from './answer-writer';
import { AnswerSteps, cancellationOf, isoTime, summaryOf, type AnswerInput, type PipelineProps } from './answer-steps';
import { ExchangeWrites } from './exchange-writes';
import { failureOf, whileAvailable } from './failures';
import { storedToolCall } from './stored-exchange';
import {
  approvalAnswered,
  completedStep,
  decisionOf,
  pausedExchangeOf,
  resumedMessages,
  toDecision,
  unknownToolUse,
  unresumedAnswer,
  waitingCalls,
} from './approvals';

export class ApprovalPipeline {
  private readonly steps: AnswerSteps;

  constructor(private readonly props: PipelineProps) {
    this.steps = new AnswerSteps(props);
  }

  /**
   * POST /v1/conversations/{id}/approvals/{toolUseId}: the owner's answer is
   * recorded with one conditional write (of two answers racing from two
   * regions, one is recorded; the other gets a 409 saying what was). The
   * answer to the last waiting call runs the approved calls and goes on
   * with the loop here, streaming the rest of the answer as a message's;
   * an answer to one of several waiting calls is a 202.
   */
  async handle(request: AgentHttpRequest, conversation: ConversationId, toolUseId: string, sink: TrackedSink): Promise<void> {
    const { config, clock, store, access } = this.props;
    const owner = access.ownerOf(request);
    const body = parseApprovalBody(request.body);
    const input: AnswerInput = { ...this.steps.arrival(request, conversation, owner), text: '' };
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

  private async answerApproval(input: AnswerInput, answer: ApprovalAnswer): Promise<PendingApprovals> {
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
    input: AnswerInput,
    record: ConversationRecord,
    turns: StoredTurn[],
    approvals: PendingApprovals,
    sink: TrackedSink,
  ): Promise<void> {
    const { config } = this.props;
    const { id } = input.conversation;
    const { question, paused, steps } = await this.pausedExchange(id, record, approvals);
    input.text = question.text;
    const loopRequest = this.steps.loopRequest(input, cancellationOf(request).signal);
    const last = steps.at(-1)!;
    const decided = await this.runDecided(last, approvals, loopRequest);
    const earlier = [...steps.slice(0, -1), completedStep(last, decided.map(storedToolCall))];
    const exchange = this.resumedExchange(request, id, record, approvals);
    const writer = answerWriter(request, sink, config.region, input.format);
    const history = this.steps.history(turns.filter((turn) => turn.exchange < approvals.exchange));
    const outcome = await this.steps.run(
      { ...loopRequest, history: [], text: question.text, resume: { messages: resumedMessages(history, question, earlier), step: last.step + 1 } },
      this.resumedHooks(request, id, exchange, writer, { calls: decided, step: last.step }),
    );
    const summary = summaryOf(request, input);
    if (outcome.kind !== 'rejected' && outcome.kind !== 'exhausted') return this.steps.finish(input, outcome, exchange, writer, summary, earlier);
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
    const exchange = new ExchangeWrites((held, turn) => this.steps.storeTurn(id, held, turn, { overPaused: true }), request.requestId, false, 1);
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
    const progress = this.steps.progressHooks(writer);
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
}
