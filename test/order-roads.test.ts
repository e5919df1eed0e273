/**
 * Which road an order the live sync finds for the first time takes (issue 17 §1): a live purchase only for a new
 * purchase (placed within newPurchaseHours, in a status that makes an order, with a did); everything else through the
 * order-sync API with its real date and status, or held (nothing told) while the shop secret is not set; history
 * (older than historyAfterDays) left to the backfill. A real Postgres shop and the sandbox over real HTTP.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, type ConfigOverrides } from './support/harness.js';
import { createHistoryShop, historyConfig, HISTORY_ORDERS_QUERY, insertHistory } from './support/history-shop.js';

const SECRET = 'shop-secret-5be01d77';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_roads', shop: false });

function config(o: ConfigOverrides & { secret?: string | null } = {}): Config {
  return historyConfig(env, SECRET, o, { query: `${HISTORY_ORDERS_QUERY} WHERE o.status <> 'draft'`, skipStatuses: ['pending_payment'] });
}

const sync = (cfg: Config) => runCommand(cfg, ['sync', 'orders']);

/** Orders H1..H6 placed `ageDays` ago (H3, H6: phone orders without a device), updated an hour ago. */
async function shop(ageDays: number, status = 'paid'): Promise<void> {
  await createHistoryShop(env.db);
  await insertHistory(env.db, 1, 6, { ageDays, status });
}

async function failures(): Promise<{ key: string; class: string; road: string | null; reason: string }[]> {
  return env.db.query(`SELECT key, class, road, reason FROM personaclick_sync.failures WHERE resolved_at IS NULL ORDER BY key`);
}

describe('the live sync sends only new purchases live', () => {
  it('an order placed before the window goes through the order-sync API with its real date and status, never as a purchase', async () => {
    await shop(5); // placed five days ago, changed an hour ago: first seen now
    const run = await sync(config());
    expect(run.summaries[0]).toMatchObject({ status: 'done', read: 6, sent: 6 });
    expect(env.sandbox.purchases.size).toBe(0);
    const h1 = env.sandbox.syncOrders.get('H1');
    expect(h1).toMatchObject({ status: 'paid', channel: 'web', identifiers: { email: 'c1@example.com' } });
    const [row] = await env.db.query<{ placed: string }>(`SELECT extract(epoch FROM created_at)::bigint::text AS placed FROM hist.orders WHERE id = 'H1'`);
    expect(h1?.date).toBe(Number(row?.placed)); // the day it was placed, not today
  });

  it('an order cancelled before the first sync saw it goes through the order-sync API as cancelled; a skipped status never goes', async () => {
    await shop(0);
    await env.db.query(`UPDATE hist.orders SET status = 'cancelled' WHERE id = 'H1'`);
    await env.db.query(`UPDATE hist.order_lines SET status = 'cancelled' WHERE order_id = 'H2'`);
    await env.db.query(`UPDATE hist.orders SET status = 'pending_payment' WHERE id = 'H4'`);
    const run = await sync(config());
    expect(run.summaries[0]).toMatchObject({ read: 6, sent: 5, skipped: 1 });
    expect([...env.sandbox.purchases.keys()].sort()).toEqual(['H5']); // the one new purchase with a device
    expect(env.sandbox.syncOrders.get('H1')?.status).toBe('cancelled');
    expect(env.sandbox.syncOrders.get('H2')?.lines.every((l) => l.status === 'cancelled')).toBe(true);
    expect(env.sandbox.syncOrders.has('H4')).toBe(false);
    expect([...env.sandbox.syncOrders.keys()].sort()).toEqual(['H1', 'H2', 'H3', 'H6']);
  });

  it('a phone order (no did) goes through the order-sync API with its channel, offline when the model says so', async () => {
    await shop(0);
    const offline = `${HISTORY_ORDERS_QUERY.replace('o.note AS comment', "o.note AS comment, o.channel = 'offline' AS offline")}`;
    const run = await sync(config({ orders: { query: offline } }));
    expect(run.summaries[0]).toMatchObject({ sent: 6 });
    expect(env.sandbox.syncOrders.get('H3')).toMatchObject({ channel: 'offline', identifiers: { phone: '+15550000003' }, details: { offline: true } });
    expect(env.sandbox.syncOrders.get('H3')?.did).toBeUndefined();
    expect([...env.sandbox.purchases.keys()].sort()).toEqual(['H1', 'H2', 'H4', 'H5']);
  });
});

