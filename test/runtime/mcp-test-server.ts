/**
 * The MCP server of the runtime's tests: the local emulator (local/mcp-emulator.ts)
 * with the tools of a small order service.
 */
import { McpEmulator, type McpEmulatorOptions, type ToolRegistrar } from '../../local/mcp-emulator';
import { z } from 'zod';

export type { McpFault, ReceivedCall } from '../../local/mcp-emulator';

export type McpTestServer = McpEmulator;
export const McpTestServer = {
  start: (options: Partial<McpEmulatorOptions> = {}): Promise<McpEmulator> => McpEmulator.start({ tools: defaultTools, ...options }),
};

/** Tools of a small order service: one that reads, one that changes, one that never answers, one that answers an error. */
export const defaultTools: ToolRegistrar = (server, test) => [
  server.registerTool(
    'get_order',
    { description: 'Reads an order', inputSchema: { orderId: z.string() }, outputSchema: { orderId: z.string(), total: z.number(), placedAt: z.string() } },
    async ({ orderId }) => {
      test.ran('get_order');
      const order = { orderId, total: 1234.56, placedAt: new Date(Date.UTC(2026, 0, 2)).toISOString() };
      return { content: [{ type: 'text', text: JSON.stringify(order) }], structuredContent: order };
    },
  ),
  server.registerTool('refund_order', { description: 'Refunds an order', inputSchema: { orderId: z.string() } }, async ({ orderId }) => {
    test.ran('refund_order');
    if (test.cutsAfter('refund_order')) {
      test.cutConnections();
      return new Promise<never>(() => undefined);
    }
    return { content: [{ type: 'text', text: `refunded ${orderId}` }] };
  }),
  server.registerTool('wait_forever', { description: 'Never answers', inputSchema: {} }, async (_input, extra) => {
    test.ran('wait_forever');
    return new Promise<never>((_, reject) => extra.signal.addEventListener('abort', () => reject(new Error('cancelled'))));
  }),
  server.registerTool('out_of_stock', { description: 'Answers a tool error', inputSchema: {} }, async () => {
    test.ran('out_of_stock');
    return { isError: true, content: [{ type: 'text', text: 'warehouse says: out of stock' }] };
  }),
];
