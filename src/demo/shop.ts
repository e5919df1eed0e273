/**
 * The demo's sample shop: two tables as a shop might have them, about 200 orders with 1–4 lines each made from a
 * seeded PRNG (same seed, same shop; times are relative to `now`), and the operator's SQL models that map them to
 * the contract columns of docs/models.md. A few orders are made the way real data goes wrong, on purpose.
 */
import type { PGlite } from '@electric-sql/pglite';
import { mulberry32 } from '../sandbox/faults.js';

export const SHOP_SCHEMA = `
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (
    id bigint PRIMARY KEY,
    device_id text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    total numeric(12,2),
    discount numeric(12,2),
    promo text,
    payment text,
    delivery text,
    utm_source text,
    utm_code text,
    clicked_at timestamptz,
    note text,
    status text NOT NULL DEFAULT 'paid',
    email text,
    phone text
  );
  CREATE INDEX orders_updated ON shop.orders (updated_at, id);
  CREATE TABLE shop.order_lines (
    order_id bigint NOT NULL,
    product_id text NOT NULL,
    qty int NOT NULL,
    unit_price numeric(12,2),
    status text
  );
  CREATE INDEX order_lines_order ON shop.order_lines (order_id);`;

/** The orders model (`jobs.orders.query`): one row per order, in the contract's column names. */
export const ORDERS_QUERY = `SELECT o.id AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at,
       o.total AS order_price, o.discount AS order_discount, o.promo AS promocode,
       o.payment AS payment_type, o.delivery AS delivery_type,
       o.utm_source AS source_from, o.utm_code AS source_code, o.clicked_at AS source_at,
       json_build_object('note', o.note) AS custom, o.status, o.email, o.phone
  FROM shop.orders o`;

/** The items model (`jobs.orders.itemsQuery`): the lines of a page of orders, bound as :order_ids. */
export const ITEMS_QUERY = `SELECT l.order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price, l.status
  FROM shop.order_lines l
 WHERE l.order_id = ANY(:order_ids)`;

/** The device the sandbox is told it does not know (a reject rule on `did`: 404 "Device not found"). */
export const UNKNOWN_DEVICE = 'dev-gone-404';
export const DEVICE_NOT_FOUND = 'Device not found';

export interface ShopFacts {
  orders: number;
  lines: number;
  /** Orders the builder must refuse (never sent): id and why. */
  invalid: { orderId: string; why: string }[];
  /** The order whose device the API does not know. */
  rejected: { orderId: string; did: string };
  /** Orders with a campaign click at most 48 h before the order: sent with `source`. */
  freshClicks: string[];
  /** Orders with an older click: sent without `source`. */
  staleClicks: string[];
  /** Delivered orders that `shipOrders` later changes (their updated_at moves past the watermark). */
  shippedLater: string[];
  /** Orders the first run should deliver: all but the invalid and the rejected. */
  expectedSent: number;
}

export interface ShopOptions {
  /** Default 200. */
  orders?: number | undefined;
  /** Default 42. */
  seed?: number | undefined;
  /** The present the shop's times count back from; default the current time. */
  now?: Date | undefined;
}

const FIRST_ID = 10_001;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface OrderRecord {
  id: number;
  device_id: string;
  created_at: string;
  updated_at: string;
  total: string;
  discount: string | null;
  promo: string | null;
  payment: string;
  delivery: string;
  utm_source: string | null;
  utm_code: string | null;
  clicked_at: string | null;
  note: string | null;
  status: string;
}

interface LineRecord {
  order_id: number;
  product_id: string;
  qty: number;
  unit_price: string;
}

