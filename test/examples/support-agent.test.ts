import { handler, ORDERS } from '../../examples/support-agent/order-lookup';
import agent from '../../examples/support-agent/agent';
import type { LambdaToolEvent } from '../../lib';
import type { ToolContext } from '../../lambda/agent/agent/definition';

const event = (input: unknown): LambdaToolEvent => ({
  tool: 'lookup_order',
  input,
  toolUseId: 'tooluse_1',
  conversationId: 'eu.c-1',
  caller: 'alice',
  region: 'eu-west-1',
});

const context = (): ToolContext => ({
  toolCallId: 'tooluse_2',
  abortSignal: new AbortController().signal,
  messages: [],
  conversationId: 'eu.c-1',
  caller: 'alice',
  region: 'eu-west-1',
  remainingTimeMs: () => 5000,
});

describe('lookup_order (a Lambda tool)', () => {
  test('answers a known order from its table', async () => {
    await expect(handler(event({ orderId: 'NW-10042' }))).resolves.toEqual({ found: true, ...ORDERS[0] });
  });

  test('answers found: false for an unknown order', async () => {
    await expect(handler(event({ orderId: 'NW-99999' }))).resolves.toEqual({ found: false, orderId: 'NW-99999' });
  });

  test('throws for input that is not an order id, which the model is told as the tool error', async () => {
    await expect(handler(event({ orderId: 'my order' }))).rejects.toThrow(/lookup_order needs an orderId like NW-10042, got "my order"/);
  });
});

describe('the support agent', () => {
  test('has its instructions from instructions.md, a few KB, the refund_policy tool, and issue_refund, which needs approval', () => {
    expect(agent.instructions).toMatch(/^# Support agent for Northwind Outfitters/);
    expect(Buffer.byteLength(agent.instructions ?? '')).toBeGreaterThan(2000);
    expect(agent.tools.map((tool) => [tool.name, tool.needsApproval ?? false])).toEqual([
      ['refund_policy', false],
      ['issue_refund', true],
    ]);
    expect(agent.maxSteps).toBe(6);
  });

  test.each([
    [
      { reason: 'changed-mind', category: 'jackets', daysSinceDelivery: 10, opened: false },
      { eligible: true, outcome: 'refund' },
    ],
    [
      { reason: 'changed-mind', category: 'sleeping-bags', daysSinceDelivery: 3, opened: true },
      { eligible: false, outcome: 'none' },
    ],
    [
      { reason: 'damaged', category: 'sleeping-bags', daysSinceDelivery: 90, opened: true },
      { eligible: true, outcome: 'replace-or-refund' },
    ],
    [
      { reason: 'wrong-size', category: 'footwear', daysSinceDelivery: 31, opened: false },
      { eligible: false, outcome: 'none' },
    ],
  ])('refund_policy decides %j as %j', async (input, decision) => {
    const [refundPolicy] = agent.tools;

    const validated = await refundPolicy.validate(input);
    expect(validated.ok).toBe(true);
    await expect(refundPolicy.execute(validated.ok ? validated.value : input, context())).resolves.toMatchObject(decision);
  });
});