describe('without the shop secret', () => {
  it('holds what only the order-sync API can carry (nothing told), says so once, and replay --class held sends it once the secret is set', async () => {
    await shop(0);
    await env.db.query(`UPDATE hist.orders SET created_at = now() - interval '5 days' WHERE id = 'H2'`);
    const run = await sync(config({ secret: null }));
    expect(run.summaries[0]).toMatchObject({ read: 6, sent: 3, skipped: 3, invalid: 0 });
    expect([...env.sandbox.purchases.keys()].sort()).toEqual(['H1', 'H4', 'H5']);
    expect(env.sandbox.syncArrivals()).toHaveLength(0);
    const held = await failures();
    expect(held.map((f) => [f.key, f.class, f.road])).toEqual([
      ['H2', 'held', 'sync'],
      ['H3', 'held', 'sync'],
      ['H6', 'held', 'sync'],
    ]);
    expect(held[0]?.reason).toMatch(
      /^placed .*, more than 48 hours ago \(jobs\.orders\.newPurchaseHours\): not a new purchase: it reaches PersonaClick only through the order-sync API, which needs personaclick\.shopSecret; set it, then replay --class held$/,
    );
    expect(held[1]?.reason).toMatch(
      /^no did \(an order taken by phone or in the back office, or a guest whose tracker was blocked\): .*personaclick\.shopSecret/,
    );
    const lines = run.log.filter((l) => l.level === 'warn' && String(l.msg).includes('held'));
    expect(lines.map((l) => l.held)).toEqual([3]);
    // Nothing is in the ledger for them: the next sync has nothing to do, and they stay held.
    expect((await env.db.query(`SELECT key FROM personaclick_sync.ledger WHERE job = 'orders' AND key IN ('H2', 'H3', 'H6')`)).length).toBe(0);
    // Still no secret: replay leaves them held, sends nothing.
    const early = await runCommand(config({ secret: null }), ['replay'], { failureClass: 'held' });
    expect(early.summaries[0]).toMatchObject({ sent: 0 });
    expect((await failures()).map((f) => f.class)).toEqual(['held', 'held', 'held']);
    // The secret set: replay sends them through the order-sync API, dated; no purchase.
    const replay = await runCommand(config(), ['replay'], { failureClass: 'held' });
    expect(replay.summaries[0]).toMatchObject({ sent: 3 });
    expect([...env.sandbox.syncOrders.keys()].sort()).toEqual(['H2', 'H3', 'H6']);
    expect(env.sandbox.purchases.size).toBe(3);
    expect(await failures()).toEqual([]);
  });
});

describe('history is left to the backfill', () => {
  it('the live sync tells neither orders placed before historyAfterDays nor their status changes; a backfill does', async () => {
    await shop(1);
    await createOld();
    const first = await sync(config());
    expect(first.summaries[0]).toMatchObject({ read: 8, sent: 6, skipped: 2 });
    expect(env.sandbox.syncOrders.has('H90')).toBe(false);
    const line = first.log.find((l) => l.level === 'warn' && String(l.msg).includes('historyAfterDays'));
    expect(line).toMatchObject({ ordersFirstSeen: 2, statusChanges: 0 });
    // A mass change of status: the six recent ones are told, the old ones are not.
    await env.db.query(`UPDATE hist.orders SET status = 'archived', updated_at = now() - interval '5 seconds' - substr(id, 2)::int * interval '1 millisecond'`);
    const mass = await sync(config());
    expect(mass.summaries[0]).toMatchObject({ read: 8, sent: 6, skipped: 2 });
    expect(env.sandbox.syncOrders.has('H90')).toBe(false);
    // The backfill asked for tells them, with their real date.
    const history = await runCommand(config(), ['backfill', 'orders'], { from: '2000-01-01', to: '2100-01-01', yes: true });
    expect(history.summaries[0]).toMatchObject({ sent: 2 });
    expect(env.sandbox.syncOrders.get('H90')?.status).toBe('archived');
  });
});

describe('replay', () => {
  it('never resolves a failure it did not deliver: an invalid status update still invalid stays open', async () => {
    await shop(0);
    expect((await sync(config())).summaries[0]).toMatchObject({ sent: 6 });
    // H1 is returned, but its lines lost their price: the update (which must carry the lines) is invalid.
    await env.db.query(`UPDATE hist.order_lines SET status = 'refunded', unit_price = NULL WHERE order_id = 'H1'`);
    await env.db.query(`UPDATE hist.orders SET status = 'returned', updated_at = now() - interval '5 seconds' WHERE id = 'H1'`);
    const update = await sync(config());
    expect(update.summaries[0]).toMatchObject({ read: 1, invalid: 1 });
    expect((await failures()).map((f) => [f.key, f.class, f.road])).toEqual([['H1', 'invalid', 'sync']]);
    const replay = await runCommand(config(), ['replay']);
    expect(replay.summaries[0]).toMatchObject({ invalid: 1 });
    expect((await failures()).map((f) => [f.key, f.class])).toEqual([['H1', 'invalid']]);
    // Fixed in the shop: replay sends the update, and only then is it resolved.
    await env.db.query(`UPDATE hist.order_lines SET unit_price = 9.99 WHERE order_id = 'H1'`);
    const fixed = await runCommand(config(), ['replay']);
    expect(fixed.summaries[0]).toMatchObject({ sent: 1 });
    expect(await failures()).toEqual([]);
    expect(env.sandbox.syncOrders.get('H1')?.status).toBe('returned');
  });
});

/** Two orders (H90, H91) placed a year ago, with a device, changed an hour ago. */
async function createOld(): Promise<void> {
  await insertHistory(env.db, 90, 2, { ageDays: 365 });
}
