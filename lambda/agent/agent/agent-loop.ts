/**
 * The loop of one message: call the model (through the fallback chain, with
 * its tiers, breakers, latency ordering and deadlines), run the tools it
 * asks for (in parallel when it asks for several), send the results, call
 * again, until the model ends its turn or `maxSteps` model calls were made.
 *
 * - Each step may fall back to another region or model, but only before
 *   that step's first output: text already sent is never retracted.
 * - The request's budget covers the whole loop: every step and every tool.
 * - A tool runs at most once per tool-use id, whatever the steps after it do.
 * - A step served by another model family never sees the first family's
 *   reasoning (see converse.ts); such a step is a model fallback, flagged
 *   degraded.
 * - A tool call that needs its owner's approval stops the loop before it
 *   runs (`paused`): the step's other calls run, and their results are held
 *   with the step until every approval of it is answered; the loop then
 *   resumes (`resume`), possibly in another region, from the messages as the
 *   model left them.
 */
import type { ChainTarget } from '../config';
import { chainFailure, type ChainFailed } from '../chain/chain-failure';
import type { FallbackChain } from '../chain/fallback-chain';
import { TIERS } from '../config';
import type { Attempt, ChainOutcome, ChatMessage, ContentBlock, InterruptionReason, ModelRequest, Usage } from '../chain/types';
import { appendMessage, userText } from '../chain/types';
import type { ToolCall, ToolOutcome, ToolRunContext, ToolRunner } from './tool-runner';

export interface LoopRequest {
  history: ChatMessage[];
  text: string;
  system?: string;
  maxTokens: number;
  temperature?: number;
  reasoning?: { budgetTokens: number };
  maxSteps: number;
  /** Epoch ms: the end of the request's budget. */
  budgetEnd: number;
  signal: AbortSignal;
  /** Who and where the tools run for; the deadline and signal are the request's (`toolRunContext`). */
  toolContext: Omit<ToolRunContext, 'deadline' | 'signal'>;
  /** Goes on with a paused answer: the model's messages so far (ending with the paused step's results) and the next step's number. */
  resume?: { messages: ChatMessage[]; step: number };
}

export interface LoopHooks {
  /** The request's first model output: headers and `start`. Throwing ends the request. */
  onFirstOutput(target: ChainTarget): Promise<void>;
  /** A later step's first output, naming its target. */
  onStep(step: number, target: ChainTarget): void;
  onText(text: string): void;
  onToolCall(call: ToolCall & { step: number }): void;
  onToolResult(outcome: ToolOutcome & { step: number }): void;
}

/**
 * What one model call of the loop did: the idea of a step. The exchange
 * stores it as a StoredStep (message/stored-exchange.ts: `storedSteps`) and
 * the API shows that as a PublicStep (`publicSteps`).
 */
export interface Step {
  step: number;
  target: ChainTarget;
  text: string;
  stopReason?: string;
  usage?: Usage;
  timeToFirstTokenMs: number;
  tools: ToolOutcome[];
}

interface Ran {
  steps: Step[];
  attempts: Attempt[];
  /** All the text streamed, every step's. */
  text: string;
}

/**
 * - answered: the model ended its turn, or the loop reached maxSteps (`max_steps`);
 * - paused: a tool call waits for approval (`approval_required`); the last step's tools hold the results so far;
 * - interrupted: a step failed after the request's first output; `status` and `code` say how, for JSON answers;
 * - rejected / exhausted: the first step produced nothing (no answer has begun).
 */
export type LoopOutcome =
  | ({ kind: 'answered'; stopReason: string } & Ran)
  | ({ kind: 'paused'; stopReason: typeof APPROVAL_STOP_REASON; approvals: ToolCall[] } & Ran)
  | ({ kind: 'interrupted'; reason: InterruptionReason | 'StepFailed'; code: string; status: number; retryable: boolean; message: string } & Ran)
  | ChainFailed;

export const MAX_STEPS_STOP_REASON = 'max_steps';
export const APPROVAL_STOP_REASON = 'approval_required';
/** Between the texts of two steps, so that the answer reads as paragraphs. */
export const STEP_SEPARATOR = '\n\n';

/** The answer's text: its steps' texts, the empty ones left out, as the loop streams them. */
export function answerTextOf(stepTexts: readonly string[]): string {
  return stepTexts.filter((text) => text !== '').join(STEP_SEPARATOR);
}

export class AgentLoop {
  constructor(
    private readonly chain: FallbackChain,
    private readonly tools: ToolRunner,
  ) {}

