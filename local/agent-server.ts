/**
 * Serves one region's agent runtime on a local HTTP port: the same app the
 * Lambda runs, with the caller's identity taken from the `x-local-principal`
 * header (API Gateway's IAM or Cognito authorizer does this in AWS) and a
 * per-request time limit standing in for the Lambda timeout.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { randomUUID } from 'node:crypto';
import type { RuntimeConfig } from '../lambda/agent/config';
import type { Caller } from '../lambda/agent/http/identity';
import { createAgentRuntime, type AgentRuntime, type RuntimeOverrides } from '../lambda/agent/runtime';
import { LOCAL_CREDENTIALS } from './dynamodb';
import { listen } from './listen';

export const PRINCIPAL_HEADER = 'x-local-principal';
export const DEFAULT_PRINCIPAL = 'local-user';
const MAX_BODY_BYTES = 1024 * 1024;
/** How long a connection refused mid-upload keeps discarding what the client still sends before it is destroyed. */
const LINGER_MS = 2000;

export interface AgentServerOptions {
  config: RuntimeConfig;
  host?: string;
  port?: number;
  /** Stands in for the Lambda function's timeout. @default 120000 */
  requestTimeoutMs?: number;
  overrides?: RuntimeOverrides;
}

export class AgentServer {
  static async start(options: AgentServerOptions): Promise<AgentServer> {
    const runtime = createAgentRuntime(options.config, { credentials: LOCAL_CREDENTIALS, ...options.overrides });
    const server = new AgentServer(runtime, options.requestTimeoutMs ?? 120_000);
    server.url = await listen(server.server, options.port ?? 0, options.host ?? '127.0.0.1');
    return server;
  }

  url = '';
  /** While false the region is "down": every request, /health included, gets 503. */
  available = true;
  private readonly server: http.Server;
  /** Requests in flight per runtime, so that a runtime swapped out is destroyed once its last answer ends. */
  private readonly inFlight = new Map<AgentRuntime, number>();
  private readonly retired = new Set<AgentRuntime>();

  private constructor(
    private current: AgentRuntime,
    private readonly requestTimeoutMs: number,
  ) {
    // A client that hangs up mid-upload fails the body read: drop that exchange, keep serving.
    this.server = http.createServer((request, response) => this.serve(request, response).catch(() => response.destroy()));
  }

  get runtime(): AgentRuntime {
    return this.current;
  }

  /**
   * Serves new requests with a runtime of this configuration and agent, on
   * the same port (`agentctl local --watch`); answers already streaming end
   * on the runtime they started on, which is destroyed after them.
   */
  swap(config: RuntimeConfig, overrides?: RuntimeOverrides): void {
    const previous = this.current;
    this.current = createAgentRuntime(config, { credentials: LOCAL_CREDENTIALS, ...overrides });
    this.retired.add(previous);
    this.destroyIfIdle(previous);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const runtime of [this.current, ...this.retired]) runtime.destroy();
    this.retired.clear();
  }

  private destroyIfIdle(runtime: AgentRuntime): void {
    if (!this.retired.has(runtime) || (this.inFlight.get(runtime) ?? 0) > 0) return;
    this.retired.delete(runtime);
    this.inFlight.delete(runtime);
    runtime.destroy();
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (!this.available) {
      request.resume();
      response
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'region_down', message: 'this region is down (POST /_local/regions/{region}/up restores it)' } }));
      return;
    }
    const deadline = Date.now() + this.requestTimeoutMs;
    const clientGone = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) clientGone.abort();
    });
    const body = await readBody(request);
    if (body === undefined) {
      refuseOversized(request, response);
      return;
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const url = new URL(request.url ?? '/', 'http://localhost');
    const runtime = this.current;
    this.inFlight.set(runtime, (this.inFlight.get(runtime) ?? 0) + 1);
    try {
      await this.handle(runtime, request, response, { headers, body, url, deadline, signal: clientGone.signal });
    } finally {
      this.inFlight.set(runtime, (this.inFlight.get(runtime) ?? 1) - 1);
      this.destroyIfIdle(runtime);
    }
  }

  private async handle(
    runtime: AgentRuntime,
    request: http.IncomingMessage,
    response: http.ServerResponse,
    { headers, body, url, deadline, signal }: { headers: Record<string, string | undefined>; body: Buffer; url: URL; deadline: number; signal: AbortSignal },
  ): Promise<void> {
    await runtime.app.handle(
      {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body: body.length > 0 ? body : undefined,
        caller: localCaller(headers),
        requestId: randomUUID(),
        remainingTimeMs: () => deadline - Date.now(),
        signal,
      },
      {
        start: (status, responseHeaders) => {
          response.writeHead(status, responseHeaders);
          response.flushHeaders();
        },
        write: (chunk) => response.write(chunk),
        end: () => response.end(),
      },
    );
  }
}

/** The caller a local request plays: the IAM principal named by `x-local-principal` (empty: no identity at all). */
export function localCaller(headers: Record<string, string | undefined>): Caller | undefined {
  const principal = headers[PRINCIPAL_HEADER] ?? DEFAULT_PRINCIPAL;
  return principal ? { arn: principal } : undefined;
}

/**
 * The request body, or undefined once it passes MAX_BODY_BYTES (the rest is
 * then left unread). Rejects when the client hangs up mid-upload.
 */
function readBody(request: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData).off('end', onEnd);
      resolve(undefined);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    request.on('data', onData).once('end', onEnd).once('error', reject);
    request.once('close', () => {
      if (!request.complete) reject(new Error('the client hung up mid-upload'));
    });
  });
}

/**
 * Answers 413 before the body has been read, and closes the connection:
 * the unread rest of the body cannot be told from a next request. The close
 * lingers. Node ends a `connection: close` socket and destroys it as soon as
 * the answer is written; the client's bytes still arriving then make the
 * kernel reset the connection, and a reset can discard the 413 before the
 * client has read it. Instead the socket is half-closed after the answer,
 * keeps discarding what arrives, and is destroyed when the client closes
 * its side or after LINGER_MS.
 */
function refuseOversized(request: http.IncomingMessage, response: http.ServerResponse): void {
  const socket = request.socket;
  socket.destroySoon = () => lingeringClose(socket);
  // Discard the rest of the body as it arrives.
  request.resume();
  response
    .writeHead(413, { 'content-type': 'application/json', connection: 'close' })
    .end(JSON.stringify({ error: { code: 'too_large', message: `the request body is over ${MAX_BODY_BYTES} bytes` } }));
}

function lingeringClose(socket: net.Socket): void {
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
