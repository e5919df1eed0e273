/** The events model (one-off migrations): one row per request, keyset pages on its unique event_key. */
import type { Row } from '../payloads/index.js';
import { shardPredicate, type Shard } from '../shard.js';
import { pageEnd, rowBytes, withinBytes } from './byte-budget.js';
import type { Source } from './db.js';
import { Binder, fromModel, type Statement } from './statement.js';

export interface EventRow {
  key: string;
  row: Row;
}

type KeyedRow = Row & { __pcs_key: string; __pcs_size?: unknown; __pcs_bytes?: unknown };

function toEventRows(rows: readonly KeyedRow[]): EventRow[] {
  return rows.map(({ __pcs_key: key, __pcs_size: _size, __pcs_bytes: _total, ...row }) => ({ key, row }));
}

/**
 * The next page of events after `after` (a key; null for the first page), in event_key byte order: at most `limit`
 * rows, and no row after the one that fills `bytes` (byte-budget.ts; "__pcs_bytes" is the running total).
 */
export function eventsPageStatement(query: string, after: string | null, limit: number, shard: Shard | undefined, bytes: number): Statement {
  const b = new Binder();
  const parts = ['q.event_key IS NOT NULL'];
  if (after !== null) parts.push(`q.event_key::text COLLATE "C" > ${b.bind(after)}`);
  const inShard = shardPredicate('q.event_key::text', shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  const inner = `SELECT q.*, q.event_key::text AS "__pcs_key", ${rowBytes('q')} AS "__pcs_size"
            FROM ${fromModel(query)}
           WHERE ${parts.join(' AND ')}
           ORDER BY q.event_key::text COLLATE "C"
           LIMIT ${b.bind(limit)}`;
  return b.statement(withinBytes(inner, (a) => `${a}.event_key::text COLLATE "C"`, b.bind(bytes)));
}

/** A page of events, and whether more may follow (it was cut by rows or by bytes). */
export async function eventsPage(
  source: Source,
  query: string,
  after: string | null,
  limit: number,
  shard: Shard | undefined,
): Promise<{ events: EventRow[]; more: boolean; byBytes: boolean }> {
  const rows = await source.query<KeyedRow>(eventsPageStatement(query, after, limit, shard, source.pageBytes));
  return { events: toEventRows(rows), ...pageEnd(rows, limit, source.pageBytes) };
}

/**
 * Event rows of these keys, fresh from the model (replay), after `after` (null: from the first), in event_key byte
 * order, and no row after the one that fills `bytes` (as a run's pages: byte-budget.ts).
 */
export function eventsByKeysStatement(query: string, keys: readonly string[], after: string | null, bytes: number): Statement {
  const b = new Binder();
  const parts = [`q.event_key::text = ANY(${b.bind(keys)}::text[])`];
  if (after !== null) parts.push(`q.event_key::text COLLATE "C" > ${b.bind(after)}`);
  const inner = `SELECT q.*, q.event_key::text AS "__pcs_key", ${rowBytes('q')} AS "__pcs_size"
            FROM ${fromModel(query)}
           WHERE ${parts.join(' AND ')}
           ORDER BY q.event_key::text COLLATE "C"`;
  return b.statement(withinBytes(inner, (a) => `${a}.event_key::text COLLATE "C"`, b.bind(bytes)));
}

/**
 * The event rows of these keys, fresh from the model, a read of at most `source.pageBytes` at a time (the next read
 * starts after the last key of this one): a replay of hundreds of large events holds no more than a run's page.
 */
export async function* eventsByKeys(source: Source, query: string, keys: readonly string[]): AsyncGenerator<EventRow[]> {
  let after: string | null = null;
  while (keys.length > 0) {
    const rows: KeyedRow[] = await source.query<KeyedRow>(eventsByKeysStatement(query, keys, after, source.pageBytes));
    const last = rows[rows.length - 1];
    if (last === undefined) return;
    yield toEventRows(rows);
    // Cut by bytes: the keys after the last one read are still to come.
    if (!pageEnd(rows, keys.length, source.pageBytes).byBytes) return;
    after = last.__pcs_key;
  }
}
