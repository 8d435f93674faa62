/**
 * The stored answer of a retried request (same Idempotency-Key), sent again
 * as it was: its tool calls and results, its text, and how it ended. No
 * model and no tool is called.
 */
import { boundedJson } from '../bounded-json';
import { AgentHeader, answerHeaders, servedBy, type ServedBy } from '../http/responses';
import type { AgentHttpRequest } from '../http/types';
import { STEP_SEPARATOR } from '../agent/agent-loop';
import type { StoredStep, StoredTurn } from '../store/conversation-store';
import type { AnswerWriter } from './answer-writer';
import { publicSteps, singleStep } from './stored-exchange';

export interface ReplayContext {
  request: AgentHttpRequest;
  conversationId: string;
  writer: AnswerWriter;
  runtimeRegion: string;
  latencyMs: number;
  /** The bound on tool data echoed in events (limits.toolResultBytes). */
  toolBytes: number;
}

export function replay(answer: StoredTurn, { request, conversationId, writer, runtimeRegion, latencyMs, toolBytes }: ReplayContext): void {
  const target: ServedBy = servedBy({ tier: answer.path ?? 'primary', modelId: answer.model ?? '', region: answer.region, provider: answer.provider });
  const base = { turn: answer.exchange, ...target, state: 'ok', replayed: true };
  writer.begin({
    headers: { ...answerHeaders(request, runtimeRegion, target, false), [AgentHeader.replayed]: 'true' },
    event: { conversationId, ...base, requestId: request.requestId },
  });
  const steps = answer.steps ?? [singleStep(answer)];
  // Each step's text where it was said (before the step's tool calls), as the loop sent it, unless the steps' texts do not make up the answer's.
  const deltas = stepDeltas(steps);
  const textPerStep = deltas.join('') === answer.text;
  for (const [index, step] of steps.entries()) {
    if (step.step > 1)
      writer.progress('step', { step: step.step, ...servedBy({ tier: step.path, modelId: step.model, region: step.region, provider: step.provider }) });
    if (textPerStep && deltas[index]) writer.text(deltas[index]);
    for (const tool of step.tools ?? []) {
      writer.progress('tool_call', { id: tool.id, name: tool.name, input: boundedJson(tool.input, toolBytes), step: step.step });
      writer.progress('tool_result', {
        id: tool.id,
        name: tool.name,
        ok: tool.ok,
        durationMs: tool.durationMs,
        step: step.step,
        ...(tool.error ? { error: tool.error } : {}),
      });
    }
  }
  if (!textPerStep && answer.text) writer.text(answer.text);
  const result = { ...base, usage: answer.usage ?? null, latencyMs, timeToFirstTokenMs: null, stored: true, steps: publicSteps(steps) };
  if (answer.incomplete)
    writer.end({
      kind: 'interrupted',
      conversationId,
      text: answer.text,
      code: 'stream_interrupted',
      status: 502,
      message: 'the stored answer was cut short',
      result,
      // The same key replays the same stored answer until it expires: only a new key (a new message) can do better.
      retryable: false,
    });
  else writer.end({ kind: 'answered', conversationId, text: answer.text, stopReason: answer.stopReason ?? 'end_turn', result });
}

/** Each step's text with the separator the loop put before it (between two steps that said something). */
function stepDeltas(steps: readonly StoredStep[]): string[] {
  let said = false;
  return steps.map((step) => {
    if (!step.text) return '';
    const delta = said ? STEP_SEPARATOR + step.text : step.text;
    said = true;
    return delta;
  });
}
