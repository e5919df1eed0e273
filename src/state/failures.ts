/**
 * Failures: rows that could not be delivered, with their class and reason, until a later delivery resolves them.
 * A *warning* is a row that was delivered without optional fields whose values were bad (the reason names each
 * field and value): it is in the ledger, and stays open until a replay sends it without warnings.
 */
import type { Knex } from 'knex';
import type { FailureClass } from '../errors.js';
import { pgArray, type StateDb } from './db.js';

/** The classes a failure row can have: what the API or the builder said, and `warning` for a delivery that left fields out. */
export type FailureRowClass = Exclude<FailureClass, 'fatal'> | 'warning';

export interface FailureRecord {
  key: string;
  class: FailureRowClass;
  reason: string;
  status?: number | undefined;
  /** Orders: the road it failed on (`sync` for the order-sync API); replay sends it again the same way. */
  road?: string | undefined;
}

export async function recordFailures(db: StateDb, trx: Knex.Transaction, job: string, failures: readonly FailureRecord[], runId: string): Promise<void> {
  if (failures.length === 0) return;
  for (let i = 0; i < failures.length; i += 2000) {
    const chunk = failures.slice(i, i + 2000);
    await trx.raw(
      `INSERT INTO ??.failures (job, key, class, reason, status, road, run_id)
       SELECT ?, k, c, r, s, rd, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[]) AS u(k, c, r, s, rd)
       ON CONFLICT (job, key) WHERE resolved_at IS NULL DO UPDATE
         SET class = EXCLUDED.class, reason = EXCLUDED.reason, status = EXCLUDED.status, road = EXCLUDED.road, run_id = EXCLUDED.run_id,
             occurrences = failures.occurrences + 1, last_failed_at = now()`,
      [db.schema, job, runId, pgArray(chunk.map((f) => f.key)), pgArray(chunk.map((f) => f.class)), pgArray(chunk.map((f) => f.reason)), pgArray(chunk.map((f) => f.status ?? null)), pgArray(chunk.map((f) => f.road ?? null))],
    );
  }
}

/** Mark open failures of these keys resolved (they have now been delivered). */
export async function resolveFailures(db: StateDb, trx: Knex.Transaction, job: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await trx.raw(`UPDATE ??.failures SET resolved_at = now() WHERE job = ? AND resolved_at IS NULL AND key = ANY(?::text[])`, [db.schema, job, pgArray(keys)]);
}

export interface OpenFailureCount {
  job: string;
  class: string;
  count: number;
}

export async function countOpenFailures(db: StateDb): Promise<OpenFailureCount[]> {
  const rows = await db
    .table('failures')
    .whereNull('resolved_at')
    .groupBy('job', 'class')
    .select<{ job: string; class: string; count: string }[]>('job', 'class', db.knex.raw('count(*) AS count'))
    .orderBy(['job', 'class']);
  return rows.map((r) => ({ job: r.job, class: r.class, count: Number(r.count) }));
}

export interface OpenFailure {
  job: string;
  key: string;
  class: string;
  reason: string;
  status: number | null;
  occurrences: number;
  lastFailedAt: Date;
}

export async function listOpenFailures(db: StateDb, filter: { job?: string; class?: string; limit?: number } = {}): Promise<OpenFailure[]> {
  let q = db.table('failures').whereNull('resolved_at');
  if (filter.job) q = q.where('job', filter.job);
  if (filter.class) q = q.where('class', filter.class);
  const rows = await q
    .orderBy('last_failed_at', 'desc')
    .limit(filter.limit ?? 20)
    .select<{ job: string; key: string; class: string; reason: string; status: number | null; occurrences: number; last_failed_at: Date }[]>(
      'job',
      'key',
      'class',
      'reason',
      'status',
      'occurrences',
      'last_failed_at',
    );
  return rows.map((r) => ({ job: r.job, key: r.key, class: r.class, reason: r.reason, status: r.status, occurrences: r.occurrences, lastFailedAt: r.last_failed_at }));
}

export interface FailureFilter {
  job?: string | undefined;
  class?: 'invalid' | 'rejected' | 'warning' | undefined;
  /** Only failures that happened at or after this instant. */
  since?: Date | undefined;
}

/** Open failures in id order, a page at a time (replay). */
export async function openFailurePage(db: StateDb, filter: FailureFilter, afterId: number, limit: number): Promise<{ id: number; job: string; key: string; class: string; reason: string; road: string | null }[]> {
  let q = db.table('failures').whereNull('resolved_at').where('id', '>', afterId);
  if (filter.job) q = q.where('job', filter.job);
  if (filter.class) q = q.where('class', filter.class);
  if (filter.since) q = q.where('last_failed_at', '>=', filter.since);
  const rows = await q.orderBy('id').limit(limit).select<{ id: string; job: string; key: string; class: string; reason: string; road: string | null }[]>('id', 'job', 'key', 'class', 'reason', 'road');
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Close failures that need nothing sent any more: the row is gone from the source, or was delivered since. */
export async function resolveGone(db: StateDb, job: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.knex.raw(
    `UPDATE ??.failures SET resolved_at = now(), reason = reason || ' (resolved by replay: gone from the source or delivered since)' WHERE job = ? AND resolved_at IS NULL AND key = ANY(?::text[])`,
    [db.schema, job, pgArray(keys)],
  );
}
