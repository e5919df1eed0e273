/**
 * How the catalogue finds what changed (docs/catalogue.md, "How changes are found"): the databases compare each row's
 * digest with the ledger's, and only the rows that differ are read whole. What a user relies on: a product changed in
 * any column that is sent goes out, an unchanged one never does, a change the requests do not show (a column not sent,
 * a config setting this product does not use) sends nothing, a config change that alters the requests re-sends,
 * `--full` re-sends all, products gone are removed (also past the last page), the ledger of an older version re-sends
 * nothing, and a model with a column type Postgres cannot hash (json) works the same.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, testConfig } from './support/harness.js';
import type { TestDatabase } from './support/pg.js';

const SECRET = 'shop-secret-5d0c2e71';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 60_000 }, prefix: 'pcs_catalogue_changes', shop: false });

const CATEGORIES_QUERY = `SELECT id, name, parent_id AS parent FROM cat.categories`;
/** No currency column: the config's currency goes in every product. updated_at is read but never sent. */
const PRODUCTS_QUERY = `SELECT p.id, p.name, p.price, p.url, p.picture, p.in_stock AS available, ARRAY[p.category_id] AS categories,
       p.brand, p.params, p.updated_at FROM cat.products p WHERE NOT p.deleted`;

async function createCatalogue(db: TestDatabase, products: number): Promise<void> {
  await db.query(`CREATE SCHEMA cat;
    CREATE TABLE cat.categories (id text PRIMARY KEY, name text NOT NULL, parent_id text);
    CREATE TABLE cat.products (id text PRIMARY KEY, name text NOT NULL, price numeric(12,2), url text, picture text, in_stock boolean NOT NULL DEFAULT true,
      category_id text, brand text, params jsonb, deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 minute');
    INSERT INTO cat.categories VALUES ('root', 'Shop', NULL), ('kids', 'Kids bikes', 'root'), ('wear', 'Clothes', 'root');`);
  await db.query(
    `INSERT INTO cat.products (id, name, price, url, picture, category_id, params)
     SELECT 'P' || i, 'Product ' || i, 10 + i, 'https://shop.example/p/' || i, 'https://shop.example/img/' || i || '.jpg',
            CASE WHEN i % 2 = 0 THEN 'kids' ELSE 'wear' END, CASE WHEN i % 3 = 0 THEN '[{"name": "colour", "value": ["red"]}]'::jsonb END
       FROM generate_series(1, $1::int) i`,
    [products],
  );
}

/** Small pages (2 digests, rows fetched 2 at a time) so that a few products cross page and batch boundaries. */
function config(products: Record<string, unknown> = {}): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    personaclick: { shopSecret: SECRET },
    delivery: { orderSyncPerMinute: 60_000 },
    jobs: {
      categories: { query: CATEGORIES_QUERY },
      products: { query: PRODUCTS_QUERY, currency: 'USD', settleSeconds: 0, pageSize: 2, ...products },
    },
  });
}

const reconcile = (cfg: Config = config(), full = false) => runCommand(cfg, ['reconcile', 'products'], full ? { full: true } : {});

/**
 * What the next runs send: the sandbox forgets the products it holds, so that afterwards it holds exactly those
 * PUT since (by id, their items); `requests` is where its request log stands now.
 */
function watchSent(): { requests: number; sent: () => Map<string, Record<string, unknown>> } {
  env.sandbox.catalogue.products.clear();
  return {
    requests: env.sandbox.catalogue.requests.length,
    sent: () => new Map([...env.sandbox.catalogue.products].filter(([, p]) => !p.removed).map(([id, p]) => [id, p.item])),
  };
}

const ledgerHashes = async (): Promise<Map<string, string>> =>
  new Map(
    (await env.db.query<{ key: string; hash: string }>(`SELECT key, hash FROM personaclick_sync.ledger WHERE job = 'products'`)).map((r) => [r.key, r.hash]),
  );

