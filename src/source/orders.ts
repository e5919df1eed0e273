/**
 * The orders model: keyset pages over the operator's SELECT on (updated_at, order_id), and its lines for a whole
 * page in one query. The operator's SQL is wrapped, never edited; only values are bound.
 */
import type { Row } from '../payloads/index.js';
import type { Cursor } from '../state/watermarks.js';
import type { Source } from './db.js';

/** UTC text with microseconds: what cursors are made of (a JS Date would drop the microseconds). */
const TS_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export interface OrderRow {
  row: Row;
  key: string;
  cursor: Cursor;
}

/**
 * The frozen upper bound of a run (exclusive): now() minus the settle lag, and no later than the start of the
 * oldest transaction still open in the shop's database (where pg_stat_activity shows it), so that an order
 * committed late with an earlier updated_at is still ahead of the watermark.
 */
export async function upperBound(source: Source, settleSeconds: number): Promise<{ bound: string; heldBy?: { pid: number; since: string; application: string } }> {
  const rows = await source.query<{ bound: string; settle: string; oldest: string | null; pid: number | null; app: string | null }>(
    `WITH oldest AS (
       SELECT pid, application_name, xact_start FROM pg_stat_activity
        WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()
          AND backend_type = 'client backend'
        ORDER BY xact_start LIMIT 1)
     SELECT to_char(least(now() - make_interval(secs => $1), (SELECT xact_start FROM oldest)) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS bound,
            to_char((now() - make_interval(secs => $1)) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS settle,
            to_char((SELECT xact_start FROM oldest) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS oldest,
            (SELECT pid FROM oldest) AS pid, (SELECT application_name FROM oldest) AS app`,
    [settleSeconds],
  );
  const r = rows[0];
  if (!r) throw new Error('upper bound query returned no row');
  if (r.oldest !== null && r.oldest < r.settle && r.pid !== null) return { bound: r.bound, heldBy: { pid: r.pid, since: r.oldest, application: r.app ?? '' } };
  return { bound: r.bound };
}

/** Current time of the shop's database as cursor text (the starting point of `startFrom: now`). */
export async function sourceNow(source: Source): Promise<string> {
  const rows = await source.query<{ now: string }>(`SELECT to_char(now() AT TIME ZONE 'UTC', ${TS_FORMAT}) AS now`);
  return rows[0]?.now ?? new Date().toISOString();
}

export interface PageRequest {
  after: Cursor;
  /** Exclusive upper bound on updated_at. */
  before: string;
  limit: number;
  /** Optional inclusive lower bound and exclusive upper bound on updated_at (backfill ranges). */
  shard?: { index: number; count: number } | undefined;
}

/** The next page of orders after the cursor, in (updated_at, order_id) order. */
export async function ordersPage(source: Source, query: string, page: PageRequest): Promise<OrderRow[]> {
  const { where, params } = rangeFilter(page.after, page.before, page.shard);
  params.push(page.limit);
  const sql = `SELECT q.*, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS "__pcs_ts", q.order_id::text AS "__pcs_key"
      FROM (
${query}
) AS q
     WHERE ${where}
     ORDER BY q.updated_at, q.order_id
     LIMIT $${params.length}`;
  const rows = await source.query<Row & { __pcs_ts: string; __pcs_key: string }>(sql, params);
  return rows.map((r) => {
    const { __pcs_ts: ts, __pcs_key: key, ...row } = r;
    return { row, key, cursor: { ts, key } };
  });
}

/** Orders after the cursor and before the bound (and of the shard): the WHERE clause and its parameters. */
function rangeFilter(after: Cursor, before: string, shard?: { index: number; count: number }): { where: string; params: unknown[] } {
  const params: unknown[] = [after.ts, before];
  let where = after.key === null ? 'q.updated_at >= $1' : '(q.updated_at, q.order_id) > ($1, $3)';
  // A NULL order_id has no place in the keyset (and no key for the books): unplaceableOrders() reports it instead.
  where += ' AND q.updated_at < $2 AND q.order_id IS NOT NULL';
  if (after.key !== null) params.push(after.key);
  if (shard && shard.count > 1) {
    params.push(shard.count, shard.index);
    where += ` AND mod(abs(hashtext(q.order_id::text)::bigint), $${params.length - 1}) = $${params.length}`;
  }
  return { where, params };
}

