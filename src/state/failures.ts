/**
 * Failures: rows that could not be delivered, with their class and reason, until a later delivery resolves them.
 * A *warning* is a row that was delivered without optional fields whose values were bad (the reason names each
 * field and value): it is in the ledger, and stays open until a replay sends it without warnings.
 */
import type { Knex } from 'knex';
import type { FailureClass, ReplayClass } from '../errors.js';
import { withConnectionRetry } from '../db-retry.js';
import { storableText } from '../storable-text.js';
import { pgArray, type StateDb } from './db.js';
import { failuresInAscii } from './unstorable-failures.js';

/**
 * The classes a failure row can have: what the API or the builder said, `warning` for a delivery that left fields out,
 * `unconfirmed` for a delivered order that `report --verify` found missing or different at PersonaClick, and `held`
 * for an order only the order-sync API can carry while `personaclick.shopSecret` is not set.
 */
export type FailureRowClass = Exclude<FailureClass, 'fatal'> | 'warning' | 'unconfirmed' | 'held';

export interface FailureRecord {
  key: string;
  class: FailureRowClass;
  reason: string;
  status?: number | undefined;
  /** Orders: the road it failed on (`sync` for the order-sync API); replay sends it again the same way. */
  road?: string | undefined;
}

/**
 * Record failures of a run. An open `unconfirmed` row stays `unconfirmed` when the order fails again (a refused
 * resend, a row the builder refuses now): it takes the new reason, and replay still sends the whole order; only a
 * delivery (resolved) or a delivery with warnings (`warning`) ends it.
 */
export async function recordFailures(db: StateDb, trx: Knex.Transaction, job: string, failures: readonly FailureRecord[], runId: string): Promise<void> {
  if (failures.length === 0) return;
  for (let i = 0; i < failures.length; i += 2000) {
    const chunk = failures.slice(i, i + 2000);
    await trx.raw(
      `INSERT INTO ??.failures (job, key, class, reason, status, road, run_id)
       SELECT ?, k, c, r, s, rd, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::int[], ?::text[]) AS u(k, c, r, s, rd)
       ON CONFLICT (job, key) WHERE resolved_at IS NULL DO UPDATE
         SET class = CASE WHEN failures.class = 'unconfirmed' AND EXCLUDED.class <> 'warning' THEN failures.class ELSE EXCLUDED.class END,
             reason = EXCLUDED.reason, status = EXCLUDED.status,
             road = CASE WHEN failures.class = 'unconfirmed' AND EXCLUDED.class <> 'warning' THEN coalesce(EXCLUDED.road, failures.road) ELSE EXCLUDED.road END,
             run_id = EXCLUDED.run_id,
             occurrences = failures.occurrences + 1, last_failed_at = now()`,
      [
        db.schema,
        job,
        runId,
        pgArray(chunk.map((f) => f.key)),
        pgArray(chunk.map((f) => f.class)),
        pgArray(chunk.map((f) => f.reason)),
        pgArray(chunk.map((f) => f.status ?? null)),
        pgArray(chunk.map((f) => f.road ?? null)),
      ],
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
  return rows.map((r) => ({
    job: r.job,
    key: r.key,
    class: r.class,
    reason: r.reason,
    status: r.status,
    occurrences: r.occurrences,
    lastFailedAt: r.last_failed_at,
  }));
}

export interface FailureFilter {
  job?: string | undefined;
  class?: ReplayClass | undefined;
  /** Only failures that happened at or after this instant. */
  since?: Date | undefined;
}

/** Open failures in id order, a page at a time (replay). */
export async function openFailurePage(
  db: StateDb,
  filter: FailureFilter,
  afterId: number,
  limit: number,
): Promise<{ id: number; job: string; key: string; class: string; reason: string; road: string | null }[]> {
  let q = db.table('failures').whereNull('resolved_at').where('id', '>', afterId);
  if (filter.job) q = q.where('job', filter.job);
  if (filter.class) q = q.where('class', filter.class);
  if (filter.since) q = q.where('last_failed_at', '>=', filter.since);
  const rows = await q
    .orderBy('id')
    .limit(limit)
    .select<{ id: string; job: string; key: string; class: string; reason: string; road: string | null }[]>('id', 'job', 'key', 'class', 'reason', 'road');
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

/** What `report --verify` found of one order that is not as the connector would send it: missing or different. */
export interface Unconfirmed {
  key: string;
  /** What differs, or that it is missing (made storable here). */
  reason: string;
}

/**
 * `report --verify`: file the orders found missing or different as open `unconfirmed` failures (road `sync`: replay
 * sends each whole through the order-sync API), and resolve the open `unconfirmed` rows of orders found equal. An
 * order with another open failure becomes `unconfirmed` (replay's whole order covers what that one would send).
 * One transaction; the reason escaped to ASCII when the database refuses its text. Answers the rows filed and resolved.
 */
export async function fileVerifyOutcome(
  db: StateDb,
  job: string,
  unconfirmed: readonly Unconfirmed[],
  equal: readonly string[],
): Promise<{ filed: number; resolved: number }> {
  const write = (rows: readonly Unconfirmed[]) =>
    withConnectionRetry(() =>
      db.knex.transaction(async (trx) => {
        let filed = 0;
        for (let i = 0; i < rows.length; i += 2000) {
          const chunk = rows.slice(i, i + 2000);
          const result = await trx.raw<{ rowCount: number }>(
            `INSERT INTO ??.failures (job, key, class, reason, road)
             SELECT ?, k, 'unconfirmed', r, 'sync' FROM unnest(?::text[], ?::text[]) AS u(k, r)
             ON CONFLICT (job, key) WHERE resolved_at IS NULL DO UPDATE
               SET class = 'unconfirmed', reason = EXCLUDED.reason, status = NULL, road = 'sync', run_id = NULL,
                   occurrences = failures.occurrences + 1, last_failed_at = now()`,
            [db.schema, job, pgArray(chunk.map((u) => u.key)), pgArray(chunk.map((u) => u.reason))],
          );
          filed += result.rowCount;
        }
        let resolved = 0;
        for (let i = 0; i < equal.length; i += 5000) {
          const result = await trx.raw<{ rowCount: number }>(
            `UPDATE ??.failures SET resolved_at = now(), reason = reason || ' (resolved: report --verify found it as the connector would send it)'
              WHERE job = ? AND class = 'unconfirmed' AND resolved_at IS NULL AND key = ANY(?::text[])`,
            [db.schema, job, pgArray(equal.slice(i, i + 5000))],
          );
          resolved += result.rowCount;
        }
        return { filed, resolved };
      }),
    );
  const storable = unconfirmed.map((u) => ({ key: u.key, reason: storableText(u.reason) }));
  try {
    return await write(storable);
  } catch (caught) {
    const inAscii = failuresInAscii(
      caught,
      storable.map((u) => ({ ...u, class: 'unconfirmed' as const })),
    );
    if (inAscii === undefined) throw caught;
    return write(inAscii);
  }
}

/** Whether any failure matching the filter is open (replay asks before it needs the shop secret). */
export async function hasOpenFailures(db: StateDb, filter: FailureFilter): Promise<boolean> {
  let q = db.table('failures').whereNull('resolved_at');
  if (filter.job) q = q.where('job', filter.job);
  if (filter.class) q = q.where('class', filter.class);
  if (filter.since) q = q.where('last_failed_at', '>=', filter.since);
  const row = await q.first<{ id: string } | undefined>('id');
  return row !== undefined;
}
