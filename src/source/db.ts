/**
 * The shop's database, read through knex: its pool (small, `source.poolSize`) and its connection handling. The
 * operator's SQL is sent verbatim on a connection knex lends, never through `knex.raw`, whose binding rewrite would
 * take a jsonb `?` operator for a placeholder.
 *
 * Every statement runs inside a transaction opened READ ONLY, through the extended protocol (one statement, values
 * bound), so that nothing a model says can write: not a function that deletes rows (refused in a read-only
 * transaction), not `set_config('transaction_read_only', 'off', …)` (refused once the transaction has run a query),
 * not a second statement after a `;` (the extended protocol takes one), not `options` in the connection URL (the
 * transaction is opened read-only whatever the session's defaults). The transaction also carries the
 * statement_timeout and UTC (cursors compare as UTC text), and ends when the statement does: none is held across
 * HTTP work or between pages.
 */
import knexFactory, { type Knex } from 'knex';
import type pg from 'pg';
import { withConnectionRetry } from '../db-retry.js';
import { ConfigError } from '../errors.js';
import type { Statement } from './statement.js';
import { knexLog } from '../knex-log.js';
import type { Logger } from '../log.js';

export interface Source {
  /** Run one statement in its own read-only transaction; the rows as node-postgres gives them. */
  query<R extends Record<string, unknown>>(statement: Statement): Promise<R[]>;
  close(): Promise<void>;
}

export interface SourceOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
  /** Told about each retry of a lost connection (for the log). */
  onRetry?: ((error: Error, attempt: number, delayMs: number) => void) | undefined;
  /** Quiet knex's own warnings (check prints JSON on stdout, where knex would write them). */
  quiet?: boolean;
  /** Where knex's own messages go (else one line on stderr; never stdout). */
  log?: Logger | undefined;
}

/** How statements run on a connection of the driver knex lends (node-postgres, or PGlite in the demo). */
export interface SourceDriver {
  /** Our own fixed setup text, several statements at once. */
  exec(connection: unknown, sql: string): Promise<void>;
  /** One statement through the extended protocol. */
  query<R>(connection: unknown, statement: Statement): Promise<R[]>;
}

/** node-postgres: `queryMode: 'extended'` sends even a statement without values as Parse/Bind/Execute. */
export const NODE_POSTGRES: SourceDriver = {
  async exec(connection, sql) {
    await (connection as pg.Client).query(sql);
  },
  async query<R>(connection: unknown, statement: Statement): Promise<R[]> {
    const config: pg.QueryConfig & { queryMode: 'extended' } = { text: statement.text, values: [...statement.values], queryMode: 'extended' };
    const result = await (connection as pg.Client).query(config);
    return result.rows as R[];
  },
};

export function openSource(options: SourceOptions): Source {
  const knex = knexFactory({
    client: 'pg',
    connection: {
      connectionString: options.url,
      application_name: options.applicationName,
      // Defaults only: each statement's own transaction sets what matters, whatever the URL's `options` say.
      options: '-c default_transaction_read_only=on -c TimeZone=UTC',
    },
    pool: { min: 0, max: options.poolSize, idleTimeoutMillis: 10_000 },
    log: knexLog({ log: options.log, quiet: options.quiet, what: "the shop's database" }),
  });
  return sourceOverKnex(knex, NODE_POSTGRES, options);
}

/** The part of knex's client that lends connections. */
interface ConnectionPool {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

/**
 * A source on the connections of an existing knex (the embedded demo hands in its PGlite one). `close` destroys the
 * knex unless `shared` says its owner will.
 */
export function sourceOverKnex(
  knex: Knex,
  driver: SourceDriver,
  options: Pick<SourceOptions, 'statementTimeoutMs' | 'onRetry'> & { shared?: boolean },
): Source {
  const pool = knex.client as ConnectionPool;
  const begin = ['BEGIN TRANSACTION READ ONLY', "SET LOCAL TimeZone = 'UTC'"];
  if (options.statementTimeoutMs > 0) begin.push(`SET LOCAL statement_timeout = ${Math.floor(options.statementTimeoutMs)}`);
  const beginText = begin.join('; ');
  /** Connections already seen to open read-only transactions. */
  const verified = new WeakSet<object>();

  const once = async <R>(statement: Statement): Promise<R[]> => {
    const connection = await pool.acquireConnection();
    let open = false;
    try {
      await driver.exec(connection, beginText);
      open = true;
      if (typeof connection === 'object' && connection !== null && !verified.has(connection)) {
        await refuseWritable(driver, connection);
        verified.add(connection);
      }
      const rows = await driver.query<R>(connection, statement);
      open = false;
      await driver.exec(connection, 'ROLLBACK');
      return rows;
    } finally {
      // A failed statement leaves the transaction aborted: end it before the connection goes back to the pool. If
      // even that fails, the connection is broken, and knex's validation drops it.
      if (open) await driver.exec(connection, 'ROLLBACK').catch(() => undefined);
      await pool.releaseConnection(connection);
    }
  };

  return {
    query<R extends Record<string, unknown>>(statement: Statement): Promise<R[]> {
      // Every statement is a read in a transaction of its own, so repeating one after a lost connection is safe.
      return withConnectionRetry(() => once<R>(statement), { onRetry: options.onRetry });
    },
    close: () => (options.shared ? Promise.resolve() : knex.destroy()),
  };
}

/** The statement's transaction must be read-only; a session where it is not (a pooler that drops BEGIN?) may not run models. */
async function refuseWritable(driver: SourceDriver, connection: unknown): Promise<void> {
  const rows = await driver.query<{ ro: string }>(connection, { text: "SELECT current_setting('transaction_read_only') AS ro", values: [] });
  const ro = rows[0]?.ro;
  if (ro !== 'on') {
    throw new ConfigError(
      `the shop database session is writable (transaction_read_only is ${ro ?? 'unknown'} inside a READ ONLY transaction): ` +
        'refusing to run models on it; connect directly or through a pooler in session or transaction mode',
    );
  }
}
