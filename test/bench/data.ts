/**
 * The benchmark's data: a scratch database filled with SQL generate_series (orders with 1-5 lines, carts with 1-4
 * lines), the indexes the README asks the shop for, VACUUM ANALYZE, and dropped at the end. The models are the
 * tests' own (test/support), so the bench reads what the tests read.
 */
import { CARTS_QUERY } from '../support/carts.js';
import { createDatabase, type TestDatabase } from '../support/pg.js';
import { ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';

export { CARTS_QUERY, ITEMS_QUERY, ORDERS_QUERY };

/** Orders are this far apart in updated_at. */
export const ORDER_SPACING_MS = 100;

/**
 * Order i was updated at this instant plus i × ORDER_SPACING_MS and placed an hour before: 30 hours before the bench
 * started, so that a million orders all end before it started and were all placed within the 48 hours that make an
 * order a new purchase (`jobs.orders.newPurchaseHours`): the live sync sends them as purchases. (Dated in 2024, as they
 * were, the live sync left every one to the history backfill once it knew history from new purchases.)
 */
export const ORDERS_EPOCH = new Date(Math.floor(Date.now() / 1000) * 1000 - 30 * 3_600_000);

/** When order i was updated. */
export function orderUpdatedAt(i: number): Date {
  return new Date(ORDERS_EPOCH.getTime() + i * ORDER_SPACING_MS);
}

/** Orders 1..n (updated_at ascending with id, so `--limit k` reads orders 1..k); lines: 1 + i*7 % 5, avg 3. */
export async function fillOrders(db: TestDatabase, n: number): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS shop;
    CREATE TABLE shop.orders (
      id bigint PRIMARY KEY, device_id text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
      total numeric(12,2), discount numeric(12,2), promo text, payment text);
    CREATE TABLE shop.order_lines (order_id bigint NOT NULL, product_id text NOT NULL, qty int NOT NULL, unit_price numeric(12,2));`);
  await db.query(
    `INSERT INTO shop.order_lines (order_id, product_id, qty, unit_price)
     SELECT i, 'SKU-' || ((i * 31 + j * 17) % 5000), 1 + (i + j) % 3, round((5 + (i * 7 + j * 13) % 200)::numeric + 0.99, 2)
       FROM generate_series(1, $1::bigint) i, generate_series(1, 1 + (i * 7 % 5)::int) j`,
    [n],
  );
  await db.query(
    `INSERT INTO shop.orders (id, device_id, created_at, updated_at, total, discount, promo, payment)
     SELECT l.order_id, 'dev-' || (l.order_id % 300000), t - interval '1 hour', t, l.total,
            CASE WHEN l.order_id % 5 = 0 THEN 1.50 END, CASE WHEN l.order_id % 7 = 0 THEN 'SPRING' END,
            CASE WHEN l.order_id % 3 = 0 THEN 'cash' ELSE 'card' END
       FROM (SELECT order_id, sum(qty * unit_price) AS total FROM shop.order_lines GROUP BY order_id) l,
            LATERAL (SELECT $1::timestamptz + l.order_id * ($2::int * interval '1 millisecond') AS t) ts`,
    [ORDERS_EPOCH.toISOString(), ORDER_SPACING_MS],
  );
  await db.query(`CREATE INDEX ON shop.orders (updated_at, id); CREATE INDEX ON shop.order_lines (order_id);`);
}

/** Carts of devices cart-1..cart-n, 1-4 lines each, with the index on (device_id COLLATE "C") the README asks for. */
export async function fillCarts(db: TestDatabase, n: number): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS shop;
    CREATE TABLE shop.carts (id bigint PRIMARY KEY, device_id text NOT NULL);
    CREATE TABLE shop.cart_items (cart_id bigint NOT NULL, product_id text NOT NULL, qty int NOT NULL);`);
  await db.query(`INSERT INTO shop.carts (id, device_id) SELECT i, 'cart-' || i FROM generate_series(1, $1::bigint) i`, [n]);
  await db.query(
    `INSERT INTO shop.cart_items (cart_id, product_id, qty)
     SELECT i, 'P' || ((i * 7 + j) % 500), 1 + (i + j) % 4 FROM generate_series(1, $1::bigint) i, generate_series(1, 1 + (i % 4)::int) j`,
    [n],
  );
  await db.query(`CREATE UNIQUE INDEX ON shop.carts (device_id COLLATE "C"); CREATE INDEX ON shop.cart_items (cart_id);`);
}

export async function analyze(db: TestDatabase): Promise<void> {
  await db.query('VACUUM (ANALYZE) shop.orders, shop.order_lines, shop.carts, shop.cart_items');
}

export async function counts(db: TestDatabase): Promise<{ orders: number; lines: number; carts: number; cartLines: number }> {
  const rows = await db.query<{ orders: string; lines: string; carts: string; cart_lines: string }>(
    `SELECT (SELECT count(*) FROM shop.orders) AS orders, (SELECT count(*) FROM shop.order_lines) AS lines,
            (SELECT count(*) FROM shop.carts) AS carts, (SELECT count(*) FROM shop.cart_items) AS cart_lines`,
  );
  const r = rows[0];
  return { orders: Number(r?.orders), lines: Number(r?.lines), carts: Number(r?.carts), cartLines: Number(r?.cart_lines) };
}

