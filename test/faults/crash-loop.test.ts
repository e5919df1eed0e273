/**
 * The crash loop: the connector (the built CLI, a real child process) is killed with SIGKILL at random moments and
 * started again, over and over, until a run finishes by itself. Meanwhile a poller samples the persisted watermark
 * and checks that it never passes an order PersonaClick (the sandbox) has not got. At the end: everything arrived,
 * and the repeats stay within the README's bound per crash (2 × concurrency + what is delivered in one checkpointMs).
 *
 * Short form by default; FAULTS_LONG=1 for 100 000 orders (devices) and 200 kill points; FAULTS_SEED=n replays the
 * kill moments and the sandbox's latencies of a run (the seed is printed first).
 */
import { beforeAll, describe, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, writeConfig } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { CARTS_QUERY, createCartTables, databaseCarts, insertCarts } from '../support/carts.js';
import { SHOP_ID } from '../support/harness.js';
import { crashLoop, type CrashLoopResult } from './support/crash.js';
import { faultsSeed, LONG, scenarioRandom } from './support/seed.js';
import { EMPTY_CART, spyOnCarts, spyOnPurchases, spyOnSyncOrders, type AcceptLog } from './support/spy.js';
import { orderIndex, watchWatermark } from './support/watermark.js';
import { maxInWindow } from './support/figures.js';

const SEED = faultsSeed();
const ORDERS = LONG ? 100_000 : 20_000;
const DEVICES = LONG ? 100_000 : 20_000;
const KILLS = LONG ? 200 : 30;
const PRODUCTS = LONG ? 100_000 : 20_000;
/** Products a catalogue request carries: small, so that the run is long enough for its kill points. */
const PRODUCT_BATCH = 20;
const CONCURRENCY = 16;
const CHECKPOINT_MS = 200;
const LATENCY: [number, number] = [2, 30];
const KILL_AFTER_MS: [number, number] = [150, 900];
/** Orders without lines (invalid, never sent) and orders the API refuses (rejected): both must end in failures. */
const INVALID = [777, 5_555, 12_345];
const REJECTED = [1_001, 9_999, 15_000];

beforeAll(() => {
  console.log(JSON.stringify({ suite: 'faults/crash-loop', seed: SEED, long: LONG, replay: `FAULTS_SEED=${SEED}${LONG ? ' FAULTS_LONG=1' : ''}` }));
});

/** The order-sync road: its secret, batch size, and the orders model with what it needs (a status, a customer). */
const SHOP_SECRET = 'crash-loop-secret';
const BATCH = 200;
const HISTORY_MODEL = `SELECT q.*, 'completed' AS status, 'c' || q.order_id || '@example.com' AS email FROM (${ORDERS_QUERY}) q`;

/** What one scenario runs against: a sandbox, its accept logs, a database, and the scenario's own PRNG. */
interface Scenario {
  sandbox: Sandbox;
  purchases: AcceptLog;
  syncOrders: AcceptLog;
  carts: AcceptLog;
  db: TestDatabase;
  /** Kill moments, then the sandbox's latency seed: replayable with FAULTS_SEED. */
  random: () => number;
}

/** The scenarios run side by side (each has everything of its own), so that the file fits in its time on 2 cores. */
async function scenario(name: string, body: (s: Scenario) => Promise<void>): Promise<void> {
  const sandbox = await startSandbox({ recordBodies: false, shopSecret: SHOP_SECRET, syncOrdersPerMinute: 60_000 });
  const db = await createMigratedDatabase('pcs_crash');
  try {
    await body({
      sandbox,
      purchases: spyOnPurchases(sandbox),
      syncOrders: spyOnSyncOrders(sandbox),
      carts: spyOnCarts(sandbox),
      db,
      random: scenarioRandom(SEED, name),
    });
  } finally {
    await sandbox.close();
    await db.drop();
  }
}

function config(sandbox: Sandbox, database: TestDatabase, jobs: Record<string, unknown>, orderSync = false): string {
  return writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 5000, ...(orderSync ? { shopSecret: SHOP_SECRET } : {}) },
    delivery: {
      concurrency: CONCURRENCY,
      retries: 4,
      retryMinMs: 20,
      retryMaxMs: 200,
      checkpointMs: CHECKPOINT_MS,
      shutdownDeadlineMs: 5000,
      orderSyncPerMinute: 60_000,
    },
    source: { url: database.url },
    jobs,
  });
}

const latencySeed = (random: () => number) => Math.floor(random() * 2 ** 31);