describe('catalogue change detection', () => {
  it('a change in one column sent re-sends that product alone; a column not sent changes nothing; unchanged ones are not read again', async () => {
    await createCatalogue(env.db, 20);
    const first = await reconcile();
    expect(first.summaries.map((s) => [s.job, s.sent])).toEqual([
      ['categories', 3],
      ['products', 20],
    ]);
    const told = await ledgerHashes();
    // The ledger keeps the context, the row and the item digests.
    expect([...told.values()].every((h) => /^[\w-]{12}\.[^.]+\.[\w-]{27}$/.test(h))).toBe(true);

    const watch = watchSent();
    await env.db.query(`UPDATE cat.products SET brand = 'Acme' WHERE id = 'P7';
      UPDATE cat.products SET updated_at = now() WHERE id = 'P8';`);
    const second = await reconcile();
    expect(second.summaries[1]).toMatchObject({ status: 'done', read: 20, sent: 1, skipped: 19, invalid: 0 });
    const sent = watch.sent();
    expect([...sent.keys()]).toEqual(['P7']);
    expect(sent.get('P7')).toMatchObject({ brand: 'Acme' });
    // P8's row changed but not its item: nothing sent, and the ledger takes the row's new digest (its item digest kept),
    // so the next run does not read it again.
    const now = await ledgerHashes();
    expect(now.get('P8')).not.toBe(told.get('P8'));
    expect(now.get('P8')?.split('.')[2]).toBe(told.get('P8')?.split('.')[2]);
    expect(now.get('P1')).toBe(told.get('P1'));

    const third = await reconcile();
    expect(third.summaries[1]).toMatchObject({ status: 'done', sent: 0, skipped: 20 });
    expect(env.sandbox.catalogue.requests.length).toBe(watch.requests + 1);
  });

  it('a config change that alters the requests re-sends every product it alters; one that alters none sends nothing', async () => {
    await createCatalogue(env.db, 12);
    await reconcile();
    const watch = watchSent();
    // zeroPrices changes no product here (no price is 0): nothing is sent.
    const same = await reconcile(config({ zeroPrices: true }));
    expect(same.summaries[1]).toMatchObject({ status: 'done', sent: 0, skipped: 12 });
    expect(env.sandbox.catalogue.requests.length).toBe(watch.requests);
    // The currency is in every product (the model has no currency column): all of them again.
    const euro = await reconcile(config({ zeroPrices: true, currency: 'EUR' }));
    expect(euro.summaries[1]).toMatchObject({ status: 'done', sent: 12, invalid: 0 });
    const sent = watch.sent();
    expect(sent.size).toBe(12);
    expect([...sent.values()].every((item) => item.currency === 'EUR')).toBe(true);
    const again = await reconcile(config({ zeroPrices: true, currency: 'EUR' }));
    expect(again.summaries[1]).toMatchObject({ sent: 0 });
  });

  it('--full re-sends every product, changed or not', async () => {
    await createCatalogue(env.db, 9);
    await reconcile();
    const watch = watchSent();
    const { summaries } = await reconcile(config(), true);
    expect(summaries[1]).toMatchObject({ status: 'done', sent: 9 });
    expect(watch.sent().size).toBe(9);
  });

  it('products gone from the shop are removed: in the middle, and after the last one the model still has', async () => {
    await createCatalogue(env.db, 15);
    await reconcile();
    const from = env.sandbox.catalogue.requests.length;
    // In byte order P1, P10 … P15, P2 … P9: P9 and P8 are the last two, P12 lies between pages.
    await env.db.query(`UPDATE cat.products SET deleted = true WHERE id IN ('P12', 'P8', 'P9')`);
    const { summaries } = await reconcile();
    expect(summaries[1]).toMatchObject({ status: 'done', sent: 3, skipped: 12 });
    const removed = [...env.sandbox.catalogue.products].filter(([, p]) => p.removed).map(([id]) => id);
    expect(removed.sort()).toEqual(['P12', 'P8', 'P9']);
    expect(env.sandbox.catalogue.requests.slice(from).map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /import/products']);
    expect([...(await ledgerHashes()).keys()].sort()).not.toContain('P9');
    // An empty model removes everything.
    await env.db.query(`UPDATE cat.products SET deleted = true`);
    const empty = await reconcile();
    expect(empty.summaries[1]).toMatchObject({ status: 'done', sent: 12 });
    expect((await ledgerHashes()).size).toBe(0);
  });

  it('ids a list of ids cannot hold (its separator) or an array literal must quote are compared the same: unchanged ones not sent again', async () => {
    await createCatalogue(env.db, 10);
    const odd = ['a,b', 'q"x', ' sp', 'b\\s', '{c}', 'NULL', 'k\u001fy'];
    await env.db.query(
      `INSERT INTO cat.products (id, name, price, url, picture, category_id)
       SELECT u.id, 'Odd ' || u.i, 5 + u.i, 'https://shop.example/odd/' || u.i, 'https://shop.example/img/odd' || u.i || '.jpg', 'kids'
         FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)`,
      [odd],
    );
    const first = await reconcile();
    expect(first.summaries[1]).toMatchObject({ status: 'done', read: 17, sent: 17, invalid: 0 });
    expect([...(await ledgerHashes()).keys()]).toEqual(expect.arrayContaining(odd));
    const watch = watchSent();
    await env.db.query(
      `UPDATE cat.products SET price = price + 1 WHERE id IN ('q"x', 'k' || chr(31) || 'y', 'P3'); UPDATE cat.products SET deleted = true WHERE id IN (' sp', 'P4')`,
    );
    const second = await reconcile();
    expect(second.summaries[1]).toMatchObject({ status: 'done', read: 17, sent: 5, skipped: 12 });
    expect([...watch.sent().keys()].sort()).toEqual(['P3', 'k\u001fy', 'q"x']);
    // The two gone are removed (one DELETE of two), and the ledger forgets them.
    const deletes = env.sandbox.catalogue.requests.slice(watch.requests).filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.count)).toEqual([2]);
    const known = await ledgerHashes();
    expect([' sp', 'P4'].filter((id) => known.has(id))).toEqual([]);
    expect(known.size).toBe(15);
    const third = await reconcile();
    expect(third.summaries[1]).toMatchObject({ status: 'done', sent: 0, skipped: 15 });
  });

  it('--limit reads that many ids and stops: the products after them are neither sent nor taken as gone', async () => {
    await createCatalogue(env.db, 15);
    await reconcile();
    await env.db.query(`UPDATE cat.products SET price = price + 1`);
    const watch = watchSent();
    // pageSize 2: pages of two ids, the sixth cut to one by the limit.
    const { summaries } = await runCommand(config(), ['reconcile', 'products'], {}, { limit: 11 });
    expect(summaries[1]).toMatchObject({ status: 'done', read: 11, sent: 11 });
    expect(watch.sent().size).toBe(11);
    expect(env.sandbox.catalogue.requests.slice(watch.requests).some((r) => r.method === 'DELETE')).toBe(false);
    expect((await ledgerHashes()).size).toBe(15);
  });

  it('a ledger written before the three digests (the item digest alone) re-sends nothing, and is brought up to date', async () => {
    await createCatalogue(env.db, 10);
    await reconcile();
    await env.db.query(`UPDATE personaclick_sync.ledger SET hash = split_part(hash, '.', 3) WHERE job = 'products'`);
    const watch = watchSent();
    const upgrade = await reconcile();
    expect(upgrade.summaries[1]).toMatchObject({ status: 'done', read: 10, sent: 0, skipped: 10 });
    expect(env.sandbox.catalogue.requests.length).toBe(watch.requests);
    expect([...(await ledgerHashes()).values()].every((h) => h.split('.').length === 3)).toBe(true);
    // The same ledger with a product changed meanwhile: that one goes.
    await env.db.query(`UPDATE personaclick_sync.ledger SET hash = split_part(hash, '.', 3) WHERE job = 'products';
      UPDATE cat.products SET price = 77 WHERE id = 'P3'`);
    const changed = await reconcile();
    expect(changed.summaries[1]).toMatchObject({ sent: 1 });
    expect([...watch.sent().keys()]).toEqual(['P3']);
    expect(watch.sent().get('P3')).toMatchObject({ price: 77 });
  });

  it('an invalid product stays an invalid failure, never sent, run after run, until it is fixed', async () => {
    await createCatalogue(env.db, 6);
    await env.db.query(`UPDATE cat.products SET price = 0 WHERE id = 'P2'`);
    const first = await reconcile();
    expect(first.summaries[1]).toMatchObject({ sent: 5, invalid: 1 });
    const second = await reconcile();
    expect(second.summaries[1]).toMatchObject({ sent: 0, invalid: 1, skipped: 5 });
    const open = await env.db.query<{ reason: string }>(
      `SELECT reason FROM personaclick_sync.failures WHERE job = 'products' AND key = 'P2' AND resolved_at IS NULL`,
    );
    expect(open.map((f) => f.reason)).toEqual([expect.stringMatching(/^price: must be greater than 0/)]);
    await env.db.query(`UPDATE cat.products SET price = 5 WHERE id = 'P2'`);
    const fixed = await reconcile();
    expect(fixed.summaries[1]).toMatchObject({ sent: 1, invalid: 0 });
  });

  it('an id the model returns twice is refused whole, each run, as a model error', async () => {
    await createCatalogue(env.db, 4);
    const twice = `${PRODUCTS_QUERY} UNION ALL SELECT p.id, p.name, p.price, p.url, p.picture, p.in_stock, ARRAY[p.category_id], p.brand, p.params, p.updated_at
      FROM cat.products p WHERE p.id = 'P3'`;
    for (let run = 0; run < 2; run++) {
      const { summaries } = await reconcile(config({ query: twice }));
      expect(summaries[1]).toMatchObject({ status: 'done', invalid: 1, sent: run === 0 ? 3 : 0 });
    }
    expect(env.sandbox.catalogue.products.has('P3')).toBe(false);
  });

  it('a model with a json column (no hash in Postgres) is digested by its text: the same changes found', async () => {
    await createCatalogue(env.db, 8);
    const jsonModel = PRODUCTS_QUERY.replace('p.params,', 'p.params::json AS params,');
    await reconcile(config({ query: jsonModel }));
    const watch = watchSent();
    expect((await reconcile(config({ query: jsonModel }))).summaries[1]).toMatchObject({ sent: 0, skipped: 8 });
    await env.db.query(`UPDATE cat.products SET params = '[{"name": "size", "value": ["M"]}]' WHERE id = 'P5'`);
    const { summaries } = await reconcile(config({ query: jsonModel }));
    expect(summaries[1]).toMatchObject({ sent: 1 });
    expect([...watch.sent().keys()]).toEqual(['P5']);
    expect(watch.sent().get('P5')).toMatchObject({ params: [{ name: 'size', value: ['M'] }] });
  });

  it('a product larger than source.pageBytes is never read: filed invalid with its size, the others sent; once smaller it goes', async () => {
    await createCatalogue(env.db, 10);
    // 100 KB of parameters: more than the smallest budget (64 KiB) one read may hold.
    await env.db.query(
      `UPDATE cat.products SET params = jsonb_build_array(jsonb_build_object('name', 'spec', 'value', jsonb_build_array(repeat('x', 100000)))) WHERE id = 'P5'`,
    );
    const cfg = config();
    cfg.source.pageBytes = 65_536;
    const first = await reconcile(cfg);
    expect(first.summaries.map((r) => r.status)).toEqual(['done', 'done']);
    expect([...env.sandbox.catalogue.products.keys()].sort()).toEqual(['P1', 'P10', 'P2', 'P3', 'P4', 'P6', 'P7', 'P8', 'P9']);
    const failed = await env.db.query<{ key: string; class: string; reason: string }>(
      `SELECT key, class, reason FROM personaclick_sync.failures WHERE job = 'products' AND resolved_at IS NULL`,
    );
    expect(failed.map((f) => [f.key, f.class])).toEqual([['P5', 'invalid']]);
    expect(failed[0]?.reason).toMatch(/^the product: 1 row\(s\), \d+ KiB as the model gives them, more than source\.pageBytes \(64 KiB\)/);
    // Replay sizes it too: still too large, still not sent.
    await runCommand(cfg, ['replay'], { job: 'products' });
    expect(env.sandbox.catalogue.products.has('P5')).toBe(false);
    // Smaller again: the next run sends it.
    await env.db.query(`UPDATE cat.products SET params = NULL WHERE id = 'P5'`);
    await reconcile(cfg);
    expect(env.sandbox.catalogue.products.has('P5')).toBe(true);
  });
});
