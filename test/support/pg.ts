/** Real Postgres for tests: each test file gets databases of its own, created and dropped here. */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStateDb } from '../../src/state/db.js';
import { migrate } from '../../src/state/migrate.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** The state schema every test database has. */
export const STATE_SCHEMA = 'personaclick_sync';

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
export async function createDatabase(prefix = 'pcs_test', opts: { icu?: boolean; latin1?: boolean; template?: string } = {}): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(
    opts.icu
      ? `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`
      : opts.latin1
        ? `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'`
        : `CREATE DATABASE ${name}${opts.template === undefined ? '' : ` TEMPLATE ${opts.template}`}`,
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
      pool.on('error', () => undefined); // and should one still get 57P01 first, it is expected here
      // pool.end() resolves once every client is told to end, not once they have: a backend still open then gets
      // DROP … WITH (FORCE)'s "terminating connection" (57P01), which the ended pool would throw as uncaught. So wait
      // for each client's own end ('remove') before dropping.
      const open = pool.totalCount;
      let removed = 0;
      const closed = new Promise<void>((resolve) => {
        if (open === 0) resolve();
        pool.on('remove', () => {
          removed += 1;
          if (removed === open) resolve();
        });
      });
      await pool.end();
      await closed;
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * The migrated template: a database holding the state schema at the current migrations, made once (under an advisory
 * lock, so parallel test files wait for the one that builds it) and cloned for each test, graphile-worker's way: a
 * clone takes tens of milliseconds where migrating takes hundreds. Its name carries a digest of the migrations and the
 * schema, so a new migration gets a template of its own.
 */
const TEMPLATE = `pcs_template_${createHash('sha256')
  .update(JSON.stringify([STATE_SCHEMA, MIGRATIONS.map((m) => m.name)]))
  .digest('hex')
  .slice(0, 12)}`;
let template: Promise<string> | undefined;

async function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', ['pcs_template']);
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
      if (found.rowCount === 0) {
        // Built under another name and renamed when whole: a run killed midway never leaves a half-made template.
        const building = `${TEMPLATE}_${randomBytes(3).toString('hex')}`;
        await client.query(`CREATE DATABASE ${building}`);
        const state = openStateDb(urlFor(building), STATE_SCHEMA);
        try {
          await migrate(state);
        } finally {
          await state.close();
        }
        await client.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE}`);
        await client.query(`ALTER DATABASE ${TEMPLATE} WITH IS_TEMPLATE true`);
      }
      return TEMPLATE;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['pcs_template']).catch(() => undefined);
      await client.end();
    }
  })();
  return template;
}

/** A new database with the connector's state schema already migrated (the shop's tables are the test's to add). */
export async function createMigratedDatabase(prefix = 'pcs_test', opts: { icu?: boolean; latin1?: boolean } = {}): Promise<TestDatabase> {
  if (opts.icu || opts.latin1) {
    const db = await createDatabase(prefix, opts);
    const state = openStateDb(db.url, STATE_SCHEMA);
    try {
      await migrate(state);
    } finally {
      await state.close();
    }
    return db;
  }
  return createDatabase(prefix, { template: await migratedTemplate() });
}
