// An agent with one tool in code, get_order, that an MCP server's tool could clash with.
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';

export default defineAgent({
  tools: { get_order: tool({ description: 'Reads an order', inputSchema: { type: 'object', properties: { id: { type: 'string' } } }, execute: () => 'ok' }) },
});
