/**
 * What differs between outside providers: where a request goes, how it is
 * authenticated and written, and how its stream's events read as the
 * engine's ModelEvents. The invoker (provider-invoker.ts) does the rest.
 */
import { randomBytes } from 'node:crypto';
import type { ModelEvent, ModelRequest } from '../chain/types';
import type { ChainTarget, ProviderName, ProviderResidency } from '../config';

/** One server-sent event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Reads a stream's events in order; `done` once the provider said the answer is complete. */
export interface StreamDecoder {
  /** The model events of one SSE event; throws the provider's error for an error event or data that is not JSON. */
  decode(event: SseEvent): ModelEvent[];
  /** Whether the provider's end-of-answer arrived (a stream that ends before it was cut). */
  readonly done: boolean;
}

export interface ProviderProtocol {
  readonly name: ProviderName;
  /** The provider's own base URL for a residency. */
  baseUrl(residency: ProviderResidency): string;
  /** The path of the streaming call, after the base URL. */
  readonly path: string;
  authHeaders(apiKey: string): Record<string, string>;
  requestBody(target: ChainTarget, request: ModelRequest): unknown;
  decoder(): StreamDecoder;
}

/** A tool result's content as text: the providers take results as strings (JSON written out). */
export function resultText(content: ReadonlyArray<{ json: unknown } | { text: string }>): string {
  return content.map((part) => ('json' in part ? JSON.stringify(part.json) : part.text)).join('\n');
}

/** Parses an event's JSON data, or throws `garbled` for what is not JSON. */
export function parseData<T>(event: SseEvent, garbled: (what: string) => Error): T {
  try {
    return JSON.parse(event.data) as T;
  } catch {
    throw garbled('a stream event whose data is not JSON');
  }
}

/**
 * A tool-use id for a call the provider sent without one. Random, not the
 * call's index: the loop runs each id once per message and the history gives
 * every past call back by id, so an id must not repeat within a conversation.
 */
export function mintedToolUseId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
