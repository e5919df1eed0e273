/**
 * Issue 20 §6: bounded by bytes, not only rows. Real child processes, their peak RSS read as they exit: a page of
 * huge rows (1 MB text columns), an order of 100 000 lines and a cart of a million items keep the process within
 * the bound docs/reliability.md states for `source.pageBytes`; the order and the cart are filed with their size,
 * never built, and everything else is delivered.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../support/cli.js';
import { CARTS_QUERY, createCartTables, insertCarts } from '../support/carts.js';
import { useFrame } from '../support/frame.js';
import { SHOP_ID } from '../support/harness.js';
import { PG_HOST, PG_PORT } from '../support/pg.js';
import { insertOrders, ITEMS_QUERY } from '../support/shop.js';

const env = useFrame({ sandbox: { recordBodies: false }, prefix: 'pcs_bytes' });

/** 8 MiB a read: the budget these runs are held to. */
const PAGE_BYTES = 8 * 1024 * 1024;
/**
 * The stated bound (docs/reliability.md): the process's own baseline (about 100 to 150 MB for a run) plus a few
 * times `source.pageBytes` (the page in use, the page read ahead, and the requests built from one page).
 */
const BOUND_MB = 160 + (6 * PAGE_BYTES) / 1024 / 1024;

/** Every order's row carries a 1 MB note, as a model that selects a description or a serialized blob would. */
const HUGE_ORDERS_QUERY = `SELECT o.id AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at, 'paid' AS status,
       o.total AS order_price, repeat(md5(o.id::text), 32768) AS note
  FROM shop.orders o`;

/** A module each child process imports first: it writes its peak RSS (KiB) to $PCS_RSS_FILE as it exits. */
const dir = mkdtempSync(join(tmpdir(), 'pcs-rss-'));
const probe = join(dir, 'rss.mjs');
writeFileSync(
  probe,
  `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.PCS_RSS_FILE, String(process.resourceUsage().maxRSS)));\n`,
);

async function measured(args: string[]): Promise<{ code: number | null; stderr: string; peakMb: number }> {
  const file = join(dir, `rss-${Date.now()}-${Math.random()}.txt`);
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import=${probe}`, PCS_RSS_FILE: file }, timeoutMs: 240_000 });
  return { code: result.code, stderr: result.stderr, peakMb: Number(readFileSync(file, 'utf8')) / 1024 };
}

function config(jobs: Record<string, unknown>): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 5000 },
    delivery: { concurrency: 8, retries: 1, retryMinMs: 10, retryMaxMs: 20 },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${env.db.name}`, pageBytes: PAGE_BYTES },
    jobs,
  });
}

async function failures(job: string): Promise<{ key: string; class: string; reason: string }[]> {
  return env.db.query(`SELECT key, class, reason FROM personaclick_sync.failures WHERE job = $1 AND resolved_at IS NULL ORDER BY key`, [job]);
}

describe('bounded by bytes (source.pageBytes)', () => {
  it(
    'pages of 1 MB rows and an order of 100 000 lines: within the stated bound; the order filed with its size, the rest delivered',
    { timeout: 300_000 },
    async () => {
      await insertOrders(env.db, 1, 300);
      // Order 301: a hundred thousand lines (a wholesale order, or a bug in the shop), about 6 MB of lines as text.
      await env.db.query(`INSERT INTO shop.order_lines (order_id, product_id, qty, unit_price)
      SELECT 301, 'BULK-' || j, 1, 2.50 FROM generate_series(1, 100000) j;
      INSERT INTO shop.orders (id, device_id, created_at, updated_at, total) VALUES (301, 'dev301', now() - interval '2 hours', now() - interval '30 minutes', 250000)`);
      const path = config({ orders: { query: HUGE_ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } });
      expect((await runCli(['migrate', '--config', path])).code).toBe(0);

      const run = await measured(['sync', 'orders', '--config', path]);
      expect(run.code, run.stderr).toBe(0);
      // 300 orders of 1 MB each read in one page of 1000 rows would be 300 MB of text before a single request.
      expect(run.peakMb, `peak RSS ${Math.round(run.peakMb)} MB`).toBeLessThan(BOUND_MB);
      expect(env.sandbox.purchases.size).toBe(300);
      expect(env.sandbox.purchases.has('301')).toBe(false);
      const filed = await failures('orders');
      expect(filed.map((f) => [f.key, f.class])).toEqual([['301', 'invalid']]);
      expect(filed[0]?.reason).toMatch(
        /^the order with its lines: 100001 row\(s\), [\d.]+ MiB as the model gives them, more than source\.pageBytes \(8\.0 MiB\)/,
      );

      // Replay sizes it again before reading: still too large, still filed, still not sent, still bounded.
      const replay = await measured(['replay', '--config', path]);
      expect(replay.code, replay.stderr).toBe(0);
      expect(replay.peakMb).toBeLessThan(BOUND_MB);
      expect(env.sandbox.purchases.has('301')).toBe(false);
      expect((await failures('orders')).map((f) => f.key)).toEqual(['301']);
    },
  );

  it('a cart of a million items: within the stated bound, filed with its size; every other cart mirrored', { timeout: 300_000 }, async () => {
    await createCartTables(env.db);
    await insertCarts(env.db, 1, 2000);
    await env.db.query(`INSERT INTO shop.carts (device_id) VALUES ('whale');
      INSERT INTO shop.cart_items (cart_id, product_id, qty) SELECT (SELECT id FROM shop.carts WHERE device_id = 'whale'), 'P' || j, 1 FROM generate_series(1, 1000000) j`);
    const path = config({ carts: { query: CARTS_QUERY } });
    expect((await runCli(['migrate', '--config', path])).code).toBe(0);

    const run = await measured(['reconcile', 'carts', '--config', path]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.peakMb, `peak RSS ${Math.round(run.peakMb)} MB`).toBeLessThan(BOUND_MB);
    expect(env.sandbox.carts.has('whale')).toBe(false);
    expect(env.sandbox.carts.size).toBe(2000);
    const filed = await failures('carts');
    expect(filed.map((f) => [f.key, f.class])).toEqual([['whale', 'invalid']]);
    expect(filed[0]?.reason).toMatch(/^the cart: 1000000 row\(s\), [\d.]+ MiB as the model gives them, more than source\.pageBytes/);
  });
});
