/**
 * The example's MCP server, delivery: a Lambda function behind a function
 * URL with IAM auth that each region deploys (tools.ts), serving MCP over
 * streamable HTTP statelessly (no session: a Lambda function keeps nothing
 * between invocations, so each request gets its own server and transport,
 * and answers JSON rather than a stream). Two tools, made with the official
 * SDK's McpServer: delivery_slots reads the slots an order can be delivered
 * in; reschedule_delivery changes an order's delivery, and the agent asks
 * the customer's approval before each call (tools.ts: needsApproval).
 *
 * A real server would read and change the carrier's bookings of the
 * region's jurisdiction, and check the caller the runtime sends in `_meta`.
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResult, LambdaFunctionURLEvent } from 'aws-lambda';
import { z } from 'zod';
import { ORDERS } from './order-lookup';

export const DELIVERY_MCP = { name: 'delivery', tools: { read: 'delivery_slots', change: 'reschedule_delivery' } } as const;

const ORDER_ID = z
  .string()
  .regex(/^NW-\d{5}$/)
  .describe('The order id, e.g. NW-10042');
const DATE = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .describe('A day, YYYY-MM-DD');
const WINDOWS = ['08:00-12:00', '12:00-16:00', '16:00-20:00'] as const;

/** Reschedulings made by this instance (in memory: the example has no carrier to call). */
const rescheduled = new Map<string, { date: string; window: string }>();

/** The next three weekdays after `from`, each with the three windows. */
export function slotsAfter(from: string): Array<{ date: string; window: string }> {
  const slots: Array<{ date: string; window: string }> = [];
  const day = new Date(`${from}T00:00:00Z`);
  while (slots.length < 3 * WINDOWS.length) {
    day.setUTCDate(day.getUTCDate() + 1);
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    for (const window of WINDOWS) slots.push({ date: day.toISOString().slice(0, 10), window });
  }
  return slots;
}

function undeliveredOrder(orderId: string) {
  const order = ORDERS.find((candidate) => candidate.orderId === orderId);
  if (!order) throw new Error(`no order ${orderId}`);
  if (order.status === 'delivered' || order.status === 'returned') throw new Error(`order ${orderId} is ${order.status}: there is no delivery to schedule`);
  return order;
}

/** Registers the two tools on a server (the Lambda handler's, or the local playground's emulator). */
export function registerDeliveryTools(server: McpServer, ran: (tool: string) => void = () => undefined): RegisteredTool[] {
  return [
    server.registerTool(
      DELIVERY_MCP.tools.read,
      {
        description:
          'The delivery slots open for an order that is not delivered yet (processing or shipped): the next three weekdays after it was placed or shipped, each with three windows, and the slot it is booked in if the customer rescheduled.',
        inputSchema: { orderId: ORDER_ID },
      },
      async ({ orderId }) => {
        ran(DELIVERY_MCP.tools.read);
        const order = undeliveredOrder(orderId);
        const answer = { orderId, booked: rescheduled.get(orderId) ?? null, slots: slotsAfter(order.shippedOn ?? order.placedOn) };
        return { content: [{ type: 'text', text: JSON.stringify(answer) }], structuredContent: answer };
      },
    ),
    server.registerTool(
      DELIVERY_MCP.tools.change,
      {
        description: 'Moves the delivery of an order that is not delivered yet to one of the slots delivery_slots gave. The customer approves each change.',
        inputSchema: { orderId: ORDER_ID, date: DATE, window: z.enum(WINDOWS) },
      },
      async ({ orderId, date, window }) => {
        ran(DELIVERY_MCP.tools.change);
        const order = undeliveredOrder(orderId);
        if (!slotsAfter(order.shippedOn ?? order.placedOn).some((slot) => slot.date === date && slot.window === window)) {
          return { isError: true, content: [{ type: 'text', text: `${date} ${window} is not an open slot for ${orderId}: ask delivery_slots` }] };
        }
        rescheduled.set(orderId, { date, window });
        const answer = { orderId, status: 'rescheduled', date, window };
        return { content: [{ type: 'text', text: JSON.stringify(answer) }], structuredContent: answer };
      },
    ),
  ];
}

/** The function URL's handler (payload format 2.0): one stateless MCP exchange per invocation. */
export async function handler(event: LambdaFunctionURLEvent): Promise<FunctionUrlResult> {
  // No stream for notifications: a function answers once and freezes (the protocol lets a server say 405).
  if (event.requestContext.http.method === 'GET') return { statusCode: 405, headers: { allow: 'POST, DELETE' }, body: '' };
  const server = new McpServer({ name: DELIVERY_MCP.name, version: '1.0.0' });
  registerDeliveryTools(server);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const response = await transport.handleRequest(requestOf(event));
    return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
  } finally {
    await server.close();
  }
}

function requestOf(event: LambdaFunctionURLEvent): Request {
  const { method } = event.requestContext.http;
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  return new Request(`https://${event.requestContext.domainName}${event.rawPath}${query}`, {
    method,
    headers: event.headers as Record<string, string>,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}
