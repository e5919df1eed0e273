/** The events model (one-off migrations): one row per request, keyset pages on its unique event_key. */
import type { Row } from '../payloads/index.js';
import { shardPredicate, type Shard } from '../shard.js';
import type { Source } from './db.js';
import { Binder, fromModel, type Statement } from './statement.js';

export interface EventRow {
  key: string;
  row: Row;
}

type KeyedRow = Row & { __pcs_key: string };

function toEventRows(rows: readonly KeyedRow[]): EventRow[] {
  return rows.map(({ __pcs_key: key, ...row }) => ({ key, row }));
}

/** The next page of events after `after` (a key; null for the first page), in event_key byte order. */
export function eventsPageStatement(query: string, after: string | null, limit: number, shard: Shard | undefined): Statement {
  const b = new Binder();
  const parts = ['q.event_key IS NOT NULL'];
  if (after !== null) parts.push(`q.event_key::text COLLATE "C" > ${b.bind(after)}`);
  const inShard = shardPredicate('q.event_key::text', shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return b.statement(`SELECT q.*, q.event_key::text AS "__pcs_key" FROM ${fromModel(query)}
 WHERE ${parts.join(' AND ')} ORDER BY q.event_key::text COLLATE "C" LIMIT ${b.bind(limit)}`);
}

export async function eventsPage(source: Source, query: string, after: string | null, limit: number, shard: Shard | undefined): Promise<EventRow[]> {
  return toEventRows(await source.query<KeyedRow>(eventsPageStatement(query, after, limit, shard)));
}

/** Event rows by key, fresh from the model (replay). */
export function eventsByKeysStatement(query: string, keys: readonly string[]): Statement {
  return {
    text: `SELECT q.*, q.event_key::text AS "__pcs_key" FROM ${fromModel(query)}
 WHERE q.event_key::text = ANY($1::text[]) ORDER BY q.event_key::text COLLATE "C"`,
    values: [keys],
  };
}

export async function eventsByKeys(source: Source, query: string, keys: readonly string[]): Promise<EventRow[]> {
  if (keys.length === 0) return [];
  return toEventRows(await source.query<KeyedRow>(eventsByKeysStatement(query, keys)));
}
