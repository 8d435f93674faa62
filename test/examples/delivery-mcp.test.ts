/**
 * The example's delivery MCP server, its Lambda handler behind a stand-in
 * function URL (an HTTP server on port 0 turning each request into the
 * function URL's event), used through the official MCP client.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { handler } from '../../examples/support-agent/delivery-mcp';

let functionUrl: http.Server;
let url: URL;
let client: Client;

beforeAll(async () => {
  functionUrl = http.createServer((request, response) => void invoke(request, response));
  await new Promise<void>((resolve) => functionUrl.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(functionUrl.address() as AddressInfo).port}/`);
  client = new Client({ name: 'test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(url));
});

afterAll(async () => {
  await client.close();
  functionUrl.closeAllConnections();
  await new Promise((resolve) => functionUrl.close(resolve));
});

async function invoke(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const body = await text(request);
  const [rawPath, rawQueryString = ''] = (request.url ?? '/').split('?');
  const event = {
    rawPath,
    rawQueryString,
    headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
    body: body || undefined,
    isBase64Encoded: false,
    requestContext: { domainName: request.headers.host, http: { method: request.method } },
  } as unknown as LambdaFunctionURLEvent;
  const result = await handler(event);
  response.writeHead(result.statusCode ?? 200, result.headers as http.OutgoingHttpHeaders).end(result.body);
}

const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

test('lists its two tools, each with an input schema', async () => {
  const { tools } = await client.listTools();

  expect(tools.map((tool) => tool.name)).toEqual(['delivery_slots', 'reschedule_delivery']);
  expect(tools[1].inputSchema).toMatchObject({ required: ['orderId', 'date', 'window'] });
});

test('reads the open slots of a shipped order: weekdays only, and books one of them statelessly (each request its own invocation)', async () => {
  const slots = await call('delivery_slots', { orderId: 'NW-10042' });
  const open = (slots.structuredContent as { slots: Array<{ date: string; window: string }> }).slots;
  // Shipped on Tuesday 2026-03-03: Wednesday, Thursday, Friday.
  expect([...new Set(open.map((slot) => slot.date))]).toEqual(['2026-03-04', '2026-03-05', '2026-03-06']);

  const changed = await call('reschedule_delivery', { orderId: 'NW-10042', ...open[4] });

  expect(changed.isError).toBeFalsy();
  expect(changed.structuredContent).toEqual({ orderId: 'NW-10042', status: 'rescheduled', date: '2026-03-05', window: '12:00-16:00' });
  expect((await call('delivery_slots', { orderId: 'NW-10042' })).structuredContent).toMatchObject({ booked: { date: '2026-03-05', window: '12:00-16:00' } });
});

test('answers a tool error, which the model reads, for a slot not offered, a delivered order and an unknown one', async () => {
  const weekend = await call('reschedule_delivery', { orderId: 'NW-10063', date: '2026-03-07', window: '08:00-12:00' });
  const delivered = await call('delivery_slots', { orderId: 'NW-10057' });
  const unknown = await call('delivery_slots', { orderId: 'NW-99999' });

  expect(weekend).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('not an open slot') }] });
  expect(delivered).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('is delivered') }] });
  expect(unknown).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('no order NW-99999') }] });
});

test('offers no notification stream (405 to a GET), as a function that freezes between invocations cannot keep one', async () => {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' } });

  expect(response.status).toBe(405);
});
