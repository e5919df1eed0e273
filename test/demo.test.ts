/** `npm run demo` as a newcomer sees it: no database server, a readable report, exit 0, and the numbers it promises. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { openEmbeddedDb, type EmbeddedDb } from '../src/demo/embedded.js';
import { DEVICE_NOT_FOUND, buildShop, type ShopOptions } from '../src/demo/shop.js';

async function captureDemo(): Promise<{ code: number; report: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runDemo({ out });
  out.end();
  return { code, report: Buffer.concat(chunks).toString('utf8') };
}

/** The number on the report line `  <label>   <n>` of the given section. */
function count(section: string, label: string): number {
  const m = new RegExp(`^\\s{2}${label}\\s+(\\d+)`, 'm').exec(section);
  if (!m?.[1]) throw new Error(`no "${label}" line in:\n${section}`);
  return Number(m[1]);
}

describe('demo', () => {
  it('syncs the sample shop to the sandbox, explains the failures, and sends nothing twice', async () => {
    const { code, report } = await captureDemo();
    expect(code, report).toBe(0);

    const firstStart = report.indexOf('First run');
    const secondStart = report.indexOf('Second run');
    expect(firstStart).toBeGreaterThan(-1);
    expect(secondStart).toBeGreaterThan(firstStart);
    const first = report.slice(firstStart, report.indexOf('\n\n', firstStart));
    const second = report.slice(secondStart, report.indexOf('\n\n', secondStart));

    // 200 orders: 2 with invalid data (never sent), 1 whose device the API does not know (rejected).
    const orders = 200;
    expect(count(first, 'orders read')).toBe(orders);
    expect(count(first, 'invalid')).toBe(2);
    expect(count(first, 'rejected')).toBe(1);
    expect(count(first, 'sent')).toBe(orders - 2 - 1);
    expect(count(first, 'sandbox accepted')).toBe(orders - 2 - 1);

    expect(count(second, 'sent')).toBe(0);
    expect(count(second, 'skipped')).toBe(count(second, 'orders read'));
    expect(count(second, 'sandbox accepted')).toBe(orders - 2 - 1);

    expect(report).toContain(`HTTP 404: ${DEVICE_NOT_FOUND}`);
    expect(report).toContain('items: an order needs at least one line');
    expect(report).toMatch(/items\[\d+\]\.price: must be a non-negative/);
    expect(report).toMatch(/"event": "purchase"/);
    expect(report).toContain('Watermarks'); // the status report
    expect(report).not.toContain('FAILED');
    expect(report).toContain('Everything went as expected.');
  });

  it('gives node-postgres-shaped rows from the embedded database', async () => {
    const row = await withShop({ orders: 20 }, async (db) => {
      const rows = await db.source.query(
        `SELECT o.id, o.total, o.updated_at, json_build_object('note', o.note) AS custom, array[o.id] AS ids,
                count(*) OVER () AS n, current_setting('TimeZone') AS tz
           FROM shop.orders o ORDER BY o.id LIMIT 1`,
      );
      return rows[0];
    });
    expect(row?.id).toBe('10001'); // int8 as text, as node-postgres gives it
    expect(row?.ids).toEqual(['10001']); // int8[] too
    expect(row?.n).toBe('20');
    expect(typeof row?.total).toBe('string'); // numeric as text
    expect(row?.updated_at).toBeInstanceOf(Date);
    expect(row?.custom).toBeTypeOf('object'); // json parsed
    expect(row?.tz).toBe('UTC');
  });

  it('builds the same shop from the same seed', async () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const dump = `SELECT o.*, (SELECT json_agg(l ORDER BY l.product_id, l.qty, l.unit_price) FROM shop.order_lines l WHERE l.order_id = o.id) AS lines
                    FROM shop.orders o ORDER BY o.id`;
    const a = await withShop({ orders: 50, now }, (db) => db.source.query(dump));
    const b = await withShop({ orders: 50, now }, (db) => db.source.query(dump));
    expect(a).toHaveLength(50);
    expect(a).toEqual(b);
  });
});

async function withShop<T>(opts: ShopOptions, use: (db: EmbeddedDb) => Promise<T>): Promise<T> {
  const db = await openEmbeddedDb();
  try {
    await buildShop(db.pglite, opts);
    return await use(db);
  } finally {
    await db.close();
  }
}
