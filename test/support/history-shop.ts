/**
 * A shop with order history: statuses, channels, customers named by email or phone (many without a device id, as
 * guest and phone orders are), money split into cash, bonuses, delivery and discount, and lines with statuses.
 */
import type { Config } from '../../src/config/index.js';
import { testConfig, type ConfigOverrides } from './harness.js';
import type { TestDatabase } from './pg.js';

export const HISTORY_ORDERS_QUERY = `SELECT o.id AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at, o.status, o.channel,
       o.email, o.phone, o.total AS order_price, o.cash AS order_cash, o.bonuses AS order_bonuses, o.delivery AS order_delivery,
       o.discount AS order_discount, o.promo AS promocode, o.payment AS payment_type, o.note AS comment
  FROM hist.orders o`;

export const HISTORY_ITEMS_QUERY = `SELECT l.order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price, l.status
  FROM hist.order_lines l WHERE l.order_id = ANY(:order_ids)`;

export const HISTORY_CARTS_QUERY = `SELECT c.device_id AS did, c.product_id AS id, c.qty AS quantity FROM hist.cart_lines c`;

export async function createHistoryShop(db: TestDatabase): Promise<void> {
  await db.query(`CREATE SCHEMA hist;
    CREATE TABLE hist.orders (
      id text PRIMARY KEY, device_id text, email text, phone text, status text NOT NULL, channel text,
      created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), total numeric(12,2),
      cash numeric(12,2), bonuses numeric(12,2), delivery numeric(12,2), discount numeric(12,2), promo text, payment text, note text);
    CREATE INDEX ON hist.orders (updated_at, id);
    CREATE TABLE hist.order_lines (order_id text NOT NULL, product_id text NOT NULL, qty int NOT NULL, unit_price numeric(12,2), status text);
    CREATE INDEX ON hist.order_lines (order_id);
    CREATE TABLE hist.cart_lines (device_id text NOT NULL, product_id text NOT NULL, qty int NOT NULL);`);
}

/**
 * Orders H<first>..H<first+count-1>: placed `ageDays` days ago (a minute apart, going back), updated an hour ago (a millisecond
 * apart). Every third has no device (a phone order, named by phone), the others an email; 1-3 lines each.
 */
export async function insertHistory(db: TestDatabase, first: number, count: number, opts: { ageDays?: number; status?: string } = {}): Promise<void> {
  const age = opts.ageDays ?? 400;
  await db.query(
    `INSERT INTO hist.order_lines (order_id, product_id, qty, unit_price, status)
     SELECT 'H' || i, 'P' || (i % 50 + j), 1 + (i + j) % 3, round((10 + (i * 7 + j * 13) % 90)::numeric + 0.5, 2), 'delivered'
       FROM generate_series($1::int, $2::int) i, generate_series(1, 1 + (i % 3)) j`,
    [first, first + count - 1],
  );
  await db.query(
    `INSERT INTO hist.orders (id, device_id, email, phone, status, channel, created_at, updated_at, total, cash, bonuses, delivery, discount, promo, payment, note)
     SELECT 'H' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'dev' || i END,
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || i || '@example.com' END, CASE WHEN i % 3 = 0 THEN '+1555' || lpad(i::text, 7, '0') END,
            $3, CASE WHEN i % 3 = 0 THEN 'offline' ELSE 'web' END,
            date_trunc('second', now()) - make_interval(days => $4) - i * interval '1 minute', now() - interval '1 hour' + i * interval '1 millisecond',
            -- total = cash + bonuses + delivery − discount, as the shop's books (and the order-sync API) have it
            (SELECT sum(qty * unit_price) FROM hist.order_lines WHERE order_id = 'H' || i) + CASE WHEN i % 4 = 0 THEN 4.99 ELSE 0 END - CASE WHEN i % 5 = 0 THEN 2 ELSE 0 END,
            (SELECT sum(qty * unit_price) FROM hist.order_lines WHERE order_id = 'H' || i) - 5,
            5, CASE WHEN i % 4 = 0 THEN 4.99 END, CASE WHEN i % 5 = 0 THEN 2 END, CASE WHEN i % 7 = 0 THEN 'SPRING' END, 'card',
            CASE WHEN i % 11 = 0 THEN 'leave at the door' END
       FROM generate_series($1::int, $2::int) i`,
    [first, first + count - 1, opts.status ?? 'completed', age],
  );
}

/** An order's row as the shop has it: what a test compares with what PersonaClick holds. */
export async function historyOrder(
  db: TestDatabase,
  id: string,
): Promise<{ status: string; placed: number; lines: { id: string; qty: number; status: string | null }[] }> {
  const [order] = await db.query<{ status: string; placed: string }>(
    `SELECT status, extract(epoch FROM created_at)::bigint::text AS placed FROM hist.orders WHERE id = $1`,
    [id],
  );
  const lines = await db.query<{ id: string; qty: number; status: string | null }>(
    `SELECT product_id AS id, qty, status FROM hist.order_lines WHERE order_id = $1 ORDER BY product_id`,
    [id],
  );
  if (!order) throw new Error(`no order ${id}`);
  return { status: order.status, placed: Number(order.placed), lines };
}

/**
 * The usual config of a test on the history shop: the sandbox's shop secret (or none, with `secret: null`), a raised
 * order-sync pace on both sides, batches of 100; overrides on top.
 */
export function historyConfig(
  env: { readonly db: { url: string }; readonly sandbox: { url: string } },
  defaultSecret: string,
  o: ConfigOverrides & { secret?: string | null } = {},
  orders: ConfigOverrides['orders'] = {},
): Config {
  const { secret, ...rest } = o;
  return testConfig(env.db.url, env.sandbox.url, {
    ...rest,
    personaclick: { ...(secret === null ? {} : { shopSecret: secret ?? defaultSecret }), ...rest.personaclick },
    delivery: { orderSyncPerMinute: 6000, ...rest.delivery },
    orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, batchSize: 100, ...orders, ...rest.orders },
  });
}
