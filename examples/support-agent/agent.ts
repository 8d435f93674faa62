/**
 * The example's agent, as a user writes one: instructions from a Markdown
 * file beside it, a tool in code written with the AI SDK's tool() and a zod
 * schema, and the loop's length. The other tool, lookup_order, is a Lambda
 * function (order-lookup.ts) that each region deploys (tools.ts).
 */
import { tool } from 'ai';
import { z } from 'zod';
import { defineAgent } from 'cdk-multi-region-agent/agent';
import instructions from './instructions.md';

/** Categories whose items cannot be returned once opened, unless they arrived damaged. */
const HYGIENE_CATEGORIES = ['sleeping-bags', 'base-layers', 'socks'];
const RETURN_WINDOW_DAYS = 30;

const refundPolicy = tool({
  description: 'Decides whether an item can be returned or refunded under our policy. Call it before telling a customer anything about a return or a refund.',
  inputSchema: z.object({
    reason: z.enum(['changed-mind', 'wrong-size', 'damaged', 'wrong-item']).describe('Why the customer wants to return the item'),
    category: z.string().describe("The item's category as lookup_order gives it, e.g. jackets or sleeping-bags"),
    daysSinceDelivery: z.number().int().min(0).describe('Days since the order was delivered'),
    opened: z.boolean().describe('Whether the item was opened, worn or washed'),
    giftCard: z.boolean().default(false).describe('Whether the item is a gift card'),
  }),
  execute: async ({ reason, category, daysSinceDelivery, opened, giftCard }) => {
    if (giftCard) return { eligible: false, outcome: 'none', why: 'Gift cards cannot be refunded.' };
    if (reason === 'damaged' || reason === 'wrong-item') {
      return { eligible: true, outcome: 'replace-or-refund', why: 'Damaged or wrong items are always replaced or refunded once we have a photo.' };
    }
    if (daysSinceDelivery > RETURN_WINDOW_DAYS) {
      return {
        eligible: false,
        outcome: 'none',
        why: `Returns are accepted within ${RETURN_WINDOW_DAYS} days of delivery; this was ${daysSinceDelivery} days ago.`,
      };
    }
    if (opened && HYGIENE_CATEGORIES.includes(category)) {
      return { eligible: false, outcome: 'none', why: `Opened ${category.replace('-', ' ')} cannot be returned, for hygiene reasons.` };
    }
    if (opened) return { eligible: false, outcome: 'none', why: 'Only unworn, unwashed items can be returned.' };
    return { eligible: true, outcome: 'refund', why: 'Unworn items may be returned within 30 days for a refund to the original payment method.' };
  },
});

export default defineAgent({
  instructions,
  tools: { refund_policy: refundPolicy },
  maxSteps: 6,
});
