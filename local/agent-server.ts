/**
 * Serves one region's agent runtime on a local HTTP port: the same app the
 * Lambda runs, with the caller's identity taken from the `x-local-principal`
 * header (API Gateway's IAM or Cognito authorizer does this in AWS) and a
 * per-request time limit standing in for the Lambda timeout.
 */
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RuntimeConfig } from '../lambda/agent/config';
import type { Caller } from '../lambda/agent/http/identity';
import { createAgentRuntime, type AgentRuntime, type RuntimeOverrides } from '../lambda/agent/runtime';
import { LOCAL_CREDENTIALS } from './dynamodb';
import { listen } from './listen';

export const PRINCIPAL_HEADER = 'x-local-principal';
export const DEFAULT_PRINCIPAL = 'local-user';
const MAX_BODY_BYTES = 1024 * 1024;

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

  private constructor(
    readonly runtime: AgentRuntime,
    private readonly requestTimeoutMs: number,
  ) {
    // A client that hangs up mid-upload fails the body read: drop that exchange, keep serving.
    this.server = http.createServer((request, response) => this.serve(request, response).catch(() => response.destroy()));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.runtime.destroy();
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
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        response
          .writeHead(413, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { code: 'too_large', message: 'the request body is too large' } }));
        return;
      }
      chunks.push(chunk);
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const url = new URL(request.url ?? '/', 'http://localhost');
    await this.runtime.app.handle(
      {
        method: request.method ?? 'GET',
        path: url.pathname,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        caller: localCaller(headers),
        requestId: randomUUID(),
        remainingTimeMs: () => deadline - Date.now(),
        signal: clientGone.signal,
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
