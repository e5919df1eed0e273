/**
 * Every job of the connector as a case the signal and lock tests can drive alike: the data it needs, the command
 * line, which accepted requests are its own (by key), which keys it must deliver in the end, and its books.
 */
import type { Sandbox } from '../../../src/sandbox/index.js';
import { runCli, writeConfig } from '../../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../../support/shop.js';
import { CARTS_QUERY, createCartTables, insertCarts, WISHLISTS_QUERY } from '../../support/carts.js';
import { SHOP_ID } from '../../support/harness.js';
import { SANDBOX_SHOP_SECRET } from '../../../src/sandbox/index.js';
import { orderIndex, positionOf } from './watermark.js';

export const EVENTS_QUERY = `SELECT event_key, 'view' AS event, did, items FROM shop.migration_events`;

export interface JobCase {
  name: string;
  /** Command line after the program, without --config. */
  args: string[];
  /** The runs row the job writes: job and mode. */
  run: { job: string; mode: string };
  /** Ledger and failures namespace. */
  ledgerJob: string;
  /** The watermark it moves, if any. */
  watermark?: string;
  /** Put the job's rows in the shop (and, for replay, the failures to replay). */
  prepare(ctx: JobContext): Promise<void>;
  /** Keys the job must have delivered once it has completed. */
  expected: string[];
  /** key → times the sandbox accepted this job's request for it. */
  accepted(sandbox: Sandbox): Map<string, number>;
}

export interface JobContext {
  db: TestDatabase;
  sandbox: Sandbox;
  config: string;
}

const N = 600;

/** The catalogue imports' pace on both sides (the sandbox is started with it): a batch of 5 products every 10 ms. */
export const IMPORTS_PER_MINUTE = 6000;
const range = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix}${i + 1}`);
const FROM = '2024-01-01';
const TO = '2025-01-01';

/** Accepted /push bodies of one event, counted by a field. */
function countBodies(sandbox: Sandbox, event: string, field: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of sandbox.accepted) {
    if (a.path !== '/push' || a.body.event !== event) continue;
    const key = String(a.body[field]);
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

const purchases = (sandbox: Sandbox) => new Map(sandbox.purchases);

export const JOB_CASES: readonly JobCase[] = [
  {
    name: 'sync orders',
    args: ['sync', 'orders'],
    run: { job: 'orders', mode: 'sync' },
    ledgerJob: 'orders',
    watermark: 'orders',
    expected: range(''),
    prepare: ({ db }) => insertOrders(db, 1, N),
    accepted: purchases,
  },
  {
    name: 'backfill orders',
    args: ['backfill', 'orders', '--from', FROM, '--to', TO, '--via', 'push', '--yes'],
    run: { job: 'orders', mode: 'backfill' },
    ledgerJob: 'orders',
    watermark: `orders:backfill:${FROM}..${TO}`,
    expected: range(''),
    prepare: ({ db }) => insertOrders(db, 1, N, `'2024-01-01 00:00:00+00'::timestamptz + (i * interval '12 hours') + interval '5 microseconds'`),
    accepted: purchases,
  },
  {
    name: 'reconcile carts',
    args: ['reconcile', 'carts'],
    run: { job: 'carts', mode: 'reconcile' },
    ledgerJob: 'carts',
    expected: range('d'),
    prepare: ({ db }) => insertCarts(db, 1, N),
    accepted: (sandbox) => countBodies(sandbox, 'cart', 'did'),
  },
  {
    name: 'reconcile wishlists',
    args: ['reconcile', 'wishlists'],
    run: { job: 'wishlists', mode: 'reconcile' },
    ledgerJob: 'wishlists',
    expected: range('d'),
    prepare: ({ db }) => insertCarts(db, 1, N),
    accepted: (sandbox) => countBodies(sandbox, 'wish', 'did'),
  },
  {
    name: 'events',
    args: ['events'],
    run: { job: 'events', mode: 'events' },
    ledgerJob: 'events',
    expected: range('ev'),
    prepare: async ({ db }) => {
      // did = event_key, so each accepted view names its row.
      await db.query(
        `INSERT INTO shop.migration_events SELECT 'ev' || g, 'ev' || g, jsonb_build_array(jsonb_build_object('id', 'P' || g)) FROM generate_series(1, $1::int) g`,
        [N],
      );
    },
    accepted: (sandbox) => countBodies(sandbox, 'view', 'did'),
  },
  {
    name: 'reconcile products',
    args: ['reconcile', 'products'],
    run: { job: 'products', mode: 'reconcile' },
    ledgerJob: 'products',
    expected: range('P'),
    prepare: async ({ db }) => {
      await db.query(
        `INSERT INTO shop.products SELECT 'P' || g, 'Product ' || g, 10 + g, 'https://shop.example/p/' || g, 'https://shop.example/i/' || g || '.jpg', g % 7 <> 0, now() - interval '1 hour'
           FROM generate_series(1, $1::int) g`,
        [N],
      );
    },
    accepted: (sandbox) => new Map(sandbox.catalogue.puts),
  },
  {
    name: 'replay',
    args: ['replay'],
    run: { job: 'orders', mode: 'replay' },
    ledgerJob: 'orders',
    expected: range(''),
    prepare: async ({ db, sandbox, config }) => {
      // A sync the API refused order by order: N open rejected failures to replay.
      await insertOrders(db, 1, N);
      sandbox.setFaults({ reject: [{ field: 'payment_type', equals: 'card', status: 422, message: 'Unknown device' }] });
      const sync = await runCli(['sync', 'orders', '--config', config]);
      if (sync.code !== 0) throw new Error(`the sync before replay failed: ${sync.stderr}`);
      const open = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM personaclick_sync.failures WHERE resolved_at IS NULL AND class = 'rejected'`);
      if (Number(open[0]?.n) !== N) throw new Error(`expected ${N} rejected failures, got ${open[0]?.n ?? 0}`);
      sandbox.setFaults({});
      sandbox.reset();
    },
    accepted: purchases,
  },
];

