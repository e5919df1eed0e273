/**
 * `replay` for every job of the job table: rows that failed (invalid, or rejected by the API) are read again fresh
 * from the source once fixed, built exactly as the job builds them, sent, and resolved; what is gone is resolved too.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { JOBS } from '../jobs/index.js';
import { listContentHash } from '../src/payloads/index.js';
import { useFrame } from './support/frame.js';
import { CARTS_QUERY, WISHLISTS_QUERY, createCartTables, insertCarts } from './support/carts.js';
import { runCommand, testConfig } from './support/harness.js';
import { insertOrders } from './support/shop.js';
import { ORDERS_QUERY as PAID_ORDERS_QUERY } from './support/report.js';
import { SANDBOX_SHOP_SECRET } from '../src/sandbox/index.js';

const env = useFrame({ prefix: 'pcs_replay' });

const EVENTS_QUERY = `SELECT 'e' || id AS event_key, 'view' AS event, device_id AS did, json_build_array(json_build_object('id', 'P' || id)) AS items FROM shop.orders`;

function config(): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    jobs: { carts: { query: CARTS_QUERY }, wishlists: { query: WISHLISTS_QUERY }, events: { query: EVENTS_QUERY } },
  });
}

const open = async (job: string) =>
  (
    await env.db.query<{ key: string; class: string }>(
      `SELECT key, class FROM personaclick_sync.failures WHERE job = $1 AND resolved_at IS NULL ORDER BY key`,
      [job],
    )
  ).map((r) => `${r.key}:${r.class}`);

describe('replay', () => {
  it('covers every job of the table', () => {
    expect(JOBS.map((j) => j.name)).toEqual(['orders', 'carts', 'wishlists', 'events', 'categories', 'products']);
  });

  it('orders: sends a fixed invalid order and a rejected one, resolves both', async () => {
    await insertOrders(env.db, 1, 20);
    await env.db.query(`UPDATE shop.order_lines SET unit_price = -1 WHERE order_id = 4`);
    env.sandbox.setFaults({ reject: [{ field: 'order_id', equals: '9', status: 422, message: 'Unknown device' }] });
    await runCommand(config(), ['sync', 'orders']);
    expect(await open('orders')).toEqual(['4:invalid', '9:rejected']);
    await env.db.query(`UPDATE shop.order_lines SET unit_price = 1 WHERE order_id = 4`);
    env.sandbox.setFaults({});
    const { summaries } = await runCommand(config(), ['replay'], { job: 'orders' });
    expect(summaries.map((s) => [s.job, s.status, s.sent])).toEqual([['orders', 'done', 2]]);
    expect(await open('orders')).toEqual([]);
    expect(env.sandbox.purchases.get('4')).toBe(1);
    expect(env.sandbox.purchases.get('9')).toBe(1);
  });

  it('orders: plain replay sends an unconfirmed order whole through the order-sync API (not a second purchase); one the builder refuses now stays unconfirmed', async () => {
    await insertOrders(env.db, 1, 10);
    const paid = (secret: boolean): Config =>
      testConfig(env.db.url, env.sandbox.url, { personaclick: secret ? { shopSecret: SANDBOX_SHOP_SECRET } : {}, orders: { query: PAID_ORDERS_QUERY } });
    await runCommand(paid(true), ['sync', 'orders']);
    expect(env.sandbox.purchases.get('4')).toBe(1);
    // As report --verify files them: 4 lost at PersonaClick, 6 held otherwise; 6's lines are then broken in the shop.
    await env.db.query(
      `INSERT INTO personaclick_sync.failures (job, key, class, reason, road) VALUES ('orders', '4', 'unconfirmed', 'report --verify: missing', 'sync'), ('orders', '6', 'unconfirmed', 'report --verify: different', 'sync')`,
    );
    await env.db.query(`UPDATE shop.order_lines SET unit_price = -1 WHERE order_id = 6`);
    await expect(runCommand(paid(false), ['replay'])).rejects.toThrow(
      /^replay: unconfirmed orders go out again through the order-sync API, which needs the shop secret/,
    );
    expect(env.sandbox.syncOrders.size).toBe(0);

    const { summaries } = await runCommand(paid(true), ['replay']);
    expect(summaries.map((s) => [s.job, s.status, s.sent, s.invalid])).toEqual([['orders', 'done', 1, 1]]);
    expect(env.sandbox.purchases.get('4')).toBe(1); // no second live purchase
    expect(env.sandbox.syncOrders.get('4')).toMatchObject({ status: 'paid', identifiers: { email: 'buyer4@example.com' } });
    expect(await open('orders')).toEqual(['6:unconfirmed']);
    const [six] = await env.db.query<{ reason: string; road: string }>(
      `SELECT reason, road FROM personaclick_sync.failures WHERE key = '6' AND resolved_at IS NULL`,
    );
    expect(six?.road).toBe('sync');
    expect(six?.reason).toMatch(/price/);
    const [ledger] = await env.db.query<{ road: string }>(`SELECT road FROM personaclick_sync.ledger WHERE job = 'orders' AND key = '4'`);
    expect(ledger?.road).toBe('sync');
  });

  it("carts: sends the device's cart as the nightly run builds it (the same hash), and a clear for one gone since", async () => {
    await createCartTables(env.db);
    await insertCarts(env.db, 1, 10);
    env.sandbox.setFaults({
      reject: [
        { field: 'did', equals: 'd3', status: 400, message: 'Bad device' },
        { field: 'did', equals: 'd5', status: 400, message: 'Bad device' },
      ],
    });
    await runCommand(config(), ['reconcile', 'carts']);
    expect(await open('carts')).toEqual(['d3:rejected', 'd5:rejected']);
    // d5's cart is gone from the shop meanwhile: its replay is the clearing request.
    await env.db.query(`DELETE FROM shop.carts WHERE device_id = 'd5'`);
    env.sandbox.setFaults({});
    const { summaries } = await runCommand(config(), ['replay'], { job: 'carts' });
    expect(summaries.map((s) => [s.job, s.sent])).toEqual([['carts', 2]]);
    expect(await open('carts')).toEqual([]);
    expect(env.sandbox.carts.has('d3')).toBe(true);
    expect(env.sandbox.carts.has('d5')).toBe(false);
    // The ledger's hash for d3 is the one the nightly run computes: the next night sends nothing.
    const [ledger] = await env.db.query<{ hash: string }>(`SELECT hash FROM personaclick_sync.ledger WHERE job = 'carts' AND key = 'd3'`);
    const held = env.sandbox.carts.get('d3') ?? new Map<string, number>();
    expect(ledger?.hash).toBe(listContentHash([...held].map(([id, quantity]) => ({ id, quantity })).sort((a, b) => (a.id < b.id ? -1 : 1))));
    const night = await runCommand(config(), ['reconcile', 'carts']);
    expect(night.summaries[0]).toMatchObject({ sent: 0 });
  });

  it('wishlists: sends the fixed wishlist and resolves it', async () => {
    await createCartTables(env.db);
    await insertCarts(env.db, 1, 6);
    env.sandbox.setFaults({ reject: [{ field: 'did', equals: 'd2', status: 400, message: 'Bad device' }] });
    await runCommand(config(), ['reconcile', 'wishlists']);
    expect(await open('wishlists')).toEqual(['d2:rejected']);
    env.sandbox.setFaults({});
    const { summaries } = await runCommand(config(), ['replay'], { job: 'wishlists' });
    expect(summaries.map((s) => [s.job, s.sent])).toEqual([['wishlists', 1]]);
    expect(await open('wishlists')).toEqual([]);
    expect([...(env.sandbox.wishlists.get('d2') ?? [])].length).toBeGreaterThan(0);
  });

  it('events: sends a fixed event, and resolves one gone from the model', async () => {
    await insertOrders(env.db, 1, 8);
    await env.db.query(`UPDATE shop.orders SET device_id = NULL WHERE id IN (3, 6)`);
    await runCommand(config(), ['events']);
    expect(await open('events')).toEqual(['e3:invalid', 'e6:invalid']);
    await env.db.query(`UPDATE shop.orders SET device_id = 'dev3' WHERE id = 3`);
    await env.db.query(`DELETE FROM shop.order_lines WHERE order_id = 6; DELETE FROM shop.orders WHERE id = 6`);
    const { summaries } = await runCommand(config(), ['replay'], { job: 'events' });
    expect(summaries.map((s) => [s.job, s.sent])).toEqual([['events', 1]]);
    expect(await open('events')).toEqual([]);
    const [gone] = await env.db.query<{ reason: string }>(`SELECT reason FROM personaclick_sync.failures WHERE key = 'e6'`);
    expect(gone?.reason).toMatch(/\(resolved by replay: gone from the source or delivered since\)$/);
  });
});