export interface UnplaceableOrder {
  key: string;
  reason: string;
}

/** At most this many unplaceable rows are reported per run (each becomes a failure row). */
const UNPLACEABLE_LIMIT = 1000;

/**
 * Rows of the model the keyset pages cannot place, so they would otherwise vanish without a trace: a NULL order_id
 * updated within the run's range (reported under a key made of its updated_at), and a NULL updated_at anywhere
 * (under its order_id). The job keeps them as invalid, with the column named. One query per run; with the columns
 * NOT NULL in the shop's table the planner answers it without reading a row.
 */
export async function unplaceableOrders(source: Source, query: string, after: Cursor, before: string, shard?: { index: number; count: number }): Promise<UnplaceableOrder[]> {
  const params: unknown[] = [after.ts, before];
  let nullKey = 'q.order_id IS NULL AND q.updated_at >= $1 AND q.updated_at < $2';
  let nullTs = 'q.updated_at IS NULL AND q.order_id IS NOT NULL';
  if (shard && shard.count > 1) {
    params.push(shard.count, shard.index);
    nullTs += ` AND mod(abs(hashtext(q.order_id::text)::bigint), $3) = $4`;
    if (shard.index !== 0) nullKey = `false AND ${nullKey}`; // no hash without a key: shard 0 reports them
  }
  params.push(UNPLACEABLE_LIMIT);
  const rows = await source.query<{ key: string | null; ts: string | null }>(
    `SELECT q.order_id::text AS key, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts
       FROM (
${query}
) AS q
      WHERE (${nullKey}) OR (${nullTs})
      ORDER BY q.updated_at, q.order_id
      LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) =>
    r.key === null
      ? { key: `order_id=NULL@${r.ts ?? ''}`, reason: `order_id: is required (the orders model returned NULL for a row updated at ${r.ts ?? '?'}); it is never sent` }
      : { key: r.key, reason: 'updated_at: is required (the orders model returned NULL, so the order has no place in the keyset pages); it is never sent until it has one' },
  );
}

/** How many orders lie between the cursor and the bound (for progress and ETA). */
export async function countOrders(source: Source, query: string, after: Cursor, before: string, shard?: { index: number; count: number }): Promise<number> {
  const { where, params } = rangeFilter(after, before, shard);
  const rows = await source.query<{ n: string }>(`SELECT count(*)::text AS n FROM (
${query}
) AS q WHERE ${where}`, params);
  return Number(rows[0]?.n ?? 0);
}

/** The lines of a page of orders, by order id: one query, the ids bound as an array to :order_ids. */
export async function linesFor(source: Source, itemsQuery: string, orderKeys: readonly string[]): Promise<Map<string, Row[]>> {
  const byOrder = new Map<string, Row[]>();
  if (orderKeys.length === 0) return byOrder;
  const sql = bindOrderIds(itemsQuery);
  const rows = await source.query<Row>(sql, [orderKeys]);
  for (const line of rows) {
    const key = String(line.order_id);
    const list = byOrder.get(key);
    if (list) list.push(line);
    else byOrder.set(key, [line]);
  }
  return byOrder;
}

/** Replace the named parameter `:order_ids` (not a `::cast`) with a positional one. */
export function bindOrderIds(itemsQuery: string): string {
  return itemsQuery.replace(/(?<!:):order_ids\b/g, '$1');
}

/** Orders by key, fresh from the model (replay). */
export async function ordersByKeys(source: Source, query: string, keys: readonly string[]): Promise<OrderRow[]> {
  if (keys.length === 0) return [];
  const rows = await source.query<Row & { __pcs_ts: string; __pcs_key: string }>(
    `SELECT q.*, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS "__pcs_ts", q.order_id::text AS "__pcs_key"
       FROM (
${query}
) AS q WHERE q.order_id::text = ANY($1::text[]) ORDER BY q.updated_at, q.order_id`,
    [keys],
  );
  return rows.map(({ __pcs_ts: ts, __pcs_key: key, ...row }) => ({ row, key, cursor: { ts, key } }));
}
