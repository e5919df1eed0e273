/** Nightly reconciliation: the sandbox's carts and wishlists must end equal to the shop's, sending only what changed. */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { validateRequest } from '../src/payloads/index.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { CARTS_QUERY, WISHLISTS_QUERY, createCartTables, databaseCarts, databaseWishlists, insertCarts } from './support/carts.js';
import { runReconcile, runReplay, testConfig } from './support/harness.js';
import { useSandbox } from './support/frame.js';
import { SHOP_ID } from './support/harness.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';

let db: TestDatabase;

const api = useSandbox({ recordBodies: true });

async function freshShop(opts: { icu?: boolean } = {}): Promise<void> {
  if (db) await db.drop();
  db = await createMigratedDatabase('pcs_mirror', opts);
  await createCartTables(db);
  api.sandbox.reset();
  api.sandbox.setFaults({});
}
afterAll(async () => {
  await db.drop();
});

const config = (pageSize = 1000) =>
  testConfig(db.url, api.sandbox.url, { jobs: { carts: { query: CARTS_QUERY, pageSize }, wishlists: { query: WISHLISTS_QUERY, pageSize } } });

function sandboxCarts(): Map<string, Map<string, number>> {
  return api.sandbox.carts;
}

/** A first night over thousands of devices, then one day's changes, each device changed costing one request. */
const NIGHTS = [
  {
    kind: 'carts',
    devices: 3000,
    pageSize: 700,
    changes: '30 changed quantities, 20 emptied (lines gone, cart row kept), 15 deleted outright, 25 new',
    change: async () => {
      await db.query(
        `UPDATE shop.cart_items SET qty = qty + 1 WHERE cart_id IN (SELECT id FROM shop.carts WHERE device_id IN (SELECT 'd' || g FROM generate_series(100, 129) g))`,
      );
      await db.query(
        `DELETE FROM shop.cart_items WHERE cart_id IN (SELECT id FROM shop.carts WHERE device_id IN (SELECT 'd' || g FROM generate_series(200, 219) g))`,
      );
      await db.query(`DELETE FROM shop.carts WHERE device_id IN (SELECT 'd' || g FROM generate_series(300, 314) g)`);
      await insertCarts(db, 5001, 25);
    },
    changed: 30 + 20 + 15 + 25,
    mirror: () => api.sandbox.carts,
    database: databaseCarts,
  },
  {
    kind: 'wishlists',
    devices: 2000,
    pageSize: 500,
    changes: '10 emptied, 20 with a product added, 5 new',
    change: async () => {
      await db.query(`DELETE FROM shop.wishlist_items WHERE device_id IN (SELECT 'd' || g FROM generate_series(1, 10) g)`);
      await db.query(`INSERT INTO shop.wishlist_items SELECT 'd' || g, 'NEW' FROM generate_series(11, 30) g`);
      await db.query(`INSERT INTO shop.wishlist_items SELECT 'new' || g, 'W1' FROM generate_series(1, 5) g`);
    },
    changed: 10 + 20 + 5,
    mirror: () => api.sandbox.wishlists,
    database: databaseWishlists,
  },
] as const;

describe('reconcile carts and wishlists', () => {
  beforeEach(async () => {
    await freshShop();
  });

  it.each(NIGHTS)('$kind: mirrors thousands, sends nothing when unchanged, then exactly the changed, emptied, deleted and new ones', async (night) => {
    await insertCarts(db, 1, night.devices);
    const first = await runReconcile(config(night.pageSize), night.kind);
    expect(first.summary.status).toBe('done');
    expect(first.summary.sent).toBe(night.devices);
    expect(night.mirror()).toEqual(await night.database(db));

    const unchanged = await runReconcile(config(night.pageSize), night.kind);
    expect(unchanged.summary.sent).toBe(0);
    expect(unchanged.summary.skipped).toBe(night.devices);

    await night.change();
    const before = api.sandbox.stats().accepted;
    const next = await runReconcile(config(night.pageSize), night.kind);
    expect(next.summary.status).toBe('done');
    expect(api.sandbox.stats().accepted - before).toBe(night.changed);
    expect(next.summary.sent).toBe(night.changed);
    expect(night.mirror()).toEqual(await night.database(db));
    // The cleared devices were forgotten by the ledger: the next run sends nothing at all.
    const quiet = await runReconcile(config(night.pageSize), night.kind);
    expect(quiet.summary.sent).toBe(0);
  });
});

describe('status after a night', () => {
  it('lists carts and wishlists under their own requests (full_cart, full_wish), not as purchases', async () => {
    await freshShop();
    await insertCarts(db, 1, 5);
    await runReconcile(config(), 'carts');
    await runReconcile(config(), 'wishlists');
    const path = writeConfig({ personaclick: { url: api.sandbox.url, shopId: SHOP_ID }, source: { url: db.url }, jobs: { carts: { query: CARTS_QUERY } } });
    const status = await runMain(['status', '--config', path]);
    const lines = status.stdout.split('\n');
    const delivered = lines.slice(lines.indexOf('Delivered (the ledger)') + 1, lines.indexOf('Open failures') - 1);
    expect(delivered).toEqual(['  carts        full_cart  5', '  wishlists    full_wish  5']);
  });
});

