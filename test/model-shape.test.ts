/**
 * A model's shape never multiplies or loses an order (issue 17 §2): a model that gives one order_id twice (payments
 * joined row by row) or lacks a required column is a model error. `check` names it with the fix; a run stops before it
 * sends anything (exit 2, one line naming the model), files nothing, and leaves the watermark where it was. Bad values
 * stay per-row failures. On a shop kept the way Spree keeps its tables (test/support/spree-shop.ts).
 */
import { describe, expect, it } from 'vitest';
import { writeConfig } from './support/cli.js';
import { useFrame } from './support/frame.js';
import { SHOP_ID } from './support/harness.js';
import { runMain } from './support/main.js';
import {
  createSpreeShop,
  insertSpreeOrder,
  SPREE_CARTS_QUERY,
  SPREE_ITEMS_QUERY,
  SPREE_ORDERS_JOINED_QUERY,
  SPREE_ORDERS_QUERY,
} from './support/spree-shop.js';

const SECRET = 'shop-secret-91d0e3aa';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_shape', shop: false });

function configFile(orders: { query?: string; itemsQuery?: string }, jobs: Record<string, unknown> = {}): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, shopSecret: SECRET, timeoutMs: 2000 },
    delivery: { retries: 1, retryMinMs: 5, retryMaxMs: 10, orderSyncPerMinute: 6000 },
    source: { url: env.db.url },
    jobs: {
      orders: {
        query: orders.query ?? SPREE_ORDERS_QUERY,
        itemsQuery: orders.itemsQuery ?? SPREE_ITEMS_QUERY,
        settleSeconds: 0,
        startFrom: '2000-01-01',
        skipStatuses: ['cart'],
      },
      ...jobs,
    },
  });
}

const quiet = { env: { LOG_LEVEL: 'silent' } };

/** Two new orders with a device (R1 paid partly with store credit: two payment rows) and a phone order R3 of ten days ago. */
async function shop(): Promise<void> {
  await createSpreeShop(env.db);
  await insertSpreeOrder(env.db, {
    number: 'R1',
    completedHoursAgo: 1,
    did: 'dev-1',
    email: 'r1@example.com',
    userId: 11,
    lines: [{ variant: 1, quantity: 1, price: 40 }],
    storeCredit: 10,
  });
  await insertSpreeOrder(env.db, {
    number: 'R2',
    completedHoursAgo: 1,
    did: 'dev-2',
    email: 'r2@example.com',
    userId: 12,
    lines: [{ variant: 2, quantity: 2, price: 5 }],
  });
  await insertSpreeOrder(env.db, {
    number: 'R3',
    completedHoursAgo: 240,
    email: 'r3@example.com',
    userId: 13,
    createdBy: 1,
    lines: [{ variant: 3, quantity: 1, price: 7 }],
    storeCredit: 2,
  });
}

