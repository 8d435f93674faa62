/**
 * A Lambda function URL on loopback (payload format 2.0, buffered): each
 * HTTP request becomes the function URL's event and the handler's result
 * the answer. The playground serves the MCP servers the app deploys as
 * functions behind function URLs with it, with the faults of the control
 * API: a 5xx, a slow answer, and a dropped session (the session ids the
 * server issued get 404, as from a server that restarted).
 *
 * It does not check the SigV4 signature the runtime sends (the deployed
 * URL's IAM auth does); test/runtime/mcp-tools.test.ts verifies it.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { FaultRules } from './fault-rules';
import { delayUnlessClosed } from './mcp-emulator';
import type { LambdaContext, LambdaHandler } from './lambda-emulator';

export type FunctionUrlFault = ({ kind: 'status'; status: number } | { kind: 'delay'; delayMs: number }) & { times?: number };

interface FunctionUrlResult {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}

export class FunctionUrlHost {
  static async start(handler: LambdaHandler, options: { host?: string; functionName: string; timeoutMs: number }): Promise<FunctionUrlHost> {
    const host = new FunctionUrlHost(handler, options.functionName, options.timeoutMs);
    const address = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => host.http.listen(0, address, resolve));
    host.url = `http://${address}:${(host.http.address() as AddressInfo).port}/`;
    return host;
  }

  url = '';
  /** Invocations of the handler (a request a fault answered is not one). */
  invocations = 0;
  private readonly faults = new FaultRules<FunctionUrlFault>();
  /** The session ids the server issued (Mcp-Session-Id), until a dropped session forgets them. */
  private readonly sessions = new Set<string>();
  private readonly http = http.createServer((request, response) => void this.serve(request, response));

  private constructor(
    private readonly handler: LambdaHandler,
    private readonly functionName: string,
    private readonly timeoutMs: number,
  ) {}

  fail(fault: FunctionUrlFault): void {
    this.faults.add(fault);
  }

  /** The server forgets its sessions: requests carrying their ids get 404, and the client must initialize again. */
  dropSessions(): number {
    const dropped = this.sessions.size;
    this.sessions.clear();
    return dropped;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      const body = await text(request);
      const fault = this.faults.take(() => true);
      if (fault?.kind === 'status') return void response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected failure');
      if (fault?.kind === 'delay' && !(await delayUnlessClosed(response, fault.delayMs))) return;
      const sessionId = request.headers['mcp-session-id'];
      if (typeof sessionId === 'string' && !this.sessions.has(sessionId)) {
        return void response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      }
      this.invocations += 1;
      const result = (await this.handler(eventOf(request, body), this.context())) as FunctionUrlResult;
      const issued = result.headers?.['mcp-session-id'];
      if (issued) this.sessions.add(issued);
      const payload = result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
      response.writeHead(result.statusCode ?? 200, result.headers ?? {}).end(payload);
    } catch {
      // What Lambda answers for a function that threw: a 502, the error not shown to the caller.
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  }

  private context(): LambdaContext {
    const deadline = Date.now() + this.timeoutMs;
    return { awsRequestId: randomUUID(), functionName: this.functionName, getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as LambdaContext;
  }
}

function eventOf(request: http.IncomingMessage, body: string): unknown {
  const [rawPath, rawQueryString = ''] = (request.url ?? '/').split('?');
  return {
    version: '2.0',
    rawPath,
    rawQueryString,
    headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)])),
    body: body || undefined,
    isBase64Encoded: false,
    requestContext: { domainName: request.headers.host, http: { method: request.method, path: rawPath } },
  };
}
