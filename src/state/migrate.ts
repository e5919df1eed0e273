/** Bring the state schema up to date. Twice is harmless; two at once are serialised by an advisory lock. */
import type { Knex } from 'knex';
import { MIGRATIONS, type Migration } from '../../migrations/index.js';
import type { StateDb } from './db.js';

class MigrationSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly schema: string) {}
  getMigrations(): Promise<Migration[]> {
    return Promise.resolve([...MIGRATIONS]);
  }
  getMigrationName(migration: Migration): string {
    return migration.name;
  }
  getMigration(migration: Migration): Promise<Knex.Migration> {
    const schema = this.schema;
    return Promise.resolve({ up: (knex: Knex) => migration.up(knex, schema), down: (knex: Knex) => migration.down(knex, schema) });
  }
}

export interface MigrateResult {
  applied: string[];
}

export async function migrate(db: StateDb, opts: { lock?: boolean } = {}): Promise<MigrateResult> {
  const { knex, schema } = db;
  if (opts.lock === false) return runMigrations(db); // single-connection embedded databases (the demo): nobody to race
  // A dedicated connection holds a session advisory lock while the schema is created and knex's migrator runs on
  // the pool: a second `migrate` started at the same moment waits here, then finds nothing left to do.
  const lockKey = `personaclick_sync:migrate:${schema}`;
  const pool = knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(connection: unknown): Promise<unknown> };
  const conn = await pool.acquireConnection();
  const lockQuery = (sql: string) => knex.raw(sql, [lockKey]).connection(conn);
  try {
    await lockQuery('SELECT pg_advisory_lock(hashtext(?))');
    return await runMigrations(db);
  } finally {
    await lockQuery('SELECT pg_advisory_unlock(hashtext(?))').catch(() => undefined);
    await pool.releaseConnection(conn);
  }
}

async function runMigrations(db: StateDb): Promise<MigrateResult> {
  const { knex, schema } = db;
  // A schema made beforehand (by an administrator, owned by the state role) needs no CREATE on the database: only
  // create it when it is missing, since CREATE SCHEMA IF NOT EXISTS asks for that privilege even when it exists.
  const found = await knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_namespace WHERE nspname = ?', [schema]);
  if (found.rows.length === 0) await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
  const [, applied] = (await knex.migrate.latest({
    schemaName: schema,
    tableName: 'knex_migrations',
    migrationSource: new MigrationSource(schema),
  })) as [number, string[]];
  return { applied };
}

/** Names of migrations not yet applied (empty when up to date; all of them when the schema is missing). */
export async function pendingMigrations(db: StateDb): Promise<string[]> {
  const { knex, schema } = db;
  const exists = await knex.raw<{ rows: { ok: boolean }[] }>('SELECT to_regclass(?) IS NOT NULL AS ok', [`${schema}.knex_migrations`]);
  if (exists.rows[0]?.ok !== true) return MIGRATIONS.map((m) => m.name);
  const done = new Set((await knex.withSchema(schema).table('knex_migrations').select<{ name: string }[]>('name')).map((r) => r.name));
  return MIGRATIONS.map((m) => m.name).filter((n) => !done.has(n));
}
