/** The state schema: migrate twice is harmless, two at once are safe. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../src/state/db.js';
import { migrate, pendingMigrations } from '../src/state/migrate.js';
import { MIGRATIONS } from '../migrations/index.js';
import { createDatabase, type TestDatabase } from './support/pg.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createDatabase();
});
afterEach(async () => {
  await db.drop();
});

async function tables(schema: string): Promise<string[]> {
  const rows = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
  return rows.map((r) => r.table_name);
}

async function columns(schema: string, table: string): Promise<string[]> {
  const rows = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name`,
    [schema, table],
  );
  return rows.map((r) => r.column_name);
}

describe('migrate', () => {
  it('creates the schema and its tables; a second run applies nothing and changes nothing', async () => {
    const state = openStateDb(db.url, 'pcs_state');
    try {
      expect(await pendingMigrations(state)).toEqual(MIGRATIONS.map((m) => m.name));
      const first = await migrate(state);
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.name));
      const after = await tables('pcs_state');
      expect(after).toEqual(expect.arrayContaining(['failures', 'ledger', 'runs', 'watermarks']));
      await state.table('ledger').insert({ job: 'orders', key: '1' });
      const second = await migrate(state);
      expect(second.applied).toEqual([]);
      expect(await tables('pcs_state')).toEqual(after);
      expect(await state.table('ledger').count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
      expect(await pendingMigrations(state)).toEqual([]);
    } finally {
      await state.close();
    }
  });

  it("002 adds the ledger's stream and segment to a 001 schema, keeps its rows, and running it twice is harmless", async () => {
    const state = openStateDb(db.url, 'pcs_state');
    try {
      await migrate(state);
      // Back to where a 001-only installation stands, with a delivered row in its ledger.
      const m002 = MIGRATIONS.find((m) => m.name === '002_ledger_envelope');
      if (!m002) throw new Error('no migration 002_ledger_envelope');
      await m002.down(state.knex, 'pcs_state');
      await state.knex.raw(`DELETE FROM pcs_state.knex_migrations WHERE name = '002_ledger_envelope'`);
      expect(await pendingMigrations(state)).toEqual(['002_ledger_envelope']);
      await state.table('ledger').insert({ job: 'carts', key: 'd1', hash: 'h1' });
      expect(await columns('pcs_state', 'ledger')).not.toContain('stream');

      expect((await migrate(state)).applied).toEqual(['002_ledger_envelope']);
      expect(await columns('pcs_state', 'ledger')).toEqual(expect.arrayContaining(['stream', 'segment']));
      expect(await columns('pcs_state', 'runs')).toContain('warnings');
      expect(await state.table('ledger').select('key', 'hash', 'stream', 'segment')).toEqual([{ key: 'd1', hash: 'h1', stream: null, segment: null }]);

      // Its statements again, over a schema that has the columns already: nothing fails, nothing changes.
      await m002.up(state.knex, 'pcs_state');
      expect((await migrate(state)).applied).toEqual([]);
      expect(await state.table('ledger').select('key', 'hash', 'stream', 'segment')).toEqual([{ key: 'd1', hash: 'h1', stream: null, segment: null }]);
      expect(await pendingMigrations(state)).toEqual([]);
    } finally {
      await state.close();
    }
  });

  it('is safe when several runners migrate at the same moment', async () => {
    const runners = Array.from({ length: 4 }, () => openStateDb(db.url, 'personaclick_sync'));
    try {
      const results = await Promise.all(runners.map((r) => migrate(r)));
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toEqual(MIGRATIONS.map((m) => m.name)); // each migration applied exactly once, by one of them
      expect(await tables('personaclick_sync')).toEqual(expect.arrayContaining(['failures', 'ledger', 'runs', 'watermarks']));
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  });
});
