/**
 * Bounds on what a tool (or a model) hands the runtime, measured as it goes
 * out: UTF-8 bytes of JSON, escapes included, so that a string full of
 * quotes, control characters or lone surrogates cannot pass a bound on its
 * raw length and then double on the wire. Cuts fall on a code point.
 */

/** The UTF-8 bytes of `value` as JSON (0 for what JSON cannot say, such as undefined). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json);
}

/** The longest prefix of `text` whose JSON string literal (quotes included) takes at most `maxBytes`, cut between code points. */
export function jsonStringPrefix(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text;
  // Every code unit takes at least one byte once encoded: no longer prefix can fit.
  let low = 0;
  let high = Math.min(text.length, Math.max(0, maxBytes));
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (jsonBytes(text.slice(0, middle)) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return isSplitPair(text, low) ? text.slice(0, low - 1) : text.slice(0, low);
}

/** A message within `maxBytes` as JSON: itself, or its start and a note of how long it was. */
export function boundedMessage(message: string, maxBytes: number): string {
  if (jsonBytes(message) <= maxBytes) return message;
  const note = ` … [cut: the message had ${Buffer.byteLength(message)} bytes]`;
  return jsonStringPrefix(message, maxBytes - jsonBytes(note) + 2) + note;
}

/** What stands in for a JSON value over the bound: its first bytes as JSON text, and its size. */
export interface JsonPreview {
  truncated: true;
  originalBytes: number;
  preview: string;
}

/** `value` itself when its JSON fits `maxBytes`; otherwise a preview that, encoded, fits too. */
export function boundedJson(value: unknown, maxBytes: number): unknown {
  const json = JSON.stringify(value) ?? 'null';
  const originalBytes = Buffer.byteLength(json);
  if (originalBytes <= maxBytes) return value;
  return previewOf(json, originalBytes, maxBytes);
}

/** The preview of a JSON text over `maxBytes`: the envelope is measured first, the preview gets what is left. */
export function previewOf(json: string, originalBytes: number, maxBytes: number): JsonPreview {
  const envelope = jsonBytes({ truncated: true, originalBytes, preview: '' });
  return { truncated: true, originalBytes, preview: jsonStringPrefix(json, maxBytes - envelope + 2) };
}

/** Whether cutting before `index` would split a surrogate pair. */
function isSplitPair(text: string, index: number): boolean {
  if (index <= 0 || index >= text.length) return false;
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}
