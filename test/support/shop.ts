/** A sample shop schema and orders for the tests, made with SQL so thousands of rows take milliseconds. */
import type { TestDatabase } from './pg.js';

export const ORDERS_QUERY = `SELECT o.id AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at, 'paid' AS status,
       o.total AS order_price, o.discount AS order_discount, o.promo AS promocode, o.payment AS payment_type
  FROM shop.orders o`;

export const ITEMS_QUERY = `SELECT l.order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price
  FROM shop.order_lines l WHERE l.order_id = ANY(:order_ids)`;

export async function createShop(db: TestDatabase): Promise<void> {
  await db.query(`CREATE SCHEMA shop;
    CREATE TABLE shop.orders (
      id bigint PRIMARY KEY, device_id text, created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(), total numeric(12,2), discount numeric(12,2), promo text, payment text);
    CREATE INDEX ON shop.orders (updated_at, id);
    CREATE TABLE shop.order_lines (order_id bigint NOT NULL, product_id text NOT NULL, qty int NOT NULL, unit_price numeric(12,2));
    CREATE INDEX ON shop.order_lines (order_id);`);
}

/**
 * Orders first..first+count-1, each with 1-3 lines; totals are the sum of the lines. `updatedAt` is SQL giving
 * each order's updated_at from `i` (default: spread over the last hour, older than the settle lag).
 */
export async function insertOrders(
  db: TestDatabase,
  first: number,
  count: number,
  updatedAt = `now() - interval '1 hour' + (i * interval '1 millisecond')`,
): Promise<void> {
  await db.query(
    `INSERT INTO shop.order_lines (order_id, product_id, qty, unit_price)
     SELECT i, 'P' || (i % 97 + j), 1 + (i + j) % 3, round((5 + (i * 7 + j * 13) % 200)::numeric + 0.99, 2)
       FROM generate_series($1::bigint, $2::bigint) i, generate_series(1, 1 + (i % 3)::int) j`,
    [first, first + count - 1],
  );
  await db.query(
    `INSERT INTO shop.orders (id, device_id, created_at, updated_at, total, discount, promo, payment)
     SELECT i, 'dev' || i, now() - interval '2 hours', ${updatedAt},
            (SELECT sum(qty * unit_price) FROM shop.order_lines WHERE order_id = i), CASE WHEN i % 5 = 0 THEN 1.50 END,
            CASE WHEN i % 7 = 0 THEN 'SPRING' END, 'card'
       FROM generate_series($1::bigint, $2::bigint) i`,
    [first, first + count - 1],
  );
}
