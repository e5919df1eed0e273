/**
 * The demo's database: one in-memory PGlite instance playing both the shop's Postgres (a `Source`) and the
 * connector's state database (knex through knex-pglite). No server, no network.
 *
 * PGlite is one session. Knex keeps it as the single connection of a pool of one, and a knex transaction is a
 * plain BEGIN … COMMIT on that session, so a source query sent to PGlite directly while a checkpoint transaction
 * is open would run inside it. The source therefore borrows the pool's one connection for each query: source
 * reads and state transactions take turns instead of interleaving.
 */
import { PGlite, types, type ParserOptions } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Source } from '../source/db.js';

/**
 * Type parsers that make PGlite rows look like node-postgres rows. PGlite already gives numeric as text,
 * timestamptz / timestamp / date as Date, json / jsonb parsed, int2 / int4 / float as numbers; it differs on int8,
 * which it turns into a JS number (or a bigint past 2^53), where node-postgres keeps the text. Array types look
 * their element parser up at parse time, so int8[] follows too.
 */
export const NODE_POSTGRES_PARSERS: ParserOptions = {
  [types.INT8]: (text: string) => text,
};

export interface EmbeddedDb {
  pglite: PGlite;
  /** knex over the same instance (knex-pglite, a pool of exactly one connection). */
  knex: Knex;
  /** The shop side: `query(sql, params)` with `$1` placeholders, node-postgres-shaped rows. */
  source: Source;
  /** Destroys knex and closes PGlite; twice is harmless. */
  close(): Promise<void>;
}

/** The part of knex's client the source needs to take turns with knex's own queries. */
interface ConnectionPool {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

export async function openEmbeddedDb(): Promise<EmbeddedDb> {
  const pglite = await PGlite.create({ parsers: NODE_POSTGRES_PARSERS });
  // Cursors are compared as UTC text, like the real source's sessions (`-c TimeZone=UTC`).
  await pglite.exec(`SET TimeZone = 'UTC'`);

  // knex-pglite takes an existing instance through a connection function returning { pglite } (its README). A
  // function, not an object: knex deep-clones a static connection object, and the instance must stay one.
  const connection = (() => ({ pglite })) as unknown as Knex.ConnectionConfigProvider;
  const knex = knexFactory({ client: ClientPgLite, connection });

  const pool = knex.client as ConnectionPool;
  const source: Source = {
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
      const held = await pool.acquireConnection();
      try {
        const result = await pglite.query<R>(sql, params);
        return result.rows;
      } finally {
        await pool.releaseConnection(held);
      }
    },
    // The instance is shared with the state side; it is closed once, by `close` below.
    close: () => Promise.resolve(),
  };

  let closing: Promise<void> | undefined;
  return {
    pglite,
    knex,
    source,
    close() {
      closing ??= (async () => {
        await knex.destroy(); // knex-pglite closes the instance when its pool drops the connection
        if (!pglite.closed) await pglite.close();
      })();
      return closing;
    },
  };
}