async function books(): Promise<{ marks: number; ledger: number; failures: number }> {
  const [row] = await env.db.query<{ marks: number; ledger: number; failures: number }>(
    `SELECT (SELECT count(*) FROM personaclick_sync.watermarks)::int AS marks, (SELECT count(*) FROM personaclick_sync.ledger)::int AS ledger,
            (SELECT count(*) FROM personaclick_sync.failures)::int AS failures`,
  );
  return row ?? { marks: -1, ledger: -1, failures: -1 };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

describe('one row per order', () => {
  it('a model that gives an order twice (payments joined row by row): check names it and the fix; sync and backfill stop before sending (exit 2), nothing filed, watermark unmoved', async () => {
    await shop();
    const path = configFile({ query: SPREE_ORDERS_JOINED_QUERY });

    const check = await runMain(['check', '--json', '--config', path], quiet);
    const findings = (JSON.parse(check.stdout) as { findings: { level: string; subject: string; message: string }[] }).findings;
    const repeated = findings.find((f) => f.subject === 'jobs.orders.query' && f.level === 'error');
    expect(repeated?.message).toMatch(/^gives order_id R1 \(2 rows\), R3 \(2 rows\) more than once: the rule is one row per order/);
    expect(repeated?.message).toContain('DISTINCT ON (order_id)');
    expect(repeated?.message).toContain('subquery');
    expect(check.code).toBe(1);

    const sync = await runMain(['sync', 'orders', '--config', path], quiet);
    expect(sync.code).toBe(2);
    expect(lines(sync.stderr)).toHaveLength(1);
    expect(sync.stderr).toMatch(
      /^personaclick-sync: model error: jobs\.orders\.query gives order_id R1 \(2 rows\), R3 \(2 rows\) more than once: .*DISTINCT ON \(order_id\).*the watermark stays/,
    );

    const backfill = await runMain(['backfill', 'orders', '--from', '2000-01-01', '--to', '2100-01-01', '--yes', '--config', path], quiet);
    expect(backfill.code).toBe(2);
    expect(lines(backfill.stderr)).toHaveLength(1);
    expect(backfill.stderr).toContain('model error: jobs.orders.query gives order_id R1 (2 rows)');

    // Nothing reached PersonaClick, nothing was filed as data, no watermark was written.
    expect(env.sandbox.accepted.length).toBe(0);
    expect(env.sandbox.syncArrivals().length).toBe(0);
    expect(await books()).toEqual({ marks: 0, ledger: 0, failures: 0 });

    // The model aggregated per order: each order once, by its road.
    const fixed = await runMain(['sync', 'orders', '--config', configFile({})], quiet);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect([...env.sandbox.purchases.entries()].sort()).toEqual([
      ['R1', 1],
      ['R2', 1],
    ]);
    expect([...env.sandbox.syncOrders.keys()]).toEqual(['R3']);
  });
});

describe('required columns', () => {
  it('amount left out of itemsQuery: check says so; the run stops before sending (exit 2, one line naming the model and column), watermark unmoved', async () => {
    await shop();
    const path = configFile({ itemsQuery: SPREE_ITEMS_QUERY.replace('coalesce(li.weight_kg, sum(iu.quantity)) AS amount, ', '') });
    const check = await runMain(['check', '--json', '--config', path], quiet);
    const findings = (JSON.parse(check.stdout) as { findings: { level: string; subject: string; message: string }[] }).findings;
    expect(findings.find((f) => f.subject === 'jobs.orders.itemsQuery' && f.level === 'error')?.message).toMatch(/^missing required column amount: /);

    const sync = await runMain(['sync', 'orders', '--config', path], quiet);
    expect(sync.code).toBe(2);
    expect(lines(sync.stderr)).toEqual([
      expect.stringMatching(/^personaclick-sync: model error: jobs\.orders\.itemsQuery missing required column amount: .*the watermark stays/),
    ]);
    expect(env.sandbox.accepted.length + env.sandbox.syncArrivals().length).toBe(0);
    expect(await books()).toEqual({ marks: 0, ledger: 0, failures: 0 });
  });

  it('order_id left out of the orders model: exit 2 naming it, before any page is read', async () => {
    await shop();
    const path = configFile({ query: SPREE_ORDERS_QUERY.replace('o.number AS order_id', 'o.number') });
    const sync = await runMain(['sync', 'orders', '--config', path], quiet);
    expect(sync.code).toBe(2);
    expect(lines(sync.stderr)).toEqual([expect.stringMatching(/^personaclick-sync: model error: jobs\.orders\.query missing required column order_id: /)]);
    expect(await books()).toEqual({ marks: 0, ledger: 0, failures: 0 });
  });

  it('a bad value stays a per-row invalid failure: the other orders go, the watermark passes it', async () => {
    await shop();
    const path = configFile({
      itemsQuery: SPREE_ITEMS_QUERY.replace(
        'coalesce(li.weight_kg, sum(iu.quantity)) AS amount',
        "CASE WHEN o.number = 'R2' THEN NULL ELSE coalesce(li.weight_kg, sum(iu.quantity)) END AS amount",
      ),
    });
    const sync = await runMain(['sync', 'orders', '--config', path], quiet);
    expect(sync.code, sync.stderr).toBe(0);
    expect([...env.sandbox.purchases.keys()]).toEqual(['R1']);
    const failed = await env.db.query<{ key: string; class: string }>(`SELECT key, class FROM personaclick_sync.failures`);
    expect(failed).toEqual([{ key: 'R2', class: 'invalid' }]);
    expect((await books()).marks).toBe(1);
  });
});

describe('required columns of the cart model', () => {
  it('quantity left out: reconcile carts stops before sending (exit 2, one line), nothing filed', async () => {
    await shop();
    await insertSpreeOrder(env.db, { number: 'C1', completedHoursAgo: null, did: 'dev-c1', lines: [{ variant: 4, quantity: 2, price: 5 }] });
    const broken = configFile({}, { carts: { query: SPREE_CARTS_QUERY.replace(', li.quantity', '') } });
    const run = await runMain(['reconcile', 'carts', '--config', broken], quiet);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^personaclick-sync: model error: jobs\.carts\.query missing required column quantity: /)]);
    expect(env.sandbox.carts.size).toBe(0);
    expect((await books()).failures).toBe(0);

    const fixed = await runMain(['reconcile', 'carts', '--config', configFile({}, { carts: { query: SPREE_CARTS_QUERY } })], quiet);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(Object.fromEntries(env.sandbox.carts.get('dev-c1') ?? [])).toEqual({ 'SKU-004': 2 });
  });
});
