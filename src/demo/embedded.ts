/**
 * The demo's database: one in-memory PGlite instance playing both the shop's Postgres (a `Source`) and the
 * connector's state database (knex through knex-pglite). No server, no network.
 *
 * PGlite is one session. Knex keeps it as the single connection of a pool of one (knex-pglite), and a knex
 * transaction is a plain BEGIN … COMMIT on that session, so a source statement sent to PGlite directly while a
 * checkpoint transaction is open would run inside it. The source therefore runs on knex's connections like the real
 * one (`sourceOverKnex`): source reads and state transactions take turns instead of interleaving.
 */
import { PGlite, types, type ParserOptions } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { sourceOverKnex, type Source, type SourceDriver } from '../source/db.js';
import type { Statement } from '../source/statement.js';

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
  /** The shop side: statements with `$1` placeholders, node-postgres-shaped rows, read-only as on a real shop. */
  source: Source;
  /** Destroys knex and closes PGlite; twice is harmless. */
  close(): Promise<void>;
}

/** Statements on the PGlite instance knex lends (knex-pglite's connection is the instance itself). */
const pgliteDriver: SourceDriver = {
  async exec(connection, sql) {
    await (connection as PGlite).exec(sql);
  },
  async query<R>(connection: unknown, statement: Statement): Promise<R[]> {
    return (await (connection as PGlite).query<R>(statement.text, [...statement.values])).rows;
  },
};

export async function openEmbeddedDb(): Promise<EmbeddedDb> {
  const pglite = await PGlite.create({ parsers: NODE_POSTGRES_PARSERS });
  // Cursors are compared as UTC text, like the real source's sessions (`-c TimeZone=UTC`).
  await pglite.exec(`SET TimeZone = 'UTC'`);

  // knex-pglite takes an existing instance through a connection function returning { pglite } (its README). A
  // function, not an object: knex deep-clones a static connection object, and the instance must stay one.
  const connection = (() => ({ pglite })) as unknown as Knex.ConnectionConfigProvider;
  const knex = knexFactory({ client: ClientPgLite, connection });

  // The instance is shared with the state side: the source borrows knex's one connection for each statement (so
  // source reads and state transactions take turns), and it is closed once, by `close` below.
  const source = sourceOverKnex(knex, pgliteDriver, { statementTimeoutMs: 0, shared: true });

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
