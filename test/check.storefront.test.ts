/**
 * `check` on a shop it has never seen (test/support/storefront.ts: uuid orders with a number, ids written 'N' ||
 * number, numeric money, jsonb), with the models an operator first writes: it measures what a run will cost and
 * names the index or rewrite that ends each table read in full on every page; following that advice to the letter
 * (its CREATE INDEX statements run as printed, its rewrite put in the items query) leaves no such table, lower
 * estimates, and the same lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckFinding } from '../src/check/command.js';
import type { Config } from '../src/config/index.js';
import { openSource } from '../src/source/db.js';
import { linesFor, ordersPage } from '../src/source/orders.js';
import { testConfig } from './support/harness.js';
import { createDatabase, type TestDatabase } from './support/pg.js';
import { createStorefront, rewriteItemsQuery, STOREFRONT_ITEMS_QUERY, STOREFRONT_ORDERS_QUERY } from './support/storefront.js';

/** Big enough that the planner prefers an index once there is one, small enough to build in a second or two. */
const ORDERS = 20_000;
const PAGE = 500;
/** The orders the model gives (5% are pending), in pages. */
const PAGES = Math.ceil((ORDERS * 0.95) / PAGE);

let db: TestDatabase;

beforeAll(async () => {
  db = await createDatabase('pcs_storefront');
  await createStorefront(db, ORDERS);
});

afterAll(async () => {
  await db?.drop();
});

function config(orders: { query?: string; itemsQuery?: string; pageSize?: number } = {}, statementTimeoutMs?: number): Config {
  const cfg = testConfig(db.url, 'http://127.0.0.1:9', {
    orders: { query: STOREFRONT_ORDERS_QUERY, itemsQuery: STOREFRONT_ITEMS_QUERY, pageSize: PAGE, ...orders },
  });
  return statementTimeoutMs === undefined ? cfg : { ...cfg, source: { ...cfg.source, statementTimeoutMs } };
}

/** The findings about the orders job (its two models and its summary). */
async function ordersFindings(cfg: Config): Promise<CheckFinding[]> {
  return (await runChecks(cfg)).filter((f) => f.subject.startsWith('jobs.orders'));
}

const of = (findings: CheckFinding[], subject: string, level: CheckFinding['level']) => findings.filter((f) => f.subject === subject && f.level === level);
const costOf = (findings: CheckFinding[], subject: string) => findings.find((f) => f.subject === subject && f.cost !== undefined)?.cost;

