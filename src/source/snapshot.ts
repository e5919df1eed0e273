/**
 * Cart and wishlist snapshots: the operator's one-row-per-line SELECT, read in pages keyed on did in byte order
 * (COLLATE "C", the same order as the ledger), one device's lines always together. No transaction spans pages.
 * The catalogue's models are read the same way keyed on `id` (a product or category returned twice is then a group
 * of two rows, which the job refuses as a model error).
 */
import type { Row } from '../payloads/index.js';
import { shardPredicate, type Shard } from '../shard.js';
import { nextLimit, packWithin, pageEnd, rowBytes, withinBytes, type KeySize } from './byte-budget.js';
import type { Source } from './db.js';
import { Binder, fromModel, type Statement } from './statement.js';

export interface DeviceLines {
  did: string;
  /** The device's rows, as the page query gave them: they may hold its own columns `__pcs_did` and `__pcs_did_type`. */
  lines: Row[];
}

/** A device (a cart, a wishlist, a product) whose rows are more than `source.pageBytes`: counted, never read. */
export interface OversizeDevice {
  did: string;
  tooLarge: KeySize;
}

/** What a snapshot page holds for one key: its lines, or its size when it is too large to read. */
export type SnapshotDevice = DeviceLines | OversizeDevice;

type SnapshotRow = Row & { __pcs_did: string; __pcs_bytes?: unknown };

interface Page {
  /** The row limit it was read with, the rows it gave, and whether the byte budget cut it (`nextLimit`). */
  limit: number;
  rows: number;
  byBytes: boolean;
  devices: SnapshotDevice[];
  /** Where the next page starts (after this did); undefined when this page was the last. */
  after: string | undefined;
}

/**
 * A snapshot page: the model's rows of devices after `after` (a did, in byte order; null for the first page), at
 * most `limit` rows, and no row after the one that fills `bytes` (byte-budget.ts; "__pcs_bytes" is the running
 * total). The first page also asks for the type of did (see `snapshotPages`); later pages add the did text as
 * "__pcs_did" only when `didColumn` says the model's own did column is not already that text.
 */
