/**
 * The shop's side of monitoring: the orders of a range as (key, updated_at) only, in the sync's keyset order (so
 * the index the README asks for serves it), and the newest updated_at of the model (the watermark's lag).
 */
import type { Cursor } from '../state/watermarks.js';
import type { Source } from './db.js';

/** UTC text with microseconds, as cursors are written (src/source/orders.ts). */
const TS_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export interface OrderStamp {
  key: string;
  /** updated_at as cursor text (UTC, microseconds). */
  ts: string;
}

/**
 * The next page of the orders whose updated_at is in [from, before), after `after` (exclusive; null: from `from`
 * inclusive), in (updated_at, order_id) order. Only the key and the timestamp are read.
 */
export async function orderStampsPage(source: Source, query: string, page: { from: string; before: string; after: Cursor | null; limit: number }): Promise<OrderStamp[]> {
  const params: unknown[] = [page.from, page.before];
  let where = 'q.updated_at >= $1 AND q.updated_at < $2 AND q.order_id IS NOT NULL';
  if (page.after !== null) {
    params.push(page.after.ts, page.after.key);
    where += ` AND (q.updated_at, q.order_id) > ($3, $4)`;
  }
  params.push(page.limit);
  return source.query<{ key: string; ts: string } & Record<string, unknown>>(
    `SELECT q.order_id::text AS key, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts
       FROM (
${query}
) AS q
      WHERE ${where}
      ORDER BY q.updated_at, q.order_id
      LIMIT $${params.length}`,
    params,
  );
}

/** The newest updated_at of the orders model as cursor text, or undefined when it has no row. */
export async function newestOrderTs(source: Source, query: string): Promise<string | undefined> {
  const rows = await source.query<{ ts: string | null }>(
    `SELECT to_char(max(q.updated_at)::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts FROM (
${query}
) AS q`,
  );
  return rows[0]?.ts ?? undefined;
}
