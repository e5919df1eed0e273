/**
 * The orders model: keyset pages over the operator's SELECT on (updated_at, order_id), and its lines for a whole page
 * in one query. Each statement is built here as `{text, values}` (the jobs run it, `check` EXPLAINs the same one);
 * the operator's SQL is wrapped, never edited, and only values are bound.
 */
import type { Row } from '../payloads/index.js';
import { shardPredicate, type Shard } from '../shard.js';
import type { Cursor } from '../cursor.js';
import type { Source } from './db.js';
import { bindOrderIds } from './sql-text.js';
import { pageEnd, rowBytes, withinBytes, type KeySize } from './byte-budget.js';
import { Binder, fromModel, instant, type Statement } from './statement.js';

/** UTC text with microseconds: what cursors are made of (a JS Date would drop the microseconds). */
const TS_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
/** A row's updated_at as cursor text. */
const CURSOR_TS = `to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT})`;
/** The columns a page adds to the model's: the cursor text and the key. */
const KEY_COLUMNS = `${CURSOR_TS} AS "__pcs_ts", q.order_id::text AS "__pcs_key"`;

export interface OrderRow {
  row: Row;
  key: string;
  cursor: Cursor;
  /** The bytes the row counts as (byte-budget.ts), when the statement measured it. */
  bytes?: number;
}

type KeyedRow = Row & { __pcs_ts: string; __pcs_key: string; __pcs_size?: string | number; __pcs_bytes?: unknown };

function toOrderRows(rows: readonly KeyedRow[]): OrderRow[] {
  return rows.map(({ __pcs_ts: ts, __pcs_key: key, __pcs_size: size, __pcs_bytes: _total, ...row }) =>
    size === undefined ? { row, key, cursor: { ts, key } } : { row, key, cursor: { ts, key }, bytes: Number(size) },
  );
}

// ───────────────────────────── the run's bounds ─────────────────────────────

/**
 * The frozen upper bound of a run (exclusive): now() minus the settle lag, and no later than the start of the
 * oldest transaction still open in the shop's database (where pg_stat_activity shows it), so that an order committed
 * late with an earlier updated_at is still ahead of the watermark.
 */
export function upperBoundStatement(settleSeconds: number): Statement {
  return {
    text: `WITH oldest AS (
       SELECT pid, application_name, xact_start FROM pg_stat_activity
        WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()
          AND backend_type = 'client backend'
        ORDER BY xact_start LIMIT 1)
     SELECT to_char(least(now() - make_interval(secs => $1), (SELECT xact_start FROM oldest)) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS bound,
            to_char((now() - make_interval(secs => $1)) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS settle,
            to_char((SELECT xact_start FROM oldest) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS oldest,
            (SELECT pid FROM oldest) AS pid, (SELECT application_name FROM oldest) AS app`,
    values: [settleSeconds],
  };
}

export interface UpperBound {
  bound: string;
  /** The open transaction that holds the bound back, when one does. */
  heldBy?: { pid: number; since: string; application: string };
}

export async function upperBound(source: Source, settleSeconds: number): Promise<UpperBound> {
  const rows = await source.query<{ bound: string; settle: string; oldest: string | null; pid: number | null; app: string | null }>(
    upperBoundStatement(settleSeconds),
  );
  const r = rows[0];
  if (!r) throw new Error('upper bound query returned no row');
  if (r.oldest !== null && r.oldest < r.settle && r.pid !== null) return { bound: r.bound, heldBy: { pid: r.pid, since: r.oldest, application: r.app ?? '' } };
  return { bound: r.bound };
}

/** Current time of the shop's database as cursor text (the starting point of `startFrom: now`). */
export async function sourceNow(source: Source): Promise<string> {
  const rows = await source.query<{ now: string }>({ text: `SELECT to_char(now() AT TIME ZONE 'UTC', ${TS_FORMAT}) AS now`, values: [] });
  return rows[0]?.now ?? new Date().toISOString();
}

// ───────────────────────────── keyset pages ─────────────────────────────

export interface PageRequest {
  /** Where the page starts: after this cursor (or at its ts, inclusive, when its key is null). */
  after: Cursor;
  /** Exclusive upper bound on updated_at. */
  before: string;
  limit: number;
  /** The page stops at the row that fills this many bytes (byte-budget.ts; `source.pageBytes`). */
  bytes: number;
  /** The shard whose orders the page holds; undefined for all. */
  shard?: Shard | undefined;
  /** Inclusive keyset ceilings as well (a backfill stops where the incremental sync has read: see `ceilingCondition`). */
  through?: readonly Cursor[] | undefined;
}

