/**
 * The catalogue end to end: a shop's products and categories in real Postgres, the sandbox over real HTTP keeping the
 * catalogue it was told (judged by its own rules, written from the import docs). A product deleted in the shop, one
 * going out of stock, a category moved, a price changed, a catalogue larger than one request; bad products refused
 * with the column and rule; categories before products.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, testConfig } from './support/harness.js';
import type { TestDatabase } from './support/pg.js';
import { runChecks } from '../src/check/command.js';
import { openSource } from '../src/source/db.js';
import { probeDigestPage } from '../src/source/page-probes.js';
import { acquireJobLock } from '../src/state/lock.js';
import { scheduledJobs } from '../jobs/index.js';
import type { ReportData } from '../src/report/model.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { SHOP_ID } from './support/harness.js';

const SECRET = 'shop-secret-c47a19e0';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 60_000 }, prefix: 'pcs_catalogue', shop: false });

const CATEGORIES_QUERY = `SELECT id, name, parent_id AS parent, url FROM cat.categories`;
const PRODUCTS_QUERY = `SELECT p.id, p.name, p.price, p.url, p.picture, p.in_stock AS available, ARRAY[p.category_id] AS categories,
       p.brand, p.params, p.updated_at FROM cat.products p WHERE NOT p.deleted`;

async function createCatalogue(db: TestDatabase, products: number): Promise<void> {
  await db.query(`CREATE SCHEMA cat;
    CREATE TABLE cat.categories (id text PRIMARY KEY, name text NOT NULL, parent_id text, url text);
    CREATE TABLE cat.products (id text PRIMARY KEY, name text NOT NULL, price numeric(12,2), url text, picture text, in_stock boolean NOT NULL DEFAULT true,
      category_id text, brand text, params jsonb, deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 minute');
    INSERT INTO cat.categories VALUES ('root', 'Shop', NULL, 'https://shop.example/c'), ('bikes', 'Bikes', 'root', 'https://shop.example/c/bikes'),
      ('kids', 'Kids bikes', 'bikes', 'https://shop.example/c/kids'), ('wear', 'Clothes', 'root', 'https://shop.example/c/wear');`);
  await db.query(
    `INSERT INTO cat.products (id, name, price, url, picture, category_id, brand, params)
     SELECT 'P' || i, 'Product ' || i, 10 + i % 90, 'https://shop.example/p/' || i, 'https://shop.example/img/' || i || '.jpg',
            CASE WHEN i % 2 = 0 THEN 'kids' ELSE 'wear' END, CASE WHEN i % 3 = 0 THEN 'Acme' END,
            CASE WHEN i % 5 = 0 THEN '[{"name": "colour", "value": ["red"]}]'::jsonb END
       FROM generate_series(1, $1::int) i`,
    [products],
  );
}

function config(products: Record<string, unknown> = {}, categories: Record<string, unknown> = {}): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    personaclick: { shopSecret: SECRET },
    delivery: { orderSyncPerMinute: 60_000 },
    jobs: {
      categories: { query: CATEGORIES_QUERY, ...categories },
      products: { query: PRODUCTS_QUERY, currency: 'USD', settleSeconds: 0, ...products },
    },
  });
}

const reconcileProducts = (cfg: Config = config()) => runCommand(cfg, ['reconcile', 'products']);

describe('the catalogue', () => {
  it('mirrors categories and products, categories first; a second run sends nothing', async () => {
    await createCatalogue(env.db, 30);
    const { summaries } = await reconcileProducts();
    expect(summaries.map((s) => [s.job, s.status, s.sent, s.invalid])).toEqual([
      ['categories', 'done', 4, 0],
      ['products', 'done', 30, 0],
    ]);
    const { catalogue } = env.sandbox;
    expect(catalogue.errors).toEqual([]);
    expect(catalogue.categories.get('kids')).toMatchObject({ name: 'Kids bikes', parent: 'bikes' });
    expect(catalogue.products.size).toBe(30);
    expect(catalogue.products.get('P5')?.item).toMatchObject({
      id: 'P5',
      price: 15,
      currency: 'USD',
      categories: ['wear'],
      params: [{ name: 'colour', value: ['red'] }],
    });
    expect(catalogue.products.get('P1')?.item).not.toHaveProperty('brand'); // null: left out, never sent as null
    // Categories went before the products that use them.
    const paths = catalogue.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(['PUT /import/categories', 'PUT /import/products']);
    // Nothing changed: nothing sent.
    const again = await reconcileProducts();
    expect(again.summaries.map((s) => s.sent)).toEqual([0, 0]);
    expect(catalogue.requests).toHaveLength(2);
  });

  it('a product deleted, one out of stock, a price changed, a category moved: exactly those are told', async () => {
    await createCatalogue(env.db, 20);
    await reconcileProducts();
    const { catalogue } = env.sandbox;
    const before = catalogue.requests.length;
    await env.db.query(`UPDATE cat.products SET deleted = true WHERE id = 'P3';
      UPDATE cat.products SET in_stock = false WHERE id = 'P4';
      UPDATE cat.products SET price = 99.5 WHERE id = 'P6';
      UPDATE cat.categories SET parent_id = 'root' WHERE id = 'kids';`);
    const { summaries } = await reconcileProducts();
    expect(summaries.map((s) => [s.job, s.sent, s.skipped])).toEqual([
      ['categories', 1, 3],
      ['products', 3, 17],
    ]);
    expect(catalogue.errors).toEqual([]);
    expect(catalogue.categories.get('kids')?.parent).toBe('root');
    expect(catalogue.products.get('P3')).toMatchObject({ available: false, removed: true });
    expect(catalogue.products.get('P4')).toMatchObject({ available: false, removed: false });
    expect(catalogue.products.get('P6')?.item.price).toBe(99.5);
    expect(catalogue.inStock()).toHaveLength(18);
    const sent = catalogue.requests.slice(before).map((r) => [r.method, r.path, r.count]);
    expect(sent).toEqual([
      ['PUT', '/import/categories', 1],
      ['PUT', '/import/products', 2],
      ['DELETE', '/import/products', 1],
    ]);
    // The availability sync that marks every unlisted product out of stock is never used.
    expect(catalogue.requests.some((r) => r.method === 'PATCH')).toBe(false);
  });

  it('a catalogue larger than one request goes in several, and none marks the rest out of stock', async () => {
    await createCatalogue(env.db, 250);
    const { summaries } = await reconcileProducts(config({ batchSize: 100 }));
    expect(summaries[1]).toMatchObject({ status: 'done', sent: 250 });
    const { catalogue } = env.sandbox;
    expect(catalogue.requests.filter((r) => r.path === '/import/products').map((r) => r.count)).toEqual([100, 100, 50]);
    expect(catalogue.inStock()).toHaveLength(250);
  });

  it('a bad product is invalid with the column and rule; the rest go', async () => {
    await createCatalogue(env.db, 5);
    await env.db.query(`UPDATE cat.products SET price = 0 WHERE id = 'P1';
      UPDATE cat.products SET picture = 'https://shop.example/' || repeat('x', 600) WHERE id = 'P2';
      UPDATE cat.products SET category_id = 'bikes' WHERE id = 'P3';
      UPDATE cat.products SET id = repeat('L', 300) WHERE id = 'P4';`);
    const { summaries } = await reconcileProducts();
    expect(summaries[1]).toMatchObject({ status: 'done', sent: 1, invalid: 4 });
    const failures = await env.db.query<{ key: string; reason: string }>(
      `SELECT key, reason FROM personaclick_sync.failures WHERE job = 'products' ORDER BY key`,
    );
    const reasons = Object.fromEntries(failures.map((f) => [f.key.slice(0, 3), f.reason]));
    expect(reasons.P1).toMatch(/^price: must be greater than 0/);
    expect(reasons.P2).toMatch(/^picture: must be at most 500 characters/);
    expect(reasons.P3).toMatch(/^categories\[0\]: must be a leaf category/);
    expect(reasons.LLL).toMatch(/^id: must be at most 255 characters/);
    // Zero prices are allowed once the shop enabled them (on both sides).
    env.sandbox.catalogue.zeroPrices = true;
    const zero = await reconcileProducts(config({ zeroPrices: true }));
    expect(zero.summaries[1]).toMatchObject({ sent: 1 });
    expect(env.sandbox.catalogue.products.get('P1')?.item.price).toBe(0);
  });

  it('sync products sends only the products changed since the last run, and only when their content changed', async () => {
    await createCatalogue(env.db, 20);
    const first = await runCommand(config(), ['sync', 'products']);
    expect(first.summaries[1]).toMatchObject({ status: 'done', sent: 20 });
    // P7's price changes; P8 is touched without a change (same digest): only P7 goes.
    await env.db.query(`UPDATE cat.products SET price = 55, updated_at = clock_timestamp() WHERE id = 'P7';
      UPDATE cat.products SET updated_at = clock_timestamp() WHERE id = 'P8';`);
    const second = await runCommand(config(), ['sync', 'products']);
    expect(second.summaries[1]).toMatchObject({ status: 'done', read: 2, sent: 1, skipped: 1 });
    expect(env.sandbox.catalogue.products.get('P7')?.item.price).toBe(55);
  });

  it('replay sends a product fixed since it was refused, and removes one gone since', async () => {
    await createCatalogue(env.db, 4);
    await env.db.query(`UPDATE cat.products SET price = -1 WHERE id IN ('P1', 'P2')`);
    await reconcileProducts();
    await env.db.query(`UPDATE cat.products SET price = 12 WHERE id = 'P1'; UPDATE cat.products SET deleted = true WHERE id = 'P2'`);
    const { summaries } = await runCommand(config(), ['replay'], { job: 'products' });
    expect(summaries.map((s) => [s.job, s.status, s.sent])).toEqual([['products', 'done', 2]]);
    expect(env.sandbox.catalogue.products.get('P1')?.item.price).toBe(12);
    const open = await env.db.query(`SELECT key FROM personaclick_sync.failures WHERE job = 'products' AND resolved_at IS NULL`);
    expect(open).toEqual([]);
  });

  it('check judges the catalogue models and finds the product ids carts name that the products model lacks', async () => {
    await createCatalogue(env.db, 5);
    await env.db.query(`CREATE TABLE cat.cart_lines (device_id text, product_id text, qty int);
      INSERT INTO cat.cart_lines VALUES ('d1', 'P1', 1), ('d1', 'GHOST', 2), ('d2', repeat('X', 300), 1)`);
    const cfg = testConfig(env.db.url, env.sandbox.url, {
      personaclick: { shopSecret: SECRET },
      jobs: {
        carts: { query: 'SELECT device_id AS did, product_id AS id, qty AS quantity FROM cat.cart_lines' },
        categories: { query: CATEGORIES_QUERY },
        products: { query: PRODUCTS_QUERY, currency: 'USD' },
      },
    });
    const findings = await runChecks(cfg);
    const about = (subject: string) => findings.filter((f) => f.subject === subject).map((f) => `${f.level}: ${f.message}`);
    expect(about('jobs.products.query').some((m) => m.startsWith('ok: runs and has its columns') || m.includes('has no currency column'))).toBe(true);
    expect(about('jobs.categories.query').some((m) => m.startsWith('ok: runs and has its columns'))).toBe(true);
    const cross = about('jobs.products.crossCheck');
    expect(cross.some((m) => m.startsWith('warn: the carts: 2 of 3 product ids are not in the products model (e.g. GHOST, XXX'))).toBe(true);
    expect(cross.some((m) => m.startsWith('warn: the carts: 1 product ids are longer than 255 characters'))).toBe(true);
  });

  it('check times the page a reconcile reads (ids and digests, after a real id), on a model whose rows have no hash too', async () => {
    await createCatalogue(env.db, 7);
    // A json column has no hash function: the run digests such rows as text, and check must time that statement.
    const noHash = `SELECT p.id, p.name, p.price, p.in_stock AS available, ARRAY[p.category_id] AS categories, p.params::json AS params, p.updated_at
      FROM cat.products p WHERE NOT p.deleted`;
    const cost = async (products: Record<string, unknown>, categories: Record<string, unknown> = {}) => {
      const findings = await runChecks(config(products, categories));
      const about = (subject: string) => findings.filter((f) => f.subject === subject && f.message.includes(' took ')).map((f) => f.message);
      return { products: about('jobs.products.query'), categories: about('jobs.categories.query') };
    };
    const paged = await cost({ pageSize: 3 }, { pageSize: 4 });
    expect(paged.products).toEqual([expect.stringMatching(/^a page of 3 ids and digests after a real id took [\d.]+ m?s /)]);
    // Four categories in pages of four: the page after the first one's last id holds just that id; the first is timed.
    expect(paged.categories).toEqual([expect.stringMatching(/^the first page of 4 ids and digests took /)]);
    const text = await cost({ query: noHash, pageSize: 2 });
    expect(text.products).toEqual([expect.stringMatching(/^a page of 2 ids and digests after a real id took /)]);
    // What is timed is the statement a run reads its pages with: the row's hash, or the md5 of its text.
    const source = openSource({ url: env.db.url, poolSize: 1, statementTimeoutMs: 0, applicationName: 'test' });
    try {
      for (const [query, digest] of [
        [PRODUCTS_QUERY, 'hash_record_extended(q, 0)'],
        [noHash, 'md5(q::text)'],
      ] as const) {
        const probe = await probeDigestPage(source, query, 2);
        expect(probe?.after).toBe('P2');
        expect(probe?.page.statement.text).toContain(digest);
        expect(probe?.page.statement.values).toContain('P2');
        expect(probe?.page.rows).toBe(2);
      }
    } finally {
      await source.close();
    }
    const whole = await cost({ pageSize: 100 });
    expect(whole.products).toEqual([expect.stringMatching(/^the whole model \(one page\) took [\d.]+ m?s .*ids and digests \(the planner.s estimate\)/)]);
  });

  it('report shows the catalogue: in the shop against told, out of stock, to remove, failed', async () => {
    await createCatalogue(env.db, 10);
    await env.db.query(`UPDATE cat.products SET price = -1 WHERE id = 'P1'`);
    await reconcileProducts();
    await env.db.query(`UPDATE cat.products SET in_stock = false WHERE id = 'P2'; UPDATE cat.products SET deleted = true WHERE id = 'P3'`);
    const file = writeConfig({
      personaclick: { url: env.sandbox.url, shopId: SHOP_ID, shopSecret: SECRET },
      source: { url: env.db.url },
      jobs: { categories: { query: CATEGORIES_QUERY }, products: { query: PRODUCTS_QUERY, currency: 'USD' } },
    });
    const result = await runMain(['report', '--json', '--config', file]);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(result.stdout) as ReportData;
    expect(data.catalogue).toEqual([
      { job: 'categories', shop: 4, told: 4, notTold: 0, toRemove: 0, outOfStock: 0, failed: 0 },
      { job: 'products', shop: 9, told: 9, notTold: 1, toRemove: 1, outOfStock: 1, failed: 1 },
    ]);
    const text = await runMain(['report', '--config', file]);
    expect(text.stdout).toContain('The catalogue now');
    // status knows the jobs through the books: their runs and open failures.
    const status = await runMain(['status', '--config', file]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/products/);
    expect(status.stdout).toMatch(/categories/);
  });

  it('categories go first under their own lock: while another runner holds it, the products go on alone', async () => {
    await createCatalogue(env.db, 3);
    const held = await acquireJobLock(env.db.url, 'personaclick_sync', 'categories');
    try {
      const { summaries } = await reconcileProducts();
      expect(summaries.map((s) => [s.job, s.status])).toEqual([['products', 'done']]);
    } finally {
      await held.release();
    }
    const { summaries } = await reconcileProducts();
    expect(summaries.map((s) => [s.job, s.sent])).toEqual([
      ['categories', 4],
      ['products', 0],
    ]);
  });

  it('the command line knows the jobs: --help lists them; without the shop secret a run stops with exit 2 saying so', async () => {
    const help = await runMain(['--help']);
    for (const words of ['reconcile categories [--full]', 'reconcile products [--full]', 'sync products', 'jobs.products', 'zeroPrices'])
      expect(help.stdout).toContain(words);
    await createCatalogue(env.db, 2);
    const file = writeConfig({
      personaclick: { url: env.sandbox.url, shopId: SHOP_ID },
      source: { url: env.db.url },
      jobs: { products: { query: PRODUCTS_QUERY, currency: 'USD' } },
    });
    const result = await runMain(['reconcile', 'products', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the catalogue imports need the shop secret: set personaclick\.shopSecret/);
    expect(env.sandbox.catalogue.requests).toHaveLength(0);
  });

  it('the scheduler knows the jobs through the table: categories reconciled, products synced incrementally', () => {
    const cfg = config({ schedule: '*/15 * * * *' }, { schedule: '0 2 * * *' });
    expect(scheduledJobs(cfg).map((j) => [j.name, j.expression, j.launchable.lock])).toEqual([
      ['categories', '0 2 * * *', 'categories'],
      ['products', '*/15 * * * *', 'products'],
    ]);
  });

  it('shards split the products by id: together they tell every product once, and neither removes the products of the other', async () => {
    await createCatalogue(env.db, 40);
    const file = writeConfig({
      personaclick: { url: env.sandbox.url, shopId: SHOP_ID, shopSecret: SECRET },
      delivery: { orderSyncPerMinute: 60_000 },
      source: { url: env.db.url },
      jobs: { categories: { query: CATEGORIES_QUERY }, products: { query: PRODUCTS_QUERY, currency: 'USD' } },
    });
    expect((await runMain(['reconcile', 'categories', '--config', file])).code).toBe(0);
    for (const shard of ['0/2', '1/2', '0/2']) expect((await runMain(['reconcile', 'products', '--shard', shard, '--config', file])).code).toBe(0);
    const { catalogue } = env.sandbox;
    expect(catalogue.products.size).toBe(40);
    expect(catalogue.inStock()).toHaveLength(40);
    const sent = catalogue.requests.filter((r) => r.path === '/import/products');
    expect(sent.reduce((n, r) => n + r.count, 0)).toBe(40);
    expect(sent.every((r) => r.method === 'PUT')).toBe(true);
  });

  it('replaceTree: the whole tree in one POST, which drops the categories gone from the shop', async () => {
    await createCatalogue(env.db, 2);
    const tree = config({}, { replaceTree: true });
    await runCommand(tree, ['reconcile', 'categories']);
    await env.db.query(`DELETE FROM cat.categories WHERE id = 'wear'; UPDATE cat.categories SET name = 'Kids' WHERE id = 'kids'`);
    const { summaries } = await runCommand(tree, ['reconcile', 'categories']);
    expect(summaries[0]).toMatchObject({ status: 'done', sent: 4 });
    const { catalogue } = env.sandbox;
    expect(catalogue.requests.map((r) => [r.method, r.path, r.count])).toEqual([
      ['POST', '/import/categories', 4],
      ['POST', '/import/categories', 3],
    ]);
    expect([...catalogue.categories.keys()].sort()).toEqual(['bikes', 'kids', 'root']);
    expect(catalogue.categories.get('kids')?.name).toBe('Kids');
    const books = await env.db.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE job = 'categories' ORDER BY key`);
    expect(books.map((b) => b.key)).toEqual(['bikes', 'kids', 'root']);
  });

  it('a dry run prints the imports with their method, the secret masked, and sends nothing', async () => {
    await createCatalogue(env.db, 3);
    const { stdout } = await runCommand(config(), ['reconcile', 'products'], {}, { dryRun: true });
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; method?: string; body: { shop_secret: string; items?: unknown[] } });
    expect(lines.map((l) => [l.path, l.method])).toEqual([
      ['/import/categories', 'PUT'],
      ['/import/products', 'PUT'],
    ]);
    expect(lines.every((l) => l.body.shop_secret === '***')).toBe(true);
    expect(env.sandbox.catalogue.requests).toHaveLength(0);
  });

  it('a wrong shop secret (400 from the imports) stops the run at once as fatal, without splitting the batch', async () => {
    await createCatalogue(env.db, 10);
    const { summaries } = await runCommand(config({}, {}), ['reconcile', 'categories']).catch(() => ({ summaries: [] }));
    expect(summaries[0]?.status).toBe('done');
    const wrong = testConfig(env.db.url, env.sandbox.url, {
      personaclick: { shopSecret: 'not-the-secret' },
      jobs: { products: { query: PRODUCTS_QUERY, currency: 'USD' } },
    });
    const result = await runCommand(wrong, ['reconcile', 'products']);
    expect(result.summaries[0]).toMatchObject({ status: 'fatal', sent: 0 });
    expect(result.summaries[0]?.error?.message).toBe(
      'PersonaClick refused the shop secret (HTTP 400 on /import/products: Bad request (the catalogue imports answer 400 for a wrong shop_id or shop_secret)): check personaclick.shopSecret',
    );
    expect(env.sandbox.stats().byStatus['400']).toBe(1);
  });
});