describe('reconcile carts', () => {
  beforeEach(async () => {
    await freshShop();
  });

  it('merges the same product on two lines of one cart, and the order of lines does not change the hash', async () => {
    await db.query(
      `INSERT INTO shop.carts (device_id) VALUES ('dup'); INSERT INTO shop.cart_items SELECT id, 'P1', 2 FROM shop.carts; INSERT INTO shop.cart_items SELECT id, 'P2', 1 FROM shop.carts; INSERT INTO shop.cart_items SELECT id, 'P1', 3 FROM shop.carts`,
    );
    await runReconcile(config(), 'carts');
    const body = api.sandbox.accepted.find((a) => a.body.did === 'dup')?.body;
    expect(body?.items).toEqual([
      { id: 'P1', quantity: 5 },
      { id: 'P2', quantity: 1 },
    ]);
    // Same content in another physical order: nothing to send.
    await db.query(
      `CREATE TABLE shop.tmp AS SELECT * FROM shop.cart_items ORDER BY product_id DESC; DELETE FROM shop.cart_items; INSERT INTO shop.cart_items SELECT * FROM shop.tmp`,
    );
    expect((await runReconcile(config(), 'carts')).summary.sent).toBe(0);
  });

  it('records a rejected device, goes on with the others, and tries it again the next night', async () => {
    await insertCarts(db, 1, 200);
    api.sandbox.setFaults({ reject: [{ field: 'did', equals: 'd42', status: 404, message: 'Device not found' }] });
    const first = await runReconcile(config(), 'carts');
    expect(first.summary.rejected).toBe(1);
    expect(first.summary.sent).toBe(199);
    const failures = await db.query<{ key: string; class: string; reason: string }>(
      `SELECT key, class, reason FROM personaclick_sync.failures WHERE resolved_at IS NULL`,
    );
    expect(failures).toEqual([{ key: 'd42', class: 'rejected', reason: expect.stringContaining('Device not found') as unknown }]);
    api.sandbox.setFaults({});
    const second = await runReconcile(config(), 'carts');
    expect(second.summary.sent).toBe(1);
    expect(sandboxCarts()).toEqual(await databaseCarts(db));
    expect(await db.query(`SELECT 1 FROM personaclick_sync.failures WHERE resolved_at IS NULL`)).toHaveLength(0);
  });

  it('--full re-sends every cart and clears every one the ledger knows that is gone', async () => {
    await insertCarts(db, 1, 300);
    await runReconcile(config(), 'carts');
    await db.query(`DELETE FROM shop.carts WHERE device_id IN ('d1', 'd2')`);
    api.sandbox.reset();
    const full = await runReconcile(config(), 'carts', { full: true });
    expect(full.summary.sent).toBe(300);
    expect(api.sandbox.stats().accepted).toBe(300);
    const clears = api.sandbox.accepted.filter((a) => a.body.full_cart === true && !('items' in a.body));
    expect(clears.map((c) => c.body.did).sort()).toEqual(['d1', 'd2']);
  });

  it('--dry-run prints valid bodies and changes nothing', async () => {
    await insertCarts(db, 1, 50);
    const dry = await runReconcile(config(), 'carts', { dryRun: true });
    const lines = dry.stdout.trim().split('\n');
    expect(lines).toHaveLength(50);
    for (const line of lines) {
      const { path, body } = JSON.parse(line) as { path: string; body: unknown };
      expect(validateRequest(path, body)).toEqual({ ok: true });
    }
    expect(api.sandbox.stats().received).toBe(0);
    expect(await db.query(`SELECT 1 FROM personaclick_sync.ledger`)).toHaveLength(0);
  });
});