export function snapshotPageStatement(
  query: string,
  page: {
    after: string | null;
    limit: number;
    bytes: number;
    shard: Shard | undefined;
    didColumn: DidColumn;
    key?: KeyColumn | undefined;
    changed?: ChangedWindow | undefined;
  },
): Statement {
  const b = new Binder();
  const first = page.after === null;
  const column = page.key ?? 'did';
  const k = `q.${column}`;
  const columns = first
    ? `q.*, ${k}::text AS "__pcs_did", pg_typeof(${k})::text AS "__pcs_did_type"`
    : page.didColumn !== '__pcs_did'
      ? 'q.*'
      : `q.*, ${k}::text AS "__pcs_did"`;
  const parts = [`${k} IS NOT NULL`];
  if (page.after !== null) parts.push(`${k}::text COLLATE "C" > ${b.bind(page.after)}`);
  if (page.changed !== undefined) {
    if (page.changed.since !== null) parts.push(`q.updated_at::timestamptz >= ${b.bind(page.changed.since)}::timestamptz`);
    parts.push(`q.updated_at::timestamptz < ${b.bind(page.changed.before)}::timestamptz`);
  }
  const inShard = shardPredicate(`${k}::text`, page.shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  const limit = b.bind(page.limit);
  // The row's size is taken of the model's own columns (q), before the page adds its own.
  const inner = `SELECT ${columns}, ${rowBytes('q')} AS "__pcs_size"
            FROM ${fromModel(query)}
           WHERE ${parts.join(' AND ')}
           ORDER BY ${k}::text COLLATE "C"
           LIMIT ${limit}`;
  return b.statement(withinBytes(inner, (a) => `${a}.${column}::text COLLATE "C"`, b.bind(page.bytes)));
}

/** How many rows one device has and the bytes they count as (a device with more lines than a page is sized first). */
export function deviceSizeStatement(query: string, did: string, shard: Shard | undefined, key: KeyColumn = 'did'): Statement {
  const b = new Binder();
  const parts = [`q.${key}::text COLLATE "C" = ${b.bind(did)}`];
  const inShard = shardPredicate(`q.${key}::text`, shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return b.statement(`SELECT count(*)::float8 AS n, coalesce(sum(${rowBytes('q')}), 0)::float8 AS bytes FROM ${fromModel(query)} WHERE ${parts.join(' AND ')}`);
}

/** Every line of one device (a device with more lines than a page is read on its own). */
export function deviceLinesStatement(query: string, did: string, shard: Shard | undefined, key: KeyColumn = 'did'): Statement {
  const b = new Binder();
  const parts = [`q.${key}::text COLLATE "C" = ${b.bind(did)}`];
  const inShard = shardPredicate(`q.${key}::text`, shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return b.statement(`SELECT q.*, q.${key}::text AS "__pcs_did" FROM ${fromModel(query)} WHERE ${parts.join(' AND ')}`);
}

/** Rows changed in a window of updated_at (`sync products`): from `since` (inclusive; null: from the start) to `before`. */
export interface ChangedWindow {
  since: string | null;
  before: string;
}

/** The model column a snapshot is keyed on: `did` (carts, wishlists) or `id` (categories, products). */
export type KeyColumn = 'did' | 'id';

/** Where a row's key text is: the model's own key column when it is text, else the added "__pcs_did". */
export type DidColumn = KeyColumn | '__pcs_did';

/**
 * Every device of the snapshot in did byte order, its lines grouped. A page ends at `pageSize` lines or at
 * `source.pageBytes`; the last device of a cut page may be cut, so it is dropped and read again at the start of the
 * next page (a device with more lines than a page is sized, then read on its own, or given as an `OversizeDevice`
 * when it is larger than `source.pageBytes`).
 */
export async function* snapshotDevices(
  source: Source,
  query: string,
  pageSize: number,
  shard: Shard | undefined,
  key: KeyColumn = 'did',
): AsyncGenerator<SnapshotDevice> {
  for await (const page of snapshotPages(source, query, pageSize, shard, key)) yield* page;
}

/**
 * The snapshot page by page (each a run of whole devices in did byte order, never empty). The next page is read
 * while the consumer works on this one: its start is known as soon as this one arrives, and the query runs in the
 * database while this process groups, hashes and compares (a page query is a read on its own, so reading it early
 * changes nothing but the time).
 *
 * When the first page shows the did is text or varchar, the value node-postgres gives is its ::text already, and
 * later pages leave out the second copy (one string less to decode per line). Other types (integers, uuid, char(n),
 * …) keep the "__pcs_did" column.
 */
export async function* snapshotPages(
  source: Source,
  query: string,
  pageSize: number,
  shard: Shard | undefined,
  keyColumn: KeyColumn = 'did',
  changed?: ChangedWindow,
): AsyncGenerator<SnapshotDevice[]> {
  let didColumn: DidColumn = '__pcs_did';
  const budget = source.pageBytes;
  const readPage = async (after: string | null, limit: number): Promise<Page> => {
    const key = didColumn;
    const rows = await source.query<SnapshotRow>(snapshotPageStatement(query, { after, limit, bytes: budget, shard, didColumn, key: keyColumn, changed }));
    if (rows.length === 0) return { devices: [], after: undefined, limit, rows: 0, byBytes: false };
    if (after === null && TEXT_TYPES.has(String(rows[0]?.__pcs_did_type))) didColumn = keyColumn;
    const groups: SnapshotDevice[] = group(rows, key);
    const { more, byBytes } = pageEnd(rows, limit, budget);
    if (more) {
      const last = groups.pop();
      if (groups.length === 0 && last) {
        // One device fills the whole page: its size first, then all of its lines at once, or only its size.
        const [size] = await source.query<{ n: number; bytes: number }>(deviceSizeStatement(query, last.did, shard, keyColumn));
        const tooLarge = { rows: Number(size?.n ?? 0), bytes: Number(size?.bytes ?? 0) };
        if (tooLarge.bytes > budget) groups.push({ did: last.did, tooLarge });
        else groups.push(...group(await source.query<SnapshotRow>(deviceLinesStatement(query, last.did, shard, keyColumn)), '__pcs_did'));
      }
    }
    const tail = groups[groups.length - 1];
    return { devices: groups, after: !tail || !more ? undefined : tail.did, limit, rows: rows.length, byBytes };
  };

  let next: Promise<Page> | undefined = readPage(null, pageSize);
  while (next !== undefined) {
    const page: Page = await next;
    next = page.after === undefined ? undefined : readPage(page.after, nextLimit(page, pageSize));
    // Should the consumer stop before it awaits this read, its failure must not surface as an unhandled rejection.
    next?.catch(() => undefined);
    if (page.devices.length > 0) yield page.devices;
  }
}

/** Types whose node-postgres value is the same string as their ::text. */
const TEXT_TYPES: ReadonlySet<string> = new Set(['text', 'character varying']);

/**
 * Consecutive rows of one did as one device, the did text taken from `key` (a string there: `__pcs_did`, or `did`
 * when the model's did is text). The rows are kept as they are (no copy without `__pcs_did`).
 */
function group(rows: Row[], key: DidColumn): DeviceLines[] {
  const out: DeviceLines[] = [];
  let current: DeviceLines | undefined;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    const did = row[key] as string;
    if (current === undefined || current.did !== did) {
      current = { did, lines: [row] };
      out.push(current);
    } else current.lines.push(row);
  }
  return out;
}

/** Compare two strings in Postgres "C" collation order (UTF-8 bytes, i.e. code points), not UTF-16 units. */
export function compareC(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb && (sa ? cb >= 0xe000 : ca >= 0xe000)) return sa ? 1 : -1; // a surrogate pair is a code point above U+FFFF
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}

/** The lines of these devices, fresh from the model (replay). */
export function devicesByDidStatement(query: string, dids: readonly string[], key: KeyColumn = 'did'): Statement {
  return { text: `SELECT q.*, q.${key}::text AS "__pcs_did" FROM ${fromModel(query)} WHERE q.${key}::text = ANY($1::text[])`, values: [dids] };
}

/** The lines of these devices, fresh from the model (replay); a device with no lines is absent from the result. */
export async function devicesByDid(source: Source, query: string, dids: readonly string[], key: KeyColumn = 'did'): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  if (dids.length === 0) return out;
  const rows = await source.query<SnapshotRow>(devicesByDidStatement(query, dids, key));
  for (const { __pcs_did: did, ...row } of rows) {
    const lines = out.get(did);
    if (lines === undefined) out.set(did, [row]);
    else lines.push(row);
  }
  return out;
}

