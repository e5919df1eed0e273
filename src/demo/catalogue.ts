/**
 * The demo's catalogue part: the sample shop's products (the SKUs its orders name) in three categories, mirrored
 * onto PersonaClick's catalogue imports by `reconcile products` (categories first); then a product goes out of stock
 * and one is deleted in the shop, and the next night tells PersonaClick exactly those two.
 */
import type { Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { productsJob } from '../../jobs/catalogue.js';
import type { Logger } from '../log.js';
import type { Services } from '../run/services.js';
import type { RunSummary } from '../run/summary.js';
import type { Sandbox } from '../sandbox/index.js';
import { pad, type Check, type Print } from './print.js';

export const CATEGORIES_QUERY = `SELECT id, name, parent_id AS parent, url FROM shop.categories`;
export const PRODUCTS_QUERY = `SELECT p.sku AS id, p.title AS name, p.price, 'https://demo.example/p/' || p.sku AS url,
       'https://demo.example/img/' || p.sku || '.jpg' AS picture, p.stock > 0 AS available, p.stock AS stock_quantity,
       ARRAY[p.category_id] AS categories, p.updated_at
  FROM shop.products p WHERE NOT p.deleted`;

/** The SKUs the demo's orders name (shop.ts): SKU-100 … SKU-159. */
const FIRST = 100;
const LAST = 159;
export const OUT_OF_STOCK = 'SKU-107';
export const DELETED = 'SKU-111';

export interface CatalogueOutcome {
  products: number;
  first: RunSummary[];
  second: RunSummary[];
  /** What the sandbox holds after each night. */
  heldAfterFirst: number;
  inStockAfterFirst: number;
  requestsSecond: string[];
  outOfStock: { available: boolean; removed: boolean } | undefined;
  deleted: { available: boolean; removed: boolean } | undefined;
  errors: number;
}

async function buildCatalogue(db: PGlite): Promise<number> {
  await db.exec(`CREATE TABLE shop.categories (id text PRIMARY KEY, name text NOT NULL, parent_id text, url text);
    INSERT INTO shop.categories VALUES ('all', 'Everything', NULL, 'https://demo.example/c'), ('tea', 'Tea', 'all', 'https://demo.example/c/tea'),
      ('cups', 'Cups', 'all', 'https://demo.example/c/cups');
    CREATE TABLE shop.products (sku text PRIMARY KEY, title text NOT NULL, price numeric(10,2) NOT NULL, stock int NOT NULL, category_id text NOT NULL,
      deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now());`);
  await db.query(
    `INSERT INTO shop.products (sku, title, price, stock, category_id)
     SELECT 'SKU-' || i, 'Product ' || i, 5 + (i % 17) * 1.5, 3 + i % 9, CASE WHEN i % 2 = 0 THEN 'tea' ELSE 'cups' END FROM generate_series($1::int, $2::int) i`,
    [FIRST, LAST],
  );
  return LAST - FIRST + 1;
}

export async function runCatalogueDemo(ctx: { services: Services; sandbox: Sandbox; pglite: PGlite; out: Writable; log: Logger }): Promise<CatalogueOutcome> {
  const products = await buildCatalogue(ctx.pglite);
  const command = productsJob.commands.find((c) => c.verb === 'reconcile');
  if (!command) throw new Error('no reconcile products command');
  const night = () => command.prepare({}).run(ctx.services, { dryRun: false, out: ctx.out, log: ctx.log });
  const { catalogue } = ctx.sandbox;
  const first = await night();
  const heldAfterFirst = catalogue.products.size;
  const inStockAfterFirst = catalogue.inStock().length;
  const before = catalogue.requests.length;
  await ctx.pglite.query(`UPDATE shop.products SET stock = 0, updated_at = now() WHERE sku = $1`, [OUT_OF_STOCK]);
  await ctx.pglite.query(`UPDATE shop.products SET deleted = true, updated_at = now() WHERE sku = $1`, [DELETED]);
  const second = await night();
  const requestsSecond = catalogue.requests.slice(before).map((r) => `${r.method} ${r.path} (${r.count})`);
  const view = (id: string) => {
    const p = catalogue.products.get(id);
    return p && { available: p.available, removed: p.removed };
  };
  return {
    products,
    first,
    second,
    heldAfterFirst,
    inStockAfterFirst,
    requestsSecond,
    outOfStock: view(OUT_OF_STOCK),
    deleted: view(DELETED),
    errors: catalogue.errors.length,
  };
}

export function printCatalogue(print: Print, o: CatalogueOutcome): void {
  print(`The catalogue: ${o.products} products in 2 categories under one root, mirrored onto the catalogue imports`);
  const line = (s: RunSummary) =>
    `  ${s.job.padEnd(11)} read ${pad(s.read)}   sent ${pad(s.sent)}   skipped ${pad(s.skipped)}   invalid ${pad(s.invalid)}  (${s.status})`;
  print('First night: reconcile products (categories first)');
  for (const s of o.first) print(line(s));
  print(`  PersonaClick holds ${o.heldAfterFirst} products, ${o.inStockAfterFirst} in stock`);
  print(`Second night: ${OUT_OF_STOCK} sold out, ${DELETED} deleted in the shop`);
  for (const s of o.second) print(line(s));
  print(`  requests: ${o.requestsSecond.join(', ') || 'none'}  (never the PATCH that marks unlisted products out of stock)`);
  print(
    `  ${OUT_OF_STOCK}: ${o.outOfStock?.available === false ? 'out of stock' : 'in stock'} at PersonaClick; ${DELETED}: ${o.deleted?.removed === true ? 'removed (out of stock)' : 'still there'}`,
  );
  print();
}

export function catalogueChecks(o: CatalogueOutcome): Check[] {
  const sent = (runs: RunSummary[]) => runs.map((r) => r.sent);
  return [
    {
      ok: o.first.every((r) => r.status === 'done') && sent(o.first).join(',') === `3,${o.products}`,
      text: `the first night told the 3 categories and all ${o.products} products`,
    },
    {
      ok: o.heldAfterFirst === o.products && o.inStockAfterFirst === o.products && o.errors === 0,
      text: 'PersonaClick holds every product, in stock, and reported no error',
    },
    { ok: sent(o.second).join(',') === '0,2', text: 'the second night sent exactly the two products that changed' },
    { ok: o.outOfStock?.available === false && o.outOfStock.removed === false, text: `${OUT_OF_STOCK} is out of stock at PersonaClick` },
    { ok: o.deleted?.removed === true && o.deleted.available === false, text: `${DELETED}, deleted in the shop, is removed from PersonaClick's catalogue` },
  ];
}
