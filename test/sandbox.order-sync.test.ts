/**
 * The sandbox's order-sync API (api-notes.md, "Order-sync API"): POST /sync/orders with its
 * secret, limits, pace and per-order rules, what it keeps of each order, and GET /orders/by_user.
 * All over real HTTP.
 */
import { describe, expect, it } from 'vitest';
import { SANDBOX_SHOP_SECRET, type Sandbox, type SandboxOptions } from '../src/sandbox/index.js';
import { Pace } from '../src/sandbox/pace.js';
import { errorMessage, sandboxClient, type Reply } from './support/sandbox-client.js';

const SHOP = '0d42fd8b713d0752776ca589cc0056';
const SECRET = 'test-shop-secret';
const DAY = 86_400;
/** A day in the past, in Unix seconds. */
const PAST = Math.floor(Date.now() / 1000) - 30 * DAY;

type Order = Record<string, unknown>;

const newOrder = (id: string, extra: Order = {}): Order => ({
  id,
  status: 'placed',
  channel: 'web',
  date: PAST,
  email: 'ann@example.com',
  value: { total: 350 },
  items: [
    { id: 'P1', price: 100, quantity: 2, line_id: `${id}-1` },
    { id: 'P2', price: 150, quantity: 1, line_id: `${id}-2` },
  ],
  ...extra,
});

/** A batch; `secret` null leaves shop_secret out. */
const batch = (orders: Order[], secret: string | null = SECRET): Order => ({
  shop_id: SHOP,
  ...(secret === null ? {} : { shop_secret: secret }),
  orders,
});

const { sandbox, call, post } = sandboxClient();

const syncSandbox = (opts: SandboxOptions = {}): Promise<Sandbox> => sandbox({ shopIds: [SHOP], shopSecret: SECRET, ...opts });
const sync = (sb: Sandbox, orders: Order[], secret?: string | null): Promise<Reply> => post(sb, '/sync/orders', batch(orders, secret));
const byUser = (sb: Sandbox, query: Record<string, string>): Promise<Reply> =>
  call(sb, `/orders/by_user?${new URLSearchParams(query).toString()}`, { method: 'GET' });

/** A batch refused whole: the status, a reason that starts with the order and the field, nothing stored. */
async function expectRefused(sb: Sandbox, orders: Order[], reason: RegExp, status = 400): Promise<void> {
  const before = sb.syncOrders.size;
  const reply = await sync(sb, orders);
  expect(reply.status).toBe(status);
  expect(reply.json()).toMatchObject({ status: 'error', payload: { message: expect.stringMatching(reason) as unknown } });
  expect(sb.syncOrders.size).toBe(before);
}

