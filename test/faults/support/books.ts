/** The connector's books (watermark, ledger, failures, runs) read back, and compared with what the sandbox holds. */
import type { TestDatabase } from '../../support/pg.js';

export async function watermarkKey(db: TestDatabase, name = 'orders'): Promise<string | null> {
  const rows = await db.query<{ cursor_key: string | null }>(`SELECT cursor_key FROM personaclick_sync.watermarks WHERE name = $1`, [name]);
  return rows[0]?.cursor_key ?? null;
}

export async function ledgerKeys(db: TestDatabase, job = 'orders'): Promise<Set<string>> {
  const rows = await db.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger WHERE job = $1`, [job]);
  return new Set(rows.map((r) => r.key));
}

export interface FailureRow {
  key: string;
  class: string;
  reason: string;
  status: number | null;
}

export async function failureRows(db: TestDatabase): Promise<FailureRow[]> {
  return db.query<FailureRow>(`SELECT key, class, reason, status FROM personaclick_sync.failures ORDER BY key`);
}

export async function runStatuses(db: TestDatabase): Promise<{ status: string; error: string | null }[]> {
  return db.query<{ status: string; error: string | null }>(`SELECT status, error FROM personaclick_sync.runs ORDER BY started_at`);
}

/** Order ids 1..count in send order (the shop's updated_at grows with the id) that the sandbox has not accepted. */
export function undelivered(count: number, purchases: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (let id = 1; id <= count; id++) if (!purchases.has(String(id))) out.push(id);
  return out;
}

/** How many orders the sandbox accepted more than once, and the most times one was. */
export function repeats(purchases: ReadonlyMap<string, number>): { repeated: number; extraRequests: number } {
  let repeated = 0;
  let extraRequests = 0;
  for (const n of purchases.values()) {
    if (n > 1) {
      repeated += 1;
      extraRequests += n - 1;
    }
  }
  return { repeated, extraRequests };
}
