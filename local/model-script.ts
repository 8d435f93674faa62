/**
 * Scripted answers of the emulated models: a queue of turns (a text, tool
 * calls with given inputs, or an error) that the Bedrock and provider
 * emulators hand out, one per model call, before they fall back to their
 * default answers (bedrock-model.ts). Each turn may be scoped to a region,
 * a provider or a model, so that a test can drive one target while the
 * others answer as usual. One script belongs to one local deployment.
 */
import { randomUUID } from 'node:crypto';
import type { AnswerBlock, ModelAnswer } from './bedrock-model';

/** One scripted answer of the model. */
export type ScriptedTurn =
  /** Answer this text and end the turn. */
  | { text: string }
  /** Call these tools (in one step), after an optional text; `id` defaults to a fresh tool-use id. */
  | { toolCalls: ReadonlyArray<{ name: string; input?: unknown; id?: string }>; text?: string }
  /** Refuse the call with this status (429 throttled, 503 unavailable…), as the service would. */
  | { error: { status: number; message?: string } };

/** Which calls a scripted turn answers; every field left out matches any call. */
export interface ScriptScope {
  /** A Bedrock endpoint's region (the calls of outside providers have none). */
  region?: string;
  /** `bedrock`, `openai` or `anthropic`. */
  service?: ModelService;
  /** The model id exactly as called (e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`, `gpt-4o`). */
  model?: string;
}

/** Which emulated model service a call went to. */
export type ModelService = 'bedrock' | 'openai' | 'anthropic';

/** A model call asking for its answer. */
export interface ScriptedCall {
  service: ModelService;
  /** The Bedrock endpoint's region; undefined for outside providers. */
  region?: string;
  model: string;
}

/** What a scripted turn makes of a call: an answer, or a refusal. */
export type ScriptedReply = { kind: 'answer'; answer: ModelAnswer } | { kind: 'error'; status: number; message: string };

interface Entry {
  turn: ScriptedTurn;
  scope: ScriptScope;
}

export class ModelScript {
  private entries: Entry[] = [];

  /** Queues the turns, in order, after those already queued. */
  add(turns: readonly ScriptedTurn[], scope: ScriptScope = {}): void {
    for (const turn of turns) this.entries.push({ turn: checkTurn(turn), scope: { ...scope } });
  }

  /** The first queued turn whose scope matches the call, removed from the queue, as the call's reply. */
  take(call: ScriptedCall): ScriptedReply | undefined {
    const index = this.entries.findIndex(({ scope }) => matches(scope, call));
    if (index < 0) return undefined;
    const [{ turn }] = this.entries.splice(index, 1);
    return replyOf(turn, call);
  }

  /** How many turns are still queued. */
  get pending(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
  }
}

function matches(scope: ScriptScope, call: ScriptedCall): boolean {
  return (
    (scope.service === undefined || scope.service === call.service) &&
    (scope.region === undefined || scope.region === call.region) &&
    (scope.model === undefined || scope.model === call.model)
  );
}

/** A turn of exactly one kind, with what it needs; a test's typo fails where it is written, not as a puzzling answer. */
function checkTurn(turn: ScriptedTurn): ScriptedTurn {
  // A text may come with tool calls (said before calling them), never with an error.
  if ('error' in turn && ('text' in turn || 'toolCalls' in turn)) throw new TypeError('a scripted turn is text, toolCalls or error, not an error with more');
  if ('error' in turn) {
    if (!Number.isInteger(turn.error.status) || turn.error.status < 400 || turn.error.status > 599) {
      throw new TypeError(`a scripted error's status must be an HTTP error status (400-599), got ${turn.error.status}`);
    }
  } else if ('toolCalls' in turn) {
    if (turn.toolCalls.length === 0) throw new TypeError('a scripted turn of toolCalls needs at least one call');
    for (const call of turn.toolCalls) if (!call.name) throw new TypeError('a scripted tool call needs the tool name');
  } else if (typeof (turn as { text?: unknown }).text !== 'string') {
    throw new TypeError('a scripted turn needs text, toolCalls or error');
  }
  return turn;
}

function replyOf(turn: ScriptedTurn, call: ScriptedCall): ScriptedReply {
  if ('error' in turn) return { kind: 'error', status: turn.error.status, message: turn.error.message ?? `Scripted ${turn.error.status} from ${call.model}` };
  if (!('toolCalls' in turn)) return { kind: 'answer', answer: { blocks: [{ kind: 'text', text: turn.text }], stopReason: 'end_turn' } };
  const blocks: AnswerBlock[] = turn.text ? [{ kind: 'text', text: turn.text }] : [];
  for (const { name, input, id } of turn.toolCalls) {
    blocks.push({ kind: 'toolUse', toolUseId: id ?? `tooluse_${randomUUID().replace(/-/g, '')}`, name, input: input ?? {} });
  }
  return { kind: 'answer', answer: { blocks, stopReason: 'tool_use' } };
}
