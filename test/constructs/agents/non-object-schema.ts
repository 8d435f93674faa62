// A tool whose input is not an object: Bedrock sends tool input as one.
import { z } from 'zod';
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';

export default defineAgent({
  tools: { echo: tool({ inputSchema: z.string(), execute: (input) => input }) },
});
