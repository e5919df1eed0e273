/** `npm run demo` as a newcomer sees it: no database server, a readable report, exit 0, and the numbers it promises. */
import { PassThrough } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../src/config/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCarts, differingDevices, shopCarts, shopWishlists, type CartOptions } from '../src/demo/carts.js';
import { DEMO_SHOP_ID, demoConfig, runDemo } from '../src/demo/run.js';
import { openEmbeddedDb, type EmbeddedDb } from '../src/demo/embedded.js';
import { runMirrorDemo, type MirrorOutcome } from '../src/demo/mirror.js';
import { DEVICE_NOT_FOUND, buildShop, type ShopOptions } from '../src/demo/shop.js';
import { PersonaClickClient } from '../src/delivery/client.js';
import { maxInFlight } from '../src/delivery/queue.js';
import { silentLogger } from '../src/log.js';
import type { Services } from '../src/run/services.js';
import { startSandbox } from '../src/sandbox/index.js';
import { fromKnex } from '../src/state/db.js';
import { migrate } from '../src/state/migrate.js';

async function captureDemo(): Promise<{ code: number; report: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runDemo({ out });
  out.end();
  return { code, report: Buffer.concat(chunks).toString('utf8') };
}

/** The number on the report line `  <label>   <n>` of the given section. */
function count(section: string, label: string): number {
  const m = new RegExp(`^\\s{2}${label}\\s+(\\d+)`, 'm').exec(section);
  if (!m?.[1]) throw new Error(`no "${label}" line in:\n${section}`);
  return Number(m[1]);
}

/** The report's paragraph that starts with `heading` (up to the next blank line). */
function section(report: string, heading: string): string {
  const start = report.indexOf(heading);
  if (start < 0) throw new Error(`no "${heading}" in:\n${report}`);
  const end = report.indexOf('\n\n', start);
  return report.slice(start, end < 0 ? undefined : end);
}

