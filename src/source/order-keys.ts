/**
 * The shop's side of monitoring: the orders of a range as (key, updated_at) only, in the sync's keyset order (so
 * the index docs/models.md asks for serves it), and the newest updated_at of the model (the watermark's lag). Built as
 * `{text, values}` like every source statement; the operator's SQL is wrapped, never edited.
 */
import type { Cursor } from '../cursor.js';
import type { Source } from './db.js';
import { Binder, fromModel, instant, type Statement } from './statement.js';

/** UTC text with microseconds, as cursors are written (src/source/orders.ts). */
const TS_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export interface OrderStamp {
  key: string;
  /** updated_at as cursor text (UTC, microseconds). */
  ts: string;
}

export interface StampsPage {
  /** Inclusive lower bound on updated_at. */
  from: string;
  /** Exclusive upper bound on updated_at. */
  before: string;
  /** Where the page starts (exclusive); null: at `from`. */
  after: Cursor | null;
  limit: number;
}

/** The next page of the orders whose updated_at is in [from, before), in (updated_at, order_id) order. */
export function orderStampsStatement(query: string, page: StampsPage): Statement {
  const b = new Binder();
  const parts = [`q.updated_at >= ${instant(b, page.from)}`, `q.updated_at < ${instant(b, page.before)}`, 'q.order_id IS NOT NULL'];
  if (page.after !== null) parts.push(`(q.updated_at, q.order_id) > (${instant(b, page.after.ts)}, ${b.bind(page.after.key)})`);
  return b.statement(`SELECT q.order_id::text AS key, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts
  FROM ${fromModel(query)}
 WHERE ${parts.join(' AND ')}
 ORDER BY q.updated_at, q.order_id
 LIMIT ${b.bind(page.limit)}`);
}

export async function orderStampsPage(source: Source, query: string, page: StampsPage): Promise<OrderStamp[]> {
  return source.query<{ key: string; ts: string }>(orderStampsStatement(query, page));
}

/** The newest updated_at of the orders model. */
export function newestOrderStatement(query: string): Statement {
  return { text: `SELECT to_char(max(q.updated_at)::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts FROM ${fromModel(query)}`, values: [] };
}

/** The newest updated_at of the orders model as cursor text, or undefined when it has no row. */
export async function newestOrderTs(source: Source, query: string): Promise<string | undefined> {
  const rows = await source.query<{ ts: string | null }>(newestOrderStatement(query));
  return rows[0]?.ts ?? undefined;
}
