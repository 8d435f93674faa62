/**
 * A turn as one DynamoDB item, and back.
 *
 * An answer's steps (its texts, tool inputs and results) are stored as one
 * JSON string attribute, the JSON the model was given: any value JSON can
 * say is storable, whatever DynamoDB's own types refuse (numbers past 38
 * digits of precision, empty keys in old SDKs, maps nested deeper than 32
 * levels). The answer text is the steps' texts joined, so it is stored once,
 * in the steps. Items written before steps were a string hold them as native
 * lists and maps, and the text beside them: both shapes read back.
 *
 * A DynamoDB item holds at most 400 KB, attribute names included. The item
 * is measured before the write and, while it does not fit, the earliest tool
 * data is left out (each call marked `truncated`), then the earliest step
 * texts, then the text itself is cut.
 */
import { answerTextOf } from '../agent/agent-loop';
import { jsonStringPrefix } from '../bounded-json';
import type { StoredStep, StoredTurn } from './conversation-store';

type Item = Record<string, unknown>;

/** DynamoDB's item size limit: 400 KB, attribute names and values. */
export const ITEM_LIMIT_BYTES = 400 * 1024;
/** A number's size in DynamoDB depends on its digits, up to 21 bytes: measured at its largest. */
const NUMBER_BYTES = 21;
const LEFT_OUT = '[left out to fit the stored exchange]';

/** The item attributes of `turn` beside `keys` (key, expiry, generation), within `limitBytes` as DynamoDB measures it. */
export function turnItem(turn: StoredTurn, keys: Item, limitBytes = ITEM_LIMIT_BYTES): Item {
  const { steps, text, ...attributes } = turn;
  if (!steps) {
    const item = { ...keys, ...attributes, text };
    const over = itemBytes(item) - limitBytes;
    return over <= 0 ? item : { ...item, text: jsonStringPrefix(text, Buffer.byteLength(text) - over - LEFT_OUT.length) + LEFT_OUT };
  }
  const fitted: StoredStep[] = JSON.parse(JSON.stringify(steps));
  const itemOf = () => ({ ...keys, ...attributes, steps: JSON.stringify(fitted) });
  const fits = () => itemBytes(itemOf()) <= limitBytes;
  // A call waiting for approval keeps its input: it is what runs once approved.
  for (const call of fitted.flatMap((step) => step.tools ?? []).filter((tool) => !tool.awaitingApproval)) {
    if (fits()) break;
    leaveOut(call);
  }
  for (const step of fitted) {
    if (fits()) break;
    step.text = LEFT_OUT;
  }
  return itemOf();
}

/** A stored item as a turn: steps from their JSON string (or, in older items, native), the text from the steps unless stored beside them. */
export function turnOf(item: Item, omit: readonly string[]): StoredTurn {
  const turn: Item = Object.fromEntries(Object.entries(item).filter(([name]) => !omit.includes(name)));
  const steps = typeof turn.steps === 'string' ? (JSON.parse(turn.steps) as StoredStep[]) : (turn.steps as StoredStep[] | undefined);
  const text = typeof turn.text === 'string' ? turn.text : answerTextOf((steps ?? []).map((step) => step.text));
  return { ...(turn as unknown as StoredTurn), text, ...(steps ? { steps } : {}) };
}

/** The size of an item by DynamoDB's documented rules: names and values in UTF-8, numbers at their largest, 3 bytes per list or map and 1 per element. */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return NUMBER_BYTES;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, element) => sum + 1 + valueBytes(element), 0);
  return 3 + Object.entries(value as Item).reduce((sum, [name, element]) => sum + 1 + Buffer.byteLength(name) + valueBytes(element), 0);
}

function leaveOut(call: NonNullable<StoredStep['tools']>[number]): void {
  const originalBytes = Buffer.byteLength(JSON.stringify({ input: call.input, result: call.result, error: call.error }) ?? '');
  call.input = { omitted: true };
  if (call.ok) call.result = { omitted: true, originalBytes };
  else call.error = LEFT_OUT;
  call.truncated = true;
}
