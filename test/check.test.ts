/** `check`: a good setup passes; each broken part is a finding that names it; no finding holds a password. */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand, formatFindings, runChecks, type CheckFinding } from '../src/check/command.js';
import type { Config } from '../src/config/index.js';
import { createCartTables, insertCarts, CARTS_QUERY, WISHLISTS_QUERY } from './support/carts.js';
import { testConfig } from './support/harness.js';
import { adminQuery, createDatabase, createMigratedDatabase, PG_HOST, PG_PORT, type TestDatabase } from './support/pg.js';
import { createShop, insertOrders } from './support/shop.js';
import { createSpreeShop, insertSpreeOrder, SPREE_ITEMS_QUERY, SPREE_ORDERS_QUERY } from './support/spree-shop.js';

/** Trust auth ignores it, so it can sit in every URL and must still never be printed. */
const PASSWORD = 'Pw-d0-not-print-9f3k';
const API = 'http://127.0.0.1:9';
const ORDERS = 20_000;

function withPassword(url: string, user = 'postgres'): string {
  const u = new URL(url);
  u.username = user;
  u.password = PASSWORD;
  return u.toString();
}

function config(sourceUrl: string, overrides: Parameters<typeof testConfig>[2] = {}): Config {
  return testConfig(sourceUrl, API, overrides);
}

function of(findings: CheckFinding[], subject: string, level?: CheckFinding['level']): CheckFinding[] {
  return findings.filter((f) => f.subject === subject && (level === undefined || f.level === level));
}

function expectNoPassword(findings: CheckFinding[]): void {
  const text = JSON.stringify(findings) + formatFindings(findings);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(encodeURIComponent(PASSWORD));
}

let good: TestDatabase;
let bad: TestDatabase;
let role: string;

beforeAll(async () => {
  // good: the shop with its (updated_at, id) index, a wishlist with a "C" index on device_id, the state migrated.
  good = await createMigratedDatabase('pcs_check');
  await createShop(good);
  await insertOrders(good, 1, ORDERS);
  await createCartTables(good);
  await insertCarts(good, 1, 10_000);
  await good.query(`CREATE INDEX ON shop.wishlist_items (device_id COLLATE "C"); ANALYZE`);
  // bad: the same shop without the index, nothing migrated.
  bad = await createDatabase('pcs_check');
  await createShop(bad);
  await bad.query('DROP INDEX shop.orders_updated_at_id_idx');
  await insertOrders(bad, 1, ORDERS);
  await createCartTables(bad);
  await insertCarts(bad, 1, 10_000);
  await bad.query('ANALYZE');
  // A role that may read the shop but not see other roles' transactions.
  role = `pcs_check_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE ROLE ${role} LOGIN`);
  await good.query(`GRANT USAGE ON SCHEMA shop TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA shop TO ${role}`);
});

afterAll(async () => {
  await good?.drop();
  await bad?.drop();
  if (role) await adminQuery(`DROP ROLE IF EXISTS ${role}`);
});

