/** What the model is sent of a conversation's past: its complete exchanges, as alternating messages. */
import type { ChatMessage } from '../chain/types';
import type { StoredTurn } from '../store/conversation-store';

/** Past exchanges that have both a question and a complete answer; an unacknowledged or cut exchange is left out. */
export function completeExchanges(turns: StoredTurn[]): ChatMessage[] {
  const byExchange = new Map<number, { user?: StoredTurn; assistant?: StoredTurn }>();
  for (const turn of turns) {
    const pair = byExchange.get(turn.exchange) ?? {};
    pair[turn.role] = turn;
    byExchange.set(turn.exchange, pair);
  }
  return [...byExchange.entries()]
    .sort(([a], [b]) => a - b)
    .flatMap(([, pair]) =>
      pair.user && pair.assistant && !pair.assistant.incomplete
        ? [
            { role: 'user' as const, text: pair.user.text },
            { role: 'assistant' as const, text: pair.assistant.text },
          ]
        : [],
    );
}
