/**
 * The demo's third part: history and the order lifecycle. The sample shop also holds orders from before the
 * storefront's tracking (placed over the past two years, a third of them phone orders with no device id); a backfill
 * sends them through the order-sync API with their real dates. Then one delivered order is cancelled and one has a
 * line returned, and the next `sync orders` tells PersonaClick each change once.
 */
import type { PGlite } from '@electric-sql/pglite';

export const HISTORY_FIRST_ID = 90_001;

export interface HistoryFacts {
  /** Older orders in the shop. */
  orders: number;
  /** Of them, phone orders with no device id (they could never go out as purchases). */
  guests: number;
  /** Order id → when it was placed, in Unix seconds. */
  placed: Map<string, number>;
}

/** Add `count` older orders: placed from two years to two months ago, completed, 1-3 delivered lines each. */
export async function buildHistory(db: PGlite, now: Date, count = 120): Promise<HistoryFacts> {
  const first = HISTORY_FIRST_ID;
  const last = first + count - 1;
  const at = now.toISOString();
  await db.query(
    `INSERT INTO shop.order_lines (order_id, product_id, qty, unit_price, status)
     SELECT i, 'SKU-' || (100 + (i * 7 + j * 13) % 60), 1 + (i + j) % 3, (5 + (i * 31 + j * 17) % 145)::numeric + 0.99, 'delivered'
       FROM generate_series($1::bigint, $2::bigint) i, generate_series(1, 1 + (i % 3)::int) j`,
    [first, last],
  );
  await db.query(
    `INSERT INTO shop.orders (id, device_id, created_at, updated_at, total, payment, delivery, status, email, phone)
     SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'dev-old' || i END, t, t + interval '3 days',
            (SELECT sum(qty * unit_price) FROM shop.order_lines WHERE order_id = i), 'card', 'courier', 'completed',
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'buyer' || i || '@example.com' END,
            CASE WHEN i % 3 = 0 THEN '+4930' || lpad(i::text, 7, '0') END
       FROM generate_series($1::bigint, $2::bigint) i,
            LATERAL (SELECT date_trunc('second', $3::timestamptz) - interval '730 days' + (i - $1) * interval '5 days' AS t) p`,
    [first, last, at],
  );
  const rows = await db.query<{ id: string; placed: string }>(
    `SELECT id::text, extract(epoch FROM created_at)::bigint::text AS placed FROM shop.orders WHERE id BETWEEN $1 AND $2`,
    [first, last],
  );
  return { orders: count, guests: Math.floor(last / 3) - Math.floor((first - 1) / 3), placed: new Map(rows.rows.map((r) => [r.id, Number(r.placed)])) };
}

export interface Lifecycle {
  cancelled: string;
  returned: string;
  /** The product whose line came back. */
  returnedProduct: string;
}

/** One delivered order cancelled, one with its first line refunded (a partial return); both changed just now. */
export async function cancelAndReturn(db: PGlite, cancelled: string, returned: string): Promise<Lifecycle> {
  await db.query(`UPDATE shop.orders SET status = 'cancelled', updated_at = now() - interval '2 seconds' WHERE id = $1`, [cancelled]);
  const line = await db.query<{ product_id: string }>(`SELECT min(product_id) AS product_id FROM shop.order_lines WHERE order_id = $1`, [returned]);
  const product = line.rows[0]?.product_id ?? '';
  await db.query(`UPDATE shop.order_lines SET status = 'refunded' WHERE order_id = $1 AND product_id = $2`, [returned, product]);
  await db.query(`UPDATE shop.orders SET status = 'partially_returned', updated_at = now() - interval '2 seconds' WHERE id = $1`, [returned]);
  return { cancelled, returned, returnedProduct: product };
}
