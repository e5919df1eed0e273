/** Real Postgres for tests: each test file gets databases of its own, created and dropped here. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStateDb } from '../../src/state/db.js';
import { migrate } from '../../src/state/migrate.js';

export const PG_HOST = process.env.PGHOST ?? '127.0.0.1';
export const PG_PORT = process.env.PGPORT ?? '5432';
export const PG_USER = process.env.PGUSER ?? 'postgres';

export function urlFor(database: string): string {
  return `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;
}

export async function adminQuery(sql: string, params: unknown[] = [], database = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: urlFor(database) });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** A client of its own, for holding a transaction open. */
  connect(): Promise<pg.Client>;
  drop(): Promise<void>;
}

/**
 * `icu: true` gives the database a language collation (en-US), under which text sorts unlike byte order;
 * `latin1: true` makes it a LATIN1 database (C locale), which cannot hold most of Unicode.
 */
export async function createDatabase(prefix = 'pcs_test', opts: { icu?: boolean; latin1?: boolean } = {}): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(
    opts.icu
      ? `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`
      : opts.latin1
        ? `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'`
        : `CREATE DATABASE ${name}`,
  );
  const url = urlFor(name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    name,
    url,
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      return (await pool.query<R>(sql, params)).rows;
    },
    async connect() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    },
    async drop() {
      // pool.end() resolves before its clients have closed their sessions, so DROP … WITH (FORCE) below may end one
      // of them first (57P01); that client's error then comes through the pool, and is expected here.
      pool.on('error', () => undefined);
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A new database with the connector's state schema already migrated (the shop's tables are the test's to add). */
export async function createMigratedDatabase(prefix = 'pcs_test', opts: { icu?: boolean; latin1?: boolean } = {}): Promise<TestDatabase> {
  const db = await createDatabase(prefix, opts);
  const state = openStateDb(db.url, 'personaclick_sync');
  try {
    await migrate(state);
  } finally {
    await state.close();
  }
  return db;
}