describe('POST /sync/orders', () => {
  it('accepts a batch of new orders with {"status":"success"} and keeps what the API keeps of each', async () => {
    const sb = await syncSandbox();
    const before = Date.now();
    const reply = await sync(sb, [newOrder('N1', { phone: '+15550001', promocode: 'SPRING', payment_structure: { cash: 300, bonuses: 50 } }), newOrder('N2')]);
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ status: 'success' });

    const n1 = sb.syncOrders.get('N1');
    expect(n1).toMatchObject({
      id: 'N1',
      status: 'placed',
      date: PAST,
      channel: 'web',
      identifiers: { email: 'ann@example.com', phone: '+15550001' },
      total: 350,
      details: { promocode: 'SPRING', payment_structure: { cash: 300, bonuses: 50 } },
      received: 1,
    });
    expect(n1?.lines.map((l) => [l.id, l.quantity, l.price, l.line_id])).toEqual([
      ['P1', 2, 100, 'N1-1'],
      ['P2', 1, 150, 'N1-2'],
    ]);
    expect(n1?.liveLines).toEqual(n1?.lines);
    expect(n1?.history).toEqual([{ status: 'placed', at: expect.any(Number) as unknown }]);
    expect(n1?.history[0]?.at).toBeGreaterThanOrEqual(before);
    expect([...sb.syncOrders.keys()]).toEqual(['N1', 'N2']);
    expect(sb.events.get('/sync/orders')).toBe(1);
    expect(sb.syncArrivals()).toHaveLength(1);
    // The body holds the shop secret: it is not kept with the tracking bodies.
    expect(sb.accepted).toHaveLength(0);
  });

  it('answers 401 without the secret (or shop_id), 403 with a wrong secret, 404 for an unknown shop, and stores nothing', async () => {
    const sb = await syncSandbox();
    const orders = [newOrder('N1')];
    const missing = await sync(sb, orders, null);
    expect(missing.status).toBe(401);
    expect(errorMessage(missing)).toMatch(/^shop_secret: /);
    expect((await sync(sb, orders, '')).status).toBe(401);
    expect((await post(sb, '/sync/orders', { shop_secret: SECRET, orders })).status).toBe(401);
    const wrong = await sync(sb, orders, 'guessed');
    expect(wrong.status).toBe(403);
    expect(wrong.json()).toEqual({ status: 'error', payload: { message: 'Wrong shop secret' } });
    expect((await post(sb, '/sync/orders', { ...batch(orders), shop_id: 'ffffffffffffffffffffffffffffff' })).status).toBe(404);
    expect(sb.syncOrders.size).toBe(0);
    expect(sb.stats()).toMatchObject({ invalid: 3, rejected: 2, accepted: 0 });
    expect((await sync(sb, orders)).status).toBe(200);
  });

  it('expects the documented default secret when none is configured', async () => {
    const sb = await sandbox();
    expect((await sync(sb, [newOrder('N1')], 'anything')).status).toBe(403);
    expect((await sync(sb, [newOrder('N1')], SANDBOX_SHOP_SECRET)).status).toBe(200);
  });

  it('answers 413 for more orders than the batch limit, and takes a batch at the limit', async () => {
    const sb = await syncSandbox({ syncOrdersMaxOrders: 3 });
    const orders = ['A', 'B', 'C', 'D'].map((id) => newOrder(id));
    const tooMany = await sync(sb, orders);
    expect(tooMany.status).toBe(413);
    expect(errorMessage(tooMany)).toMatch(/^orders: at most 3 orders/);
    expect(sb.syncOrders.size).toBe(0);
    expect((await sync(sb, orders.slice(0, 3))).status).toBe(200);
    expect(sb.syncOrders.size).toBe(3);
  });

  it('answers 413 for a body above the byte limit; the tracking API keeps its own limit', async () => {
    const sb = await syncSandbox({ syncOrdersMaxBytes: 2_000 });
    const big = [newOrder('N1', { comment: 'x'.repeat(400) }), ...['N2', 'N3', 'N4', 'N5', 'N6', 'N7', 'N8'].map((id) => newOrder(id))];
    expect(JSON.stringify(batch(big)).length).toBeGreaterThan(2_000);
    const reply = await sync(sb, big);
    expect(reply.status).toBe(413);
    expect(sb.syncOrders.size).toBe(0);
    expect((await sync(sb, big.slice(0, 2))).status).toBe(200);
    const purchase = {
      event: 'purchase',
      shop_id: SHOP,
      did: 'd1',
      seance: 's1',
      stream: 'web',
      order_id: 'T1',
      items: [{ id: 'P1', amount: 1 }],
      custom: { note: 'y'.repeat(3_000) },
    };
    expect((await post(sb, '/push', purchase)).status).toBe(200);
  });

  it('paces requests: beyond the configured number a minute, 429 with Retry-After in seconds until a slot frees', async () => {
    const sb = await syncSandbox({ syncOrdersPerMinute: 2, recordAttempts: true });
    expect((await sync(sb, [newOrder('N1')])).status).toBe(200);
    expect((await sync(sb, [newOrder('N2')])).status).toBe(200);
    const paced = await sync(sb, [newOrder('N3')]);
    expect(paced.status).toBe(429);
    const retryAfter = Number(paced.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(errorMessage(paced)).toMatch(/at most 2 a minute/);
    expect(sb.syncOrders.has('N3')).toBe(false);
    // Another path is not paced; every arrival is recorded, the refused one too.
    expect((await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, email: 'ann@example.com' })).status).toBe(200);
    expect(sb.syncArrivals()).toHaveLength(3);
    expect(
      sb
        .attempts()
        .filter((a) => a.path === '/sync/orders')
        .map((a) => [a.key, a.outcome, a.retryAfterSeconds]),
    ).toEqual([
      ['N1+1', 200, undefined],
      ['N2+1', 200, undefined],
      ['N3+1', 429, retryAfter],
    ]);
    // reset() forgets the pace with the rest.
    sb.reset();
    expect((await sync(sb, [newOrder('N3')])).status).toBe(200);
  });

  it('a pace frees its oldest slot once the window has passed it', () => {
    const pace = new Pace(2, 60_000);
    expect(pace.admit(0)).toBeUndefined();
    expect(pace.admit(10_000)).toBeUndefined();
    expect(pace.admit(30_000)).toBe(30);
    expect(pace.admit(59_999)).toBe(1);
    expect(pace.admit(60_000)).toBeUndefined();
    expect(pace.admit(60_001)).toBe(10);
  });

  it('refuses a date in milliseconds (a date in the future), naming the order and the field, and stores nothing of the batch', async () => {
    const sb = await syncSandbox();
    await expectRefused(
      sb,
      [newOrder('N1'), newOrder('N2', { date: Date.now() }), newOrder('N3')],
      /^orders\[1\] \(id "N2"\): date: must be a Unix time in whole seconds/,
    );
    await expectRefused(sb, [newOrder('N1', { date: PAST + 0.5 })], /^orders\[0\] \(id "N1"\): date: /);
    await expectRefused(sb, [newOrder('N1', { date: '2024-01-01' })], /^orders\[0\] \(id "N1"\): date: /);
  });

  it('refuses a new order that names no customer, or lacks channel, date, value or items', async () => {
    const sb = await syncSandbox();
    const { email: _email, ...anonymous } = newOrder('N1');
    await expectRefused(sb, [anonymous], /^orders\[0\] \(id "N1"\): email \| phone \| external_id \| loyalty_id \| telegram_id: one is required/);
    for (const field of ['channel', 'date', 'value', 'items']) {
      const order = Object.fromEntries(Object.entries(newOrder('N1')).filter(([k]) => k !== field));
      await expectRefused(sb, [order], new RegExp(`^orders\\[0\\] \\(id "N1"\\): ${field}: is required for an order the API does not have yet`));
    }
    for (const [name, value] of [
      ['phone', '+15550001'],
      ['external_id', 'C-7'],
      ['loyalty_id', 77],
      ['telegram_id', '123456'],
    ] as const) {
      expect((await sync(sb, [{ ...anonymous, id: `by-${name}`, [name]: value }])).status).toBe(200);
    }
  });

  it('refuses one product on two lines of an order', async () => {
    const sb = await syncSandbox();
    const items = [
      { id: 'P1', price: 10, quantity: 1 },
      { id: 'P2', price: 5, quantity: 1 },
      { id: 'P1', price: 10, quantity: 3 },
    ];
    await expectRefused(sb, [newOrder('N1', { items })], /^orders\[0\] \(id "N1"\): items\[2\]\.id: product "P1" is already on items\[0\]/);
  });

  it('refuses what the docs rule out in an order, each reason naming the field', async () => {
    const sb = await syncSandbox();
    const cases: [Order, string][] = [
      [{ status: 'placed' }, 'id'],
      [newOrder('N1', { status: '' }), 'status'],
      [newOrder('N1', { value: { total: '350' } }), 'value.total'],
      [newOrder('N1', { value: {} }), 'value.total'],
      [newOrder('N1', { items: [] }), 'items'],
      [newOrder('N1', { items: [{ id: 'P1', quantity: 1 }] }), 'items[0].price'],
      [newOrder('N1', { items: [{ id: 'P1', price: 10 }] }), 'items[0].quantity'],
      [newOrder('N1', { items: [{ id: 'P1', price: 10, quantity: 0.5 }] }), 'items[0].quantity'],
      [newOrder('N1', { items: [{ id: 'P1', price: 10, quantity: 1, status: 'returned' }] }), 'items[0].status'],
      [newOrder('N1', { items: [{ id: 'P1', price: 10, quantity: 1, barcode: '' }] }), 'items[0].barcode'],
      [newOrder('N1', { items: [{ id: 'P1', price: 10, quantity: 1, amount: 1 }] }), 'items[0].amount'],
      [newOrder('N1', { comment: 'c'.repeat(501) }), 'comment'],
      [newOrder('N1', { payment_structure: { cash: '300' } }), 'payment_structure.cash'],
      [newOrder('N1', { payment_structure: { card: 300 } }), 'payment_structure.card'],
      [newOrder('N1', { payment_structure: {} }), 'payment_structure'],
      [newOrder('N1', { custom: { order_id: 'N1' } }), 'custom.order_id'],
      [newOrder('N1', { custom: {} }), 'custom'],
      [newOrder('N1', { custom: { boxes: 1.5 } }), 'custom.boxes'],
      [newOrder('N1', { email: '' }), 'email'],
      [newOrder('N1', { promocode: null }), 'promocode'],
      [newOrder('N1', { did: 'd1' }), 'did'],
    ];
    for (const [order, field] of cases) {
      const reply = await sync(sb, [order]);
      expect({ field, status: reply.status }).toEqual({ field, status: 400 });
      expect(errorMessage(reply)).toMatch(new RegExp(`^orders\\[0\\]( \\(id "N1"\\))?: ${field.replace(/[.[\]]/g, '\\$&')}: `));
    }
    expect(sb.syncOrders.size).toBe(0);
    const full = newOrder('N1', {
      comment: 'c'.repeat(500),
      offline: false,
      location_id: 'store-7',
      tax_free: false,
      custom: { boxes: 2, delivered_on: '2024-03-01', note: 'by the door' },
      items: [{ id: 'P1', price: 10, quantity: 1, original_price: 12, barcode: '4006381333931', status: 'delivered', line_id: 7 }],
    });
    expect((await sync(sb, [full])).status).toBe(200);
  });

  it('refuses a body that is not an order batch', async () => {
    const sb = await syncSandbox();
    const cases: [unknown, RegExp][] = [
      [[newOrder('N1')], /^body: /],
      [{ shop_id: SHOP, shop_secret: SECRET }, /^orders: is required/],
      [{ shop_id: SHOP, shop_secret: SECRET, orders: [] }, /^orders: must be an array of at least 1 item/],
      [{ shop_id: SHOP, shop_secret: SECRET, orders: newOrder('N1') }, /^orders: must be an array/],
      [{ shop_id: SHOP, shop_secret: SECRET, orders: ['N1'] }, /^orders\[0\]: must be an order object/],
      [{ ...batch([newOrder('N1')]), dry_run: true }, /^dry_run: is not a field/],
    ];
    for (const [body, reason] of cases) {
      const reply = await post(sb, '/sync/orders', body);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(reason);
    }
    expect((await call(sb, '/sync/orders', { raw: '{"orders":' })).status).toBe(400);
    expect((await call(sb, '/sync/orders', { method: 'GET' })).status).toBe(405);
  });

  it('re-sending an id changes its status and contents; fields left out keep their values', async () => {
    const sb = await syncSandbox();
    expect((await sync(sb, [newOrder('N1', { promocode: 'SPRING', phone: '+15550001' })])).status).toBe(200);
    // {id, status} alone: a status change (no channel, date, value, items or customer needed).
    expect((await sync(sb, [{ id: 'N1', status: 'shipped' }])).status).toBe(200);
    let n1 = sb.syncOrders.get('N1');
    expect(n1).toMatchObject({
      status: 'shipped',
      date: PAST,
      channel: 'web',
      total: 350,
      identifiers: { email: 'ann@example.com', phone: '+15550001' },
      details: { promocode: 'SPRING' },
      received: 2,
    });
    expect(n1?.lines).toHaveLength(2);
    expect(n1?.history.map((h) => h.status)).toEqual(['placed', 'shipped']);

    // The same status again is received but is no change.
    expect((await sync(sb, [{ id: 'N1', status: 'shipped', value: { total: 340 } }])).status).toBe(200);
    n1 = sb.syncOrders.get('N1');
    expect(n1?.received).toBe(3);
    expect(n1?.total).toBe(340);
    expect(n1?.history.map((h) => h.status)).toEqual(['placed', 'shipped']);

    // A whole cancellation.
    expect((await sync(sb, [{ id: 'N1', status: 'cancelled' }])).status).toBe(200);
    expect(sb.syncOrders.get('N1')?.history.map((h) => h.status)).toEqual(['placed', 'shipped', 'cancelled']);

    // An id first seen earlier in the same batch is known to the later entry.
    expect((await sync(sb, [newOrder('N2'), { id: 'N2', status: 'paid' }])).status).toBe(200);
    expect(sb.syncOrders.get('N2')).toMatchObject({ status: 'paid', received: 2 });
    expect(sb.syncOrders.get('N2')?.history.map((h) => h.status)).toEqual(['placed', 'paid']);
  });

  it('a line cancelled or refunded leaves the live lines but is kept with its status (a partial return)', async () => {
    const sb = await syncSandbox();
    expect((await sync(sb, [newOrder('N1', { status: 'delivered' })])).status).toBe(200);
    const returned = {
      id: 'N1',
      status: 'partly returned',
      value: { total: 150 },
      items: [
        { id: 'P1', price: 100, quantity: 2, line_id: 'N1-1', status: 'refunded' },
        { id: 'P2', price: 150, quantity: 1, line_id: 'N1-2', status: 'delivered' },
      ],
    };
    expect((await sync(sb, [returned])).status).toBe(200);
    const n1 = sb.syncOrders.get('N1');
    expect(n1?.lines.map((l) => [l.id, l.status])).toEqual([
      ['P1', 'refunded'],
      ['P2', 'delivered'],
    ]);
    expect(n1?.liveLines.map((l) => l.id)).toEqual(['P2']);
    expect(n1?.total).toBe(150);

    const read = await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, email: 'ann@example.com' });
    const [order] = (read.json() as { data: { orders: { items: { item: { id: string } }[] }[] } }).data.orders;
    expect(order?.items.map((i) => i.item.id)).toEqual(['P2']);
  });

  it('fault machinery applies: injected 503 and reject rules refuse the whole batch, and nothing is stored', async () => {
    const sb = await syncSandbox({ faults: { failNext: { count: 1, status: 503 } }, recordAttempts: true });
    expect((await sync(sb, [newOrder('N1'), newOrder('N2')])).status).toBe(503);
    expect(sb.syncOrders.size).toBe(0);
    sb.setFaults({ reject: [{ field: 'id', equals: 'N7', status: 422, message: 'Order N7 is broken', messageIn: 'payload' }] });
    const rejected = await sync(sb, [newOrder('N6'), newOrder('N7'), newOrder('N8')]);
    expect(rejected.status).toBe(422);
    expect(rejected.json()).toEqual({ status: 'error', payload: { message: 'Order N7 is broken' } });
    expect(sb.syncOrders.size).toBe(0);
    expect((await sync(sb, [newOrder('N6'), newOrder('N8')])).status).toBe(200);
    expect([...sb.syncOrders.keys()]).toEqual(['N6', 'N8']);
    expect(sb.attempts().map((a) => [a.path, a.key, a.outcome])).toEqual([
      ['/sync/orders', 'N1+2', 503],
      ['/sync/orders', 'N6+3', 422],
      ['/sync/orders', 'N6+2', 200],
    ]);
    sb.setFaults({ down: true });
    expect((await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, email: 'ann@example.com' })).status).toBe(503);
    expect(sb.stats().faults).toMatchObject({ failNext: 1, down: 1 });
  });

  it('is read over the control endpoints: orders and arrivals', async () => {
    const sb = await syncSandbox();
    await sync(sb, [newOrder('N1')]);
    await sync(sb, [{ id: 'N1', status: 'shipped' }]);
    const orders = (await call(sb, '/__sandbox/sync-orders', { method: 'GET' })).json() as Record<
      string,
      { status: string; received: number; liveLines: unknown[] }
    >;
    expect(Object.keys(orders)).toEqual(['N1']);
    expect(orders.N1).toMatchObject({ status: 'shipped', received: 2 });
    expect(orders.N1?.liveLines).toHaveLength(2);
    const arrivals = (await call(sb, '/__sandbox/sync-arrivals', { method: 'GET' })).json() as number[];
    expect(arrivals).toEqual(sb.syncArrivals());
    expect(arrivals).toHaveLength(2);
    expect((await call(sb, '/__sandbox/reset', { method: 'POST' })).status).toBe(200);
    expect((await call(sb, '/__sandbox/sync-orders', { method: 'GET' })).json()).toEqual({});
    expect(sb.syncArrivals()).toEqual([]);
  });
});

