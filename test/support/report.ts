/**
 * What `report` should say, worked out in SQL straight from the tables (the shop's model, the ledger, the failures,
 * the watermarks): a join the connector never makes, since its two databases may be two servers.
 */
import type { DayRow } from '../../src/report/model.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { createCartTables, insertCarts, CARTS_QUERY, WISHLISTS_QUERY } from './carts.js';
import { writeConfig } from './cli.js';
import { runMain } from './main.js';
import { SHOP_ID } from './harness.js';
import { PG_HOST, PG_PORT, type TestDatabase } from './pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY as SHOP_ORDERS_QUERY } from './shop.js';

/** A day as `report --json` gives it (the shape only: the numbers here come from SQL of their own). */
export type ExpectedDay = DayRow;

/** A day the shop's orders never reach: every count 0. */
export function emptyDay(day: string): ExpectedDay {
  return { day, shop: 0, delivered: 0, push: 0, sync: 0, warned: 0, invalid: 0, rejected: 0, held: 0, pending: 0, missing: 0 };
}

export async function expectedDays(db: TestDatabase, ordersQuery: string, from: string, to: string): Promise<ExpectedDay[]> {
  const rows = await db.query<Record<keyof ExpectedDay, string>>(
    `WITH o AS (SELECT q.order_id::text AS key, q.updated_at FROM (${ordersQuery}) q
                 WHERE q.order_id IS NOT NULL AND q.updated_at >= $1::timestamptz AND q.updated_at < $2::timestamptz),
          w AS (SELECT min(cursor_ts::timestamptz) AS ts FROM personaclick_sync.watermarks WHERE name = 'orders' OR name LIKE 'orders#%'),
          x AS (SELECT o.updated_at, l.key IS NOT NULL AS delivered, coalesce(l.road, 'push') AS road, f.class, w.ts AS mark
                  FROM o CROSS JOIN w
                  LEFT JOIN personaclick_sync.ledger l ON l.job = 'orders' AND l.key = o.key
                  LEFT JOIN personaclick_sync.failures f ON f.job = 'orders' AND f.key = o.key AND f.resolved_at IS NULL)
     SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS shop,
            count(*) FILTER (WHERE delivered) AS delivered,
            count(*) FILTER (WHERE delivered AND road = 'push') AS push,
            count(*) FILTER (WHERE delivered AND road = 'sync') AS sync,
            count(*) FILTER (WHERE delivered AND class = 'warning') AS warned,
            count(*) FILTER (WHERE NOT delivered AND class = 'invalid') AS invalid,
            count(*) FILTER (WHERE NOT delivered AND class = 'rejected') AS rejected,
            count(*) FILTER (WHERE NOT delivered AND class = 'held') AS held,
            count(*) FILTER (WHERE NOT delivered AND class IS NULL AND mark IS NOT NULL AND updated_at > mark) AS pending,
            count(*) FILTER (WHERE NOT delivered AND class IS NULL AND (mark IS NULL OR updated_at <= mark)) AS missing
       FROM x GROUP BY 1 ORDER BY 1`,
    [`${from}T00:00:00Z`, `${to}T00:00:00Z`],
  );
  return rows.map((r) => ({
    day: r.day,
    shop: Number(r.shop),
    delivered: Number(r.delivered),
    push: Number(r.push),
    sync: Number(r.sync),
    warned: Number(r.warned),
    invalid: Number(r.invalid),
    rejected: Number(r.rejected),
    held: Number(r.held),
    pending: Number(r.pending),
    missing: Number(r.missing),
  }));
}

export interface ExpectedMirror {
  shop: number;
  ledger: number;
  both: number;
}

export async function expectedMirror(db: TestDatabase, job: string, query: string): Promise<ExpectedMirror> {
  const rows = await db.query<{ shop: string; ledger: string; both: string }>(
    `WITH s AS (SELECT DISTINCT q.did::text AS did FROM (${query}) q WHERE q.did IS NOT NULL),
          l AS (SELECT key FROM personaclick_sync.ledger WHERE job = $1)
     SELECT (SELECT count(*) FROM s) AS shop, (SELECT count(*) FROM l) AS ledger,
            (SELECT count(*) FROM s JOIN l ON l.key = s.did) AS both`,
    [job],
  );
  const r = rows[0];
  return { shop: Number(r?.shop), ledger: Number(r?.ledger), both: Number(r?.both) };
}

export { CARTS_QUERY, WISHLISTS_QUERY };

/** The tests' orders model, with what the order-sync road also needs: a status and a customer identifier. */
export const ORDERS_QUERY = `SELECT q.*, 'paid' AS status, 'buyer' || q.order_id || '@example.com' AS email FROM (${SHOP_ORDERS_QUERY}) q`;

/**
 * A shop whose books `report` has something to say about, made by real runs of the command line: orders 1..50,
 * ten a day from 2024-03-01 (order i on day (i-1)/10, hour (i-1)%10). The incremental sync starts on 03-03 and
 * has sent 15 orders (03-03 whole, half of 03-04); a backfill (`--via push`) sent 03-01, where order 2 has no lines
 * (invalid) and the API rejects order 5; another (the order-sync road) sent the first half of 03-02. So: 03-01 adds
 * up with failures, 03-02 is half delivered by order-sync and half missing, 03-04 is half pending,
 * 03-05 pending; order 7 (03-01) goes out without its negative discount, a warning. Carts d1..d20 reconciled, then d3 deleted and d100 added; wishlists never reconciled.
 */
export async function reportShop(db: TestDatabase, sandbox: Sandbox): Promise<string> {
  await createShop(db);
  await createCartTables(db);
  await insertOrders(db, 1, 50, `'2024-03-01 00:00:00+00'::timestamptz + ((i - 1) / 10) * interval '1 day' + ((i - 1) % 10) * interval '1 hour'`);
  await db.query(`DELETE FROM shop.order_lines WHERE order_id = 2`);
  await db.query(`UPDATE shop.orders SET discount = -1 WHERE id = 7`); // sent without order_discount: a warning
  await insertCarts(db, 1, 20);
  const path = writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, shopSecret: 'sandbox-shop-secret', timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 1, retryMinMs: 5, retryMaxMs: 10, orderSyncPerMinute: 6000 },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}` },
    jobs: {
      orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2024-03-03' },
      carts: { query: CARTS_QUERY },
      wishlists: { query: WISHLISTS_QUERY },
    },
  });
  const must = async (args: string[]) => {
    const r = await runMain([...args, '--config', path]);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  };
  await must(['migrate']);
  sandbox.setFaults({ reject: [{ field: 'order_id', equals: '5', status: 422, message: 'Unknown device' }] });
  await must(['sync', 'orders', '--limit', '15']);
  await must(['backfill', 'orders', '--from', '2024-03-01', '--to', '2024-03-02', '--via', 'push', '--yes']);
  await must(['backfill', 'orders', '--from', '2024-03-02T00:00:00Z', '--to', '2024-03-02T05:00:00Z', '--yes']);
  sandbox.setFaults({});
  await must(['reconcile', 'carts']);
  await db.query(`DELETE FROM shop.carts WHERE device_id = 'd3'`);
  await insertCarts(db, 100, 1);
  return path;
}
