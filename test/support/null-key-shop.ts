/**
 * A shop whose orders the keyset cannot all place: orders o1…oN, one line each, updated a second apart from
 * 2024-05-01, and order o5 with a NULL order_id or a NULL updated_at. Loose types (text ids, nothing NOT NULL), as a
 * LEFT JOIN in an operator's model can give.
 */
import { afterAll, beforeAll } from 'vitest';
import { createMigratedDatabase, type TestDatabase } from './pg.js';

/** The orders model over that shop (jobs.orders of the config). */
export const NULL_KEY_MODEL = {
  query: 'SELECT id AS order_id, updated_at, did FROM shop.orders',
  itemsQuery: 'SELECT order_id, product_id AS id, qty AS amount, unit_price AS price FROM shop.order_lines WHERE order_id = ANY(:order_ids)',
} as const;

/** Which key of order o5 is NULL. */
export type NullKey = 'order_id' | 'updated_at';

/** One such shop (in a migrated database) for the describe block this is called in, made in beforeAll. */
export function useNullKeyShop(nullKey: NullKey, orders: number): { readonly db: TestDatabase } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createMigratedDatabase(`pcs_null_${nullKey}`);
    const id = nullKey === 'order_id' ? `CASE WHEN i = 5 THEN NULL ELSE 'o' || i END` : `'o' || i`;
    // Placed an hour ago (new purchases, not history the live sync leaves alone), a second apart.
    const at = `date_trunc('second', now()) - interval '1 hour' + i * interval '1 second'`;
    const updatedAt = nullKey === 'updated_at' ? `CASE WHEN i = 5 THEN NULL ELSE ${at} END` : at;
    await db.query(
      `CREATE SCHEMA shop;
       CREATE TABLE shop.orders (id text, updated_at timestamptz, did text);
       CREATE TABLE shop.order_lines (order_id text, product_id text, qty int, unit_price numeric);
       INSERT INTO shop.orders SELECT ${id}, ${updatedAt}, 'dev' || i FROM generate_series(1, ${orders}) i;
       INSERT INTO shop.order_lines SELECT 'o' || i, 'P', 1, 1 FROM generate_series(1, ${orders}) i;`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('the shop is made in beforeAll');
      return db;
    },
  };
}
