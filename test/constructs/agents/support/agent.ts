// An agent as a user writes it: instructions from a Markdown file, a tool with a zod schema.
import { z } from 'zod';
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';
import instructions from './instructions.md';

export default defineAgent({
  instructions,
  maxSteps: 4,
  tools: {
    opening_hours: tool({
      description: 'The opening hours of a store',
      inputSchema: z.object({ store: z.string() }),
      execute: ({ store }) => ({ store, hours: '9-17' }),
    }),
  },
});