/** UTC text with microseconds, as Postgres reads it (a JS Date alone stops at milliseconds). */
function microText(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

const cents = (n: number): string => (n / 100).toFixed(2);

/** Create the shop tables and fill them; answers what the data holds on purpose. */
export async function buildShop(db: PGlite, opts: ShopOptions = {}): Promise<ShopFacts> {
  const count = opts.orders ?? 200;
  if (count < 20) throw new RangeError('the demo shop needs at least 20 orders');
  const random = mulberry32(opts.seed ?? 42);
  const now = (opts.now ?? new Date()).getTime();
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(list: readonly [T, ...T[]]): T => list[int(0, list.length - 1)] ?? list[0];

  const devices = Array.from({ length: Math.ceil(count * 0.6) }, () => `dev-${int(0, 0xffffffff).toString(16).padStart(8, '0')}`);
  const at = (fraction: number): number => Math.floor(fraction * (count - 1));
  const special = {
    noLines: at(0.18),
    negativePrice: at(0.44),
    unknownDevice: at(0.71),
  };
  const shippedLater = [at(0.05), at(0.3), at(0.55), at(0.8), count - 1];

  const orders: OrderRecord[] = [];
  const lines: LineRecord[] = [];
  const facts: ShopFacts = {
    orders: count,
    lines: 0,
    invalid: [],
    rejected: { orderId: String(FIRST_ID + special.unknownDevice), did: UNKNOWN_DEVICE },
    freshClicks: [],
    staleClicks: [],
    shippedLater: shippedLater.map((i) => String(FIRST_ID + i)),
    expectedSent: 0,
  };

  // Orders placed over the last 40 hours (new purchases: within jobs.orders.newPurchaseHours, 48), each last changed
  // up to 40 minutes later; the newest change is a few minutes old, far past the settle lag.
  const span = 40 * HOUR;
  const tieAt = at(0.62);
  for (let i = 0; i < count; i++) {
    const id = FIRST_ID + i;
    const created = now - span + Math.floor((i / count) * (span - HOUR)) + int(0, 20 * 60_000);
    const updated = Math.min(created + int(1, 40) * 60_000, now - 5 * 60_000);

    const lineCount = i === special.noLines ? 0 : int(1, 4);
    let totalCents = 0;
    for (let j = 0; j < lineCount; j++) {
      const qty = int(1, 3);
      let price = int(499, 14_999);
      if (i === special.negativePrice && j === 0) price = -price; // a refund typed in as a line
      totalCents += qty * price;
      lines.push({ order_id: id, product_id: `SKU-${int(100, 159)}`, qty, unit_price: cents(price) });
    }
    const discounted = lineCount > 0 && random() < 0.2;
    const discountCents = discounted ? Math.min(pick([500, 1000] as const), Math.max(totalCents, 0)) : 0;

    let click: { source: string; code: string; at: number } | undefined;
    const isSpecial = Object.values(special).includes(i);
    if (!isSpecial && i % 4 === 1) {
      const fresh = i % 8 === 1;
      const before = fresh ? int(10 * 60_000, 47 * HOUR) : int(49 * HOUR, 10 * DAY);
      click = {
        source: pick(['newsletter', 'google', 'instagram'] as const),
        code: pick(['spring-sale', 'new-arrivals', 'retarget-7d'] as const),
        at: created - before,
      };
      (fresh ? facts.freshClicks : facts.staleClicks).push(String(id));
    }

    orders.push({
      id,
      device_id: i === special.unknownDevice ? UNKNOWN_DEVICE : (devices[int(0, devices.length - 1)] ?? 'dev-00000000'),
      created_at: microText(created, int(0, 999)),
      updated_at: microText(updated, int(0, 999)),
      total: cents(Math.max(totalCents - discountCents, 0)),
      discount: discounted ? cents(discountCents) : null,
      promo: discounted ? (discountCents === 500 ? 'WELCOME5' : 'SPRING10') : null,
      payment: pick(['card', 'card', 'paypal', 'cash_on_delivery'] as const),
      delivery: pick(['courier', 'pickup', 'post'] as const),
      utm_source: click?.source ?? null,
      utm_code: click?.code ?? null,
      clicked_at: click ? microText(click.at, 0) : null,
      note: random() < 0.3 ? pick(['gift wrap, please', 'leave at the door', 'call before delivery'] as const) : null,
      status: 'paid',
    });
  }
  // Two orders changed in the same microsecond: the keyset pages on (updated_at, order_id) break the tie by id.
  const tie = orders[tieAt];
  const beforeTie = orders[tieAt - 1];
  if (tie && beforeTie) beforeTie.updated_at = tie.updated_at;

  facts.lines = lines.length;
  facts.invalid = [
    { orderId: String(FIRST_ID + special.noLines), why: 'an order without lines' },
    { orderId: String(FIRST_ID + special.negativePrice), why: 'a line with a negative price' },
  ];
  facts.expectedSent = count - facts.invalid.length - 1;

  await db.exec(SHOP_SCHEMA);
  await db.query(`INSERT INTO shop.orders SELECT * FROM json_populate_recordset(NULL::shop.orders, $1::json)`, [JSON.stringify(orders)]);
  await db.query(`INSERT INTO shop.order_lines SELECT * FROM json_populate_recordset(NULL::shop.order_lines, $1::json)`, [JSON.stringify(lines)]);
  return facts;
}

/**
 * Some delivered orders change afterwards (shipped): their updated_at moves to now, past the watermark, so the
 * next run reads them again, and the delivered ledger keeps a second purchase from going out.
 */
export async function shipOrders(db: PGlite, orderIds: readonly string[]): Promise<void> {
  await db.query(`UPDATE shop.orders SET updated_at = now() - interval '2 seconds', note = 'shipped' WHERE id = ANY($1::bigint[])`, [orderIds]);
}