/**
 * Keys delivered but not yet in the books after each kill: what the next run will send again. `fresh` counts the
 * ones new at this kill (those still unbooked from the kill before are not counted twice).
 */
class Exposure {
  private previous = new Set<string>();
  readonly perKill: number[] = [];

  note(unbooked: readonly string[]): void {
    const now = new Set(unbooked);
    let fresh = 0;
    for (const k of now) if (!this.previous.has(k)) fresh += 1;
    this.perKill.push(fresh);
    this.previous = now;
  }

  get worst(): number {
    return Math.max(0, ...this.perKill);
  }
}

/**
 * `perRequest`: items a request carries (1, or the batch size of the order-sync road, which sends one batch at a time):
 * what is in flight at a kill is at most 2 × concurrency requests (one for a batch road), plus what one checkpoint
 * interval delivers.
 */
function figures(
  sandbox: Sandbox,
  test: string,
  loop: CrashLoopResult,
  items: number,
  log: AcceptLog,
  exposure: Exposure,
  extra: Record<string, unknown>,
  since: number,
  perRequest = 1,
) {
  const peak = maxInWindow(
    sandbox.arrivals().filter((t) => t >= since),
    CHECKPOINT_MS,
  );
  const boundPerKill = perRequest === 1 ? 2 * CONCURRENCY + peak : perRequest * (1 + peak);
  const out = {
    suite: 'faults/crash-loop',
    test,
    seed: SEED,
    killPoints: loop.kills,
    runs: loop.runs,
    items,
    accepted: log.total(),
    duplicates: log.repeated().length,
    bound: loop.kills * boundPerKill,
    boundPerKill,
    peakPerCheckpoint: peak,
    worstKillUnbooked: exposure.worst,
    meanKillDelayMs: mean(loop.delays),
    meanStartupMs: mean(loop.startups),
    lockedRestarts: loop.lockedRestarts,
    finalRunMs: loop.finalMs,
    wallMs: loop.wallMs,
    ...extra,
  };
  console.log(JSON.stringify(out));
  return out;
}

