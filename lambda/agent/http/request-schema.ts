/**
 * What a client may send, and the 4xx answers for what it may not. zod gives
 * field-level messages for 400 answers from the same declaration that types
 * the handler.
 */
import * as z from 'zod/mini';
import type { ListPosition } from '../store/conversation-store';
import { HttpError } from './http-error';

/**
 * Conversation ids are opaque tokens, prefixed with the jurisdiction that
 * holds them (`eu.3f0c...`): with the prefix, any region can tell where a
 * conversation lives without reading another jurisdiction's data. The
 * server mints them (POST /v1/conversations); ids without a prefix are
 * accepted for conversations that already exist, and for new ones only in
 * jurisdictions that are not restricted.
 */
export const CONVERSATION_ID_PATTERN = /^(?:([a-z][a-z0-9-]{0,30})\.)?([A-Za-z0-9_-]{1,128})$/;

/** Printable ASCII without `#` (it separates the key from the generation in the table's sort keys): UUIDs, ULIDs and the like. */
const IDEMPOTENCY_KEY_PATTERN = /^[!-"$-~]{1,128}$/;

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

const messageBodySchema = z.strictObject({
  text: z.string({ error: 'text must be a string' }).check(z.refine((text) => text.trim().length > 0, 'text must not be empty')),
});

/** Bedrock's tool-use ids (and the outside providers'): printable ASCII without `/`. */
export const TOOL_USE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_REASON_CHARS = 1000;

const approvalBodySchema = z.union([
  z.strictObject({ approved: z.literal(true) }),
  z.strictObject({
    approved: z.literal(false),
    reason: z.optional(z.string().check(z.maxLength(MAX_REASON_CHARS, `reason must be at most ${MAX_REASON_CHARS} characters`))),
  }),
]);

/** An owner's answer to a tool call that waits for approval. */
export type ApprovalBody = z.infer<typeof approvalBodySchema>;

/** A parsed conversation id: the whole id, and the jurisdiction prefix if it has one. */
export interface ConversationId {
  id: string;
  prefix?: string;
}

export function parseConversationId(encoded: string): ConversationId {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    throw invalidConversationId();
  }
  const match = CONVERSATION_ID_PATTERN.exec(id);
  if (!match) throw invalidConversationId();
  return { id, prefix: match[1] };
}

/** The message text of a POST body; 400 for anything but `{"text": "..."}` in valid UTF-8, 413 past the limits. */
export function parseMessageText(body: Uint8Array | undefined, maxTextBytes: number): string {
  const bytes = body ?? new Uint8Array();
  // JSON escaping can take up to 6 bytes per text byte; a larger body cannot hold an acceptable text.
  const maxBodyBytes = maxTextBytes * 6 + 1024;
  if (bytes.byteLength > maxBodyBytes) {
    throw new HttpError(
      413,
      'too_large',
      `the request body is ${bytes.byteLength} bytes; at most ${maxBodyBytes} are accepted (text: at most ${maxTextBytes} bytes of UTF-8)`,
    );
  }
  const parsed = parseJson(decodeUtf8(bytes));
  const result = messageBodySchema.safeParse(parsed);
  if (!result.success) {
    throw new HttpError(400, 'invalid_request', result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  }
  const { text } = result.data;
  // JSON may spell a lone surrogate (`"\ud800"`); it is not text, and could not be stored or sent on as UTF-8.
  if (LONE_SURROGATE.test(text))
    throw new HttpError(400, 'invalid_json', 'text contains a lone UTF-16 surrogate (an escape such as \\ud800 that is not half of a pair)');
  if (Buffer.byteLength(text) > maxTextBytes) throw new HttpError(413, 'too_large', `text must be at most ${maxTextBytes} bytes of UTF-8`);
  return text;
}

export function parseToolUseId(encoded: string): string {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    id = '';
  }
  if (!TOOL_USE_ID_PATTERN.test(id)) throw new HttpError(400, 'invalid_tool_use_id', 'a tool use id is 1-128 characters of A-Z a-z 0-9 _ -');
  return id;
}

/** The body of POST .../approvals/{toolUseId}: `{"approved": true}` or `{"approved": false, "reason": "..."}`; 400 for anything else. */
export function parseApprovalBody(body: Uint8Array | undefined): ApprovalBody {
  const bytes = body ?? new Uint8Array();
  if (bytes.byteLength > MAX_REASON_CHARS * 6 + 1024)
    throw new HttpError(413, 'too_large', `the request body is ${bytes.byteLength} bytes; a reason is at most ${MAX_REASON_CHARS} characters`);
  const result = approvalBodySchema.safeParse(parseJson(decodeUtf8(bytes), '{"approved": true} or {"approved": false, "reason": "..."}'));
  if (!result.success) {
    throw new HttpError(
      400,
      'invalid_request',
      'the body must be {"approved": true} or {"approved": false, "reason": "..."} (reason optional, at most 1000 characters)',
    );
  }
  if ('reason' in result.data && result.data.reason !== undefined && LONE_SURROGATE.test(result.data.reason))
    throw new HttpError(400, 'invalid_json', 'reason contains a lone UTF-16 surrogate');
  return result.data;
}

export function parseIdempotencyKey(headers: Record<string, string | undefined>): string | undefined {
  const key = headers[IDEMPOTENCY_KEY_HEADER];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new HttpError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-128 printable ASCII characters other than # (a UUID, for instance)');
  }
  return key;
}

/** Conversations per page of a listing: `limit` when given, at most MAX. */
export const LIST_LIMIT = { default: 20, max: 100 } as const;

const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,512}$/;
const ISO_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** `?limit=N&cursor=C` of GET /v1/conversations; 400 for a limit out of range or a cursor this API did not write. */
export function parseListQuery(query: Record<string, string | undefined> = {}): { limit: number; after?: ListPosition } {
  const { limit: limitText, cursor } = query;
  const limit = limitText === undefined ? LIST_LIMIT.default : Number(limitText);
  if (!/^\d{1,3}$/.test(limitText ?? '1') || !Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
    throw new HttpError(400, 'invalid_limit', `limit must be an integer from 1 to ${LIST_LIMIT.max}`);
  }
  return { limit, ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }) };
}

/**
 * The cursor is where the listing goes on: the last conversation shown and
 * its activity time, base64url JSON. It names no owner: the listing always
 * reads the caller's own index partition, so an altered cursor can only move
 * within the caller's own conversations.
 */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.conversationId, position.updatedAt])).toString('base64url');
}

function decodeCursor(cursor: string): ListPosition {
  const invalid = new HttpError(400, 'invalid_cursor', 'cursor must be the nextCursor of an earlier page, unchanged');
  if (!CURSOR_PATTERN.test(cursor)) throw invalid;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid;
  const [conversationId, updatedAt] = decoded as unknown[];
  if (typeof conversationId !== 'string' || !CONVERSATION_ID_PATTERN.test(conversationId)) throw invalid;
  if (typeof updatedAt !== 'string' || !ISO_TIME_PATTERN.test(updatedAt)) throw invalid;
  return { conversationId, updatedAt };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid UTF-8');
  }
}

function parseJson(text: string, example = '{"text": "..."}'): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', `the body must be a JSON object such as ${example}`);
  }
}

function invalidConversationId(): HttpError {
  return new HttpError(
    400,
    'invalid_conversation_id',
    'conversation ids are 1-128 characters of A-Z a-z 0-9 _ -, prefixed with a jurisdiction and a dot (eu.abc123); POST /v1/conversations mints one',
  );
}
