/** The state's side of `report`: which of a page of keys have an open failure, and of which class. */
import { pgArray, type StateDb } from './db.js';

/** Open failures of these keys of the job: key → class (invalid, rejected, warning). One query per page. */
export async function openFailureClasses(db: StateDb, job: string, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const result = await db.knex.raw<{ rows: { key: string; class: string }[] }>(
    `SELECT key, class FROM ??.failures WHERE job = ? AND resolved_at IS NULL AND key = ANY(?::text[])`,
    [db.schema, job, pgArray(keys)],
  );
  return new Map(result.rows.map((r) => [r.key, r.class]));
}
