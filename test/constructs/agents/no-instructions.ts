// Tools in code, instructions left to the construct.
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';

export default defineAgent({
  tools: {
    today: tool({ description: "Today's date", inputSchema: { type: 'object', properties: {} }, execute: () => new Date().toISOString().slice(0, 10) }),
  },
});