  async run(request: LoopRequest, hooks: LoopHooks): Promise<LoopOutcome> {
    const messages: ChatMessage[] = request.resume ? [...request.resume.messages] : [...request.history];
    if (!request.resume) appendMessage(messages, userText(request.text));
    const firstStep = request.resume?.step ?? 1;
    const ran: Ran = { steps: [], attempts: [], text: '' };
    const done = new Map<string, Promise<ToolOutcome>>();
    for (let step = firstStep; ; step += 1) {
      const outcome = await this.callModel(step === firstStep, step, messages, request, ran, hooks);
      ran.attempts.push(...outcome.attempts);
      if (outcome.kind === 'rejected' || outcome.kind === 'exhausted')
        return step === firstStep ? { ...outcome, attempts: ran.attempts } : stepFailed(outcome, ran);
      const record: Step = {
        step,
        target: outcome.target,
        text: outcome.text,
        usage: outcome.usage,
        timeToFirstTokenMs: outcome.timeToFirstTokenMs,
        tools: [],
      };
      ran.steps.push(record);
      if (outcome.kind === 'interrupted')
        return { kind: 'interrupted', reason: outcome.reason, code: 'stream_interrupted', status: 502, retryable: true, message: outcome.message, ...ran };
      record.stopReason = outcome.stopReason;
      appendMessage(messages, outcome.reply);
      const calls = toolUsesOf(outcome.reply.content);
      if (outcome.stopReason !== 'tool_use' || calls.length === 0) return { kind: 'answered', stopReason: outcome.stopReason, ...ran };
      const approvals = await this.awaitingApproval(calls, request);
      const ranTools = await this.runTools(
        calls.filter((call) => !approvals.includes(call)),
        step,
        request,
        done,
        hooks,
      );
      if (approvals.length > 0) {
        // The step's results are held with it, in the order of its calls, until every approval is answered.
        record.tools = calls.map((call) => ranTools.find((outcome) => outcome.id === call.id) ?? this.tools.awaiting(call));
        return { kind: 'paused', stopReason: APPROVAL_STOP_REASON, approvals, ...ran };
      }
      record.tools = ranTools;
      appendMessage(messages, toolResults(record.tools));
      if (step >= request.maxSteps) return { kind: 'answered', stopReason: MAX_STEPS_STOP_REASON, ...ran };
    }
  }

  private callModel(first: boolean, step: number, messages: ChatMessage[], request: LoopRequest, ran: Ran, hooks: LoopHooks): Promise<ChainOutcome> {
    const modelRequest: ModelRequest = {
      messages: [...messages],
      system: request.system,
      tools: this.tools.specs,
      maxTokens: request.maxTokens,
      temperature: request.temperature,
      reasoning: request.reasoning,
    };
    let stepText = '';
    return this.chain.run(modelRequest, {
      firstTokenBy: request.budgetEnd,
      hardDeadline: request.budgetEnd,
      signal: request.signal,
      onFirstToken: async (target) => {
        if (first) await hooks.onFirstOutput(target);
        else hooks.onStep(step, target);
      },
      onDelta: (text) => {
        // An empty delta would put a separator before nothing: the answer must stay its steps' texts, joined.
        if (text === '') return;
        const separator = stepText === '' && ran.text !== '' ? STEP_SEPARATOR : '';
        stepText += text;
        ran.text += separator + text;
        hooks.onText(separator + text);
      },
    });
  }

  /** The calls of a step that wait for approval (each decided on its own input), in the step's order. */
  private async awaitingApproval(calls: ToolCall[], request: LoopRequest): Promise<ToolCall[]> {
    const context = toolRunContext(request);
    const needs = await Promise.all(calls.map((call) => this.tools.needsApproval(call, context)));
    return calls.filter((_, index) => needs[index]);
  }

  /**
   * The step's tool calls, in parallel; a tool-use id already started in this
   * request (in an earlier step, or earlier in this very reply) gets that
   * run's result: the run is registered before it starts, so it runs once.
   */
  private async runTools(
    calls: ToolCall[],
    step: number,
    request: LoopRequest,
    done: Map<string, Promise<ToolOutcome>>,
    hooks: LoopHooks,
  ): Promise<ToolOutcome[]> {
    const context = toolRunContext(request);
    return Promise.all(
      calls.map((call) => {
        const earlier = done.get(call.id);
        if (earlier) return earlier;
        hooks.onToolCall({ ...call, step });
        const outcome = this.tools.run(call, context).then((ran) => {
          hooks.onToolResult({ ...ran, step });
          return ran;
        });
        done.set(call.id, outcome);
        return outcome;
      }),
    );
  }
}

/** Where the request's tools run: its tool context, within its budget, ended with it. */
export function toolRunContext(request: Pick<LoopRequest, 'toolContext' | 'budgetEnd' | 'signal'>): ToolRunContext {
  return { ...request.toolContext, deadline: request.budgetEnd, signal: request.signal };
}

/** The most degraded tier any step was served by: the request's path. */
export function pathOf(steps: readonly Step[]): ChainTarget {
  return steps.reduce((worst, step) => (TIERS.indexOf(step.target.tier) > TIERS.indexOf(worst.target.tier) ? step : worst)).target;
}

function toolUsesOf(content: ContentBlock[]): ToolCall[] {
  return content.flatMap((block) => (block.type === 'toolUse' ? [{ id: block.toolUseId, name: block.name, input: block.input }] : []));
}

export function toolResults(outcomes: ToolOutcome[]): ChatMessage {
  return {
    role: 'user',
    content: outcomes.map((outcome) => ({ type: 'toolResult', toolUseId: outcome.id, status: outcome.ok ? 'success' : 'error', content: outcome.content })),
  };
}

/** A later step that no target could serve: the answer has begun, so it ends with the error its first step would have had. */
function stepFailed(outcome: ChainFailed, ran: Ran): LoopOutcome {
  const { code, status, retryable } = chainFailure(outcome);
  return { kind: 'interrupted', reason: 'StepFailed', code, status, retryable, message: `step ${ran.steps.length + 1}: ${outcome.message}`, ...ran };
}