describe('check', () => {
  it('a good setup: no error, no index warning, exit 0', async () => {
    const cfg = config(withPassword(good.url), { jobs: { wishlists: { query: WISHLISTS_QUERY } } });
    const findings = await runChecks(cfg);
    expectNoPassword(findings);
    expect(findings.filter((f) => f.level === 'error')).toEqual([]);
    // The tests read the shop as `postgres`, a superuser: its powers are warned of (issue 20 §4, test/least-privilege.test.ts), nothing else.
    expect(findings.filter((f) => f.level === 'warn' && f.subject !== 'source.role')).toEqual([]);
    expect(of(findings, 'source.role', 'warn')[0]?.message).toContain('is a superuser');

    const [source] = of(findings, 'source', 'ok');
    expect(source?.message).toMatch(
      new RegExp(`^connected to postgres@${PG_HOST}:${PG_PORT}/${good.name} \\(PostgreSQL \\d+(\\.\\d+)*\\); every statement runs in a read-only transaction$`),
    );
    expect(of(findings, 'source.pg_stat_activity', 'ok')[0]?.message).toContain("sees every session's xact_start");
    expect(of(findings, 'state', 'ok')[0]?.message).toContain('schema personaclick_sync is migrated');
    expect(of(findings, 'jobs.orders.query', 'ok').map((f) => f.message)).toEqual([
      expect.stringContaining('runs and has its columns: order_id, updated_at, did'),
      expect.stringMatching(/from index orders_updated_at_id_idx on shop\.orders, without a sort/),
      expect.stringMatching(
        /^a page of 500 orders after a cursor deep in the table \(90% of its updated_at span\) took [\d.]+ ms \(planner cost [\d,]+\); ~20,000 orders \(the planner's estimate\) make 40 pages: ~[\d.]+ m?s for the whole table$/,
      ),
    ]);
    expect(of(findings, 'jobs.orders.itemsQuery', 'ok').map((f) => f.message)).toEqual([
      'runs and has its columns: order_id, id, amount, price',
      expect.stringMatching(/^the lines of a page of 500 real order ids \([\d,]+ lines\) took [\d.]+ ms/),
    ]);
    const [reading] = of(findings, 'jobs.orders', 'ok');
    expect(reading?.message).toMatch(/^reading the whole table: 40 pages × [\d.]+ ms \(orders [\d.]+ ms \+ lines [\d.]+ ms\) = /);
    expect(reading?.cost).toMatchObject({ pageSize: 500, rows: 20_000, pages: 40 });
    expect(reading?.cost?.totalMs).toBeCloseTo((reading?.cost?.pageMs ?? 0) * 40, 0);
    expect(of(findings, 'jobs.wishlists.query', 'ok').map((f) => f.message)).toEqual([
      expect.stringContaining('runs and has its columns'),
      'pages are read in did::text COLLATE "C" order without a full sort',
      expect.stringMatching(
        /^a page of 5,000 lines after a real did took [\d.]+ ms \(planner cost [\d,]+\); ~20,000 lines \(the planner.s estimate\) make 4 pages/,
      ),
    ]);

    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    expect(await checkCommand(cfg, { stdout: out }, false)).toBe(0);
    expect(text).toMatch(/^ok {4}source: connected to /m);
    expect(text).toContain('no errors, 3 warning(s)'); // the superuser's powers (see above)
    expect(text).not.toContain(PASSWORD);
  });

  it('a broken setup: each problem is a finding that names it, exit 1', async () => {
    const cfg = config(withPassword(bad.url), {
      state: { url: withPassword(bad.url) },
      orders: {
        // no did; an extra column the connector does not know
        query: `SELECT o.id AS order_id, o.updated_at, o.total AS order_price, o.promo AS promo_code, o.payment AS pay FROM shop.orders o`,
        itemsQuery: `SELECT l.order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price FROM shop.order_line l WHERE l.order_id = ANY(:order_ids)`,
      },
      jobs: {
        carts: { query: CARTS_QUERY },
        wishlists: { query: `SELECT w.product_id AS id FROM shop.wishlist_items w` },
        events: { query: `SELECT 'k' || id AS event_key, 'view' AS event, device_id AS did FROM shop.orders WHERE id < 0 + 'x'` },
      },
    });
    const findings = await runChecks(cfg);
    expectNoPassword(findings);

    // The source itself is fine.
    expect(of(findings, 'source', 'ok')).toHaveLength(1);
    // Unmigrated state: a warn naming the command.
    const state = of(findings, 'state');
    expect(state).toHaveLength(1);
    expect(state[0]?.level).toBe('warn');
    expect(state[0]?.message).toMatch(/schema personaclick_sync is not migrated \(pending: .+\): run personaclick-sync migrate/);

    // Orders: no did (a warning: history through the order-sync API needs none), unknown columns (warn listing them), no index (warn).
    const orders = of(findings, 'jobs.orders.query');
    expect(orders.filter((f) => f.level === 'error')).toEqual([]);
    expect(orders.find((f) => f.message.startsWith('has no did column'))).toMatchObject({
      level: 'warn',
      message:
        'has no did column (recommended): the device id a live purchase is sent for: without it every order goes through the order-sync API (which needs personaclick.shopSecret)',
    });
    expect(orders.find((f) => f.level === 'warn' && f.message.startsWith('unknown columns'))?.message).toContain('promo_code, pay');
    const index = orders.find((f) => f.message.includes('no index serves'));
    expect(index?.level).toBe('warn');
    expect(index?.message).toMatch(
      /^no index serves ORDER BY updated_at, order_id: create one, e\.g\. CREATE INDEX ON shop\.orders \(updated_at, id\); the plan sorts a sequential scan of shop\.orders/,
    );

    // Items: the database's error.
    const items = of(findings, 'jobs.orders.itemsQuery');
    expect(items).toEqual([{ level: 'error', subject: 'jobs.orders.itemsQuery', message: 'does not run: relation "shop.order_line" does not exist' }]);

    // Carts: runs, but a hint that no "C" index serves the snapshot order.
    const carts = of(findings, 'jobs.carts.query');
    expect(carts.find((f) => f.level === 'warn')?.message).toMatch(
      /^hint: no index serves ORDER BY did::text COLLATE "C".*CREATE INDEX ON shop\.carts \(device_id COLLATE "C"\)/,
    );
    // Wishlists: no did.
    expect(of(findings, 'jobs.wishlists.query', 'error')[0]?.message).toMatch(/^missing required column did: /);
    // Events: the database's error.
    expect(of(findings, 'jobs.events.query', 'error')[0]?.message).toMatch(/^does not run: invalid input syntax for type integer: "x"/);

    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    expect(await checkCommand(cfg, { stdout: out }, true)).toBe(1);
    const report = JSON.parse(text) as { ok: boolean; errors: number; findings: CheckFinding[] };
    expect(report.ok).toBe(false);
    expect(report.errors).toBe(findings.filter((f) => f.level === 'error').length);
    expect(text).not.toContain(PASSWORD);
  });

  it('an unreachable state database is an error finding, not a crash', async () => {
    const cfg = config(withPassword(good.url), { state: { url: `postgres://postgres:${PASSWORD}@127.0.0.1:1/nowhere` } });
    const findings = await runChecks(cfg);
    expectNoPassword(findings);
    const state = of(findings, 'state');
    expect(state).toHaveLength(1);
    expect(state[0]?.level).toBe('error');
    expect(state[0]?.message).toMatch(/^cannot query the state database postgres@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/);
    // Everything else is still checked.
    expect(of(findings, 'jobs.orders.query', 'ok')).toHaveLength(3);
  });

  it('an unreachable source database is an error finding; the models are not run', async () => {
    const cfg = config(`postgres://postgres:${PASSWORD}@127.0.0.1:1/shop`, { state: { url: withPassword(good.url) } });
    const findings = await runChecks(cfg);
    expectNoPassword(findings);
    expect(of(findings, 'source', 'error')[0]?.message).toMatch(/^cannot query the shop database postgres@127\.0\.0\.1:1\/shop: .*ECONNREFUSED/);
    expect(of(findings, 'jobs', 'warn')[0]?.message).toBe('models not checked: the source database did not answer');
    expect(of(findings, 'state', 'ok')).toHaveLength(1);
  });

  it('a role that cannot see other sessions gets the pg_read_all_stats advice', async () => {
    const cfg = config(withPassword(good.url, role), { state: { url: withPassword(good.url) } });
    const findings = await runChecks(cfg);
    expectNoPassword(findings);
    const seen = of(findings, 'source.pg_stat_activity');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.level).toBe('warn');
    expect(seen[0]?.message).toContain('falls back to the settle lag alone');
    expect(seen[0]?.message).toContain(`GRANT pg_read_all_stats TO ${role}`);
    expect(findings.filter((f) => f.level === 'error')).toEqual([]);
  });
});