/** Devices asked for by key, sized before any is read: in runs within `source.pageBytes`, too large, or gone from the model. */
export interface SizedDevices {
  /** Keys to read together (`devicesByDid`), each run within the budget. */
  runs: string[][];
  tooLarge: Map<string, KeySize>;
  /** Keys the model has no row for (a cart emptied, a product deleted). */
  missing: string[];
}

/** How many rows each of these devices has and the bytes they count as: counted in the database, none read. */
export function deviceSizesStatement(query: string, dids: readonly string[], key: KeyColumn = 'did'): Statement {
  return {
    text: `SELECT q.${key}::text AS did, count(*)::float8 AS n, sum(${rowBytes('q')})::float8 AS bytes FROM ${fromModel(query)} WHERE q.${key}::text = ANY($1::text[]) GROUP BY 1`,
    values: [dids],
  };
}

/** Size these keys and pack them into runs within `budget` (default `source.pageBytes`). */
export async function sizeDevices(
  source: Source,
  query: string,
  dids: readonly string[],
  key: KeyColumn = 'did',
  budget = source.pageBytes,
): Promise<SizedDevices> {
  const sizes = new Map<string, KeySize>();
  if (dids.length > 0) {
    for (const r of await source.query<{ did: string; n: number; bytes: number }>(deviceSizesStatement(query, dids, key))) {
      sizes.set(r.did, { rows: Number(r.n), bytes: Number(r.bytes) });
    }
  }
  const present = dids.filter((did) => sizes.has(did));
  const { runs, over } = packWithin(present, (did) => sizes.get(did)?.bytes ?? 0, budget);
  return {
    runs,
    tooLarge: new Map(over.map((did) => [did, sizes.get(did) ?? { rows: 0, bytes: 0 }])),
    missing: dids.filter((did) => !sizes.has(did)),
  };
}
