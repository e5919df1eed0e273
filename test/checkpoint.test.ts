/**
 * The checkpointer's bound: a run that delivers fast (a first reconcile of a catalogue tells tens of thousands of
 * products a second) does not hold a checkpoint interval's worth of outcomes in memory: once MAX_BUFFERED wait, they
 * are written at once, ledger and all; below it, they wait for the interval as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { Checkpointer, MAX_BUFFERED } from '../src/run/checkpoint.js';
import { openStateDb, type StateDb } from '../src/state/db.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';

let db: TestDatabase;
let state: StateDb;

beforeAll(async () => {
  db = await createMigratedDatabase('pcs_checkpoint');
  state = openStateDb(db.url, 'personaclick_sync');
});
afterAll(async () => {
  await state.knex.destroy();
  await db.drop();
});

async function ledgerRows(job: string): Promise<number> {
  const rows = await db.query<{ n: string }>(`SELECT count(*) AS n FROM personaclick_sync.ledger WHERE job = $1`, [job]);
  return Number(rows[0]?.n ?? 0);
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Checkpointer', () => {
  it('writes as soon as MAX_BUFFERED outcomes wait, without waiting for the interval; fewer wait for it', async () => {
    // An interval far longer than the test: any write seen is an early one.
    const checkpoint = new Checkpointer(state, { job: 'products', runId: 'run-1', intervalMs: 60_000 }, silentLogger());
    checkpoint.start(() => undefined);
    try {
      for (let i = 0; i < MAX_BUFFERED - 1; i++) checkpoint.markDelivered({ key: `p${i}`, hash: 'h' });
      await new Promise((r) => setTimeout(r, 300));
      expect(checkpoint.checkpoints).toBe(0);
      expect(await ledgerRows('products')).toBe(0);
      checkpoint.markDelivered({ key: 'last', hash: 'h' });
      checkpoint.markFailed({ key: 'bad', class: 'invalid', reason: 'price: must be > 0' });
      await until(async () => (await ledgerRows('products')) === MAX_BUFFERED);
      expect(checkpoint.checkpoints).toBe(1);
      expect(checkpoint.error).toBeUndefined();
      // What came after the write started is left for the next one.
      for (let i = 0; i < 100; i++) checkpoint.markDelivered({ key: `q${i}`, hash: 'h' });
      await new Promise((r) => setTimeout(r, 300));
      expect(await ledgerRows('products')).toBe(MAX_BUFFERED);
      await checkpoint.flush(() => undefined);
      expect(await ledgerRows('products')).toBe(MAX_BUFFERED + 100);
    } finally {
      checkpoint.stop();
    }
  });
});