/** A range of the model's orders: after a cursor, before a bound, at or before each ceiling, of a shard. */
export interface OrderSpan {
  after: Cursor;
  before: string;
  shard: Shard | undefined;
  through?: readonly Cursor[] | undefined;
}

/**
 * At or before a keyset position another reader has passed: up to and including `(ts, key)`, or before `ts` when the
 * position has no key yet (a start point, read from `ts` inclusive). A backfill bounded so reads exactly what the
 * incremental sync has not: no order at the sync's watermark timestamp is left to neither.
 */
function ceilingCondition(b: Binder, through: Cursor): string {
  return through.key === null
    ? `q.updated_at < ${instant(b, through.ts)}`
    : `(q.updated_at, q.order_id) <= (${instant(b, through.ts)}, ${b.bind(through.key)})`;
}

/**
 * Orders after the cursor and before the bound (and of the shard). A NULL order_id has no place in the keyset (and
 * no key for the books): `unplaceableOrdersStatement` reports it instead.
 */
function rangeCondition(b: Binder, after: Cursor, before: string, shard: Shard | undefined, through: readonly Cursor[] = []): string {
  const ts = instant(b, after.ts);
  const parts = [after.key === null ? `q.updated_at >= ${ts}` : `(q.updated_at, q.order_id) > (${ts}, ${b.bind(after.key)})`];
  parts.push(`q.updated_at < ${instant(b, before)}`, ...through.map((c) => ceilingCondition(b, c)), 'q.order_id IS NOT NULL');
  const inShard = shardPredicate('q.order_id::text', shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return parts.join(' AND ');
}

/**
 * The next page of orders after the cursor, in (updated_at, order_id) order: at most `limit` rows, and no row after
 * the one that fills `bytes` (each row measured in the database, byte-budget.ts). "__pcs_bytes" is the running total.
 */
export function ordersPageStatement(query: string, page: PageRequest): Statement {
  const b = new Binder();
  const where = rangeCondition(b, page.after, page.before, page.shard, page.through);
  const inner = `SELECT q.*, ${KEY_COLUMNS}, ${rowBytes('q')} AS "__pcs_size"
            FROM ${fromModel(query)}
           WHERE ${where}
           ORDER BY q.updated_at, q.order_id
           LIMIT ${b.bind(page.limit)}`;
  return b.statement(withinBytes(inner, (a) => `${a}.updated_at, ${a}.order_id`, b.bind(page.bytes)));
}

export interface OrdersPage {
  orders: OrderRow[];
  /** The page was cut (by rows or bytes): more orders may follow its last. */
  more: boolean;
  /** It was the byte budget that cut it (see `nextLimit`). */
  byBytes: boolean;
}

export async function ordersPage(source: Source, query: string, page: Omit<PageRequest, 'bytes'>): Promise<OrdersPage> {
  const rows = await source.query<KeyedRow>(ordersPageStatement(query, { ...page, bytes: source.pageBytes }));
  return { orders: toOrderRows(rows), ...pageEnd(rows, page.limit, source.pageBytes) };
}

/** How many orders lie between the cursor and the bound (for progress and ETA). */
export function countOrdersStatement(query: string, after: Cursor, before: string, shard: Shard | undefined, through?: readonly Cursor[]): Statement {
  const b = new Binder();
  const where = rangeCondition(b, after, before, shard, through);
  return b.statement(`SELECT count(*)::text AS n FROM ${fromModel(query)} WHERE ${where}`);
}

export async function countOrders(
  source: Source,
  query: string,
  after: Cursor,
  before: string,
  shard: Shard | undefined,
  through?: readonly Cursor[],
): Promise<number> {
  const rows = await source.query<{ n: string }>(countOrdersStatement(query, after, before, shard, through));
  return Number(rows[0]?.n ?? 0);
}

export interface Audience {
  orders: number;
  /** Distinct customers among them, by the first identifier each order gives (e-mail lower-cased). */
  customers: number;
}

/**
 * How many orders lie in a range and how many distinct customers they are of: what a first backfill says before it
 * asks for a yes. `identifiers` are the model's customer columns, in the order they name a customer (never config text:
 * the caller passes known column names only).
 */
export function audienceStatement(query: string, range: OrderSpan, identifiers: readonly string[]): Statement {
  const b = new Binder();
  const where = rangeCondition(b, range.after, range.before, range.shard, range.through);
  const who = identifiers.map((c) => (c === 'email' ? `'e:' || lower(nullif(btrim(q.email::text), ''))` : `'${c}:' || nullif(btrim(q.${c}::text), '')`));
  const customers = who.length === 0 ? '0' : `count(DISTINCT coalesce(${who.join(', ')}))`;
  return b.statement(`SELECT count(*)::text AS orders, ${customers}::text AS customers FROM ${fromModel(query)} WHERE ${where}`);
}

export async function audience(source: Source, query: string, range: OrderSpan, identifiers: readonly string[]): Promise<Audience> {
  const rows = await source.query<{ orders: string; customers: string }>(audienceStatement(query, range, identifiers));
  return { orders: Number(rows[0]?.orders ?? 0), customers: Number(rows[0]?.customers ?? 0) };
}

// ───────────────────────────── rows the pages cannot place ─────────────────────────────

export interface UnplaceableOrder {
  key: string;
  reason: string;
}

/** At most this many unplaceable rows are reported per run (each becomes a failure row). */
const UNPLACEABLE_LIMIT = 1000;

/**
 * Rows of the model the keyset pages cannot place, so they would otherwise vanish without a trace: a NULL order_id
 * updated within the run's range (reported under a key made of its updated_at), and a NULL updated_at anywhere
 * (under its order_id). One query per run; with the columns NOT NULL in the shop's table the planner answers it
 * without reading a row.
 */
export function unplaceableOrdersStatement(query: string, after: Cursor, before: string, shard: Shard | undefined): Statement {
  const b = new Binder();
  let nullKey = `q.order_id IS NULL AND q.updated_at >= ${instant(b, after.ts)} AND q.updated_at < ${instant(b, before)}`;
  let nullTs = 'q.updated_at IS NULL AND q.order_id IS NOT NULL';
  const inShard = shardPredicate('q.order_id::text', shard, b.bind);
  if (inShard !== undefined && shard) {
    nullTs += ` AND ${inShard}`;
    if (shard.index !== 0) nullKey = `false AND ${nullKey}`; // no hash without a key: shard 0 reports them
  }
  return b.statement(`SELECT q.order_id::text AS key, ${CURSOR_TS} AS ts
  FROM ${fromModel(query)}
 WHERE (${nullKey}) OR (${nullTs})
 ORDER BY q.updated_at, q.order_id
 LIMIT ${b.bind(UNPLACEABLE_LIMIT)}`);
}

export async function unplaceableOrders(source: Source, query: string, after: Cursor, before: string, shard: Shard | undefined): Promise<UnplaceableOrder[]> {
  const rows = await source.query<{ key: string | null; ts: string | null }>(unplaceableOrdersStatement(query, after, before, shard));
  return rows.map((r) =>
    r.key === null
      ? {
          key: `order_id=NULL@${r.ts ?? ''}`,
          reason: `order_id: is required (the orders model returned NULL for a row updated at ${r.ts ?? '?'}); it is never sent`,
        }
      : {
          key: r.key,
          reason: 'updated_at: is required (the orders model returned NULL, so the order has no place in the keyset pages); it is never sent until it has one',
        },
  );
}

// ───────────────────────────── the model's shape ─────────────────────────────

/** At most this many repeated keys are named (a model that multiplies rows usually multiplies many). */
export const REPEATED_SAMPLE = 5;

export interface RepeatedKey {
  key: string;
  /** How many rows the model gives for it. */
  rows: number;
}

/**
 * Order ids the model gives more than once among the orders of a range (or of the whole model when `range` is
 * undefined, as `check` asks): a join to payments, shipments or addresses that multiplies an order's row. Read before a
 * run sends anything, so that no order goes out twice and no keyset page skips a copy.
 */
export function repeatedOrdersStatement(query: string, range?: OrderSpan): Statement {
  const b = new Binder();
  const where = range === undefined ? 'q.order_id IS NOT NULL' : rangeCondition(b, range.after, range.before, range.shard, range.through);
  return b.statement(`SELECT q.order_id::text AS key, count(*)::int AS n
  FROM ${fromModel(query)}
 WHERE ${where}
 GROUP BY q.order_id
HAVING count(*) > 1
 ORDER BY min(q.updated_at), q.order_id
 LIMIT ${b.bind(REPEATED_SAMPLE)}`);
}

export async function repeatedOrders(source: Source, query: string, range?: OrderSpan): Promise<RepeatedKey[]> {
  const rows = await source.query<{ key: string; n: number }>(repeatedOrdersStatement(query, range));
  return rows.map((r) => ({ key: r.key, rows: r.n }));
}

// ───────────────────────────── lines, and orders by key ─────────────────────────────

/** The lines of a page of orders: the items query with the page's ids bound as one array to `:order_ids`. */
export function orderLinesStatement(itemsQuery: string, orderKeys: readonly string[]): Statement {
  return { text: bindOrderIds(itemsQuery), values: [orderKeys] };
}

/** The lines of a page of orders, by order id: one query for the whole page. */
export async function linesFor(source: Source, itemsQuery: string, orderKeys: readonly string[]): Promise<Map<string, Row[]>> {
  const byOrder = new Map<string, Row[]>();
  if (orderKeys.length === 0) return byOrder;
  const rows = await source.query<Row>(orderLinesStatement(itemsQuery, orderKeys));
  for (const line of rows) {
    const key = String(line.order_id);
    const list = byOrder.get(key);
    if (list) list.push(line);
    else byOrder.set(key, [line]);
  }
  return byOrder;
}

/** How many lines each of these orders has and the bytes they count as: the items query counted, never read. */
export function lineSizesStatement(itemsQuery: string, orderKeys: readonly string[]): Statement {
  return {
    text: `SELECT l.order_id::text AS key, count(*)::float8 AS n, sum(${rowBytes('l')})::float8 AS bytes
  FROM (
${bindOrderIds(itemsQuery)}
) AS l
 GROUP BY 1`,
    values: [orderKeys],
  };
}

export async function lineSizes(source: Source, itemsQuery: string, orderKeys: readonly string[]): Promise<Map<string, KeySize>> {
  const sizes = new Map<string, KeySize>();
  if (orderKeys.length === 0) return sizes;
  const rows = await source.query<{ key: string; n: number; bytes: number }>(lineSizesStatement(itemsQuery, orderKeys));
  for (const r of rows) sizes.set(r.key, { rows: Number(r.n), bytes: Number(r.bytes) });
  return sizes;
}

/** The bytes each of these orders' rows counts as (replay sizes its orders before it reads them). */
export function orderSizesStatement(query: string, keys: readonly string[]): Statement {
  return {
    text: `SELECT q.order_id::text AS key, ${rowBytes('q')}::float8 AS bytes FROM ${fromModel(query)} WHERE q.order_id::text = ANY($1::text[])`,
    values: [keys],
  };
}

export async function orderSizes(source: Source, query: string, keys: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (keys.length === 0) return sizes;
  for (const r of await source.query<{ key: string; bytes: number }>(orderSizesStatement(query, keys)))
    sizes.set(r.key, (sizes.get(r.key) ?? 0) + Number(r.bytes));
  return sizes;
}

/** Orders by key, fresh from the model (replay, and the order lifecycle). */
export function ordersByKeysStatement(query: string, keys: readonly string[]): Statement {
  return {
    text: `SELECT q.*, ${KEY_COLUMNS}
  FROM ${fromModel(query)}
 WHERE q.order_id::text = ANY($1::text[])
 ORDER BY q.updated_at, q.order_id`,
    values: [keys],
  };
}

export async function ordersByKeys(source: Source, query: string, keys: readonly string[]): Promise<OrderRow[]> {
  if (keys.length === 0) return [];
  return toOrderRows(await source.query<KeyedRow>(ordersByKeysStatement(query, keys)));
}

/**
 * The updated_at `fraction` of the way from the model's oldest to its newest, as cursor text (null for an empty
 * model): where `check` puts a cursor deep in the table. With an index on updated_at both ends are read from it.
 */
export function updatedAtPointStatement(query: string, fraction: number): Statement {
  return {
    text: `SELECT to_char((s.lo + (s.hi - s.lo) * $1::float8) AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts
  FROM (SELECT min(q.updated_at)::timestamptz AS lo, max(q.updated_at)::timestamptz AS hi FROM ${fromModel(query)}) AS s`,
    values: [fraction],
  };
}
