/**
 * The shop's truth at PersonaClick, tried as a new operator would on a shop kept the way Spree/Solidus keep it
 * (test/support/spree-shop.ts): installed with `startFrom: now` over orders placed before, then new purchases, a
 * split payment, a phone order, a guest without a tracker, an order cancelled before any sync saw it, weighed goods, a
 * pre-install order returned, a year-old order changed, a partial return, and the history backfill. What reaches the
 * sandbox is compared with the shop, road by road: every order once, on the right road, with its status, date and money.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, testConfig } from './support/harness.js';
import { cancelOrder, createSpreeShop, insertSpreeOrder, returnUnits, SPREE_ITEMS_QUERY, SPREE_ORDERS_QUERY } from './support/spree-shop.js';

const SECRET = 'shop-secret-2c4be9a1';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_spree', shop: false });

function config(): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    personaclick: { shopSecret: SECRET },
    delivery: { orderSyncPerMinute: 6000 },
    orders: { query: SPREE_ORDERS_QUERY, itemsQuery: SPREE_ITEMS_QUERY, startFrom: 'now', skipStatuses: ['cart', 'address', 'delivery', 'payment', 'confirm'] },
  });
}

const sync = () => runCommand(config(), ['sync', 'orders']);

interface PurchaseBody {
  order_id: string;
  did: string;
  order_price?: number;
  order_cash?: number;
  order_bonuses?: number;
  order_delivery?: number;
  order_discount?: number;
  email?: string;
  external_id?: string;
  items: { id: string; amount: number; price?: number }[];
}

const purchaseBody = (id: string): PurchaseBody | undefined =>
  env.sandbox.accepted.find((r) => r.body.event === 'purchase' && r.body.order_id === id)?.body as PurchaseBody | undefined;

const placedSeconds = async (number: string): Promise<number> =>
  Number(
    (
      await env.db.query<{ s: string }>(
        `SELECT floor(extract(epoch FROM completed_at AT TIME ZONE 'UTC'))::bigint::text AS s FROM spree_orders WHERE number = $1`,
        [number],
      )
    )[0]?.s,
  );

describe('a Spree shop, from installation on', () => {
  it('every order once, on the right road, with its real status, date and money', async () => {
    await createSpreeShop(env.db);
    // Before installation: an order of ten days ago and one of a year ago.
    await insertSpreeOrder(env.db, {
      number: 'R100',
      completedHoursAgo: 240,
      did: 'dev-r100',
      email: 'r100@example.com',
      userId: 100,
      lines: [{ variant: 1, quantity: 1, price: 20 }],
    });
    await insertSpreeOrder(env.db, {
      number: 'R101',
      completedHoursAgo: 24 * 365,
      did: 'dev-r101',
      email: 'r101@example.com',
      userId: 101,
      lines: [{ variant: 2, quantity: 1, price: 30 }],
    });
    // Installation: the first sync starts now and sends nothing.
    const install = await sync();
    expect(install.summaries[0]).toMatchObject({ status: 'done', read: 0 });

    // After installation.
    await insertSpreeOrder(env.db, {
      number: 'R200',
      completedHoursAgo: 1,
      did: 'dev-r200',
      email: 'r200@example.com',
      userId: 200,
      lines: [
        { variant: 1, quantity: 2, price: 20 },
        { variant: 3, quantity: 1, price: 15 },
      ],
    });
    // Paid partly with store credit, with shipping and a promotion: order_cash, order_bonuses, order_delivery, order_discount.
    await insertSpreeOrder(env.db, {
      number: 'R201',
      completedHoursAgo: 1,
      did: 'dev-r201',
      email: 'r201@example.com',
      userId: 201,
      lines: [{ variant: 4, quantity: 1, price: 50 }],
      shipment: 5,
      promo: -3,
      storeCredit: 10,
    });
    // Entered by staff on the phone: no tracker.
    await insertSpreeOrder(env.db, {
      number: 'R202',
      completedHoursAgo: 1,
      email: 'r202@example.com',
      phone: '+15550202',
      userId: 202,
      createdBy: 1,
      lines: [{ variant: 5, quantity: 1, price: 12 }],
    });
    // A guest whose tracker was blocked: an e-mail only.
    await insertSpreeOrder(env.db, { number: 'R203', completedHoursAgo: 1, email: 'guest@example.com', lines: [{ variant: 6, quantity: 3, price: 2 }] });
    // Placed and cancelled before any sync saw it.
    await insertSpreeOrder(env.db, {
      number: 'R204',
      completedHoursAgo: 1,
      did: 'dev-r204',
      email: 'r204@example.com',
      userId: 204,
      lines: [{ variant: 7, quantity: 1, price: 99 }],
    });
    await cancelOrder(env.db, 'R204');
    // Weighed goods: 0.75 kg of cheese at 12.00 a kg, and two loaves.
    await insertSpreeOrder(env.db, {
      number: 'R205',
      completedHoursAgo: 1,
      did: 'dev-r205',
      email: 'r205@example.com',
      userId: 205,
      lines: [
        { variant: 8, quantity: 1, price: 12, weightKg: 0.75 },
        { variant: 9, quantity: 2, price: 3.5 },
      ],
    });
    // A cart (not an order yet) is never an order.
    await insertSpreeOrder(env.db, { number: 'R206', completedHoursAgo: null, did: 'dev-r206', lines: [{ variant: 10, quantity: 1, price: 5 }] });
    // The order of ten days ago is returned whole; the one of a year ago is changed by a mass update.
    await returnUnits(env.db, 'R100', 1, 1, 'returned');
    await env.db.query(`UPDATE spree_orders SET state = 'archived', updated_at = now() AT TIME ZONE 'UTC' WHERE number = 'R101'`);

    const day = await sync();
    expect(day.summaries[0]).toMatchObject({ status: 'done', read: 8, sent: 7, skipped: 1, invalid: 0, rejected: 0 });

    // Live purchases: the new orders with a device, in a status that makes an order.
    expect([...env.sandbox.purchases.keys()].sort()).toEqual(['R200', 'R201', 'R205']);
    expect(purchaseBody('R201')).toMatchObject({
      did: 'dev-r201',
      order_price: 52,
      order_cash: 42,
      order_bonuses: 10,
      order_delivery: 5,
      order_discount: 3,
      email: 'r201@example.com',
      external_id: '201',
    });
    expect(purchaseBody('R205')?.items).toEqual([
      { id: 'SKU-008', amount: 1, price: 9 }, // 0.75 kg × 12.00
      { id: 'SKU-009', amount: 2, price: 3.5 },
    ]);
    // The order-sync API: the phone order, the guest, the cancellation, the pre-install return; each dated as placed.
    expect([...env.sandbox.syncOrders.keys()].sort()).toEqual(['R100', 'R202', 'R203', 'R204']);
    expect(env.sandbox.syncOrders.get('R202')).toMatchObject({
      status: 'complete',
      channel: 'callcenter',
      identifiers: { email: 'r202@example.com', phone: '+15550202', external_id: '202' },
      details: { offline: true },
    });
    expect(env.sandbox.syncOrders.get('R203')).toMatchObject({ channel: 'web', identifiers: { email: 'guest@example.com' } });
    expect(env.sandbox.syncOrders.get('R204')).toMatchObject({ status: 'canceled', total: 99 }); // the total as the shop keeps it; the status and lines say cancelled
    expect(env.sandbox.syncOrders.get('R204')?.lines).toEqual([{ id: 'SKU-007', price: 99, quantity: 1, status: 'cancelled' }]);
    expect(env.sandbox.syncOrders.get('R100')).toMatchObject({
      status: 'returned',
      total: 0,
      lines: [{ id: 'SKU-001', price: 20, quantity: 1, status: 'refunded' }],
    });
    for (const id of ['R100', 'R202', 'R203', 'R204']) expect(env.sandbox.syncOrders.get(id)?.date).toBe(await placedSeconds(id));
    // The year-old order is history: left alone, and said so.
    expect(env.sandbox.syncOrders.has('R101')).toBe(false);
    expect(day.log.some((l) => l.level === 'warn' && l.ordersFirstSeen === 1)).toBe(true);

    // A partial return: 1 of the 2 units of SKU-001 in R200, refunded to the card.
    await returnUnits(env.db, 'R200', 1, 1, 'complete');
    const returned = await sync();
    expect(returned.summaries[0]).toMatchObject({ read: 1, sent: 1 });
    const r200 = env.sandbox.syncOrders.get('R200');
    expect(r200?.lines).toEqual([
      { id: 'SKU-001', price: 20, quantity: 1, status: 'shipped' },
      { id: 'SKU-003', price: 15, quantity: 1, status: 'shipped' },
    ]);
    expect(r200?.total).toBe(35); // 55 less the returned unit
    expect(r200?.details.payment_structure).toEqual({ cash: 35, delivery: 0, discount: 0 });
    expect(env.sandbox.purchases.get('R200')).toBe(1); // never a second purchase

    // The history backfill tells the year-old order, dated as placed.
    const history = await runCommand(config(), ['backfill', 'orders'], { from: '2000-01-01', to: new Date(Date.now() + 60_000).toISOString(), yes: true });
    expect(history.summaries[0]).toMatchObject({ status: 'done', sent: 1 });
    expect(env.sandbox.syncOrders.get('R101')).toMatchObject({ status: 'archived', date: await placedSeconds('R101') });

    // Nothing twice, nothing lost: every completed order of the shop is at PersonaClick, by exactly one road.
    const completed = (await env.db.query<{ number: string }>(`SELECT number FROM spree_orders WHERE completed_at IS NOT NULL ORDER BY number`)).map(
      (r) => r.number,
    );
    const live = [...env.sandbox.purchases.keys()];
    const dated = [...env.sandbox.syncOrders.keys()].filter((id) => !env.sandbox.purchases.has(id));
    expect([...live, ...dated].sort()).toEqual(completed);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
    const figures = {
      figures: 'spree shop: what reached PersonaClick',
      orders: completed.length,
      livePurchases: live.length,
      orderSyncOrders: dated.length,
      statusUpdates: env.sandbox.syncOrders.get('R200')?.received ?? 0,
      sentTwice: [...env.sandbox.purchases.values()].filter((n) => n > 1).length,
      lost: completed.filter((id) => !live.includes(id) && !dated.includes(id)).length,
      triggers: env.sandbox.triggers(),
    };
    console.log(JSON.stringify(figures));
    expect(figures).toMatchObject({ orders: 8, livePurchases: 3, orderSyncOrders: 5, statusUpdates: 1, sentTwice: 0, lost: 0 });
    // What PersonaClick would have mailed: one after-purchase chain per live purchase; a status chain for each order-sync
    // order (its first status) and for R200's partial return (a purchase's first status); never one for R101 in the live sync.
    expect(figures.triggers).toMatchObject({ afterPurchase: 3, orderStatusChanged: 6 });
  });
});
