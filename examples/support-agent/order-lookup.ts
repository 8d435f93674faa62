/**
 * The example's Lambda tool, lookup_order: answers from a small table of
 * orders held in memory. The runtime invokes it with a LambdaToolEvent and
 * gives the model whatever it returns; what it throws, the model is told
 * as the tool's error.
 *
 * A real lookup would read the order store of the region's jurisdiction
 * and check that `event.caller` owns the order before answering.
 */
import type { LambdaToolEvent } from 'cdk-multi-region-agent';

export interface Order {
  orderId: string;
  status: 'processing' | 'shipped' | 'delivered' | 'returned';
  placedOn: string;
  shippedOn?: string;
  deliveredOn?: string;
  deliveryCity: string;
  paymentCardLast4: string;
  totalEur: number;
  items: Array<{ name: string; category: string; quantity: number }>;
}

export const ORDERS: readonly Order[] = [
  {
    orderId: 'NW-10042',
    status: 'shipped',
    placedOn: '2026-03-01',
    shippedOn: '2026-03-03',
    deliveryCity: 'Lyon',
    paymentCardLast4: '4242',
    totalEur: 189.9,
    items: [{ name: 'Ridge rain jacket', category: 'jackets', quantity: 1 }],
  },
  {
    orderId: 'NW-10057',
    status: 'delivered',
    placedOn: '2026-02-10',
    shippedOn: '2026-02-11',
    deliveredOn: '2026-02-14',
    deliveryCity: 'Munich',
    paymentCardLast4: '1881',
    totalEur: 259,
    items: [
      { name: 'Alpine down sleeping bag', category: 'sleeping-bags', quantity: 1 },
      { name: 'Merino hiking socks', category: 'socks', quantity: 2 },
    ],
  },
  {
    orderId: 'NW-10063',
    status: 'processing',
    placedOn: '2026-03-05',
    deliveryCity: 'Seattle',
    paymentCardLast4: '0005',
    totalEur: 1249,
    items: [{ name: 'Four-season expedition tent', category: 'tents', quantity: 1 }],
  },
  {
    orderId: 'NW-10071',
    status: 'returned',
    placedOn: '2026-01-20',
    shippedOn: '2026-01-21',
    deliveredOn: '2026-01-24',
    deliveryCity: 'Dublin',
    paymentCardLast4: '3310',
    totalEur: 74.5,
    items: [{ name: 'Trail running shoes', category: 'footwear', quantity: 1 }],
  },
];

const ORDER_ID = /^NW-\d{5}$/;

export async function handler(event: LambdaToolEvent): Promise<unknown> {
  const orderId = (event.input as { orderId?: unknown } | null)?.orderId;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    throw new Error(`lookup_order needs an orderId like NW-10042, got ${JSON.stringify(orderId)}`);
  }
  const order = ORDERS.find((candidate) => candidate.orderId === orderId);
  if (!order) return { found: false, orderId };
  return { found: true, ...order };
}
