/**
 * An MCP server for the playground and tests, made with the official SDK's
 * server (McpServer and the streamable HTTP transport, one per session, on
 * port 0), with the faults real servers and their load balancers show: a
 * forgotten session (404), a 5xx, a slow answer, a connection cut after the
 * tool ran, a JSON-RPC error, no stream for notifications. It counts what it
 * receives, so that tests can tell a call sent twice from a call sent once.
 * The tools are the caller's (`tools`, registered on each session).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InitializeRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface ReceivedCall {
  name: string;
  arguments: unknown;
  meta: Record<string, unknown> | undefined;
}

/** Answers to the next matching POSTs, before the SDK sees them. */
export type McpFault =
  | { kind: 'status'; status: number; method?: string }
  | { kind: 'jsonRpcError'; code: number; message: string; method?: string }
  /** The request waits this long before the server handles it (a slow server or network). */
  | { kind: 'delay'; delayMs: number; method?: string }
  /** The tool runs, then every connection is cut before it answers. */
  | { kind: 'cutAfterRun'; tool: string };

const SERVER_INFO = { name: 'local-mcp', version: '1.0.0' };
const SERVER_CAPABILITIES = { tools: { listChanged: true } };

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  tools: RegisteredTool[];
}

/** Registers tools on one session's server; `emulator` counts their runs (`ran`) and applies `cutsAfter`. */
export type ToolRegistrar = (server: McpServer, emulator: McpEmulator) => RegisteredTool[];

export interface McpEmulatorOptions {
  tools: ToolRegistrar;
  /** Whether a GET opens the server's notification stream (else 405). @default true */
  sse?: boolean;
  /** A status to refuse the request with, or undefined to let it through. */
  authorize?: (request: http.IncomingMessage, body: string) => Promise<number | undefined>;
  /** The one protocol version the server speaks (an older server's), whatever the client asks for. */
  protocolVersion?: string;
  /** @default '127.0.0.1' */
  host?: string;
}

export class McpEmulator {
  static async start(options: McpEmulatorOptions): Promise<McpEmulator> {
    const server = new McpEmulator(options.tools, options.sse ?? true, options.authorize, options.protocolVersion);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve) => server.http.listen(0, host, resolve));
    server.url = `http://${host}:${(server.http.address() as AddressInfo).port}/mcp`;
    return server;
  }

  url = '';
  /** JSON-RPC methods received, in order (a refused request included). */
  readonly methods: string[] = [];
  readonly calls: ReceivedCall[] = [];
  /** Runs of each tool (a tool that ran and was cut off counts). */
  readonly runs = new Map<string, number>();
  initializations = 0;
  readonly protocolVersions: string[] = [];
  readonly headers: http.IncomingHttpHeaders[] = [];
  private readonly faults: McpFault[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly http = http.createServer((request, response) => void this.handle(request, response));
  /** Tools added after the sessions started, registered on every session (present and future). */
  private readonly added: ToolRegistrar[] = [];

  private constructor(
    private readonly registrar: ToolRegistrar,
    private readonly sse: boolean,
    private readonly authorize?: (request: http.IncomingMessage, body: string) => Promise<number | undefined>,
    private readonly protocolVersion?: string,
  ) {}

  fail(fault: McpFault): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The server forgets every session, as after a restart: their ids get 404. */
  forgetSessions(): void {
    for (const session of this.sessions.values()) void session.transport.close();
    this.sessions.clear();
  }

  /** Adds a tool on every session; the SDK tells each client its list changed. */
  addTool(registrar: ToolRegistrar): void {
    this.added.push(registrar);
    for (const session of this.sessions.values()) session.tools.push(...registrar(session.server, this));
  }

  ran(tool: string): void {
    this.runs.set(tool, (this.runs.get(tool) ?? 0) + 1);
  }

  cutConnections(): void {
    this.http.closeAllConnections();
  }

  async close(): Promise<void> {
    this.forgetSessions();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await text(request);
    this.headers.push(request.headers);
    const refusal = await this.authorize?.(request, body);
    if (refusal) return void response.writeHead(refusal, { 'content-type': 'application/json' }).end('{"message":"refused"}');
    if (request.method === 'GET' && !this.sse) return void response.writeHead(405).end();
    const message = body
      ? (JSON.parse(body) as { method?: string; id?: unknown; params?: { name?: string; arguments?: unknown; _meta?: Record<string, unknown> } })
      : {};
    if (message.method) this.methods.push(message.method);
    if (message.method === 'tools/call')
      this.calls.push({ name: message.params?.name ?? '', arguments: message.params?.arguments, meta: message.params?._meta });
    if (message.method === 'initialize') {
      this.initializations += 1;
      this.protocolVersions.push(String((message.params as { protocolVersion?: string } | undefined)?.protocolVersion));
    }
    const fault = this.takeFault(message.method);
    if (fault?.kind === 'delay') {
      // The client gave up meanwhile (its timeout): nothing left to answer.
      if (!(await delayUnlessClosed(response, fault.delayMs))) return;
    }
    if (fault?.kind === 'status') return void response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected failure');
    if (fault?.kind === 'jsonRpcError') {
      return void response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: fault.code, message: fault.message } }));
    }
    const sessionId = request.headers['mcp-session-id'];
    const session = typeof sessionId === 'string' ? this.sessions.get(sessionId) : message.method === 'initialize' ? await this.newSession() : undefined;
    if (!session) {
      return void response
        .writeHead(typeof sessionId === 'string' ? 404 : 400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
    }
    await session.transport.handleRequest(request, response, body ? JSON.parse(body) : undefined);
  }

  private takeFault(method: string | undefined): McpFault | undefined {
    const index = this.faults.findIndex((fault) => fault.kind !== 'cutAfterRun' && (fault.method === undefined || fault.method === method));
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  /** Whether the next run of `tool` must cut the connections (and consumes the fault). */
  cutsAfter(tool: string): boolean {
    const index = this.faults.findIndex((fault) => fault.kind === 'cutAfterRun' && fault.tool === tool);
    if (index < 0) return false;
    this.faults.splice(index, 1);
    return true;
  }

  private async newSession(): Promise<Session> {
    const server = new McpServer(SERVER_INFO, { capabilities: SERVER_CAPABILITIES });
    const tools = [this.registrar, ...this.added].flatMap((registrar) => registrar(server, this));
    const version = this.protocolVersion;
    if (version) {
      server.server.setRequestHandler(InitializeRequestSchema, async () => ({
        protocolVersion: version,
        capabilities: SERVER_CAPABILITIES,
        serverInfo: SERVER_INFO,
      }));
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void this.sessions.set(id, session),
    });
    const session: Session = { server, transport, tools };
    await server.connect(transport);
    return session;
  }
}

/** Waits `ms`; false when the connection closed first (a client that gave up, or the server closing). */
export function delayUnlessClosed(response: http.ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    response.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