/** A fresh database with every job's tables, migrated, and a config for all jobs. */
export async function jobDatabase(
  sandbox: Sandbox,
  delivery: Record<string, unknown>,
  personaclick: Record<string, unknown> = {},
): Promise<{ db: TestDatabase; config: string }> {
  const db = await createMigratedDatabase('pcs_signals');
  await createShop(db);
  await createCartTables(db);
  await db.query(`CREATE TABLE shop.migration_events (event_key text PRIMARY KEY, did text, items jsonb);
    CREATE TABLE shop.products (id text PRIMARY KEY, name text NOT NULL, price numeric(12,2) NOT NULL, url text NOT NULL, picture text NOT NULL,
      available boolean NOT NULL, updated_at timestamptz NOT NULL)`);
  const config = writeConfig({
    // The catalogue imports carry the sandbox's secret, at a pace both sides raise (IMPORTS_PER_MINUTE).
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 5000, shopSecret: SANDBOX_SHOP_SECRET, ...personaclick },
    delivery: {
      concurrency: 4,
      retries: 2,
      retryMinMs: 10,
      retryMaxMs: 50,
      checkpointMs: 200,
      shutdownDeadlineMs: 3000,
      orderSyncPerMinute: IMPORTS_PER_MINUTE,
      ...delivery,
    },
    source: { url: db.url },
    jobs: {
      orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' },
      carts: { query: CARTS_QUERY, pageSize: 200 },
      wishlists: { query: WISHLISTS_QUERY, pageSize: 200 },
      events: { query: EVENTS_QUERY, pageSize: 100 },
      products: {
        query: `SELECT id, name, price, url, picture, available, ARRAY['c1'] AS categories, updated_at FROM shop.products`,
        currency: 'USD',
        batchSize: 5,
        pageSize: 100,
      },
    },
  });
  return { db, config };
}

export interface Books {
  /** Ledger rows PersonaClick never accepted. */
  ledgerNotAccepted: string[];
  /** Accepted requests the books do not know of (the next run would send them again). */
  acceptedNotBooked: string[];
  /** Rows at or before the watermark that are neither in the ledger nor in failures. */
  passedNotBooked: string[];
  ledger: number;
  openFailures: number;
}

/** The books of a job against what the sandbox accepted; read while no connector runs. */
export async function readBooks(db: TestDatabase, sandbox: Sandbox, job: JobCase): Promise<Books> {
  const ledger = new Set((await db.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE job = $1`, [job.ledgerJob])).map((r) => r.key));
  const failed = new Set(
    (await db.query<{ key: string }>(`SELECT key FROM personaclick_sync.failures WHERE job = $1 AND resolved_at IS NULL`, [job.ledgerJob])).map((r) => r.key),
  );
  const accepted = job.accepted(sandbox);
  const passedNotBooked: string[] = [];
  if (job.watermark) {
    const [mark] = await db.query<{ cursor_ts: string; cursor_key: string | null }>(
      `SELECT cursor_ts, cursor_key FROM personaclick_sync.watermarks WHERE name = $1`,
      [job.watermark],
    );
    if (mark) {
      const index = await orderIndex(db, job.name === 'backfill orders' ? { from: FROM, to: TO } : undefined);
      const upTo = positionOf(index, { ts: mark.cursor_ts, key: mark.cursor_key });
      for (const o of index.slice(0, upTo + 1)) if (!ledger.has(o.key) && !failed.has(o.key)) passedNotBooked.push(o.key);
    }
  }
  return {
    ledgerNotAccepted: [...ledger].filter((k) => !accepted.has(k)),
    acceptedNotBooked: [...accepted.keys()].filter((k) => !ledger.has(k)),
    passedNotBooked,
    ledger: ledger.size,
    openFailures: failed.size,
  };
}