describe.concurrent('crash loop (SIGKILL at random moments, restarted until a run exits 0)', () => {
  for (const mode of ['sync', 'backfill', 'history'] as const) {
    const name =
      mode === 'sync'
        ? 'sync orders'
        : mode === 'backfill'
          ? 'backfill orders --from --to --via push'
          : 'backfill orders --from --to (order-sync API, batches)';
    it(
      `${name}: ${ORDERS} orders, ${KILLS} kill points: the watermark never passes an undelivered order, all arrive, repeats within the bound`,
      ({ expect }) =>
        scenario(name, async ({ sandbox, purchases: live, syncOrders, db: database, random }) => {
          // The history road sends batches to the order-sync API: what "accepted" means there is the order book.
          const purchases = mode === 'history' ? syncOrders : live;
          const from = '2024-01-01';
          const to = '2025-01-01';
          await createShop(database);
          // sync: a burst in the last hour, three orders per millisecond; backfill: through 2024, two at a time.
          const step = Math.floor(500_000 / (ORDERS / 2)); // minutes: the pairs end within the year
          await insertOrders(
            database,
            1,
            ORDERS,
            mode === 'sync'
              ? `now() - interval '1 hour' + ((i / 3) * interval '1 millisecond')`
              : `'2024-01-01 00:00:00+00'::timestamptz + ((i / 2) * interval '${step} minutes') + interval '7 microseconds'`,
          );
          await database.query(`DELETE FROM shop.order_lines WHERE order_id = ANY($1::bigint[])`, [INVALID]);
          sandbox.setFaults({
            latencyMs: LATENCY,
            seed: latencySeed(random),
            reject: REJECTED.map((id) => ({
              field: mode === 'history' ? 'id' : 'order_id',
              equals: String(id),
              status: 422 as const,
              message: 'Unknown device',
            })),
          });
          const orders =
            mode === 'history'
              ? { query: HISTORY_MODEL, itemsQuery: ITEMS_QUERY, pageSize: 1000, settleSeconds: 0, startFrom: '2000-01-01', batchSize: BATCH }
              : { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 1000, settleSeconds: 0, startFrom: '2000-01-01' };
          const path = config(sandbox, database, { orders }, mode === 'history');
          const index = await orderIndex(database, mode === 'sync' ? undefined : { from, to });
          expect(index).toHaveLength(ORDERS);
          const args =
            mode === 'sync'
              ? ['sync', 'orders', '--config', path]
              : ['backfill', 'orders', '--from', from, '--to', to, ...(mode === 'backfill' ? ['--via', 'push'] : []), '--yes', '--config', path];
          const watermark = mode === 'sync' ? 'orders' : `orders:${mode === 'backfill' ? 'backfill' : 'history'}:${from}..${to}`;

          // After each kill, with nothing running: every ledger row was accepted; and what is accepted but unbooked.
          const ledgerNotAccepted: string[] = [];
          const exposure = new Exposure();
          const afterKill = async () => {
            const booked = new Set(
              (
                await database.query<{ key: string }>(
                  `SELECT key FROM personaclick_sync.ledger WHERE job = 'orders' UNION ALL SELECT key FROM personaclick_sync.failures WHERE job = 'orders'`,
                )
              ).map((r) => r.key),
            );
            const ledger = await database.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE job = 'orders'`);
            ledgerNotAccepted.push(...ledger.map((r) => r.key).filter((k) => !purchases.has(k)));
            exposure.note([...purchases.first.keys()].filter((k) => !booked.has(k)));
          };

          const since = Date.now();
          const watch = await watchWatermark(database, { name: watermark, index, accepted: purchases });
          let loop: CrashLoopResult;
          try {
            loop = await crashLoop({ args, kills: KILLS, random, killAfterMs: KILL_AFTER_MS, afterKill });
          } finally {
            await watch.stop();
          }
          const f = figures(
            sandbox,
            name,
            loop,
            ORDERS,
            purchases,
            exposure,
            { watermarkSamples: watch.samples, watermarkMoves: watch.moves, violations: watch.violations.length },
            since,
            mode === 'history' ? BATCH : 1,
          );

          expect(loop.final.code, loop.final.stderr.slice(-3000)).toBe(0);
          expect(loop.kills).toBeGreaterThanOrEqual(KILLS);
          expect(watch.violations.slice(0, 10)).toEqual([]);
          expect(watch.backwards).toBe(0);
          expect(watch.checked).toBe(ORDERS); // the poller saw the watermark reach the last order
          expect(ledgerNotAccepted.slice(0, 10)).toEqual([]);
          const excluded = new Set([...INVALID, ...REJECTED].map(String));
          const missing = index.filter((o) => !excluded.has(o.key) && !purchases.has(o.key)).map((o) => o.key);
          expect(missing.slice(0, 10)).toEqual([]);
          for (const id of INVALID) expect(purchases.has(String(id))).toBe(false);
          const failures = await database.query<{ key: string; class: string }>(
            `SELECT key, class FROM personaclick_sync.failures WHERE resolved_at IS NULL ORDER BY key::bigint`,
          );
          const expectedFailures = [
            ...INVALID.map((k) => ({ key: String(k), class: 'invalid' })),
            ...REJECTED.map((k) => ({ key: String(k), class: 'rejected' })),
          ];
          expect(failures).toEqual(expectedFailures.sort((a, b) => Number(a.key) - Number(b.key)));
          expect(f.duplicates).toBeLessThanOrEqual(f.bound);
          // One more run finds nothing to send.
          const before = sandbox.stats().received;
          const quiet = await runCli(args);
          expect(quiet.code, quiet.stderr).toBe(0);
          expect(sandbox.stats().received).toBe(before);
        }),
      LONG ? 3_600_000 : 600_000,
    );
  }

  it(
    `reconcile carts: ${DEVICES} new devices among changed, emptied-out and unchanged ones, ${KILLS} kill points: the sandbox ends equal to the database, then a quiet run sends nothing`,
    ({ expect }) =>
      scenario('reconcile carts', async ({ sandbox, carts, db: database, random }) => {
        await createCartTables(database);
        const path = config(sandbox, database, { carts: { query: CARTS_QUERY, pageSize: 5000 } });
        // Yesterday: 3000 devices, mirrored without faults.
        const YESTERDAY = 3000;
        await insertCarts(database, 1, YESTERDAY, 'd');
        const yesterday = await runCli(['reconcile', 'carts', '--config', path]);
        expect(yesterday.code, yesterday.stderr).toBe(0);
        expect(await ledgerAhead(database, carts)).toEqual([]); // the check below reads the hashes right
        // Today: of yesterday's devices a third deleted, a third changed, a third as they were; and DEVICES new ones.
        // In byte order ("d1" < "d10" < "d100" < "d1000" < "d10000" < "d1001" …) they are spread through the whole merge.
        await database.query(`DELETE FROM shop.carts WHERE device_id IN (SELECT 'd' || g FROM generate_series(1, $1::int) g WHERE g % 3 = 0)`, [YESTERDAY]);
        await database.query(
          `UPDATE shop.cart_items SET qty = qty + 1 WHERE cart_id IN (SELECT id FROM shop.carts WHERE device_id IN (SELECT 'd' || g FROM generate_series(1, $1::int) g WHERE g % 3 = 1))`,
          [YESTERDAY],
        );
        await insertCarts(database, YESTERDAY + 1, DEVICES, 'd');
        const expected = await databaseCarts(database);
        const deleted = Array.from({ length: YESTERDAY / 3 }, (_, i) => `d${3 * (i + 1)}`);
        const work = YESTERDAY / 3 + YESTERDAY / 3 + DEVICES;
        carts.clear();
        sandbox.setFaults({ latencyMs: LATENCY, seed: latencySeed(random) });

        // After each kill: the ledger never says more than PersonaClick got: each hash is one the sandbox has held for the
        // device, and a device the ledger forgot (cleared) is gone from the sandbox.
        const ahead: string[] = [];
        const exposure = new Exposure();
        const afterKill = async () => {
          ahead.push(...(await ledgerAhead(database, carts)));
          const ledger = new Map(
            (await database.query<{ key: string; hash: string | null }>(`SELECT key, hash FROM personaclick_sync.ledger WHERE job = 'carts'`)).map((r) => [
              r.key,
              r.hash,
            ]),
          );
          ahead.push(...deleted.filter((d) => !ledger.has(d) && sandbox.carts.has(d)));
          exposure.note([...carts.count.keys()].filter((d) => (carts.latest.get(d) === EMPTY_CART ? ledger.has(d) : ledger.get(d) !== carts.latest.get(d))));
        };
        const since = Date.now();
        const loop = await crashLoop({ args: ['reconcile', 'carts', '--config', path], kills: KILLS, random, killAfterMs: KILL_AFTER_MS, afterKill });
        const f = figures(sandbox, 'reconcile carts', loop, work, carts, exposure, {}, since);

        expect(loop.final.code, loop.final.stderr.slice(-3000)).toBe(0);
        expect(loop.kills).toBeGreaterThanOrEqual(KILLS);
        expect(ahead.slice(0, 10)).toEqual([]);
        expect(sandbox.carts).toEqual(expected);
        expect(f.duplicates).toBeLessThanOrEqual(f.bound);
        const ledger = await database.query<{ n: string }>(`SELECT count(*)::text AS n FROM personaclick_sync.ledger WHERE job = 'carts'`);
        expect(Number(ledger[0]?.n)).toBe(expected.size);
        // One more run: nothing to send, every device unchanged.
        const before = sandbox.stats().received;
        const quiet = await runCli(['reconcile', 'carts', '--config', path]);
        expect(quiet.code, quiet.stderr).toBe(0);
        expect(sandbox.stats().received).toBe(before);
        expect(finishedLine(quiet.stderr)).toMatchObject({ status: 'done', sent: 0, skipped: expected.size });
      }),
    LONG ? 3_600_000 : 600_000,
  );

  it(
    `reconcile products: ${PRODUCTS} new products among repriced, deleted and unchanged ones, ${KILLS} kill points: the sandbox's catalogue ends equal to the shop's, then a quiet run sends nothing`,
    ({ expect }) =>
      scenario('reconcile products', async ({ sandbox, db: database, random }) => {
        await database.query(`CREATE SCHEMA cat; CREATE TABLE cat.products (id text PRIMARY KEY, name text NOT NULL, price numeric(12,2) NOT NULL,
          available boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
        const insert = (from: number, to: number) =>
          database.query(
            `INSERT INTO cat.products (id, name, price, available) SELECT 'P' || g, 'Product ' || g, 10 + g % 90, g % 11 <> 0 FROM generate_series($1::int, $2::int) g`,
            [from, to],
          );
        const path = config(
          sandbox,
          database,
          {
            products: {
              query: `SELECT id, name, price, 'https://shop.example/p/' || id AS url, 'https://shop.example/i/' || id || '.jpg' AS picture, available,
                             ARRAY['c1'] AS categories, updated_at FROM cat.products`,
              currency: 'USD',
              batchSize: PRODUCT_BATCH,
            },
          },
          true,
        );
        // Yesterday: 3000 products, told without faults.
        const YESTERDAY = 3000;
        await insert(1, YESTERDAY);
        const yesterday = await runCli(['reconcile', 'products', '--config', path]);
        expect(yesterday.code, yesterday.stderr).toBe(0);
        // Today: of yesterday's a third deleted, a third repriced (a tenth of those out of stock), a third as they were; and PRODUCTS new ones.
        await database.query(`DELETE FROM cat.products WHERE id IN (SELECT 'P' || g FROM generate_series(1, $1::int) g WHERE g % 3 = 0)`, [YESTERDAY]);
        await database.query(
          `UPDATE cat.products SET price = price + 1, available = (substr(id, 2)::int % 30 <> 1), updated_at = now()
            WHERE id IN (SELECT 'P' || g FROM generate_series(1, $1::int) g WHERE g % 3 = 1)`,
          [YESTERDAY],
        );
        await insert(YESTERDAY + 1, YESTERDAY + PRODUCTS);
        const shop = new Map(
          (await database.query<{ id: string; price: string; available: boolean }>(`SELECT id, price::text, available FROM cat.products`)).map((r) => [
            r.id,
            { price: Number(r.price), available: r.available },
          ]),
        );
        sandbox.catalogue.puts.clear();
        sandbox.setFaults({ latencyMs: LATENCY, seed: latencySeed(random) });

        // After each kill, the ledger never says more than PersonaClick got: a product of the shop it holds is one
        // PersonaClick holds (not as removed), and a deleted product it has forgotten PersonaClick has removed.
        const deleted = Array.from({ length: YESTERDAY / 3 }, (_, i) => `P${3 * (i + 1)}`);
        const ahead: string[] = [];
        const afterKill = async () => {
          const ledger = new Set((await database.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE job = 'products'`)).map((r) => r.key));
          ahead.push(...[...ledger].filter((k) => shop.has(k) && sandbox.catalogue.products.get(k)?.removed !== false));
          ahead.push(...deleted.filter((k) => !ledger.has(k) && sandbox.catalogue.products.get(k)?.removed !== true));
        };
        const since = Date.now();
        const loop = await crashLoop({ args: ['reconcile', 'products', '--config', path], kills: KILLS, random, killAfterMs: KILL_AFTER_MS, afterKill });
        const repeated = [...sandbox.catalogue.puts.values()].filter((n) => n > 1).length;
        const peak = maxInWindow(
          sandbox.arrivals().filter((t) => t >= since),
          CHECKPOINT_MS,
        );
        // One batch in flight at a kill, and the batches one checkpoint interval delivers.
        const bound = loop.kills * PRODUCT_BATCH * (1 + peak);
        console.log(
          JSON.stringify({
            suite: 'faults/crash-loop',
            test: 'reconcile products',
            seed: SEED,
            killPoints: loop.kills,
            runs: loop.runs,
            items: shop.size,
            duplicates: repeated,
            bound,
            wallMs: loop.wallMs,
          }),
        );

        expect(loop.final.code, loop.final.stderr.slice(-3000)).toBe(0);
        expect(loop.kills).toBeGreaterThanOrEqual(KILLS);
        expect(ahead.slice(0, 10)).toEqual([]);
        const live = new Map(
          [...sandbox.catalogue.products].filter(([, p]) => !p.removed).map(([id, p]) => [id, { price: Number(p.item.price), available: p.available }]),
        );
        expect(live).toEqual(shop);
        expect([...sandbox.catalogue.products].filter(([, p]) => p.removed).length).toBe(YESTERDAY / 3);
        expect(repeated).toBeLessThanOrEqual(bound);
        // One more run: nothing to send.
        const before = sandbox.stats().received;
        const quiet = await runCli(['reconcile', 'products', '--config', path]);
        expect(quiet.code, quiet.stderr).toBe(0);
        expect(sandbox.stats().received).toBe(before);
      }),
    LONG ? 3_600_000 : 600_000,
  );
});

/** Ledger rows whose hash is no content the sandbox ever held for the device. */
async function ledgerAhead(database: TestDatabase, carts: AcceptLog): Promise<string[]> {
  const rows = await database.query<{ key: string; hash: string | null }>(`SELECT key, hash FROM personaclick_sync.ledger WHERE job = 'carts'`);
  return rows.filter(({ key, hash }) => hash === null || !(carts.held.get(key)?.has(hash) ?? false)).map((r) => r.key);
}

function finishedLine(stderr: string): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.includes('"run finished"'));
  return JSON.parse(line ?? '{}') as Record<string, unknown>;
}

function mean(values: readonly number[]): number {
  return Math.round(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length));
}
