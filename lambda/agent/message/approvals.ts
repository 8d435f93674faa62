/**
 * Tool calls that wait for their owner's approval (see docs/http-api.md,
 * Approvals): what a paused answer stores, the answers of the approval
 * route, and the model's messages a resumed answer goes on from.
 *
 * A paused answer is stored as its exchange's answer (stop reason
 * `approval_required`, the waiting calls marked `awaitingApproval`), and
 * the calls it waits on on the conversation item (PendingApprovals). The
 * answer that decides the last waiting call resumes the loop, in whichever
 * region of the jurisdiction took it, and writes the exchange's answer over
 * the paused one.
 */
import { answerTextOf, APPROVAL_STOP_REASON, type Step } from '../agent/agent-loop';
import type { ApprovalDecision, ToolCall } from '../agent/tool-runner';
import { userText, type ChatMessage } from '../chain/types';
import { HttpError } from '../http/http-error';
import type { ApprovalBody } from '../http/request-schema';
import type { ApprovalCall, PendingApprovals, StoredStep, StoredToolCall, StoredTurn } from '../store/conversation-store';
import { exchangeSoFar } from './history';

/** What the conversation item records of a paused answer's waiting calls. */
export function pendingApprovals(exchange: number, requestId: string, calls: readonly ToolCall[], expiresAtMs: number): PendingApprovals {
  return { exchange, requestId, expiresAtMs, undecided: calls.length, calls: Object.fromEntries(calls.map((call) => [call.id, { tool: call.name }])) };
}

/** The `approval_required` event of one waiting call. */
export function approvalEvent(call: ToolCall, step: Step['step'], expiresAtMs: number) {
  return { toolUseId: call.id, tool: call.name, input: call.input, step, expiresAt: new Date(expiresAtMs).toISOString() };
}

/** What the owner's answer records: an answer after the expiry is recorded as `expired`, whatever it said. */
export function decisionOf(body: ApprovalBody, approvals: PendingApprovals, nowMs: number): { decision: ApprovalCall['decision'] & string; reason?: string } {
  if (nowMs >= approvals.expiresAtMs) return { decision: 'expired' };
  if (body.approved) return { decision: 'approved' };
  return { decision: 'denied', ...(body.reason !== undefined && body.reason.trim() !== '' ? { reason: body.reason.trim() } : {}) };
}

/** A recorded answer as the tool runner takes it; a call left unanswered reads as expired. */
export function toDecision(call: ApprovalCall | undefined): ApprovalDecision {
  if (call?.decision === 'approved') return { kind: 'approved' };
  if (call?.decision === 'denied') return { kind: 'denied', ...(call.reason ? { reason: call.reason } : {}) };
  return { kind: 'expired' };
}

/** The paused answer's last step: the calls that wait, and those that ran (their results held). */
export function waitingCalls(step: StoredStep): ToolCall[] {
  return (step.tools ?? []).filter((tool) => tool.awaitingApproval).map(({ id, name, input }) => ({ id, name, input }));
}

/** The paused step with every call's result: the held ones as stored, the decided ones as they came out. */
export function completedStep(step: StoredStep, decided: readonly StoredToolCall[]): StoredStep {
  return { ...step, tools: (step.tools ?? []).map((tool) => decided.find((call) => call.id === tool.id) ?? tool) };
}

/** The exchange of a paused answer: its question and the answer paused for approval; undefined when it is not one (any more). */
export function pausedExchangeOf(turns: readonly StoredTurn[]): { question: StoredTurn; paused: StoredTurn; steps: StoredStep[] } | undefined {
  const question = turns.find((turn) => turn.role === 'user');
  const paused = turns.find((turn) => turn.role === 'assistant');
  if (!question || !paused?.steps || paused.stopReason !== APPROVAL_STOP_REASON) return undefined;
  return { question, paused, steps: paused.steps };
}

/** A resumed answer no model could go on with: the decided calls ran, so their results are stored with the exchange, incomplete. */
export function unresumedAnswer(paused: StoredTurn, earlier: StoredStep[], time: string): Omit<StoredTurn, 'exchange' | 'requestId'> {
  return { ...paused, stopReason: undefined, incomplete: true, steps: earlier, time, text: answerTextOf(earlier.map((step) => step.text)) };
}

/** The model's messages a resumed answer goes on from: the history before the exchange, its question, and its steps so far. */
export function resumedMessages(history: ChatMessage[], question: StoredTurn, steps: readonly StoredStep[]): ChatMessage[] {
  return [...history, userText(question.text), ...exchangeSoFar(steps)];
}

/** 409 for a new message while a call waits: it names the calls to answer first. */
export function approvalPending(approvals: PendingApprovals): HttpError {
  const waiting = Object.entries(approvals.calls).filter(([, call]) => call.decision === undefined);
  const named = waiting.map(([id, call]) => `${call.tool} (${id})`).join(', ');
  return new HttpError(409, 'approval_pending', `the conversation waits for approval of ${named}; approve or deny it first (POST .../approvals/{toolUseId})`, {
    pending: waiting.map(([toolUseId, call]) => ({ toolUseId, tool: call.tool })),
    expiresAt: new Date(approvals.expiresAtMs).toISOString(),
  });
}

/** 409 for an answer to a call answered already: what happened, when, and where. */
export function approvalAnswered(call: ApprovalCall & { toolUseId: string }): HttpError {
  return new HttpError(409, 'approval_answered', `tool use ${call.toolUseId} was ${call.decision ?? 'answered'} already`, {
    toolUseId: call.toolUseId,
    tool: call.tool,
    decision: call.decision ?? null,
    answeredAt: call.answeredAt ?? null,
    answeredRegion: call.answeredRegion ?? null,
  });
}

/** 404 for a call the conversation does not wait on (never asked, or asked in an answer paused since). */
export function unknownToolUse(conversationId: string, toolUseId: string): HttpError {
  return new HttpError(404, 'not_found', `conversation ${conversationId} has no tool use ${toolUseId} waiting for approval`);
}
