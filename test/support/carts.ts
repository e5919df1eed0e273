/** Carts and wishlists of a sample shop, and how to read them back to compare with what the sandbox holds. */
import { cartsByDevice, wishlistsByDevice, type CartRow, type WishRow } from '../../src/demo/carts.js';
import type { TestDatabase } from './pg.js';

export const CARTS_QUERY = `SELECT c.device_id AS did, i.product_id AS id, i.qty AS quantity
  FROM shop.carts c JOIN shop.cart_items i ON i.cart_id = c.id`;
export const WISHLISTS_QUERY = `SELECT w.device_id AS did, w.product_id AS id FROM shop.wishlist_items w`;

export async function createCartTables(db: TestDatabase): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS shop;
    CREATE TABLE shop.carts (id bigserial PRIMARY KEY, device_id text NOT NULL UNIQUE);
    CREATE TABLE shop.cart_items (cart_id bigint NOT NULL REFERENCES shop.carts ON DELETE CASCADE, product_id text NOT NULL, qty int NOT NULL);
    CREATE TABLE shop.wishlist_items (device_id text NOT NULL, product_id text NOT NULL);`);
}

/** Devices d<first>..d<first+count-1>, each with 1-4 cart lines and 1-3 wishlist items. */
export async function insertCarts(db: TestDatabase, first: number, count: number, prefix = 'd'): Promise<void> {
  await db.query(
    `INSERT INTO shop.carts (device_id) SELECT $3 || i FROM generate_series($1::int, $2::int) i;
     `,
    [first, first + count - 1, prefix],
  );
  await db.query(
    `INSERT INTO shop.cart_items (cart_id, product_id, qty)
     SELECT c.id, 'P' || ((i * 7 + j) % 500), 1 + (i + j) % 4
       FROM generate_series($1::int, $2::int) i JOIN shop.carts c ON c.device_id = $3 || i, generate_series(1, 1 + i % 4) j`,
    [first, first + count - 1, prefix],
  );
  await db.query(
    `INSERT INTO shop.wishlist_items (device_id, product_id)
     SELECT $3 || i, 'W' || ((i * 3 + j) % 300) FROM generate_series($1::int, $2::int) i, generate_series(1, 1 + i % 3) j`,
    [first, first + count - 1, prefix],
  );
}

/** The shop's carts as did → product → quantity (duplicate lines added up). */
export async function databaseCarts(db: TestDatabase): Promise<Map<string, Map<string, number>>> {
  return cartsByDevice(await db.query<CartRow>(`SELECT did, id, sum(quantity)::text AS quantity FROM (${CARTS_QUERY}) q GROUP BY did, id`));
}

/** The shop's wishlists as did → product ids. */
export async function databaseWishlists(db: TestDatabase): Promise<Map<string, Set<string>>> {
  return wishlistsByDevice(await db.query<WishRow>(`SELECT DISTINCT did, id FROM (${WISHLISTS_QUERY}) q`));
}