describe('demo', () => {
  // One run of the whole demo (a few seconds), read by the report tests below.
  let demo: { code: number; report: string };
  beforeAll(async () => {
    demo = await captureDemo();
  });

  it('prints the config and models it ran with, ready to copy: with the environment a real config names, it is the same config', () => {
    const { report } = demo;
    const heading = 'The config it runs with';
    expect(report).toContain(heading);
    const start = report.indexOf('\n', report.indexOf(heading)) + 1;
    const block = report.slice(start, report.indexOf('\n\n', start)).replace(/^ {2}/gm, '');
    const env = { PERSONACLICK_SHOP_ID: DEMO_SHOP_ID, PERSONACLICK_SHOP_SECRET: 's3cret', SHOP_DATABASE_URL: 'postgres://ro@db/shop' };
    const printed = parseConfig(parseYaml(block), env, '<printed>');
    const ran = demoConfig('http://127.0.0.1:1');
    expect(printed.jobs).toEqual(ran.jobs);
    expect(printed.delivery).toEqual(ran.delivery);
    expect(printed.personaclick.url).toBe('https://api.personaclick.com');
    expect(printed.source.url).toBe(env.SHOP_DATABASE_URL);
    expect(block).not.toContain(String(ran.personaclick.shopSecret)); // the sandbox's secret is not printed as if it were one to copy
  });

  it('syncs the sample shop to the sandbox, explains the failures, and sends nothing twice', () => {
    const { code, report } = demo;
    expect(code, report).toBe(0);

    const firstStart = report.indexOf('First run');
    const secondStart = report.indexOf('Second run');
    expect(firstStart).toBeGreaterThan(-1);
    expect(secondStart).toBeGreaterThan(firstStart);
    const first = report.slice(firstStart, report.indexOf('\n\n', firstStart));
    const second = report.slice(secondStart, report.indexOf('\n\n', secondStart));

    // 200 orders: 2 with invalid data (never sent), 1 whose device the API does not know (rejected).
    const orders = 200;
    expect(count(first, 'orders read')).toBe(orders);
    expect(count(first, 'invalid')).toBe(2);
    expect(count(first, 'rejected')).toBe(1);
    expect(count(first, 'sent')).toBe(orders - 2 - 1);
    expect(count(first, 'sandbox accepted')).toBe(orders - 2 - 1);

    expect(count(second, 'sent')).toBe(0);
    expect(count(second, 'skipped')).toBe(count(second, 'orders read'));
    expect(count(second, 'sandbox accepted')).toBe(orders - 2 - 1);

    expect(report).toContain(`HTTP 404: ${DEVICE_NOT_FOUND}`);
    expect(report).toContain('items: an order needs at least one line');
    expect(report).toMatch(/items\[\d+\]\.price: must be a non-negative/);
    expect(report).toMatch(/"event": "purchase"/);
    expect(report).toContain('Watermarks'); // the status report
    expect(report).not.toContain('FAILED');
    expect(report).toContain('Everything went as expected.');
  });

  it('shows what the trigger chains of PersonaClick would have mailed: one after-purchase chain per live purchase, status chains for the order-sync orders', () => {
    const { report } = demo;
    const start = report.indexOf('Trigger chains the sandbox counted');
    expect(start).toBeGreaterThan(-1);
    const part = report.slice(start, report.indexOf('\n\n', start));
    const first = report.slice(report.indexOf('First run'), report.indexOf('\n\n', report.indexOf('First run')));
    expect(count(part, 'after purchase')).toBe(count(first, 'sandbox accepted'));
    expect(count(part, 'status changed')).toBeGreaterThan(0);
    expect(count(part, 'customers')).toBeGreaterThan(0);
  });

  it('mirrors carts and wishlists: everything the first night, nothing the second, exactly the changes the third', () => {
    const { code, report } = demo;
    expect(code, report).toBe(0);
    const shop = /keeps (\d+) carts \((\d+) lines\) and (\d+) wishlists/.exec(report);
    const carts = Number(shop?.[1]);
    const wishlists = Number(shop?.[3]);
    expect(carts).toBeGreaterThanOrEqual(20);
    expect(wishlists).toBeGreaterThanOrEqual(15);

    const first = section(report, 'First night');
    expect(count(first, 'carts sent')).toBe(carts);
    expect(count(first, 'wishlists sent')).toBe(wishlists);
    expect(count(first, 'sandbox carts')).toBe(carts);
    expect(count(first, 'sandbox wishlists')).toBe(wishlists);
    expect(first.match(/equal to the shop's:/g)).toHaveLength(2);

    // The cart with one product on two lines went out with one item of the two quantities added up.
    const dup = /has (SKU-\d+) on two lines \((\d+) and (\d+)\); it went out as one item/.exec(report);
    expect(dup).not.toBeNull();
    const body = section(report, dup?.[0] ?? '?');
    expect(body).toContain('"full_cart": true');
    expect(body.match(new RegExp(`"id":"${dup?.[1] ?? '?'}"`, 'g'))).toHaveLength(1);
    expect(body).toContain(`{"id":"${dup?.[1] ?? '?'}","quantity":${Number(dup?.[2]) + Number(dup?.[3])}}`);

    const second = section(report, 'Second night');
    expect(count(second, 'carts sent')).toBe(0);
    expect(count(second, 'carts skipped')).toBe(carts);
    expect(count(second, 'wishlists sent')).toBe(0);
    expect(count(second, 'wishlists skipped')).toBe(wishlists);

    // 3 emptied + 2 deleted + 1 changed + 1 new cart; 1 wishlist removed.
    const third = section(report, 'Third night');
    expect(count(third, 'carts sent')).toBe(7);
    expect(count(third, 'carts skipped')).toBe(carts - 6);
    expect(count(third, 'wishlists sent')).toBe(1);
    expect(count(third, 'wishlists skipped')).toBe(wishlists - 1);
    expect(count(third, 'sandbox carts')).toBe(carts - 5 + 1);
    expect(count(third, 'sandbox wishlists')).toBe(wishlists - 1);
    expect(third.match(/equal to the shop's again:/g)).toHaveLength(2);
    const sent = third.split('\n').filter((line) => /^ {4}(cart|wish) {2}dev-/.test(line));
    expect(sent).toHaveLength(8);
    expect(sent.filter((line) => line.includes('full_cart: true, no items'))).toHaveLength(5);
    expect(sent.filter((line) => line.includes('full_wish: true, no items'))).toHaveLength(1);
    expect(sent.filter((line) => line.includes('NOT EXPECTED'))).toHaveLength(0);
    const clearing = JSON.parse(third.split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(clearing).toMatchObject({ event: 'cart', full_cart: true, shop_id: DEMO_SHOP_ID });
    expect(clearing).not.toHaveProperty('items');
  });

  it("leaves the sandbox holding exactly the shop's carts and wishlists after every night", async () => {
    const { outcome, sandboxCarts, sandboxWishlists, shop } = await withMirror();
    const { facts, first, second, third } = outcome;
    expect([first, second, third].map((n) => [n.carts.status, n.wishlists.status])).toEqual([
      ['done', 'done'],
      ['done', 'done'],
      ['done', 'done'],
    ]);
    expect([first.carts.sent, second.carts.sent, third.carts.sent]).toEqual([facts.carts, 0, 7]);
    expect([first.wishlists.sent, second.wishlists.sent, third.wishlists.sent]).toEqual([facts.wishlists, 0, 1]);
    expect(second.carts.skipped).toBe(facts.carts);
    expect(second.requests).toEqual([]);
    for (const night of [first, second, third]) {
      expect(night.cartsDiffer).toEqual([]);
      expect(night.wishlistsDiffer).toEqual([]);
    }
    expect(first.sandboxCarts).toBe(facts.carts);

    // The clearing requests: the full flag and no items, for exactly the emptied and deleted carts and the removed wishlist.
    const clearing = third.requests.filter((r) => !('items' in r.body));
    expect(clearing.map((r) => [r.body.event, r.body.did, r.body.full_cart ?? r.body.full_wish]).sort()).toEqual(
      [...[...facts.day.emptied, ...facts.day.deleted].map((did) => ['cart', did, true]), ['wish', facts.day.wishlistRemoved, true]].sort(),
    );
    const changed = third.requests.find((r) => r.body.did === facts.day.changed.did)?.body.items;
    expect(changed).toContainEqual({ id: facts.day.changed.productId, quantity: facts.day.changed.to });

    // Equality checked here on its own, not only through the demo's comparison.
    expect(sandboxCarts).toEqual(shop.carts);
    expect(sandboxWishlists).toEqual(shop.wishlists);
    expect(shop.carts.has(facts.day.added.did)).toBe(true);
    for (const did of [...facts.day.emptied, ...facts.day.deleted]) expect(sandboxCarts.has(did)).toBe(false);
    expect(sandboxWishlists.has(facts.day.wishlistRemoved)).toBe(false);

    // And the comparison does see a difference when there is one.
    const other = new Map(shop.carts);
    other.set(facts.duplicate.did, new Map([[facts.duplicate.productId, 1]]));
    other.delete(facts.day.added.did);
    expect(differingDevices(shop.carts, other)).toEqual([facts.duplicate.did, facts.day.added.did].sort());
  });

  it('mirrors the catalogue: every product the first night, then the one sold out and the one deleted reach PersonaClick', () => {
    expect(demo.code, demo.report).toBe(0);
    const part = section(demo.report, 'The catalogue:');
    expect(part).toMatch(/requests: PUT \/import\/products \(1\), DELETE \/import\/products \(1\)/);
    expect(part).toContain('SKU-107: out of stock at PersonaClick; SKU-111: removed (out of stock)');
    for (const check of ['the second night sent exactly the two products that changed', 'SKU-107 is out of stock at PersonaClick']) {
      expect(demo.report).toMatch(new RegExp(`ok\\s+${check}`));
    }
  });

  it('gives node-postgres-shaped rows from the embedded database', async () => {
    const row = await withShop({ orders: 20 }, async (db) => {
      const rows = await db.source.query({
        text: `SELECT o.id, o.total, o.updated_at, json_build_object('note', o.note) AS custom, array[o.id] AS ids,
                count(*) OVER () AS n, current_setting('TimeZone') AS tz
           FROM shop.orders o ORDER BY o.id LIMIT 1`,
        values: [],
      });
      return rows[0];
    });
    expect(row?.id).toBe('10001'); // int8 as text, as node-postgres gives it
    expect(row?.ids).toEqual(['10001']); // int8[] too
    expect(row?.n).toBe('20');
    expect(typeof row?.total).toBe('string'); // numeric as text
    expect(row?.updated_at).toBeInstanceOf(Date);
    expect(row?.custom).toBeTypeOf('object'); // json parsed
    expect(row?.tz).toBe('UTC');
  });

  it('builds the same shop from the same seed', async () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const dump = {
      text: `SELECT o.*, (SELECT json_agg(l ORDER BY l.product_id, l.qty, l.unit_price) FROM shop.order_lines l WHERE l.order_id = o.id) AS lines
               FROM shop.orders o ORDER BY o.id`,
      values: [],
    };
    const a = await withShop({ orders: 50, now }, (db) => db.source.query(dump));
    const b = await withShop({ orders: 50, now }, (db) => db.source.query(dump));
    expect(a).toHaveLength(50);
    expect(a).toEqual(b);
  });

  it('builds the same carts and wishlists from the same seed, one cart with a product on two lines', async () => {
    const read = (db: EmbeddedDb) =>
      Promise.all([
        shopCarts(db.source),
        shopWishlists(db.source),
        db.source.query({ text: `SELECT count(*) AS n FROM shop.cart_items GROUP BY cart_id, product_id HAVING count(*) > 1`, values: [] }),
      ]);
    const a = await withShop({ orders: 20, carts: { seed: 7 } }, read);
    const b = await withShop({ orders: 20, carts: { seed: 7 } }, read);
    expect(a).toEqual(b);
    expect(a[2]).toEqual([{ n: '2' }]); // one product on two lines of one cart, nowhere else
    const c = await withShop({ orders: 20, carts: { seed: 8 } }, read);
    expect(c[0]).not.toEqual(a[0]);
  });
});

async function withShop<T>(opts: ShopOptions & { carts?: CartOptions }, use: (db: EmbeddedDb) => Promise<T>): Promise<T> {
  const db = await openEmbeddedDb();
  try {
    await buildShop(db.pglite, opts);
    if (opts.carts) await buildCarts(db.pglite, opts.carts);
    return await use(db);
  } finally {
    await db.close();
  }
}

/** The demo's cart part alone, against its own sandbox and embedded database; answers what both sides hold at the end. */
async function withMirror(): Promise<{
  outcome: MirrorOutcome;
  sandboxCarts: Map<string, Map<string, number>>;
  sandboxWishlists: Map<string, Set<string>>;
  shop: { carts: Map<string, Map<string, number>>; wishlists: Map<string, Set<string>> };
}> {
  const sandbox = await startSandbox({ shopIds: [DEMO_SHOP_ID] });
  const db = await openEmbeddedDb();
  const config = demoConfig(sandbox.url);
  const client = new PersonaClickClient({ url: config.personaclick.url, timeoutMs: config.personaclick.timeoutMs, connections: maxInFlight(config.delivery) });
  try {
    await buildShop(db.pglite, { orders: 20 });
    const state = fromKnex(db.knex, config.state.schema);
    await migrate(state, { lock: false });
    const services: Services = { config, source: db.source, state, client, close: () => Promise.resolve() };
    const outcome = await runMirrorDemo({ services, sandbox, pglite: db.pglite, out: new PassThrough(), log: silentLogger() });
    return {
      outcome,
      sandboxCarts: new Map(sandbox.carts),
      sandboxWishlists: new Map(sandbox.wishlists),
      shop: { carts: await shopCarts(db.source), wishlists: await shopWishlists(db.source) },
    };
  } finally {
    await client.close();
    await db.close();
    await sandbox.close();
  }
}
