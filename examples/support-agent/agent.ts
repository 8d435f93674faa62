/**
 * The example's agent, as a user writes one: instructions from a Markdown
 * file beside it, tools in code written with the AI SDK's tool() and a
 * zod/mini schema (issue_refund, which changes something, waits for the
 * customer's approval: `needsApproval`), and the loop's length. The other
 * tool, lookup_order, is a Lambda function (order-lookup.ts) that each
 * region deploys (tools.ts). zod/mini is zod 4's small build: this agent's
 * asset is 70 KB with it, 475 KB with zod's classic API (docs/your-agent.md).
 */
import { tool } from 'ai';
import * as z from 'zod/mini';
import { defineAgent } from 'cdk-multi-region-agent/agent';
import instructions from './instructions.md';

/** Categories whose items cannot be returned once opened, unless they arrived damaged. */
const HYGIENE_CATEGORIES = ['sleeping-bags', 'base-layers', 'socks'];
const RETURN_WINDOW_DAYS = 30;

const refundPolicy = tool({
  description: 'Decides whether an item can be returned or refunded under our policy. Call it before telling a customer anything about a return or a refund.',
  inputSchema: z.object({
    reason: z.enum(['changed-mind', 'wrong-size', 'damaged', 'wrong-item']).check(z.describe('Why the customer wants to return the item')),
    category: z.string().check(z.describe("The item's category as lookup_order gives it, e.g. jackets or sleeping-bags")),
    daysSinceDelivery: z.int().check(z.minimum(0), z.describe('Days since the order was delivered')),
    opened: z.boolean().check(z.describe('Whether the item was opened, worn or washed')),
    giftCard: z.optional(z.boolean().check(z.describe('Whether the item is a gift card'))),
  }),
  execute: async ({ reason, category, daysSinceDelivery, opened, giftCard = false }) => {
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

/** Refunds issued by this environment (the example keeps them in memory; a real agent calls its payment system). */
const refunds = new Map<string, { orderId: string; amountCents: number; issuedAt: string }>();

const issueRefund = tool({
  description:
    'Issues a refund for an order, to the original payment method. Only after refund_policy said the order is eligible; the customer approves each refund.',
  inputSchema: z.object({
    orderId: z.string().check(z.describe('The order id, e.g. NW-10042')),
    amountCents: z.int().check(z.positive(), z.describe('The amount to refund, in cents')),
  }),
  // Money moves: every call waits for the conversation's owner to approve it (see docs/http-api.md, Approvals).
  needsApproval: true,
  execute: async ({ orderId, amountCents }, { toolCallId }) => {
    const refund = { orderId, amountCents, issuedAt: new Date().toISOString() };
    refunds.set(toolCallId, refund);
    return { refundId: `RF-${toolCallId.slice(-8)}`, status: 'issued', ...refund };
  },
});

export default defineAgent({
  instructions,
  tools: { refund_policy: refundPolicy, issue_refund: issueRefund },
  maxSteps: 6,
});
