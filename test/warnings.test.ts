/**
 * A bad optional value costs the field, not the purchase: the order goes out without it, a `warning` failure names
 * the field and the value, `status` counts it, and `replay` resends the order once the row is fixed. Real Postgres,
 * the sandbox over HTTP, the built command line in child processes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { createMigratedDatabase, PG_HOST, PG_PORT, type TestDatabase } from './support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY } from './support/shop.js';
import { SHOP_ID } from './support/harness.js';

let db: TestDatabase;
let sandbox: Sandbox;

const ORDERS_QUERY = `SELECT o.id AS order_id, o.updated_at, o.device_id AS did, o.total AS order_price, o.cash AS order_cash, o.payment AS payment_type
  FROM shop.orders o`;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
  await db?.drop();
});
beforeEach(async () => {
  if (db) await db.drop();
  db = await createMigratedDatabase('pcs_warnings');
  await createShop(db);
  await db.query(`ALTER TABLE shop.orders ADD COLUMN cash numeric(12,2)`);
  sandbox.reset();
  sandbox.setFaults({});
});

function config(): string {
  return writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200 },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}` },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

interface FailureRow {
  key: string;
  class: string;
  reason: string;
  resolved: boolean;
}

async function failures(): Promise<FailureRow[]> {
  return db.query<FailureRow>(`SELECT key, class, reason, resolved_at IS NOT NULL AS resolved FROM personaclick_sync.failures ORDER BY key, id`);
}

interface Status {
  openFailures: { job: string; class: string; count: number }[];
  runs: { mode: string; sent: number; warnings: number }[];
}

async function status(path: string): Promise<Status> {
  const result = await runMain(['status', '--json', '--config', path]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Status;
}

/** The bodies the sandbox accepted for one order, oldest first. */
const bodiesOf = (orderId: string) => sandbox.accepted.filter((a) => a.body.order_id === orderId).map((a) => a.body);

describe('an order with a bad optional value', () => {
  it('is delivered without it, kept as a warning that status counts, and resent by replay once the row is fixed', async () => {
    await insertOrders(db, 1, 10);
    await db.query(`UPDATE shop.orders SET cash = total; UPDATE shop.orders SET cash = -5 WHERE id IN (4, 7)`);
    const path = config();

    const sync = await runMain(['sync', 'orders', '--config', path]);
    expect(sync.code, sync.stderr).toBe(0);
    const finished = JSON.parse(sync.stderr.split('\n').find((l) => l.includes('"run finished"')) ?? '{}') as Record<string, unknown>;
    expect(finished).toMatchObject({ status: 'done', sent: 10, invalid: 0, warnings: 2 });

    // Every order went out once; 4 and 7 without order_cash, the others with it.
    expect(sandbox.purchases.size).toBe(10);
    expect([...sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
    for (const id of ['4', '7']) {
      const [body] = bodiesOf(id);
      expect(body).not.toHaveProperty('order_cash');
      expect(body?.order_price).toEqual(expect.any(Number));
      expect(body?.items).toEqual(expect.any(Array));
    }
    expect(bodiesOf('5')[0]?.order_cash).toEqual(bodiesOf('5')[0]?.order_price);

    // A warning row each, naming the field and the value; both are in the ledger as delivered.
    const kept = await failures();
    expect(kept).toEqual([
      { key: '4', class: 'warning', reason: 'order_cash: must be a non-negative finite number (got "-5.00"); left out', resolved: false },
      { key: '7', class: 'warning', reason: 'order_cash: must be a non-negative finite number (got "-5.00"); left out', resolved: false },
    ]);
    const ledger = await db.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE key IN ('4', '7') ORDER BY key`);
    expect(ledger.map((r) => r.key)).toEqual(['4', '7']);

    const first = await status(path);
    expect(first.openFailures).toEqual([{ job: 'orders', class: 'warning', count: 2 }]);
    expect(first.runs[0]).toMatchObject({ mode: 'sync', sent: 10, warnings: 2 });
    const text = await runMain(['status', '--config', path]);
    expect(text.stdout).toMatch(/orders\s+warning\s+2/);

    // The normal sync never sends them again: they are delivered.
    expect((await runMain(['sync', 'orders', '--config', path])).code).toBe(0);
    expect(sandbox.stats().accepted).toBe(10);

    // Replay before anything is fixed sends nothing (PersonaClick has that request) and leaves both open.
    expect((await runMain(['replay', '--class', 'warning', '--config', path])).code).toBe(0);
    expect(sandbox.stats().accepted).toBe(10);
    expect((await status(path)).openFailures).toEqual([{ job: 'orders', class: 'warning', count: 2 }]);

    // Fix order 4; replay --class warning resends the whole purchase with order_cash, and resolves its warning.
    await db.query(`UPDATE shop.orders SET cash = 12.5 WHERE id = 4`);
    const replay = await runMain(['replay', '--class', 'warning', '--config', path]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(bodiesOf('4')).toHaveLength(2);
    expect(bodiesOf('4')[1]).toMatchObject({ order_id: '4', order_cash: 12.5 });
    expect(bodiesOf('7')).toHaveLength(1);
    expect((await status(path)).openFailures).toEqual([{ job: 'orders', class: 'warning', count: 1 }]);

    // Fix order 7; a plain replay takes warnings too.
    await db.query(`UPDATE shop.orders SET cash = 3 WHERE id = 7`);
    expect((await runMain(['replay', '--config', path])).code).toBe(0);
    expect(bodiesOf('7')).toHaveLength(2);
    expect(bodiesOf('7')[1]).toMatchObject({ order_id: '7', order_cash: 3 });
    expect((await status(path)).openFailures).toEqual([]);
    expect((await failures()).every((f) => f.resolved)).toBe(true);

    // Still delivered: the next sync sends nothing.
    expect((await runMain(['sync', 'orders', '--config', path])).code).toBe(0);
    expect(sandbox.stats().accepted).toBe(12);
  });

  it('an order that cannot make a request stays invalid, is never sent, and no warning hides it', async () => {
    await insertOrders(db, 1, 3);
    await db.query(`UPDATE shop.orders SET cash = -1 WHERE id = 2; UPDATE shop.order_lines SET qty = 0 WHERE order_id = 2`);
    const path = config();
    expect((await runMain(['sync', 'orders', '--config', path])).code).toBe(0);
    expect(sandbox.purchases.has('2')).toBe(false);
    expect(sandbox.purchases.size).toBe(2);
    const kept = await failures();
    expect(kept).toEqual([
      { key: '2', class: 'invalid', reason: 'items: no line is bought (every line is cancelled, refunded or of no units)', resolved: false },
    ]);
    expect((await status(path)).openFailures).toEqual([{ job: 'orders', class: 'invalid', count: 1 }]);
  });
});
