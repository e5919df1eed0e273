/** The delivered ledger: what PersonaClick already has, so nothing goes out twice that need not. */
import type { Knex } from 'knex';
import { pgArray, type StateDb } from './db.js';

export interface LedgerEntry {
  key: string;
  hash?: string | null;
}

/** Which of these keys are already delivered for the job. One query per page. */
export async function deliveredKeys(db: StateDb, job: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.knex.raw<{ rows: { key: string }[] }>(`SELECT key FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`, [
    db.schema,
    job,
    pgArray(keys),
  ]);
  return new Set(rows.rows.map((r) => r.key));
}

export async function recordDelivered(db: StateDb, trx: Knex.Transaction, job: string, entries: readonly LedgerEntry[], runId: string): Promise<void> {
  if (entries.length === 0) return;
  for (let i = 0; i < entries.length; i += 5000) {
    const chunk = entries.slice(i, i + 5000);
    await trx.raw(
      `INSERT INTO ??.ledger (job, key, hash, run_id)
       SELECT ?, k, h, ? FROM unnest(?::text[], ?::text[]) AS u(k, h)
       ON CONFLICT (job, key) DO UPDATE SET hash = EXCLUDED.hash, run_id = EXCLUDED.run_id, delivered_at = now()`,
      [db.schema, job, runId, pgArray(chunk.map((e) => e.key)), pgArray(chunk.map((e) => e.hash ?? null))],
    );
  }
}

export async function forgetDelivered(db: StateDb, trx: Knex.Transaction, job: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await trx.raw(`DELETE FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`, [db.schema, job, pgArray(keys)]);
}

export async function countDelivered(db: StateDb, job: string): Promise<number> {
  const row = await db.table('ledger').where({ job }).count<{ count: string }[]>('* as count');
  return Number(row[0]?.count ?? 0);
}