describe('check on a storefront-shaped shop', () => {
  let naive: CheckFinding[];

  it("naive models: a warning for the keyset sort naming the expression index, and for the items query's per-page scans naming the rewrite", async () => {
    naive = await ordersFindings(config());
    expect(naive.filter((f) => f.level === 'error')).toEqual([]);

    // The keyset: ORDER BY updated_at, 'N' || number: an index on the expression, read from the plan's sort key.
    const [keyset, ...otherOrders] = of(naive, 'jobs.orders.query', 'warn');
    expect(otherOrders).toEqual([]);
    expect(keyset?.message).toMatch(
      /^no index serves ORDER BY updated_at, order_id: create one, e\.g\. CREATE INDEX ON store\.orders \(updated_at, \('N'::text \|\| number::text\)\); the plan sorts a sequential scan of store\.orders \(~20,000 rows, ~[\d,]+ of them past the cursor\) for every page$/,
    );
    expect(keyset?.fix).toEqual({ sql: [`CREATE INDEX ON store.orders (updated_at, ('N'::text || number::text))`] });

    // The items query: orders read in full to find 'N' || number = ANY(:order_ids); lines read in full to join them.
    const items = of(naive, 'jobs.orders.itemsQuery', 'warn');
    expect(items.map((f) => f.message)).toEqual([
      expect.stringMatching(
        /^store\.orders \(~\d{2},\d{3} rows\) is read in full for every page to find 'N'::text \|\| \(o\.number\)::text = ANY \(:order_ids\), an expression no index can look up/,
      ),
      expect.stringMatching(
        /^store\.order_lines \(~\d{2},\d{3} rows\) is read in full for every page to join its rows on l\.order_id = o\.id for the ~[\d,]+ rows the planner expects from the other side, although index \S+ could look them up: that estimate is the problem/,
      ),
    ]);
    expect(items[0]?.message).toContain(`(or index the expression: CREATE INDEX ON store.orders (('N'::text || number::text)); ANALYZE store.orders)`);
    expect(items[0]?.fix).toEqual({
      sql: [],
      rewrite: {
        condition: `'N'::text || (o.number)::text = ANY (:order_ids)`,
        replacement: `o.number = ANY (ARRAY(SELECT substr(x, 2)::integer FROM unnest(:order_ids::text[]) AS x))`,
      },
    });
    expect(items[1]?.fix).toBeUndefined();

    // What it costs: a page of each statement measured, the whole table estimated from the planner's row count.
    const orders = costOf(naive, 'jobs.orders.query');
    const lines = costOf(naive, 'jobs.orders.itemsQuery');
    const reading = costOf(naive, 'jobs.orders');
    expect(orders).toMatchObject({ pageRows: PAGE, pageSize: PAGE, pages: PAGES });
    expect(lines).toMatchObject({ pageSize: PAGE, pages: PAGES });
    expect(lines?.pageRows).toBeGreaterThan(PAGE); // 1.8 lines per order
    expect(reading?.pageMs).toBeCloseTo((orders?.pageMs ?? 0) + (lines?.pageMs ?? 0), 0);
    expect(reading?.totalMs).toBeCloseTo((reading?.pageMs ?? 0) * PAGES, -1);
    expect(of(naive, 'jobs.orders', 'ok')[0]?.message).toMatch(new RegExp(`^reading the whole table: ${PAGES} pages × `));
  });

  it('following its advice: no table read in full, lower estimates, and the rewritten items query gives the same lines', async () => {
    const fixes = naive.flatMap((f) => (f.fix ? [f.fix] : []));
    for (const sql of fixes.flatMap((f) => f.sql)) await db.query(sql);
    const rewrite = fixes.find((f) => f.rewrite)?.rewrite;
    expect(rewrite).toBeDefined();
    const itemsQuery = rewriteItemsQuery(rewrite?.replacement ?? '');

    const after = await ordersFindings(config({ itemsQuery }));
    expect(after.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(of(after, 'jobs.orders.query', 'ok').map((f) => f.message)).toContainEqual(
      expect.stringMatching(/^pages are read in \(updated_at, order_id\) order from index \S+ on store\.orders, without a sort$/),
    );
    for (const subject of ['jobs.orders.query', 'jobs.orders.itemsQuery', 'jobs.orders']) {
      expect(costOf(after, subject)?.planCost, subject).toBeLessThan((costOf(naive, subject)?.planCost ?? 0) / 2);
    }

    // The rewrite is the same question asked in a way an index can answer: the same lines for the same page.
    const source = openSource({ url: db.url, poolSize: 1, statementTimeoutMs: 0, applicationName: 'test' });
    try {
      const { orders: page } = await ordersPage(source, STOREFRONT_ORDERS_QUERY, {
        after: { ts: new Date(Date.now() - 29 * 3_600_000).toISOString(), key: null },
        before: '2030-01-01T00:00:00Z',
        limit: PAGE,
      });
      const keys = page.map((o) => o.key);
      expect(keys).toHaveLength(PAGE);
      const sorted = (m: Map<string, unknown[]>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
      const [before, rewritten] = await Promise.all([linesFor(source, STOREFRONT_ITEMS_QUERY, keys), linesFor(source, itemsQuery, keys)]);
      expect(before.size).toBe(PAGE);
      expect(sorted(rewritten)).toEqual(sorted(before));
    } finally {
      await source.close();
    }
  });

  it('lines without an index on the column they are joined by: check names it, and with it the scan is gone', async () => {
    const itemsQuery = rewriteItemsQuery(`o.number = ANY (ARRAY(SELECT substr(x, 2)::integer FROM unnest(:order_ids::text[]) AS x))`);
    await db.query('DROP INDEX store.order_lines_order_id_idx');
    const without = await ordersFindings(config({ itemsQuery }));
    const [scan, ...others] = of(without, 'jobs.orders.itemsQuery', 'warn');
    expect(others).toEqual([]);
    expect(scan?.message).toMatch(
      /^store\.order_lines \(~\d{2},\d{3} rows\) is read in full for every page to join its rows on l\.order_id = o\.id: CREATE INDEX ON store\.order_lines \(order_id\)$/,
    );
    expect(scan?.fix).toEqual({ sql: ['CREATE INDEX ON store.order_lines (order_id)'] });

    for (const sql of scan?.fix?.sql ?? []) await db.query(sql);
    const withIndex = await ordersFindings(config({ itemsQuery }));
    expect(withIndex.filter((f) => f.level !== 'ok')).toEqual([]);
  });

  it('uuid order ids compared as text: the rewrite casts the list, not the column', async () => {
    // Pages of 100: for 500 ids scattered over these few lines the planner rightly prefers one sequential read.
    const pageSize = 100;
    const cast = `l.order_id::text = ANY(:order_ids)`;
    const query = `SELECT o.id::text AS order_id, o.updated_at, o.device_id AS did FROM store.orders o`;
    const items = `SELECT l.order_id::text AS order_id, l.sku AS id, l.quantity AS amount, l.unit_price AS price FROM store.order_lines l WHERE ${cast}`;
    const findings = await ordersFindings(config({ query, itemsQuery: items, pageSize }));
    const [scan, ...others] = of(findings, 'jobs.orders.itemsQuery', 'warn');
    expect(others).toEqual([]);
    expect(scan?.fix).toEqual({
      sql: [],
      rewrite: { condition: '(l.order_id)::text = ANY (:order_ids)', replacement: 'l.order_id = ANY (:order_ids::uuid[])' },
    });

    const rewritten = items.replace(cast, scan?.fix?.rewrite?.replacement ?? '');
    const after = await ordersFindings(config({ query, itemsQuery: rewritten, pageSize }));
    expect(of(after, 'jobs.orders.itemsQuery', 'warn')).toEqual([]);
    expect(of(after, 'jobs.orders.itemsQuery', 'error')).toEqual([]);
  });

  it('a computed key with no inverse: the expression index (and ANALYZE), after which the table is looked up', async () => {
    const key = `upper(o.currency) || o.number`;
    const query = `SELECT ${key} AS order_id, o.updated_at, o.device_id AS did FROM store.orders o`;
    const items = `SELECT ${key} AS order_id, l.sku AS id, l.quantity AS amount FROM store.order_lines l JOIN store.orders o ON o.id = l.order_id WHERE ${key} = ANY(:order_ids)`;
    const findings = await ordersFindings(config({ query, itemsQuery: items }));
    const scan = of(findings, 'jobs.orders.itemsQuery', 'warn').find((f) => f.message.startsWith('store.orders '));
    expect(scan?.fix?.rewrite).toBeUndefined();
    expect(scan?.fix?.sql).toEqual([
      expect.stringMatching(/^CREATE INDEX ON store\.orders \(\(upper\(.*currency.*\) \|\| number::text\)\)$/),
      'ANALYZE store.orders',
    ]);

    for (const sql of scan?.fix?.sql ?? []) await db.query(sql);
    const after = await ordersFindings(config({ query, itemsQuery: items }));
    expect(of(after, 'jobs.orders.itemsQuery', 'warn').filter((f) => f.message.startsWith('store.orders '))).toEqual([]);
    expect(costOf(after, 'jobs.orders.itemsQuery')?.planCost).toBeLessThan(costOf(findings, 'jobs.orders.itemsQuery')?.planCost ?? 0);
  });

  it('an events model keyed by an expression: a page after a real key, the expression index that serves its order', async () => {
    const events = `SELECT 'o' || o.number AS event_key, 'view' AS event, o.device_id AS did FROM store.orders o`;
    const cfg = { ...config(), jobs: { ...config().jobs, events: { query: events, pageSize: PAGE } } };
    const findings = (await runChecks(cfg)).filter((f) => f.subject === 'jobs.events.query');
    const [hint, ...others] = of(findings, 'jobs.events.query', 'warn');
    expect(others).toEqual([]);
    expect(hint?.message).toMatch(/^hint: no index serves ORDER BY event_key::text COLLATE "C": each page sorts a sequential scan of store\.orders/);
    expect(hint?.fix).toEqual({ sql: [`CREATE INDEX ON store.orders (('o'::text || number::text) COLLATE "C")`] });
    expect(of(findings, 'jobs.events.query', 'ok').at(-1)?.cost).toMatchObject({ pageRows: PAGE, pageSize: PAGE, rows: ORDERS, pages: ORDERS / PAGE });

    for (const sql of hint?.fix?.sql ?? []) await db.query(sql);
    const after = (await runChecks(cfg)).filter((f) => f.subject === 'jobs.events.query');
    expect(after.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(after.map((f) => f.message)).toContain('pages are read in event_key::text COLLATE "C" order without a full sort');
  });

  it('an orders model without rows: the keyset judged from its plan, and no cost measured', async () => {
    const empty = `${STOREFRONT_ORDERS_QUERY} AND o.status = 'never'`;
    const findings = await ordersFindings(config({ query: empty }));
    expect(findings.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(
      of(findings, 'jobs.orders.query', 'ok')
        .map((f) => f.message)
        .slice(1),
    ).toEqual([
      expect.stringMatching(/^pages are read in \(updated_at, order_id\) order from index \S+ on store\.orders, without a sort$/),
      'the model has no rows yet: the cost of its pages is not measured (run check again when it has)',
    ]);
    expect(findings.filter((f) => f.cost)).toEqual([]);
  });

  it('a page slower than statement_timeout is an error: the run would fail the same way', async () => {
    const slow = `SELECT q.* FROM (${STOREFRONT_ITEMS_QUERY}) q, (SELECT pg_sleep(3)) s`;
    const findings = await ordersFindings(config({ itemsQuery: slow }, 1000));
    const errors = of(findings, 'jobs.orders.itemsQuery', 'error');
    expect(errors.map((f) => f.message)).toEqual([
      expect.stringMatching(
        /^fails on a page of 500 real order ids \(as the sync binds them to :order_ids\): canceling statement due to statement timeout: one page takes longer than source\.statementTimeoutMs \(1000 ms\)/,
      ),
    ]);
  });
});
