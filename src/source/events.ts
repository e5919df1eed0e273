/** The events model (one-off migrations): one row per request, keyset pages on its unique event_key. */
import type { Row } from '../payloads/index.js';
import type { Source } from './db.js';

export interface EventRow {
  key: string;
  row: Row;
}

export async function eventsPage(source: Source, query: string, after: string | null, limit: number, shard?: { index: number; count: number }): Promise<EventRow[]> {
  const params: unknown[] = [limit];
  let where = 'q.event_key IS NOT NULL';
  if (after !== null) {
    params.push(after);
    where += ` AND q.event_key::text COLLATE "C" > $${params.length}`;
  }
  if (shard && shard.count > 1) {
    params.push(shard.count, shard.index);
    where += ` AND mod(abs(hashtext(q.event_key::text)::bigint), $${params.length - 1}) = $${params.length}`;
  }
  const rows = await source.query<Row & { __pcs_key: string }>(
    `SELECT q.*, q.event_key::text AS "__pcs_key" FROM (
${query}
) AS q WHERE ${where} ORDER BY q.event_key::text COLLATE "C" LIMIT $1`,
    params,
  );
  return rows.map(({ __pcs_key: key, ...row }) => ({ key, row }));
}

/** Event rows by key, fresh from the model (replay). */
export async function eventsByKeys(source: Source, query: string, keys: readonly string[]): Promise<EventRow[]> {
  if (keys.length === 0) return [];
  const rows = await source.query<Row & { __pcs_key: string }>(
    `SELECT q.*, q.event_key::text AS "__pcs_key" FROM (
${query}
) AS q WHERE q.event_key::text = ANY($1::text[]) ORDER BY q.event_key::text COLLATE "C"`,
    [keys],
  );
  return rows.map(({ __pcs_key: key, ...row }) => ({ key, row }));
}
