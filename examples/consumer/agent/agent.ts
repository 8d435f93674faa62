/**
 * The travel desk agent: a code tool written with the AI SDK's tool() (it
 * runs inside the runtime), and flight_status, a Lambda function of each
 * region (tools/flight-tools.ts).
 */
import { tool } from 'ai';
import { z } from 'zod';
import { defineAgent } from 'cdk-multi-region-agent/agent';

/** Units per euro, as of the last rates file. */
const RATES: Record<string, number> = { EUR: 1, USD: 1.0842, GBP: 0.8571, JPY: 163.27, CHF: 0.9412 };

export const convertCurrency = tool({
  description: 'Converts an amount between two currencies (EUR, USD, GBP, JPY, CHF) at our reference rates.',
  inputSchema: z.object({
    amount: z.number().nonnegative().describe('The amount to convert'),
    from: z.enum(['EUR', 'USD', 'GBP', 'JPY', 'CHF']),
    to: z.enum(['EUR', 'USD', 'GBP', 'JPY', 'CHF']),
  }),
  execute: async ({ amount, from, to }) => {
    const converted = (amount / RATES[from]) * RATES[to];
    return { amount: Math.round(converted * 100) / 100, currency: to, rateDate: new Date('2026-12-01T00:00:00Z') };
  },
});

export default defineAgent({
  instructions: 'You are the travel desk. Use flight_status for flights and convert_currency for prices; never guess either.',
  tools: { convert_currency: convertCurrency },
  maxSteps: 5,
});
