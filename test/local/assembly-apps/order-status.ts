/** A Lambda tool bundled by NodejsFunction at synthesis (ESM): answers with its input and the environment the template gives it. */
export async function handler(event: { tool: string; input: { orderId: string } }): Promise<unknown> {
  return { orderId: event.input.orderId, status: 'shipped', table: process.env.ORDERS_TABLE, at: new Date(Date.UTC(2026, 0, 2)).toISOString(), total: 12.5 };
}