describe('GET /orders/by_user', () => {
  async function shop(): Promise<Sandbox> {
    const sb = await syncSandbox();
    const orders = [
      newOrder('N1', {
        date: PAST - 10 * DAY,
        payment_structure: { cash: 300, bonuses: 50, delivery: 0 },
        promocode: 'SPRING',
        payment_type: 'card',
        delivery_type: 'courier',
        custom: { boxes: 2 },
      }),
      newOrder('N2', { date: PAST, email: 'bob@example.com', external_id: 'C-2' }),
      newOrder('N3', { date: PAST + DAY, phone: '+15550001', items: [{ id: 'P9', price: 12.5, quantity: 4, original_price: 15, barcode: '123' }] }),
    ];
    expect((await sync(sb, orders)).status).toBe(200);
    expect((await sync(sb, [{ id: 'N1', status: 'delivered' }])).status).toBe(200);
    return sb;
  }

  it('answers the documented shape from what it stored, numbers of lines as strings', async () => {
    const sb = await shop();
    const reply = await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, email: 'ann@example.com' });
    expect(reply.status).toBe(200);
    const body = reply.json() as { status: string; data: { orders: Record<string, unknown>[] } };
    expect(body.status).toBe('success');
    expect(body.data.orders.map((o) => o.id)).toEqual(['N1', 'N3']);
    const [n1, n3] = body.data.orders;
    expect(n1).toEqual({
      id: 'N1',
      date: new Date((PAST - 10 * DAY) * 1000).toISOString(),
      value: 350,
      cash_value: 300,
      bonuses_value: 50,
      delivery_value: 0,
      promocode: 'SPRING',
      channel: 'web',
      order_status: 'delivered',
      payment_type: 'card',
      delivery_type: 'courier',
      delivery_address: null,
      custom_properties: { boxes: 2 },
      items: [
        { amount: '2', price: '100', status: null, line_id: 'N1-1', original_price: null, barcode: null, item: { id: 'P1' } },
        { amount: '1', price: '150', status: null, line_id: 'N1-2', original_price: null, barcode: null, item: { id: 'P2' } },
      ],
      history: [
        { status: 'placed', date: expect.any(String) as unknown },
        { status: 'delivered', date: expect.any(String) as unknown },
      ],
    });
    expect(n3).toMatchObject({
      id: 'N3',
      cash_value: null,
      custom_properties: {},
      items: [{ amount: '4', price: '12.5', original_price: '15', barcode: '123', item: { id: 'P9' } }],
    });
  });

  it('finds orders by any identifier, from date_from on', async () => {
    const sb = await shop();
    const ids = async (query: Record<string, string>): Promise<unknown[]> =>
      ((await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, ...query })).json() as { data: { orders: { id: string }[] } }).data.orders.map((o) => o.id);
    expect(await ids({ external_id: 'C-2' })).toEqual(['N2']);
    expect(await ids({ phone: '+15550001' })).toEqual(['N3']);
    expect(await ids({ email: 'ann@example.com', external_id: 'C-2' })).toEqual(['N1', 'N2', 'N3']);
    const from = new Date(PAST * 1000).toISOString().slice(0, 10);
    expect(await ids({ email: 'ann@example.com', date_from: from })).toEqual(['N3']);
    expect(await ids({ email: 'nobody@example.com' })).toEqual([]);
    expect(await ids({ did: '7rjVGhMykT' })).toEqual([]);
  });

  it('checks the secret and the query like the batch', async () => {
    const sb = await shop();
    const missing = await byUser(sb, { shop_id: SHOP, email: 'ann@example.com' });
    expect(missing.status).toBe(401);
    expect(errorMessage(missing)).toMatch(/^shop_secret: /);
    expect((await byUser(sb, { shop_id: SHOP, shop_secret: 'nope', email: 'ann@example.com' })).status).toBe(403);
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^email \| phone \| external_id \| loyalty_id \| telegram_id \| did: one is required/],
      [{ email: '' }, /^email: /],
      [{ email: 'ann@example.com', date_from: '2024-13-01' }, /^date_from: must be a date written YYYY-MM-DD/],
      [{ email: 'ann@example.com', page: '2' }, /^page: is not a field/],
    ];
    for (const [query, reason] of cases) {
      const reply = await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, ...query });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(reason);
    }
    expect((await post(sb, '/orders/by_user', { shop_id: SHOP })).status).toBe(405);
    expect(sb.events.get('/orders/by_user')).toBeUndefined();
  });

  it('finds live purchases by did and by the identifiers they carried, with the order-sync updates told of them since', async () => {
    const sb = await shop();
    const purchase = (orderId: string, did: string, extra: Order = {}): Promise<Reply> =>
      post(sb, '/push', {
        event: 'purchase',
        shop_id: SHOP,
        did,
        seance: 'abc1234567',
        sid: 'abc1234567',
        stream: 'web',
        order_id: orderId,
        items: [
          { id: 'P1', amount: 2, price: 10 },
          { id: 'P7', amount: 1 },
        ],
        ...extra,
      });
    expect((await purchase('L1', 'dev-1', { order_price: 25.5, email: 'ann@example.com' })).status).toBe(200);
    expect((await purchase('L2', 'dev-1')).status).toBe(200);
    expect((await purchase('L3', 'dev-2')).status).toBe(200);
    expect((await purchase('L1', 'dev-1', { order_price: 99 })).status).toBe(200); // the same order_id: no second order, nothing changed
    const orders = async (query: Record<string, string>): Promise<Record<string, unknown>[]> =>
      ((await byUser(sb, { shop_id: SHOP, shop_secret: SECRET, ...query })).json() as { data: { orders: Record<string, unknown>[] } }).data.orders;
    const byDid = await orders({ did: 'dev-1' });
    expect(byDid.map((o) => o.id)).toEqual(['L1', 'L2']);
    expect(byDid[0]).toMatchObject({
      value: 25.5,
      order_status: null, // a purchase tells no status
      items: [
        { amount: '2', price: '10', item: { id: 'P1' } },
        { amount: '1', price: '0', item: { id: 'P7' } },
      ],
    });
    expect(byDid[1]).toMatchObject({ value: 20 }); // no order_price: the lines' sum
    // The email it carried finds it too, beside the sync's orders of that customer.
    expect((await orders({ email: 'ann@example.com' })).map((o) => o.id)).toEqual(['N1', 'N3', 'L1']);
    // A status update (and a return) through the order-sync API is the same order.
    expect(
      (
        await sync(sb, [
          {
            id: 'L1',
            status: 'delivered',
            items: [
              { id: 'P1', price: 10, quantity: 2, status: 'refunded' },
              { id: 'P7', price: 5, quantity: 1 },
            ],
          },
        ])
      ).status,
    ).toBe(200);
    const [l1] = await orders({ did: 'dev-1' });
    expect(l1).toMatchObject({ id: 'L1', value: 25.5, order_status: 'delivered', items: [{ amount: '1', item: { id: 'P7' } }] });
    expect(sb.syncOrders.get('L1')?.identifiers).toEqual({}); // what came through the sync is kept as before
  });

  it('the control hook loses or changes a held order of either road', async () => {
    const sb = await shop();
    await post(sb, '/push', {
      event: 'purchase',
      shop_id: SHOP,
      did: 'dev-9',
      seance: 'abc1234567',
      sid: 'abc1234567',
      stream: 'web',
      order_id: 'L9',
      items: [{ id: 'P1', amount: 1, price: 3 }],
    });
    const control = (body: unknown): Promise<Reply> => post(sb, '/__sandbox/alter-order', body);
    expect((await control({ id: 'N2', drop: true })).status).toBe(200);
    expect((await control({ id: 'L9', status: 'cancelled', total: 1, items: [{ id: 'P2', quantity: 5 }] })).status).toBe(200);
    expect((await control({ id: 'nope', drop: true })).status).toBe(404);
    expect((await control({ drop: true })).status).toBe(400);
    const read = (query: Record<string, string>) => byUser(sb, { shop_id: SHOP, shop_secret: SECRET, ...query });
    expect(((await read({ external_id: 'C-2' })).json() as { data: { orders: unknown[] } }).data.orders).toEqual([]);
    const [l9] = ((await read({ did: 'dev-9' })).json() as { data: { orders: Record<string, unknown>[] } }).data.orders;
    expect(l9).toMatchObject({ id: 'L9', order_status: 'cancelled', value: 1, items: [{ amount: '5', item: { id: 'P2' } }] });
  });
});