/**
 * "The previous run": the ledger rows a completed `reconcile carts` leaves, written with SQL. The hash is
 * listContentHash's (sha256 hex of JSON `[["id",quantity],…]`, ids merged and in byte order). Should the two ever
 * disagree, the reconcile re-sends every cart, and the diff scenario's `sent == changed` check fails loudly.
 */
export async function seedCartsLedger(db: TestDatabase, schema: string): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.ledger (job, key, hash, run_id)
     SELECT 'carts', did, encode(sha256(convert_to(
              '[' || string_agg('[' || to_json(id)::text || ',' || quantity || ']', ',' ORDER BY id COLLATE "C") || ']', 'UTF8')), 'hex'),
            'bench-previous-run'
       FROM (SELECT did, id, sum(quantity) AS quantity FROM (${CARTS_QUERY}) q GROUP BY did, id) merged
      GROUP BY did`,
  );
  await db.query(`VACUUM (ANALYZE) ${schema}.ledger`);
}

/** Change one cart in `every` (one more of its first line): returns how many carts changed. */
export async function changeCarts(db: TestDatabase, every: number): Promise<number> {
  const rows = await db.query<{ n: string }>(
    `WITH first_lines AS (
       SELECT DISTINCT ON (cart_id) ctid FROM shop.cart_items WHERE cart_id % $1 = 0 ORDER BY cart_id, product_id)
     , changed AS (UPDATE shop.cart_items SET qty = qty + 1 WHERE ctid IN (SELECT ctid FROM first_lines) RETURNING cart_id)
     SELECT count(DISTINCT cart_id)::text AS n FROM changed`,
    [every],
  );
  await db.query('VACUUM (ANALYZE) shop.cart_items');
  return Number(rows[0]?.n ?? 0);
}

export interface CartChanges {
  quantity: number;
  emptied: number;
  deleted: number;
  added: number;
  /** Devices whose cart PersonaClick must be told about: the sum of the above. */
  total: number;
}

/**
 * A night's worth of change in one cart of `every`, of every kind: of carts k*every, by k % 10, six in ten get one more
 * of their first line, two are emptied (lines deleted, cart kept), one is deleted outright, and for the tenth a new
 * device's cart is added (so existing carts are left alone). Returns how many of each.
 */
export async function changeCartsMix(db: TestDatabase, every: number): Promise<CartChanges> {
  const count = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql, [every]))[0]?.n ?? 0);
  const kind = (cartId: string, kinds: string) => `${cartId} % $1 = 0 AND (${cartId} / $1) % 10 IN (${kinds})`;
  const quantity = await count(
    `WITH first_lines AS (SELECT DISTINCT ON (cart_id) ctid FROM shop.cart_items WHERE ${kind('cart_id', '0,1,2,3,4,5')} ORDER BY cart_id, product_id)
     , changed AS (UPDATE shop.cart_items SET qty = qty + 1 WHERE ctid IN (SELECT ctid FROM first_lines) RETURNING cart_id)
     SELECT count(DISTINCT cart_id)::text AS n FROM changed`,
  );
  const emptied = await count(
    `WITH gone AS (DELETE FROM shop.cart_items WHERE ${kind('cart_id', '6,7')} RETURNING cart_id) SELECT count(DISTINCT cart_id)::text AS n FROM gone`,
  );
  const deleted = await count(
    `WITH lines AS (DELETE FROM shop.cart_items WHERE ${kind('cart_id', '8')}), gone AS (DELETE FROM shop.carts WHERE ${kind('id', '8')} RETURNING id)
     SELECT count(*)::text AS n FROM gone`,
  );
  const added = await count(
    `WITH top AS (SELECT max(id) AS top FROM shop.carts), wanted AS (SELECT count(*) AS k FROM shop.carts WHERE ${kind('id', '9')})
     , fresh AS (INSERT INTO shop.carts (id, device_id) SELECT i, 'cart-' || i FROM top, wanted, generate_series(top + 1, top + k) i RETURNING id)
     , lines AS (INSERT INTO shop.cart_items (cart_id, product_id, qty) SELECT id, 'P' || ((id * 7 + j) % 500), 1 + (id + j) % 4 FROM fresh, generate_series(1, 1 + (id % 4)::int) j)
     SELECT count(*)::text AS n FROM fresh`,
  );
  await analyzeCarts(db);
  return { quantity, emptied, deleted, added, total: quantity + emptied + deleted + added };
}

export async function analyzeCarts(db: TestDatabase): Promise<void> {
  await db.query('VACUUM (ANALYZE) shop.carts, shop.cart_items');
}

export async function createScratch(): Promise<TestDatabase> {
  return createDatabase('pcs_bench');
}
