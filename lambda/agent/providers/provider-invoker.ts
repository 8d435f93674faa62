/**
 * The chain's InvokeTarget for targets outside Bedrock: one streaming HTTP
 * call per attempt (the engine owns retries) with the key from Secrets
 * Manager, read again once when the provider answers 401 (a rotated key).
 * A 429, 503 or 529 that says retry-after keeps the target from being called
 * again before then (the next attempts fail at once, as Throttled). Plain
 * fetch and eventsource-parser rather than the providers' SDKs: the
 * Anthropic SDK alone would add about 470 KB to the bundle (see docs/performance.md,
 * Outside providers, for the figures).
 */
import { createParser } from 'eventsource-parser';
import { targetKey, type Clock, type InvokeTarget, type ModelEvent } from '../chain/types';
import type { ProviderName } from '../config';
import { TargetErrorReason } from '../metric-names';
import { anthropic } from './anthropic';
import { openAi } from './openai';
import { garbled, httpFailure, ProviderError } from './provider-error';
import type { ProviderKeys } from './provider-keys';
import type { ProviderProtocol, SseEvent } from './protocol';

const PROTOCOLS: Record<ProviderName, ProviderProtocol> = { openai: openAi, anthropic };

export interface ProviderInvokerSettings {
  keys: ProviderKeys;
  clock: Clock;
  /** Base URL per `<provider>:<residency>`, replacing the provider's own (local emulators). */
  endpoints?: Record<string, string>;
}

export function providerInvoker(settings: ProviderInvokerSettings): InvokeTarget {
  const { keys, clock, endpoints } = settings;
  /** Per target, the epoch ms before which the provider asked not to be called (retry-after). */
  const notBefore = new Map<string, number>();

  return async function* callProvider(target, request, signal): AsyncGenerator<ModelEvent> {
    const provider = target.provider;
    if (!provider) throw new Error(`target ${targetKey(target)} is not an outside provider's`);
    const protocol = PROTOCOLS[provider.name];
    const key = targetKey(target);
    const waitMs = (notBefore.get(key) ?? 0) - clock.now();
    if (waitMs > 0) {
      throw new ProviderError(provider.name, `${provider.name} asked not to be called for ${waitMs} ms more (retry-after)`, {
        action: 'next',
        reason: TargetErrorReason.Throttled,
      });
    }
    const url = `${endpoints?.[`${provider.name}:${provider.residency}`] ?? protocol.baseUrl(provider.residency)}${protocol.path}`;
    const body = JSON.stringify(protocol.requestBody(target, request));
    const send = async (fresh: boolean) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...protocol.authHeaders(await keys.get(provider.name, provider.secret, fresh)),
        },
        body,
        signal,
      });
    let response = await send(false);
    if (response.status === 401) {
      await response.body?.cancel();
      // The key may have been rotated since it was read: read it once more before counting the target as failed.
      response = await send(true);
    }
    if (!response.ok) {
      const failure = httpFailure(provider.name, response.status, response.headers, await response.text(), clock.now());
      if (failure.retryAfterMs) notBefore.set(key, clock.now() + failure.retryAfterMs);
      throw failure;
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (!contentType.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel();
      throw garbled(provider.name, `200 with ${contentType || 'no content type'}, not an event stream`);
    }
    const decoder = protocol.decoder();
    for await (const event of sseEvents(response.body)) {
      yield* decoder.decode(event);
      if (decoder.done) return;
    }
  };
}

/** The server-sent events of a response body, as they arrive. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const parsed: SseEvent[] = [];
  const parser = createParser({ onEvent: (event) => parsed.push({ event: event.event, data: event.data }) });
  const text = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(text.decode(value, { stream: true }));
      yield* parsed.splice(0);
    }
  } finally {
    // Stops reading (and lets the connection go) when the engine abandons the stream early.
    await reader.cancel().catch(() => undefined);
  }
}