describe('check on a Rails-style shop (test/support/spree-shop.ts)', () => {
  it('never advises an index that exists, and advises it once it is gone', async () => {
    const db = await createDatabase('pcs_check_spree');
    try {
      await createSpreeShop(db);
      for (let i = 0; i < 30; i++) {
        await insertSpreeOrder(db, {
          number: `R${i}`,
          completedHoursAgo: i,
          did: `d${i}`,
          email: `e${i}@example.com`,
          lines: [{ variant: 1 + (i % 5), quantity: 1, price: 2 }],
        });
      }
      await db.query('ANALYZE');
      const cfg = config(db.url, { orders: { query: SPREE_ORDERS_QUERY, itemsQuery: SPREE_ITEMS_QUERY } });
      const advised = (findings: CheckFinding[]) => findings.flatMap((f) => f.fix?.sql ?? []).filter((sql) => /spree_orders \(updated_at, number\)/.test(sql));

      const withIndex = await runChecks(cfg);
      expect(advised(withIndex)).toEqual([]);
      expect(of(withIndex, 'jobs.orders.query').map((f) => f.message)).toContainEqual(
        expect.stringMatching(/^index personaclick_orders_keyset on public\.spree_orders \(updated_at, number\) exists for ORDER BY updated_at, order_id/),
      );

      await db.query('DROP INDEX personaclick_orders_keyset');
      expect(advised(await runChecks(cfg))).toEqual(['CREATE INDEX ON public.spree_orders (updated_at, number)']);
    } finally {
      await db.drop();
    }
  });
});
