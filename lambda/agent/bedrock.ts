/**
 * The Bedrock side of the chain: one BedrockRuntimeClient per endpoint region,
 * created once per execution environment, each making a single attempt per
 * call (the chain engine owns retries) over HTTP/2 with explicit timeouts —
 * the handler's defaults are 0, which waits forever on a black-holed endpoint.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import type { InvokeTarget, ModelEvent } from './chain/types';
import { converseRequest, modelEventOf } from './converse';

export interface BedrockClientSettings {
  connectTimeoutMs: number;
  /** A stream with no traffic for this long is closed by the handler: a backstop, longer than the chain's own deadlines. */
  streamIdleTimeoutMs: number;
  endpoints?: Record<string, string>;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Raised when a TCP/TLS connection to an endpoint is not established in time. */
export class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** Opens the HTTP/2 connection itself so that connecting has a deadline. */
function connectWithin(timeoutMs: number) {
  return (authority: URL): net.Socket => {
    const secure = authority.protocol === 'https:';
    const host = authority.hostname;
    const port = Number(authority.port) || (secure ? 443 : 80);
    const socket = secure ? tls.connect({ host, port, servername: host, ALPNProtocols: ['h2'] }) : net.connect({ host, port });
    // Small HTTP/2 frames (headers, then a short body) must not wait for Nagle's algorithm.
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => socket.destroy(new ConnectTimeoutError(`no connection to ${authority.host} within ${timeoutMs} ms`)));
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
    return socket;
  };
}

export class BedrockClients {
  private readonly clients = new Map<string, BedrockRuntimeClient>();

  constructor(private readonly settings: BedrockClientSettings) {}

  client(region: string): BedrockRuntimeClient {
    let client = this.clients.get(region);
    if (!client) {
      client = new BedrockRuntimeClient({
        region,
        endpoint: this.settings.endpoints?.[region],
        credentials: this.settings.credentials,
        maxAttempts: 1,
        requestHandler: new NodeHttp2Handler({
          requestTimeout: this.settings.streamIdleTimeoutMs,
          // Keep warm sessions across invocations of the same execution environment.
          sessionTimeout: 300_000,
          nodeHttp2ConnectOptions: { createConnection: connectWithin(this.settings.connectTimeoutMs) },
        }),
      });
      this.clients.set(region, client);
    }
    return client;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/** The chain's InvokeTarget: one ConverseStream call, its events mapped to the engine's vocabulary. */
export function bedrockInvoker(clients: BedrockClients): InvokeTarget {
  return async function* converseStream(target, request, signal): AsyncGenerator<ModelEvent> {
    const output = await clients.client(target.region).send(new ConverseStreamCommand(converseRequest(target, request)), { abortSignal: signal });
    if (!output.stream) throw new Error('ConverseStream returned no stream');
    for await (const event of output.stream) {
      const mapped = modelEventOf(event);
      if (mapped) yield mapped;
    }
  };
}
