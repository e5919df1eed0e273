/**
 * One budget per shop for the secret-bearing imports (order-sync, catalogue): the documented 40 requests a minute is
 * the shop's, so every job, shard and process claims its slots from the state database. Two runs at once never
 * exceed it together, and a run that starts right after another does not burst its first requests.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, SHOP_ID, testConfig } from './support/harness.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { createHistoryShop, HISTORY_ITEMS_QUERY, HISTORY_ORDERS_QUERY, insertHistory } from './support/history-shop.js';
import { maxInWindow } from './faults/support/figures.js';
import { openStateDb } from '../src/state/db.js';
import { claimImportSlot } from '../src/state/budget.js';
import { STATE_SCHEMA } from './support/pg.js';

const SECRET = 'shop-secret-5b2e0d11';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_budget', shop: false });

/** 120 a minute: one request every 500 ms (plus the pace margin). */
const PER_MINUTE = 120;
const GAP_MS = 60_000 / PER_MINUTE;
/**
 * Starts are one gap (and 25 ms) apart; arrivals at the sandbox carry each request's own latency besides, which on a
 * busy machine varies by tens of milliseconds. Without the shared budget two runs' requests arrive together (gaps near 0).
 */
const MIN_ARRIVAL_GAP_MS = GAP_MS * 0.6;

function config(): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    personaclick: { shopSecret: SECRET },
    delivery: { orderSyncPerMinute: PER_MINUTE },
    orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, batchSize: 5 },
  });
}

const isoDaysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const backfill = (from: string, to: string) => runCommand(config(), ['backfill', 'orders'], { from, to, yes: true });

function gaps(arrivals: readonly number[]): number[] {
  const sorted = [...arrivals].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - (sorted[i] ?? t));
}

