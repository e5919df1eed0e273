/**
 * analyzeLedger: the ledger's statistics are refreshed after a run that booked enough of it to leave them stale (a
 * tenth of what they know, or any number when it was never analysed), and not after a nightly run that changed a
 * small part of a large ledger (a quarter of a second of the state database's time each night, at a million rows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLedger } from '../src/state/ledger.js';
import { openStateDb, type StateDb } from '../src/state/db.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';

let db: TestDatabase;
let state: StateDb;

beforeAll(async () => {
  db = await createMigratedDatabase('pcs_ledger_analyze');
  state = openStateDb(db.url, 'personaclick_sync');
});
afterAll(async () => {
  await state.knex.destroy();
  await db.drop();
});

/** How many times the ledger has been analysed by hand (ANALYZE, not autovacuum). */
async function analyses(): Promise<number> {
  const rows = await db.query<{ n: string }>(
    `SELECT analyze_count AS n FROM pg_stat_user_tables WHERE schemaname = 'personaclick_sync' AND relname = 'ledger'`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Statistics reach pg_stat_user_tables when the backend reports them; wait for the count to move (or not). */
async function settled(before: number, expectMove: boolean): Promise<number> {
  const deadline = Date.now() + (expectMove ? 5000 : 700);
  let now = await analyses();
  while (Date.now() < deadline && now === before) {
    await new Promise((r) => setTimeout(r, 50));
    now = await analyses();
  }
  return now;
}

async function book(from: number, n: number): Promise<void> {
  await db.query(
    `INSERT INTO personaclick_sync.ledger (job, key, hash, run_id) SELECT 'products', 'p' || lpad(i::text, 8, '0'), 'h', 'r' FROM generate_series($1::int, $1::int + $2::int - 1) i`,
    [from, n],
  );
}

describe('analyzeLedger', () => {
  it('analyses a ledger never analysed, and one where the run booked a tenth or more; not a large one a run barely touched', async () => {
    await book(0, 12_000);
    const start = await analyses();
    // Never analysed: whatever the run booked.
    expect(await analyzeLedger(state, 12_000)).toBe(true);
    const first = await settled(start, true);
    expect(first).toBe(start + 1);
    // 120 000 rows known; a run that booked 10 000 of them (under a tenth) leaves the statistics be.
    await book(12_000, 108_000);
    expect(await analyzeLedger(state, 108_000)).toBe(true);
    const second = await settled(first, true);
    expect(second).toBe(first + 1);
    expect(await analyzeLedger(state, 10_000)).toBe(false);
    expect(await settled(second, false)).toBe(second);
    // A run that booked a tenth of it: analysed.
    expect(await analyzeLedger(state, 12_000)).toBe(true);
    expect(await settled(second, true)).toBe(second + 1);
  });
});
