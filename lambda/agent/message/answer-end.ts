/**
 * How an answer that began ends, in named steps: the answer turn stored
 * with its steps (`storedAnswer`), the result every rendering carries
 * (`answerResult`), and the end the client reads (`endAnswer`): `done`, or
 * `error` for an answer cut short or one whose waiting calls the table
 * could not hold.
 */
import { answerTextOf, pathOf, type LoopOutcome, type Step } from '../agent/agent-loop';
import type { Usage } from '../chain/types';
import type { ChainTarget } from '../config';
import { providerLabel, servedBy } from '../http/responses';
import type { PendingApprovals, StoredStep, StoredTurn } from '../store/conversation-store';
import type { AnswerWriter } from './answer-writer';
import { approvalEvent } from './approvals';
import { publicSteps, singleStep, storedSteps } from './stored-exchange';

/** A loop that produced an answer, whole or not. */
export type BegunOutcome = Extract<LoopOutcome, { kind: 'answered' | 'interrupted' | 'paused' }>;

/** The answer turn to store, and what it was made of. */
export interface StoredAnswer {
  turn: Omit<StoredTurn, 'exchange' | 'requestId'>;
  /** The most degraded target a step was served by: the answer's path. */
  served: ChainTarget;
  usage?: Usage;
  /** Undefined for a plain answer (one step, no tools), stored as before steps existed. */
  steps?: StoredStep[];
  stopReason?: string;
}

/** The answer turn: after `earlier` steps for a resumed answer; without a stop reason, it is stored incomplete. */
export function storedAnswer(outcome: BegunOutcome, earlier: readonly StoredStep[], time: string): StoredAnswer {
  const served = pathOf(outcome.steps);
  const usage = totalUsage(outcome.steps);
  const steps = earlier.length > 0 ? [...earlier, ...storedSteps(outcome.steps, true)!] : storedSteps(outcome.steps);
  const stopReason = outcome.kind === 'interrupted' ? undefined : outcome.stopReason;
  const turn: StoredAnswer['turn'] = {
    role: 'assistant',
    text: steps && earlier.length > 0 ? answerTextOf(steps.map((step) => step.text)) : outcome.text,
    time,
    region: served.region,
    path: served.tier,
    model: served.modelId,
    ...(served.provider ? { provider: providerLabel(served.provider) } : {}),
    ...(usage ? { usage } : {}),
    ...(steps ? { steps } : {}),
    ...(stopReason ? { stopReason } : { incomplete: true }),
  };
  return { turn, served, usage, steps, stopReason };
}

/** What `done` (or `error`) and a JSON answer carry about the answer. */
export function answerResult(
  outcome: BegunOutcome,
  answer: StoredAnswer,
  exchange: { turn: number | null; state: 'ok' | 'degraded' },
  latencyMs: number,
  stored: boolean,
): Record<string, unknown> {
  const { served } = answer;
  return {
    turn: exchange.turn,
    ...servedBy(served),
    usage: answer.usage ?? null,
    latencyMs,
    timeToFirstTokenMs: outcome.steps[0].timeToFirstTokenMs,
    stored,
    state: exchange.state,
    steps: publicSteps(
      answer.steps ?? [
        singleStep({
          path: served.tier,
          model: served.modelId,
          region: served.region,
          provider: served.provider && providerLabel(served.provider),
          text: outcome.text,
          stopReason: answer.stopReason,
        }),
      ],
    ),
  };
}

/**
 * Ends the answer: an interrupted one with its error; a paused one with an
 * `approval_required` per waiting call once the table holds them (an
 * approval never arrives for calls the table does not know), or with an
 * error when it could not hold them; an answered one with `done`.
 */
export function endAnswer(
  writer: AnswerWriter,
  conversationId: string,
  outcome: BegunOutcome,
  result: Record<string, unknown>,
  approvals: PendingApprovals | undefined,
): void {
  const { text } = outcome;
  if (outcome.kind === 'interrupted') {
    const { code, status, retryable, message } = outcome;
    writer.end({ kind: 'interrupted', conversationId, text, code, status, retryable, message, result });
  } else if (outcome.kind === 'paused' && !approvals) {
    // Nobody could approve calls the table does not hold: say so, rather than ask for an approval that would be a 404.
    const message = 'a tool call needs approval, and the conversation store could not hold it; send the message again shortly';
    writer.end({ kind: 'interrupted', conversationId, text, code: 'state_unavailable', status: 503, retryable: true, message, result });
  } else {
    const step = outcome.steps.at(-1)!.step;
    const waiting = outcome.kind === 'paused' ? outcome.approvals.map((call) => approvalEvent(call, step, approvals!.expiresAtMs)) : [];
    for (const event of waiting) writer.progress('approval_required', event);
    writer.end({
      kind: 'answered',
      conversationId,
      text,
      stopReason: outcome.stopReason,
      result: { ...result, ...(waiting.length > 0 ? { approvals: waiting } : {}) },
    });
  }
}

/** Every step's tokens, summed; undefined when no step reported any. */
function totalUsage(steps: readonly Step[]): Usage | undefined {
  const reported = steps.flatMap((step) => (step.usage ? [step.usage] : []));
  if (reported.length === 0) return undefined;
  return reported.reduce((sum, usage) => ({ inputTokens: sum.inputTokens + usage.inputTokens, outputTokens: sum.outputTokens + usage.outputTokens }));
}
