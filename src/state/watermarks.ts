/** Watermarks: where each job stream (incremental, a backfill range, a shard) has got to. */
import type { Knex } from 'knex';
import type { Cursor } from '../cursor.js';
import type { StateDb } from './db.js';

export type { Cursor } from '../cursor.js';

export interface WatermarkRow {
  name: string;
  cursor: Cursor;
  upperBound: string | null;
  runId: string | null;
  updatedAt: Date;
}

interface RawRow {
  name: string;
  cursor_ts: string;
  cursor_key: string | null;
  upper_bound: string | null;
  run_id: string | null;
  updated_at: Date;
}

export async function readWatermark(db: StateDb, name: string): Promise<Cursor | undefined> {
  const row = await db.table('watermarks').where({ name }).first<RawRow | undefined>();
  return row ? { ts: row.cursor_ts, key: row.cursor_key } : undefined;
}

export async function writeWatermark(
  db: StateDb,
  trx: Knex.Transaction | Knex,
  name: string,
  cursor: Cursor,
  meta: { upperBound?: string | undefined; runId: string },
): Promise<void> {
  await trx
    .withSchema(db.schema)
    .table('watermarks')
    .insert({ name, cursor_ts: cursor.ts, cursor_key: cursor.key, upper_bound: meta.upperBound ?? null, run_id: meta.runId, updated_at: trx.fn.now() })
    .onConflict('name')
    .merge();
}

/** Write a watermark only where none is yet (a starting point); the one in place afterwards, this or another's. */
export async function startWatermark(db: StateDb, name: string, cursor: Cursor, meta: { upperBound?: string | undefined; runId: string }): Promise<Cursor> {
  await db.knex
    .withSchema(db.schema)
    .table('watermarks')
    .insert({ name, cursor_ts: cursor.ts, cursor_key: cursor.key, upper_bound: meta.upperBound ?? null, run_id: meta.runId, updated_at: db.knex.fn.now() })
    .onConflict('name')
    .ignore();
  return (await readWatermark(db, name)) ?? cursor;
}

export async function listWatermarks(db: StateDb): Promise<WatermarkRow[]> {
  const rows = await db.table('watermarks').select<RawRow[]>('*').orderBy('name');
  return rows.map((r) => ({
    name: r.name,
    cursor: { ts: r.cursor_ts, key: r.cursor_key },
    upperBound: r.upper_bound,
    runId: r.run_id,
    updatedAt: r.updated_at,
  }));
}
