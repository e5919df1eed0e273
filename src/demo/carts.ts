/**
 * The sample shop's carts and wishlists: three tables as a shop might keep them, filled for 40 devices from a seeded
 * PRNG (same seed, same carts), the operator's SQL models that map them to the contract columns of docs/models.md, the
 * day's changes the demo makes between two nights, and the shop's contents read back to compare with the sandbox.
 */
import type { PGlite } from '@electric-sql/pglite';
import { mulberry32 } from '../sandbox/faults.js';
import type { Source } from '../source/db.js';

/** Created after the orders tables (the `shop` schema exists). A cart row may outlive its lines: an emptied cart. */
export const CARTS_SCHEMA = `
  CREATE TABLE shop.carts (
    id bigint PRIMARY KEY,
    device_id text NOT NULL UNIQUE
  );
  CREATE TABLE shop.cart_items (
    cart_id bigint NOT NULL REFERENCES shop.carts ON DELETE CASCADE,
    product_id text NOT NULL,
    qty int NOT NULL
  );
  CREATE INDEX cart_items_cart ON shop.cart_items (cart_id);
  CREATE TABLE shop.wishlist_items (
    device_id text NOT NULL,
    product_id text NOT NULL
  );`;

/** The carts model (`jobs.carts.query`): one row per cart line. An emptied cart has no rows, so it is gone. */
export const CARTS_QUERY = `SELECT c.device_id AS did, i.product_id AS id, i.qty AS quantity
  FROM shop.carts c JOIN shop.cart_items i ON i.cart_id = c.id`;

/** The wishlists model (`jobs.wishlists.query`): one row per wishlist line. */
export const WISHLISTS_QUERY = `SELECT w.device_id AS did, w.product_id AS id FROM shop.wishlist_items w`;

export interface CartLine {
  productId: string;
  qty: number;
}

/** What happens in the shop during the day before the third night (`changeCarts`). */
export interface DayChanges {
  /** Carts whose lines were all removed; the cart row stays. */
  emptied: string[];
  /** Carts deleted outright, row and lines. */
  deleted: string[];
  /** One line whose quantity changed. */
  changed: { did: string; productId: string; from: number; to: number };
  /** A device that had no cart starts one. */
  added: { did: string; lines: CartLine[] };
  /** A device whose whole wishlist is removed. */
  wishlistRemoved: string;
}

export interface CartFacts {
  devices: number;
  /** Carts with at least one line, and their lines (as rows in the table). */
  carts: number;
  cartLines: number;
  wishlists: number;
  wishlistItems: number;
  /** The cart with the same product on two lines: the connector merges them into one item. */
  duplicate: { did: string; productId: string; quantities: [number, number] };
  day: DayChanges;
}

export interface CartOptions {
  /** Default 42 (the shop's seed). */
  seed?: number | undefined;
  /** Default 40. */
  devices?: number | undefined;
}

const PRODUCTS = 60;
const FIRST_PRODUCT = 100;

/** Create the cart and wishlist tables and fill them; answers what they hold and what `changeCarts` will do. */
export async function buildCarts(db: PGlite, opts: CartOptions = {}): Promise<CartFacts> {
  const deviceCount = opts.devices ?? 40;
  if (deviceCount < 20) throw new RangeError('the demo carts need at least 20 devices');
  // Its own stream of numbers, so the orders part of the shop stays what it was.
  const random = mulberry32(((opts.seed ?? 42) ^ 0x5eedca27) >>> 0);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const products = (n: number): string[] => {
    const chosen = new Set<string>();
    while (chosen.size < n) chosen.add(`SKU-${int(FIRST_PRODUCT, FIRST_PRODUCT + PRODUCTS - 1)}`);
    return [...chosen];
  };
  const shuffled = <T>(list: readonly T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };

  const seen = new Set<string>();
  while (seen.size < deviceCount) seen.add(`dev-${int(0, 0xffffffff).toString(16).padStart(8, '0')}`);
  const devices = [...seen];

  // Four devices in five have a cart, two in three a wishlist; contents at random, each product once a list.
  const carts = new Map<string, CartLine[]>();
  const wishlists = new Map<string, string[]>();
  for (const [i, did] of devices.entries()) {
    if (i % 5 !== 4)
      carts.set(
        did,
        products(int(1, 4)).map((productId) => ({ productId, qty: int(1, 3) })),
      );
    if (i % 3 !== 2) wishlists.set(did, products(int(1, 4)));
  }

  // Which carts play which part: distinct devices, picked at random.
  const [dupDid, e1, e2, e3, d1, d2, changedDid] = shuffled([...carts.keys()]);
  const newDid = shuffled(devices.filter((did) => !carts.has(did)))[0];
  const wishDid = shuffled([...wishlists.keys()])[0];
  if (!dupDid || !e1 || !e2 || !e3 || !d1 || !d2 || !changedDid || !newDid || !wishDid) throw new Error('too few carts for the demo');

  // The duplicate: a cart of at least two products, the first of them on a second line too.
  const dupLines = carts.get(dupDid) ?? [];
  while (dupLines.length < 2) {
    const productId = products(1)[0] ?? 'SKU-100';
    if (!dupLines.some((l) => l.productId === productId)) dupLines.push({ productId, qty: int(1, 3) });
  }
  const dupFirst = dupLines[0];
  if (!dupFirst) throw new Error('the duplicate cart has no lines');
  const dupSecond = { productId: dupFirst.productId, qty: int(1, 3) };
  dupLines.push(dupSecond);
  carts.set(dupDid, dupLines);

  const changedLine = carts.get(changedDid)?.[0];
  if (!changedLine) throw new Error('the changed cart has no lines');

  const cartIds = new Map([...carts.keys()].map((did, i) => [did, i + 1]));
  const cartRows = [...cartIds].map(([device_id, id]) => ({ id, device_id }));
  const lineRows = [...carts].flatMap(([did, lines]) => lines.map((l) => ({ cart_id: cartIds.get(did), product_id: l.productId, qty: l.qty })));
  const wishRows = [...wishlists].flatMap(([device_id, ids]) => ids.map((product_id) => ({ device_id, product_id })));

  await db.exec(CARTS_SCHEMA);
  await db.query(`INSERT INTO shop.carts SELECT * FROM json_populate_recordset(NULL::shop.carts, $1::json)`, [JSON.stringify(cartRows)]);
  await db.query(`INSERT INTO shop.cart_items SELECT * FROM json_populate_recordset(NULL::shop.cart_items, $1::json)`, [JSON.stringify(lineRows)]);
  await db.query(`INSERT INTO shop.wishlist_items SELECT * FROM json_populate_recordset(NULL::shop.wishlist_items, $1::json)`, [JSON.stringify(wishRows)]);

  return {
    devices: devices.length,
    carts: carts.size,
    cartLines: lineRows.length,
    wishlists: wishlists.size,
    wishlistItems: wishRows.length,
    duplicate: { did: dupDid, productId: dupFirst.productId, quantities: [dupFirst.qty, dupSecond.qty] },
    day: {
      emptied: [e1, e2, e3],
      deleted: [d1, d2],
      changed: { did: changedDid, productId: changedLine.productId, from: changedLine.qty, to: changedLine.qty + 1 },
      added: { did: newDid, lines: products(2).map((productId) => ({ productId, qty: int(1, 3) })) },
      wishlistRemoved: wishDid,
    },
  };
}

