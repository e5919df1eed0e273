/** The spine end to end: a real Postgres shop, the connector, and the sandbox API over real HTTP. */
import { describe, expect, it } from 'vitest';
import { validateRequest } from '../src/payloads/index.js';
import { insertOrders } from './support/shop.js';
import { runCommand, runSync, testConfig, type ConfigOverrides } from './support/harness.js';
import { useFrame } from './support/frame.js';

const env = useFrame();

const config = (o: ConfigOverrides = {}) => testConfig(env.db.url, env.sandbox.url, o);

async function watermark(): Promise<{ cursor_ts: string; cursor_key: string | null } | undefined> {
  const rows = await env.db.query<{ cursor_ts: string; cursor_key: string | null }>(
    `SELECT cursor_ts, cursor_key FROM personaclick_sync.watermarks WHERE name = 'orders'`,
  );
  return rows[0];
}

describe('orders sync', () => {
  it('sends every order once as a purchase with its items and money, and nothing on the second run', async () => {
    await insertOrders(env.db, 1, 3000);
    const first = await runSync(config());
    expect(first.summary.status).toBe('done');
    expect(first.summary.sent).toBe(3000);
    expect(env.sandbox.purchases.size).toBe(3000);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);

    // Compare a sample of bodies with the database, field by field.
    const lines = await env.db.query<{ order_id: string; product_id: string; qty: number; unit_price: string }>(
      `SELECT order_id::text, product_id, qty, unit_price::text FROM shop.order_lines WHERE order_id IN (1, 2, 3, 10, 35) ORDER BY order_id, product_id`,
    );
    const orders = await env.db.query<{ id: string; total: string; discount: string | null; promo: string | null }>(
      `SELECT id::text, total::text, discount::text, promo FROM shop.orders WHERE id IN (1, 2, 3, 10, 35)`,
    );
    for (const order of orders) {
      const body = env.sandbox.accepted.find((a) => a.body.order_id === order.id)?.body;
      expect(body, `order ${order.id}`).toMatchObject({ event: 'purchase', order_id: order.id, did: `dev${order.id}` });
      expect(body?.order_price).toBe(Number(order.total));
      expect(typeof body?.order_price).toBe('number');
      if (order.discount === null) expect(body).not.toHaveProperty('order_discount');
      else expect(body?.order_discount).toBe(Number(order.discount));
      if (order.promo === null) expect(body).not.toHaveProperty('promocode');
      else expect(body?.promocode).toBe(order.promo);
      const expected = lines
        .filter((l) => l.order_id === order.id)
        .map((l) => ({ id: l.product_id, amount: l.qty, price: Number(l.unit_price) }))
        .sort((a, b) => a.id.localeCompare(b.id));
      const items = (body?.items as { id: string; amount: number; price: number }[]).slice().sort((a, b) => a.id.localeCompare(b.id));
      expect(items).toEqual(expected);
    }

    env.sandbox.reset();
    const second = await runSync(config());
    expect(second.summary.sent).toBe(0);
    expect(env.sandbox.stats().received).toBe(0);
  });

  it('sends each of 3 pages + 1 orders that share one updated_at exactly once, and the run ends', async () => {
    await insertOrders(env.db, 1, 31, `'2026-01-01 10:00:00.123456+00'::timestamptz`);
    const result = await runSync(config({ orders: { pageSize: 10 } }));
    expect(result.summary.status).toBe('done');
    expect(result.summary.read).toBe(31);
    expect(env.sandbox.purchases.size).toBe(31);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
    expect(await watermark()).toEqual({ cursor_ts: '2026-01-01T10:00:00.123456Z', cursor_key: '31' });
  });

  it('loses and repeats nothing when timestamps differ only in microseconds', async () => {
    // 40 orders, 1 microsecond apart, in reverse id order so (updated_at, id) and id order disagree.
    await insertOrders(env.db, 1, 40, `'2026-02-01 00:00:00+00'::timestamptz + ((41 - i) * interval '1 microsecond')`);
    const first = await runSync(config({ orders: { pageSize: 7 } }));
    expect(first.summary.sent).toBe(40);
    expect((await watermark())?.cursor_ts).toBe('2026-02-01T00:00:00.000040Z');
    // Another order one microsecond after the watermark: the next run sends it and only it.
    await insertOrders(env.db, 41, 1, `'2026-02-01 00:00:00.000041+00'::timestamptz`);
    const second = await runSync(config({ orders: { pageSize: 7 } }));
    expect(second.summary.read).toBe(1);
    expect(env.sandbox.purchases.size).toBe(41);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
  });

  it('delivers an order committed late by a transaction that was open during a run', async () => {
    await insertOrders(env.db, 1, 10);
    const writer = await env.db.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`SELECT now()`); // the transaction starts now; its order gets this time as updated_at
      await new Promise((r) => setTimeout(r, 20));
      await insertOrders(env.db, 11, 5, `now()`); // committed orders after the open transaction began
      await writer.query(
        `INSERT INTO shop.orders (id, device_id, created_at, updated_at, total, payment) VALUES (100, 'dev100', now(), now(), 10, 'card');
         INSERT INTO shop.order_lines VALUES (100, 'P1', 1, 10)`,
      );
      const during = await runSync(config());
      expect(during.summary.status).toBe('done');
      expect(env.sandbox.purchases.has('100')).toBe(false);
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    const after = await runSync(config());
    expect(after.summary.status).toBe('done');
    expect(env.sandbox.purchases.get('100')).toBe(1);
    expect(env.sandbox.purchases.size).toBe(16);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
  });

  it('records a rejected order with the API message and still sends the orders after it', async () => {
    await insertOrders(env.db, 1, 50);
    env.sandbox.setFaults({
      reject: [
        { field: 'order_id', equals: '7', status: 400, message: 'Unknown product P7' },
        { field: 'order_id', equals: '8', status: 404, message: 'Device not found', messageIn: 'payload' },
      ],
    });
    const result = await runSync(config());
    expect(result.summary.status).toBe('done');
    expect(result.summary.rejected).toBe(2);
    expect(result.summary.sent).toBe(48);
    const failures = await env.db.query<{ key: string; class: string; reason: string; status: number }>(
      `SELECT key, class, reason, status FROM personaclick_sync.failures ORDER BY key`,
    );
    expect(failures).toEqual([
      { key: '7', class: 'rejected', reason: expect.stringContaining('Unknown product P7') as unknown, status: 400 },
      { key: '8', class: 'rejected', reason: expect.stringContaining('Device not found') as unknown, status: 404 },
    ]);
    expect((await watermark())?.cursor_key).toBe('50');
  });

  it('treats a 2xx whose status is not success as rejected, with the message from payload.message', async () => {
    await insertOrders(env.db, 1, 5);
    env.sandbox.setFaults({ failNext: { count: 1, status: 200 } });
    const result = await runSync(config({ delivery: { concurrency: 1 } }));
    expect(result.summary.status).toBe('done');
    expect(result.summary.rejected).toBe(1);
    expect(result.summary.retries).toBe(0); // never retried
    const failures = await env.db.query<{ key: string; class: string; status: number; reason: string }>(
      `SELECT key, class, status, reason FROM personaclick_sync.failures`,
    );
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ key: '1', class: 'rejected', status: 200 });
    expect(env.sandbox.purchases.size).toBe(4);
  });

  it('records an order that cannot make a valid request as invalid, never sends it, and goes on', async () => {
    await insertOrders(env.db, 1, 20);
    await env.db.query(`DELETE FROM shop.order_lines WHERE order_id = 5; UPDATE shop.order_lines SET unit_price = -3 WHERE order_id = 6`);
    const result = await runSync(config());
    expect(result.summary.invalid).toBe(2);
    expect(result.summary.sent).toBe(18);
    expect(env.sandbox.purchases.has('5')).toBe(false);
    expect(env.sandbox.purchases.has('6')).toBe(false);
    const failures = await env.db.query<{ key: string; class: string; reason: string }>(
      `SELECT key, class, reason FROM personaclick_sync.failures ORDER BY key`,
    );
    expect(failures.map((f) => [f.key, f.class])).toEqual([
      ['5', 'invalid'],
      ['6', 'invalid'],
    ]);
    expect(failures[1]?.reason).toMatch(/price/);
  });

  it('--dry-run says which orders are invalid and why at the default log level (info), and files nothing', async () => {
    await insertOrders(env.db, 1, 10);
    await env.db.query(`DELETE FROM shop.order_lines WHERE order_id = 5; UPDATE shop.order_lines SET unit_price = -3 WHERE order_id = 6`);
    const result = await runCommand(config(), ['sync', 'orders'], {}, { dryRun: true });
    expect(result.summaries[0]).toMatchObject({ invalid: 2, sent: 8 });
    const shown = result.log
      .filter((l) => ['info', 'warn', 'error'].includes(String(l.level)) && l.msg === 'invalid row: would not be sent')
      .map((l) => [l.key, l.reason]);
    expect(shown).toEqual([
      ['5', expect.stringMatching(/items/) as unknown],
      ['6', expect.stringMatching(/price/) as unknown],
    ]);
    expect(await env.db.query(`SELECT key FROM personaclick_sync.failures`)).toEqual([]);
  });

  it('waits out 429 with Retry-After and bursts of 503, and delivers everything', async () => {
    await insertOrders(env.db, 1, 200);
    env.sandbox.setFaults({ rate429: 0.05, retryAfterSeconds: 1, error5xxRate: 0.2, seed: 7 });
    const started = Date.now();
    const result = await runSync(config({ delivery: { retries: 8 } }));
    expect(result.summary.status).toBe('done');
    expect(env.sandbox.purchases.size).toBe(200);
    const stats = env.sandbox.stats();
    expect(stats.faults.rate429).toBeGreaterThan(0);
    expect(stats.faults.error5xx).toBeGreaterThan(0);
    expect(result.summary.retries).toBe(stats.faults.rate429 + stats.faults.error5xx);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // a Retry-After of 1 s was honoured
  });

  it('halts when the API stays down beyond the retries, keeps the watermark before the unsent orders, and the next run delivers them', async () => {
    await insertOrders(env.db, 1, 100);
    const partial = await runSync(config({ delivery: { concurrency: 1 } }), { limit: 30 });
    expect(partial.summary.sent).toBe(30);
    env.sandbox.setFaults({ down: true });
    const down = await runSync(config({ delivery: { concurrency: 4 } }));
    expect(down.summary.status).toBe('halted');
    const mark = await watermark();
    // Nothing beyond order 30 reached PersonaClick, so the watermark must not have passed it.
    expect(mark?.cursor_key).toBe('30');
    env.sandbox.setFaults({});
    const after = await runSync(config());
    expect(after.summary.status).toBe('done');
    expect(env.sandbox.purchases.size).toBe(100);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
  });

  it('stops at once on 403 with a fatal status and no flood of failure rows', async () => {
    await insertOrders(env.db, 1, 500);
    env.sandbox.setFaults({ forbidden: true });
    const result = await runSync(config({ delivery: { concurrency: 4 } }));
    expect(result.summary.status).toBe('fatal');
    expect(env.sandbox.stats().received).toBeLessThanOrEqual(8);
    const failures = await env.db.query(`SELECT 1 FROM personaclick_sync.failures`);
    expect(failures.length).toBe(0);
    expect((await watermark())?.cursor_key ?? null).toBe(null);
  });

  it('--dry-run prints bodies the env.sandbox accepts, sends nothing and writes no state', async () => {
    await insertOrders(env.db, 1, 120);
    const before = await env.db.query(
      `SELECT (SELECT count(*) FROM personaclick_sync.runs) AS runs, (SELECT count(*) FROM personaclick_sync.watermarks) AS marks`,
    );
    const result = await runSync(config(), { dryRun: true });
    expect(result.summary.sent).toBe(120);
    expect(env.sandbox.stats().received).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(120);
    for (const line of lines) {
      const { path, body } = JSON.parse(line) as { path: string; body: unknown };
      expect(validateRequest(path, body)).toEqual({ ok: true });
    }
    const after = await env.db.query(
      `SELECT (SELECT count(*) FROM personaclick_sync.runs) AS runs, (SELECT count(*) FROM personaclick_sync.watermarks) AS marks`,
    );
    expect(after).toEqual(before);
  });
});