describe('trigger chains (what PersonaClick would have mailed)', () => {
  it('counts an after-purchase chain per live purchase and an "order status changed" chain per order whose status changes: GET /__sandbox/triggers', async () => {
    const sb = await syncSandbox();
    const purchase = (orderId: string, did: string): Promise<Reply> =>
      post(sb, '/push', {
        event: 'purchase',
        shop_id: SHOP,
        did,
        seance: 'abc1234567',
        sid: 'abc1234567',
        stream: 'web',
        order_id: orderId,
        items: [{ id: 'P1', amount: 1, price: 10 }],
      });
    expect((await purchase('L1', 'dev-1')).status).toBe(200);
    expect((await purchase('L2', 'dev-2')).status).toBe(200);
    // History: two new orders of one customer, each starts the status chain with its first status.
    expect((await sync(sb, [newOrder('N1'), newOrder('N2', { status: 'delivered' })])).status).toBe(200);
    // The same status again starts nothing; a change does; a live purchase's first status does.
    expect((await sync(sb, [{ id: 'N1', status: 'placed' }])).status).toBe(200);
    expect(
      (
        await sync(sb, [
          { id: 'N1', status: 'cancelled' },
          { id: 'L1', status: 'delivered' },
        ])
      ).status,
    ).toBe(200);
    // A batch refused whole starts nothing.
    expect((await sync(sb, [{ id: 'N1', status: 'returned' }], 'wrong-secret')).status).toBe(403);

    const expected = { afterPurchase: 2, orderStatusChanged: 4, byStatus: { placed: 1, delivered: 2, cancelled: 1 }, customers: 3 };
    const reply = await call(sb, '/__sandbox/triggers', { method: 'GET' });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual(expected);
    expect(sb.triggers()).toEqual(expected);
    sb.reset();
    expect(sb.triggers()).toEqual({ afterPurchase: 0, orderStatusChanged: 0, byStatus: {}, customers: 0 });
  });
});
