/**
 * The order-sync body builder (`buildSyncOrder`, `buildStatusUpdate`): what an order of `POST /sync/orders` holds,
 * field by field, as the docs define it (api-notes.md, "Order-sync API"). Known inputs, expected bodies written out.
 */
import { describe, expect, it } from 'vitest';
import { buildStatusUpdate, buildSyncOrder, orderStateOf, type Row } from '../src/payloads/index.js';

const order = (extra: Row = {}): Row => ({
  order_id: 'N1',
  status: 'paid',
  ordered_at: '2024-03-01T10:20:30.999Z',
  updated_at: '2024-03-02T00:00:00Z',
  email: 'a@example.com',
  ...extra,
});
const line = (id: string, amount: number | string, price: number | string, extra: Row = {}): Row => ({ order_id: 'N1', id, amount, price, ...extra });

function built(row: Row, lines: Row[]) {
  const result = buildSyncOrder(row, lines);
  if (!result.ok) throw new Error(result.reason);
  return result;
}

describe('buildSyncOrder', () => {
  it('writes the order as the API documents it: id, status, date in whole seconds, channel, customer, value, items', () => {
    const { order: body, warnings } = built(order(), [line('P1', 2, '10.50'), line('P2', 1, 4)]);
    expect(body).toEqual({
      id: 'N1',
      status: 'paid',
      date: 1709288430, // 2024-03-01T10:20:30.999Z floored to the second, never rounded up
      channel: 'web',
      email: 'a@example.com',
      value: { total: 25 },
      items: [
        { id: 'P1', price: 10.5, quantity: 2 },
        { id: 'P2', price: 4, quantity: 1 },
      ],
    });
    expect(warnings).toEqual([]);
  });

  it('floors the date to seconds from a Date too, and falls back to updated_at when ordered_at is absent', () => {
    expect(built(order({ ordered_at: new Date(Date.UTC(2024, 0, 1, 0, 0, 59, 999)) }), [line('P1', 1, 1)]).order.date).toBe(1704067259);
    expect(built(order({ ordered_at: null }), [line('P1', 1, 1)]).order.date).toBe(1709337600);
  });

  it("takes the model's total when it gives one, else the lines' sum rounded to cents", () => {
    expect(built(order({ order_price: '99.99' }), [line('P1', 3, '0.10')]).order.value).toEqual({ total: 99.99 });
    expect(3 * 0.1).not.toBe(0.3); // the float sum has noise that cents must not carry
    expect(built(order(), [line('P1', 3, '0.10')]).order.value).toEqual({ total: 0.3 });
  });

  it('merges the lines of one product and one status: quantities added, the unit price their average (the money kept)', () => {
    const { order: body } = built(order(), [line('P1', 1, 10), line('P2', 1, 1), line('P1', 3, 6)]);
    expect(body.items).toEqual([
      { id: 'P1', price: 7, quantity: 4 }, // (10 + 3 × 6) / 4
      { id: 'P2', price: 1, quantity: 1 },
    ]);
    expect(body.value).toEqual({ total: 29 });
  });

  it('names the customer by every identifier the model gives, and refuses an order with none', () => {
    const { order: body } = built(order({ email: null, phone: '+15550001', loyalty_id: 'L9' }), [line('P1', 1, 1)]);
    expect(body).toMatchObject({ phone: '+15550001', loyalty_id: 'L9' });
    expect(body).not.toHaveProperty('email');
    const none = buildSyncOrder(order({ email: null }), [line('P1', 1, 1)]);
    expect(none.ok).toBe(false);
    expect(!none.ok && none.reason).toMatch(/^customer: the order-sync API needs at least one of email, phone, external_id, loyalty_id, telegram_id/);
  });

  it('puts the money columns into payment_structure under the API names, adding up to the total', () => {
    const { order: body, warnings } = built(order({ order_price: '89.99', order_cash: '80', order_bonuses: 5, order_delivery: '4.99', order_discount: 0 }), [
      line('P1', 1, 85),
    ]);
    expect(body.payment_structure).toEqual({ cash: 80, bonuses: 5, delivery: 4.99, discount: 0 });
    expect(warnings).toEqual([]);
  });

  it('derives cash from the documented identity total = cash + bonuses + delivery − discount when the model gives none', () => {
    const { order: body } = built(order({ order_price: 100, order_bonuses: 10, order_delivery: 5, order_discount: 15 }), [line('P1', 1, 110)]);
    expect(body.payment_structure).toEqual({ cash: 100, bonuses: 10, delivery: 5, discount: 15 });
  });

  it('leaves out parts that do not add up to the total, with a warning naming them', () => {
    const { order: body, warnings } = built(order({ order_price: 100, order_cash: 80, order_bonuses: 5 }), [line('P1', 1, 100)]);
    expect(body).not.toHaveProperty('payment_structure');
    expect(body.value).toEqual({ total: 100 });
    expect(warnings.map((w) => w.reason)).toEqual([
      'payment_structure: cash + bonuses + delivery − discount must equal the total (100), the parts given (order_cash, order_bonuses) come to 85; left out',
    ]);
  });

  it('tells a partial return as one line per product: the kept quantity; the total leaves the returned unit out', () => {
    // 1 of 2 units of P1 returned: the shop keeps it on two lines (the inventory units), one refunded.
    const lines = [line('P1', 1, 10, { status: 'shipped' }), line('P1', 1, 10, { status: 'refunded' }), line('P2', 1, 5, { status: 'shipped' })];
    const { order: body } = built(order(), lines);
    expect(body.items).toEqual([
      { id: 'P1', price: 10, quantity: 1, status: 'shipped' },
      { id: 'P2', price: 5, quantity: 1, status: 'shipped' },
    ]);
    expect(body.value).toEqual({ total: 15 });
  });

  it('tells a product returned whole as its line refunded (taken out of the order), and out of the total', () => {
    const lines = [line('P1', 2, 10, { status: 'refunded' }), line('P2', 1, 5)];
    const { order: body } = built(order(), lines);
    expect(body.items).toEqual([
      { id: 'P1', price: 10, quantity: 2, status: 'refunded' },
      { id: 'P2', price: 5, quantity: 1 },
    ]);
    expect(body.value).toEqual({ total: 5 });
  });

  it('sends a weighed line as quantity 1 at its final price, and leaves a line of no units out with a warning', () => {
    const { order: body, warnings } = built(order(), [line('cheese', '0.750', '12.00'), line('P2', 0, 3), line('P3', 2, 1)]);
    expect(body.items).toEqual([
      { id: 'P3', price: 1, quantity: 2 },
      { id: 'cheese', price: 9, quantity: 1 },
    ]);
    expect(body.value).toEqual({ total: 11 });
    expect(warnings.map((w) => w.field)).toEqual(['items[1].amount']);
  });

  it('marks an order the model says was taken offline, with its channel', () => {
    const { order: body } = built(order({ channel: 'callcenter', offline: true }), [line('P1', 1, 1)]);
    expect(body).toMatchObject({ channel: 'callcenter', offline: true });
    expect(built(order({ offline: false }), [line('P1', 1, 1)]).order).not.toHaveProperty('offline');
  });
});

describe('buildStatusUpdate', () => {
  it('sends id and status only while the lines are as told; once a line changed, the items and the value they come to now', () => {
    const lines = [line('P1', 2, 5), line('P2', 1, 3)];
    const told = orderStateOf(order(), lines) ?? null;
    const same = buildStatusUpdate(order({ status: 'shipped' }), lines, told);
    expect(same.ok && same.order).toEqual({ id: 'N1', status: 'shipped' });
    const returned = [line('P1', 2, 5), line('P2', 1, 3, { status: 'refunded' })];
    const update = buildStatusUpdate(order({ status: 'partially_returned', order_bonuses: 2 }), returned, told);
    expect(update.ok && update.order).toEqual({
      id: 'N1',
      status: 'partially_returned',
      value: { total: 10 },
      payment_structure: { cash: 8, bonuses: 2 },
      items: [
        { id: 'P1', price: 5, quantity: 2 },
        { id: 'P2', price: 3, quantity: 1, status: 'refunded' },
      ],
    });
  });
});
