// A tool name Bedrock refuses: defineAgent throws when the module loads.
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';

export default defineAgent({
  tools: { 'look up order!': tool({ inputSchema: { type: 'object' }, execute: () => 'ok' }) },
});
