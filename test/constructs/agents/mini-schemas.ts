// A stranger's agent whose tool schemas use zod/mini, zod 4's small build: an airline's seat lookup.
import { defineAgent, tool } from 'cdk-multi-region-agent/agent';
import * as z from 'zod/mini';

export default defineAgent({
  instructions: 'You help passengers of Aurora Air choose seats.',
  tools: {
    seat_map: tool({
      description: 'The free seats of a flight in one cabin',
      inputSchema: z.object({
        flight: z.string().check(z.regex(/^[A-Z]{2}\d{1,4}$/), z.describe('IATA flight number, such as AU412')),
        cabin: z.enum(['economy', 'premium', 'business']),
        passengers: z.int().check(z.minimum(1), z.maximum(9)),
        window: z.optional(z.boolean()),
      }),
      execute: async ({ flight, cabin, passengers }) => ({
        flight,
        cabin,
        seats: Array.from({ length: passengers }, (_, index) => `${14 + index}A`),
        fare: 129.95 * passengers,
        departs: new Date('2026-03-03T07:40:00Z'),
      }),
    }),
  },
});
