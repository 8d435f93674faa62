/**
 * What a client may send. zod gives field-level messages for 400 answers
 * from the same declaration that types the handler.
 */
import * as z from 'zod/mini';

/**
 * Conversation ids are opaque client-chosen tokens, optionally prefixed with
 * the jurisdiction that holds them (`eu.3f0c...`): with a prefix, any region
 * can tell where a conversation lives without reading another
 * jurisdiction's data, and answers 421 naming the right host.
 */
export const CONVERSATION_ID_PATTERN = /^(?:([a-z][a-z0-9-]{0,30})\.)?([A-Za-z0-9_-]{1,128})$/;

export const messageBodySchema = z.strictObject({
  text: z.string({ error: 'text must be a string' }).check(z.refine((text) => text.trim().length > 0, 'text must not be empty')),
});