/** The day between two nights: carts emptied, deleted, changed and started; a wishlist removed. */
export async function changeCarts(db: PGlite, day: DayChanges): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`DELETE FROM shop.cart_items WHERE cart_id IN (SELECT id FROM shop.carts WHERE device_id = ANY($1::text[]))`, [day.emptied]);
    await tx.query(`DELETE FROM shop.carts WHERE device_id = ANY($1::text[])`, [day.deleted]);
    await tx.query(`UPDATE shop.cart_items SET qty = $3 WHERE product_id = $2 AND cart_id = (SELECT id FROM shop.carts WHERE device_id = $1)`, [
      day.changed.did,
      day.changed.productId,
      day.changed.to,
    ]);
    await tx.query(`INSERT INTO shop.carts (id, device_id) SELECT coalesce(max(id), 0) + 1, $1 FROM shop.carts`, [day.added.did]);
    await tx.query(
      `INSERT INTO shop.cart_items (cart_id, product_id, qty)
       SELECT c.id, l.product_id, l.qty FROM shop.carts c, json_to_recordset($2::json) AS l(product_id text, qty int) WHERE c.device_id = $1`,
      [day.added.did, JSON.stringify(day.added.lines.map((l) => ({ product_id: l.productId, qty: l.qty })))],
    );
    await tx.query(`DELETE FROM shop.wishlist_items WHERE device_id = $1`, [day.wishlistRemoved]);
  });
}

/** The shop's carts straight from its tables, as the sandbox keeps them: did → product → quantity (lines added up). */
export async function shopCarts(source: Source): Promise<Map<string, Map<string, number>>> {
  const rows = await source.query<CartRow>({
    text: `SELECT c.device_id AS did, i.product_id AS id, sum(i.qty)::text AS quantity
       FROM shop.carts c JOIN shop.cart_items i ON i.cart_id = c.id GROUP BY 1, 2`,
    values: [],
  });
  return cartsByDevice(rows);
}

/** The shop's wishlists straight from its table: did → product ids. */
export async function shopWishlists(source: Source): Promise<Map<string, Set<string>>> {
  const rows = await source.query<WishRow>({ text: `SELECT DISTINCT device_id AS did, product_id AS id FROM shop.wishlist_items`, values: [] });
  return wishlistsByDevice(rows);
}

/** A cart line with its quantity summed per (did, id), as numeric text or a number. */
export type CartRow = { did: string; id: string; quantity: string | number };
/** A wishlist line, (did, id) distinct. */
export type WishRow = { did: string; id: string };

/** Rows of (did, id, summed quantity) as the sandbox keeps carts: did → product → quantity. */
export function cartsByDevice(rows: readonly CartRow[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const cart = out.get(r.did) ?? new Map<string, number>();
    cart.set(r.id, Number(r.quantity));
    out.set(r.did, cart);
  }
  return out;
}

/** Rows of (did, id) as the sandbox keeps wishlists: did → product ids. */
export function wishlistsByDevice(rows: readonly WishRow[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const list = out.get(r.did) ?? new Set<string>();
    list.add(r.id);
    out.set(r.did, list);
  }
  return out;
}

/** Devices whose contents differ between the two (present in one only, or different items or quantities), sorted. */
export function differingDevices<T extends Map<string, number> | Set<string>>(a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>): string[] {
  const out: string[] = [];
  for (const did of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(did);
    const y = b.get(did);
    if (x === undefined || y === undefined || !sameContents(x, y)) out.push(did);
  }
  return out.sort();
}

function sameContents(x: Map<string, number> | Set<string>, y: Map<string, number> | Set<string>): boolean {
  if (x.size !== y.size) return false;
  if (x instanceof Map && y instanceof Map) return [...x].every(([id, qty]) => y.get(id) === qty);
  if (x instanceof Set && y instanceof Set) return [...x].every((id) => y.has(id));
  return false;
}
