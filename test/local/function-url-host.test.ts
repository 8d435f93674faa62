/**
 * The playground's function URL on loopback, with an MCP server that keeps
 * sessions in a warm function's memory (the official SDK's web-standard
 * transport), called by the runtime's MCP client: the control API's faults
 * as the runtime meets them.
 */
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { z } from 'zod';
import { FunctionUrlHost } from '../../local/function-url-host';
import { McpServerTools } from '../../lambda/agent/agent/mcp-tools';
import { systemClock } from '../../lambda/agent/chain/types';
import type { RunnableTool } from '../../lambda/agent/agent/definition';

/** A function whose warm instance keeps each session's transport; it counts initializations and runs. */
function sessionfulMcpFunction() {
  const transports = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const counts = { initializations: 0, runs: 0 };
  const handler = async (event: LambdaFunctionURLEvent) => {
    const sessionId = event.headers['mcp-session-id'];
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      counts.initializations += 1;
      const server = new McpServer({ name: 'bookings', version: '1.0.0' });
      server.registerTool('count_bookings', { description: 'Counts bookings of a day', inputSchema: { day: z.string() } }, async ({ day }) => {
        counts.runs += 1;
        return { content: [{ type: 'text', text: `${day}: 12 bookings` }] };
      });
      const made = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id) => void transports.set(id, made),
      });
      await server.connect(made);
      transport = made;
    }
    if (event.requestContext.http.method === 'GET') return { statusCode: 405, body: '' };
    const response = await transport.handleRequest(
      new Request(`http://${event.requestContext.domainName}${event.rawPath}`, {
        method: event.requestContext.http.method,
        headers: event.headers as Record<string, string>,
        body: event.body,
      }),
    );
    return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  };
  return { handler, counts };
}

let host: FunctionUrlHost | undefined;
let source: McpServerTools | undefined;

afterEach(async () => {
  await source?.close();
  await host?.close();
});

async function start(timeoutMs = 5000) {
  const fn = sessionfulMcpFunction();
  host = await FunctionUrlHost.start(fn.handler as never, { functionName: 'bookings', timeoutMs: 10_000 });
  source = new McpServerTools({ name: 'bookings', url: host.url, region: 'eu-west-1', timeoutMs }, { fetch, clock: systemClock });
  const [tool] = await source.tools();
  return { counts: fn.counts, tool, host };
}

const CONTEXT = { conversationId: 'c-1', caller: 'user-1', region: 'eu-west-1', toolCallId: 'use-1', abortSignal: new AbortController().signal };
const call = (tool: RunnableTool, day: string) => tool.execute({ day }, CONTEXT as never);

test('a dropped session: the server answers 404 to its id, the runtime initializes a new session and the call runs once', async () => {
  const { counts, tool, host } = await start();
  expect(await call(tool, '2026-03-09')).toBe('2026-03-09: 12 bookings');

  expect(host.dropSessions()).toBe(1);
  const after = await call(tool, '2026-03-10');

  expect(after).toBe('2026-03-10: 12 bookings');
  expect(counts).toEqual({ initializations: 2, runs: 2 });
});

test('a 5xx on a call is an error saying the tool may have run, never sent a second time', async () => {
  const { counts, tool, host } = await start();
  host.fail({ kind: 'status', status: 503, times: 1 });
  const invocations = host.invocations;

  await expect(call(tool, '2026-03-09')).rejects.toThrow(/HTTP 503.*may have run the tool/);
  expect(counts.runs).toBe(0);
  expect(host.invocations).toBe(invocations);
  expect(await call(tool, '2026-03-10')).toBe('2026-03-10: 12 bookings');
});

test('a delay longer than the call timeout: the call fails with the timeout, the handler is not invoked, and the next call runs', async () => {
  const { counts, tool, host } = await start(200);
  host.fail({ kind: 'delay', delayMs: 30_000, times: 1 });

  await expect(call(tool, '2026-03-09')).rejects.toThrow(/timed out.*may have run the tool/i);
  expect(await call(tool, '2026-03-10')).toBe('2026-03-10: 12 bookings');
  expect(counts.runs).toBe(1);
});

test('a handler that throws is a 502, as Lambda answers, and the host goes on', async () => {
  host = await FunctionUrlHost.start(async () => Promise.reject(new Error('boom')), { functionName: 'broken', timeoutMs: 1000 });

  const response = await fetch(host.url, { method: 'POST', body: '{}' });

  expect(response.status).toBe(502);
  expect(await response.json()).toEqual({ message: 'Internal Server Error' });
});