describe("clearing requests go out on the stream and segment of the device's last full request", () => {
  // d1 and d2 come from the app in segment B; the others name no stream or segment.
  const envelopeQuery = (list: 'carts' | 'wishlists') =>
    `SELECT q.*, CASE WHEN q.did IN ('d1', 'd2') THEN 'app' END AS stream, CASE WHEN q.did IN ('d1', 'd2') THEN 'B' END AS segment
       FROM (${list === 'carts' ? CARTS_QUERY : WISHLISTS_QUERY}) q`;
  const envelopeConfig = () =>
    testConfig(db.url, api.sandbox.url, { jobs: { carts: { query: envelopeQuery('carts') }, wishlists: { query: envelopeQuery('wishlists') } } });
  const clears = (flag: 'full_cart' | 'full_wish') => api.sandbox.accepted.filter((a) => a.body[flag] === true && !('items' in a.body)).map((a) => a.body);

  beforeEach(async () => {
    await freshShop();
    await insertCarts(db, 1, 5);
  });

  it('a cart cleared after a full cart with stream "app" and segment "B" goes out with stream "app" and segment "B"', async () => {
    await runReconcile(envelopeConfig(), 'carts');
    const full = api.sandbox.accepted.find((a) => a.body.did === 'd1')?.body;
    expect(full).toMatchObject({ stream: 'app', segment: 'B', full_cart: true });
    const ledger = await db.query<{ key: string; stream: string | null; segment: string | null }>(
      `SELECT key, stream, segment FROM personaclick_sync.ledger WHERE job = 'carts' AND key IN ('d1', 'd3') ORDER BY key`,
    );
    expect(ledger).toEqual([
      { key: 'd1', stream: 'app', segment: 'B' },
      { key: 'd3', stream: 'web', segment: null },
    ]);

    await db.query(`DELETE FROM shop.carts WHERE device_id IN ('d1', 'd3')`);
    api.sandbox.reset();
    const night = await runReconcile(envelopeConfig(), 'carts');
    expect(night.summary.sent).toBe(2);
    const sent = clears('full_cart').sort((a, b) => String(a.did).localeCompare(String(b.did)));
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ did: 'd1', stream: 'app', segment: 'B' });
    expect(sent[1]).toMatchObject({ did: 'd3', stream: 'web' });
    expect(sent[1]).not.toHaveProperty('segment');
    expect(sandboxCarts().has('d1')).toBe(false);
  });

  it('a rejected clear is tried again the next night on the same stream and segment, and its failure is then resolved', async () => {
    await runReconcile(envelopeConfig(), 'carts');
    await db.query(`DELETE FROM shop.carts WHERE device_id = 'd2'`);
    api.sandbox.setFaults({ reject: [{ field: 'did', equals: 'd2', status: 404, message: 'Device not found' }] });
    const refused = await runReconcile(envelopeConfig(), 'carts');
    expect(refused.summary.rejected).toBe(1);
    api.sandbox.setFaults({});
    api.sandbox.reset();
    const next = await runReconcile(envelopeConfig(), 'carts');
    expect(next.summary.sent).toBe(1);
    expect(clears('full_cart')).toEqual([expect.objectContaining({ did: 'd2', stream: 'app', segment: 'B' })]);
    expect(await db.query(`SELECT key, class FROM personaclick_sync.failures WHERE resolved_at IS NULL`)).toEqual([]);
    expect(await db.query(`SELECT 1 FROM personaclick_sync.ledger WHERE job = 'carts' AND key = 'd2'`)).toHaveLength(0);
  });

  it('replay sends a rejected wishlist clear on the stream and segment the ledger kept, and resolves it', async () => {
    await runReconcile(envelopeConfig(), 'wishlists');
    await db.query(`DELETE FROM shop.wishlist_items WHERE device_id = 'd1'`);
    api.sandbox.setFaults({ reject: [{ field: 'did', equals: 'd1', status: 400, message: 'Try later' }] });
    expect((await runReconcile(envelopeConfig(), 'wishlists')).summary.rejected).toBe(1);
    api.sandbox.setFaults({});
    api.sandbox.reset();
    const [replayed] = await runReplay(envelopeConfig(), { job: 'wishlists' });
    expect(replayed?.sent).toBe(1);
    expect(clears('full_wish')).toEqual([expect.objectContaining({ did: 'd1', stream: 'app', segment: 'B' })]);
    expect(await db.query(`SELECT key FROM personaclick_sync.failures WHERE resolved_at IS NULL`)).toEqual([]);
  });
});

describe('reconcile carts under a language collation', () => {
  it('diffs devices whose ids sort differently in en-US than in byte order', async () => {
    await freshShop({ icu: true });
    const dids = ['a', 'B', 'b', 'A1', 'a1', '_x', '-y', 'x-1', 'x_1', 'x1', '10', '9', 'Zed', 'zed', 'äpfel', 'Ab', 'aB', 'é'];
    await db.query(`INSERT INTO shop.carts (device_id) SELECT unnest($1::text[])`, [dids]);
    await db.query(`INSERT INTO shop.cart_items SELECT id, 'P' || id, 1 FROM shop.carts`);
    const order = await db.query<{ device_id: string }>(`SELECT device_id FROM shop.carts ORDER BY device_id`);
    expect(order.map((o) => o.device_id)).not.toEqual([...dids].sort()); // the database really sorts differently
    await runReconcile(config(4), 'carts');
    expect(sandboxCarts()).toEqual(await databaseCarts(db));
    expect((await runReconcile(config(4), 'carts')).summary.sent).toBe(0);
    await db.query(`DELETE FROM shop.carts WHERE device_id IN ('B', '_x', 'x1', 'äpfel')`);
    await db.query(`UPDATE shop.cart_items SET qty = 7 WHERE cart_id IN (SELECT id FROM shop.carts WHERE device_id IN ('a', '-y', 'Zed'))`);
    const next = await runReconcile(config(4), 'carts');
    expect(next.summary.sent).toBe(7);
    expect(sandboxCarts()).toEqual(await databaseCarts(db));
  });
});
