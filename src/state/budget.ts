/**
 * One budget per shop for the secret-bearing imports (order-sync, catalogue): the documented 40 requests a minute is
 * the shop's, not a method's or a process's (docs/catalogue.md). Each request claims the next slot in the state
 * database: the row's `next_at` moves on by one gap per claim, under the row lock, so claims from any number of
 * jobs, shards and processes are spaced one gap apart, from the very first (a run starting just after another waits
 * out the gap). Times are the database's, so the processes' clocks do not matter.
 */
import type { StateDb } from './db.js';

/** Claim the shop's next import slot; resolves with the milliseconds to wait before the request may start. */
export async function claimImportSlot(db: StateDb, shop: string, gapMs: number): Promise<number> {
  const gap = gapMs / 1000;
  const result = await db.knex.raw<{ rows: { wait_ms: number | string }[] }>(
    `INSERT INTO ??.import_budget AS b (shop, next_at) VALUES (?, clock_timestamp() + make_interval(secs => ?))
     ON CONFLICT (shop) DO UPDATE SET next_at = greatest(b.next_at, clock_timestamp()) + make_interval(secs => ?)
     RETURNING greatest(0, extract(epoch FROM (b.next_at - make_interval(secs => ?) - clock_timestamp())) * 1000)::float8 AS wait_ms`,
    [db.schema, shop, gap, gap, gap],
  );
  return Number(result.rows[0]?.wait_ms ?? 0);
}
