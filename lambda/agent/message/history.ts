/**
 * What the model is sent of a conversation's past: its complete exchanges,
 * newest kept first within a byte budget, so that a long conversation never
 * turns every later message into a request the model refuses as too long.
 * An exchange that used tools is given back as it happened (each step's
 * tool uses and their results, while the agent has tools), whichever
 * region or model served it; reasoning is not stored, so no model ever sees
 * another's. An interrupted answer whose tools ran is given back too, marked
 * interrupted: the model must know those tools ran (a refund was issued) and
 * not ask for them again.
 * A call of a paused answer that was never approved reads as denied
 * ("denied: approval expired"): a new message is only taken once it expired.
 */
import { contentOf, deniedMessage } from '../agent/tool-runner';
import { appendMessage, userText, type ChatMessage, type ContentBlock } from '../chain/types';
import type { StoredStep, StoredTurn } from '../store/conversation-store';

export interface HistoryOptions {
  /** The most UTF-8 bytes (of the messages as JSON) the history may take. */
  budgetBytes: number;
  /**
   * Whether the agent has tools now. Without them, Bedrock refuses tool
   * blocks, so an exchange is given back as its answer's text alone (its
   * steps' texts, joined): past tool uses and their results are left out.
   */
  withTools: boolean;
}

/** Said after an interrupted answer's last words, so that the model knows the answer stopped there. */
export const INTERRUPTED_NOTE = '[This answer was interrupted here. The tool calls above did run; their results stand.]';
/** The same, for an agent without tools now: its past tool calls are left out of the history, but they did run. */
export const INTERRUPTED_NOTE_WITHOUT_TOOLS = '[This answer was interrupted here, after calling tools that did run; their results are not shown.]';

/** Past exchanges with both a question and an answer (complete, or interrupted after running tools), as model messages. */
export function historyOf(turns: StoredTurn[], options: HistoryOptions): ChatMessage[] {
  const exchanges = completeExchanges(turns).map(({ user, assistant }) => exchangeMessages(user, assistant, options.withTools));
  const kept: ChatMessage[][] = [];
  let bytes = 0;
  for (const messages of exchanges.reverse()) {
    bytes += Buffer.byteLength(JSON.stringify(messages));
    if (bytes > options.budgetBytes) break;
    kept.unshift(messages);
  }
  const history: ChatMessage[] = [];
  for (const message of kept.flat()) appendMessage(history, message);
  return history;
}

function completeExchanges(turns: StoredTurn[]): Array<{ user: StoredTurn; assistant: StoredTurn }> {
  const byExchange = new Map<number, { user?: StoredTurn; assistant?: StoredTurn }>();
  for (const turn of turns) {
    const pair = byExchange.get(turn.exchange) ?? {};
    pair[turn.role] = turn;
    byExchange.set(turn.exchange, pair);
  }
  return [...byExchange.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, { user, assistant }]) =>
      user && assistant && (assistant.incomplete ? ranTools(assistant) : assistant.text || assistant.steps) ? [{ user, assistant }] : [],
    );
}

function ranTools(answer: StoredTurn): boolean {
  return (answer.steps ?? []).some((step) => (step.tools ?? []).length > 0);
}

function exchangeMessages(user: StoredTurn, assistant: StoredTurn, withTools: boolean): ChatMessage[] {
  const question = userText(user.text);
  const noteText = withTools ? INTERRUPTED_NOTE : INTERRUPTED_NOTE_WITHOUT_TOOLS;
  const note: ChatMessage[] = assistant.incomplete ? [{ role: 'assistant', content: [{ type: 'text', text: noteText }] }] : [];
  if (!assistant.steps || !withTools) return [question, { role: 'assistant', content: [{ type: 'text', text: assistant.text }] }, ...note];
  return [question, ...exchangeSoFar(assistant.steps), ...note].filter((message) => message.content.length > 0);
}

/** An answer's steps as the model's messages: each step's text and tool uses, then their results. */
export function exchangeSoFar(steps: readonly StoredStep[]): ChatMessage[] {
  return steps.flatMap(stepMessages).filter((message) => message.content.length > 0);
}

/** One step: the model's text and tool uses, then (when it used tools) the user message carrying their results. */
function stepMessages(step: StoredStep): ChatMessage[] {
  const tools = step.tools ?? [];
  const said: ContentBlock[] = [
    ...(step.text ? [{ type: 'text' as const, text: step.text }] : []),
    ...tools.map((tool): ContentBlock => ({ type: 'toolUse', toolUseId: tool.id, name: tool.name, input: tool.input })),
  ];
  const results: ContentBlock[] = tools.map((tool) => ({
    type: 'toolResult',
    toolUseId: tool.id,
    status: tool.ok ? 'success' : 'error',
    content: [tool.ok ? contentOf(tool.result) : { text: tool.awaitingApproval ? deniedMessage({ kind: 'expired' }) : (tool.error ?? 'the tool failed') }],
  }));
  return [
    { role: 'assistant', content: said },
    { role: 'user', content: results },
  ];
}