describe('one import budget per shop', () => {
  it('two runs at once (two backfills of other ranges) stay within the budget together', async () => {
    await createHistoryShop(env.db);
    await insertHistory(env.db, 1, 20, { ageDays: 400 });
    await insertHistory(env.db, 21, 20, { ageDays: 800 });
    await env.db.query('UPDATE hist.orders SET updated_at = created_at'); // a backfill's range is on updated_at
    const split = isoDaysAgo(600);
    const [recent, old] = await Promise.all([backfill(split, '2100-01-01'), backfill('2000-01-01', split)]);
    expect(recent.summaries[0]).toMatchObject({ status: 'done', sent: 20 });
    expect(old.summaries[0]).toMatchObject({ status: 'done', sent: 20 });
    const arrivals = env.sandbox.syncArrivals();
    expect(arrivals).toHaveLength(8);
    expect(Math.min(...gaps(arrivals))).toBeGreaterThanOrEqual(MIN_ARRIVAL_GAP_MS);
    expect(maxInWindow(arrivals, 1000)).toBeLessThanOrEqual(2);
  });

  it('a run starting right after another waits out the gap: its first request is spaced too', async () => {
    await createHistoryShop(env.db);
    await insertHistory(env.db, 1, 5, { ageDays: 400 });
    await insertHistory(env.db, 6, 5, { ageDays: 800 });
    await env.db.query('UPDATE hist.orders SET updated_at = created_at');
    const split = isoDaysAgo(600);
    await backfill(split, '2100-01-01');
    const second = await backfill('2000-01-01', split);
    expect(second.summaries[0]).toMatchObject({ status: 'done', sent: 5 });
    const arrivals = env.sandbox.syncArrivals();
    expect(arrivals).toHaveLength(2);
    expect(Math.min(...gaps(arrivals))).toBeGreaterThanOrEqual(MIN_ARRIVAL_GAP_MS);
  });

  it('a catalogue run and a history backfill at once share the budget: their requests together stay one gap apart', async () => {
    await createHistoryShop(env.db);
    await insertHistory(env.db, 1, 20, { ageDays: 400 });
    await env.db.query(`CREATE SCHEMA cat;
      CREATE TABLE cat.products AS SELECT 'P' || i AS id, 'Product ' || i AS name, 10 + i AS price, 'https://shop.example/p/' || i AS url,
        'https://shop.example/i/' || i || '.jpg' AS picture, true AS available, ARRAY['c1'] AS categories, now() AS updated_at FROM generate_series(1, 20) i`);
    const both = testConfig(env.db.url, env.sandbox.url, {
      personaclick: { shopSecret: SECRET },
      delivery: { orderSyncPerMinute: PER_MINUTE },
      orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, batchSize: 5 },
      jobs: { products: { query: 'SELECT * FROM cat.products', currency: 'USD', batchSize: 5 } },
    });
    const [history, catalogue] = await Promise.all([
      runCommand(both, ['backfill', 'orders'], { from: '2000-01-01', to: '2100-01-01', yes: true }),
      runCommand(both, ['reconcile', 'products']),
    ]);
    expect(history.summaries[0]).toMatchObject({ status: 'done', sent: 20 });
    expect(catalogue.summaries[0]).toMatchObject({ status: 'done', sent: 20 });
    const arrivals = [...env.sandbox.syncArrivals(), ...env.sandbox.catalogue.requests.map((r) => r.at)];
    expect(arrivals).toHaveLength(8);
    expect(Math.min(...gaps(arrivals))).toBeGreaterThanOrEqual(MIN_ARRIVAL_GAP_MS);
  });

  it('report --verify and a history backfill at once share the budget: the read-backs and the imports together stay one gap apart', async () => {
    await createHistoryShop(env.db);
    await insertHistory(env.db, 1, 10, { ageDays: 400 });
    await insertHistory(env.db, 11, 10, { ageDays: 800 });
    await env.db.query('UPDATE hist.orders SET updated_at = created_at');
    const path = writeConfig({
      personaclick: { url: env.sandbox.url, shopId: SHOP_ID, shopSecret: SECRET, timeoutMs: 2000 },
      delivery: { orderSyncPerMinute: PER_MINUTE, retries: 2, retryMinMs: 10, retryMaxMs: 50 },
      source: { url: env.db.url, allowPrivilegedRole: true },
      jobs: { orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, batchSize: 5, settleSeconds: 0, startFrom: '2000-01-01' } },
    });
    const split = isoDaysAgo(600);
    const told = await runMain(['backfill', 'orders', '--from', split, '--to', '2100-01-01', '--yes', '--config', path]);
    expect(told.code, told.stderr).toBe(0);
    const since = Date.now();
    const [history, report] = await Promise.all([
      runMain(['backfill', 'orders', '--from', '2000-01-01', '--to', split, '--yes', '--config', path]),
      runMain(['report', '--from', isoDaysAgo(410), '--to', isoDaysAgo(390), '--verify', '6', '--json', '--config', path]),
    ]);
    expect(history.code, history.stderr).toBe(0);
    expect(report.code, report.stderr).toBe(0);
    const reads = env.sandbox.events.get('/orders/by_user') ?? 0;
    expect(reads).toBeGreaterThanOrEqual(3);
    const arrivals = env.sandbox.arrivals().filter((at) => at >= since);
    expect(arrivals).toHaveLength(2 + reads);
    expect(Math.min(...gaps(arrivals))).toBeGreaterThanOrEqual(MIN_ARRIVAL_GAP_MS);
  });

  it('claims from separate connections (as separate processes) are spaced one gap apart from the first', async () => {
    const dbs = [openStateDb(env.db.url, STATE_SCHEMA), openStateDb(env.db.url, STATE_SCHEMA)];
    try {
      const shop = `budget-${Math.random().toString(36).slice(2)}`;
      const starts: number[] = [];
      await Promise.all(
        dbs.map(async (db) => {
          for (let i = 0; i < 5; i += 1) {
            const wait = await claimImportSlot(db, shop, 200);
            starts.push(Date.now() + wait);
          }
        }),
      );
      const sorted = [...starts].sort((a, b) => a - b);
      expect(Math.min(...gaps(sorted))).toBeGreaterThanOrEqual(170);
      // Ten slots of 200 ms: the last starts about 1.8 s after the first, not at once.
      expect((sorted[9] ?? 0) - (sorted[0] ?? 0)).toBeGreaterThanOrEqual(1750);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});
