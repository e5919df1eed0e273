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
 * statement_timeout and the source's zone, and ends when the statement does: none is held across HTTP work or between
 * pages.
 *
 * The zone (`source.timezone`, else the shop database's own TimeZone setting, else UTC; never the host's) is how
 * `timestamp without time zone` columns are read: their values come back as the instants they name in that zone, and
 * Postgres compares them with the cursors (UTC instants, bound as timestamptz) in the same zone.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { isTimeZone, wallTimeInZone } from '../dates.js';
import { withConnectionRetry } from '../db-retry.js';
import { nameUnreachable } from '../db-unreachable.js';
import { ConfigError } from '../errors.js';
import { arrayLiteral, isLiteralArray } from '../array-literal.js';
import { DEFAULT_PAGE_BYTES } from './byte-budget.js';
import type { Statement } from './statement.js';
import { knexLog } from '../knex-log.js';
import type { Logger } from '../log.js';

export interface Source {
  /** Run one statement in its own read-only transaction; the rows as node-postgres gives them. */
  query<R extends Record<string, unknown>>(statement: Statement): Promise<R[]>;
  /** The zone naive timestamps are read in, and where it comes from (settled on the first statement). */
  zone(): Promise<SourceZone>;
  /** `source.pageBytes`: the most row text one read may bring into this process (src/source/byte-budget.ts). */
  readonly pageBytes: number;
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
  /** `source.timezone`: the zone of the models' `timestamp without time zone` columns; unset: the database's own. */
  timezone?: string | undefined;
  /** `source.pageBytes` (default DEFAULT_PAGE_BYTES). */
  pageBytes?: number | undefined;
}

/** The options every command opens the shop's database with, from the config's `source` section. */
export function sourceOptionsOf(
  source: Pick<SourceOptions, 'url' | 'poolSize' | 'statementTimeoutMs' | 'applicationName' | 'timezone' | 'pageBytes'>,
): SourceOptions {
  return {
    pageBytes: source.pageBytes,
    url: source.url,
    poolSize: source.poolSize,
    statementTimeoutMs: source.statementTimeoutMs,
    applicationName: source.applicationName,
    timezone: source.timezone,
  };
}

export interface SourceZone {
  /** An IANA zone name. */
  name: string;
  /** `source.timezone`; the shop database's TimeZone setting; UTC because that setting is not a zone name the connector can read. */
  from: 'config' | 'database' | 'fallback';
  /** The database's TimeZone setting, when it was asked. */
  databaseSetting?: string;
}

/** How statements run on a connection of the driver knex lends (node-postgres, or PGlite in the demo). */
export interface SourceDriver {
  /** Our own fixed setup text, several statements at once. */
  exec(connection: unknown, sql: string): Promise<void>;
  /** One statement through the extended protocol; `zone`: where naive timestamps are read. */
  query<R>(connection: unknown, statement: Statement, zone?: string): Promise<R[]>;
}

const TIMESTAMP_OID = 1114;
const TIMESTAMPTZ_OID = 1184;
const DATE_OID = 1082;

/** node-postgres's parsers, but these text-format ones (by type oid). */
function typesWith(parsers: ReadonlyMap<number, (text: string) => unknown>): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown => {
      const own = format === 'binary' ? undefined : parsers.get(oid);
      return own ?? (pg.types.getTypeParser(oid, format) as unknown);
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * node-postgres's parsers, but for the types it would read in the host's zone: a `timestamp without time zone` is the
 * instant its wall time names in the source's zone, a `date` is that day (midnight UTC, the way dates are compared and
 * written back as YYYY-MM-DD).
 */
function zonedTypes(zone: string): pg.CustomTypesConfig {
  const naive = (text: string): Date | string => {
    const ms = wallTimeInZone(text, zone);
    return ms === undefined ? text : new Date(ms);
  };
  const day = (text: string): Date | string => {
    const m = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text);
    return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : text;
  };
  return typesWith(
    new Map<number, (text: string) => unknown>([
      [TIMESTAMP_OID, naive],
      [DATE_OID, day],
    ]),
  );
}
const typesByZone = new Map<string, pg.CustomTypesConfig>();

/**
 * node-postgres's parsers, but times and dates left as the text the database wrote (`Statement.timesAsText`): a first
 * reconcile of a million products spent a twentieth of all it allocated parsing `updated_at` into Dates it never read.
 */
const TIMES_AS_TEXT = typesWith(new Map([TIMESTAMP_OID, TIMESTAMPTZ_OID, DATE_OID].map((oid) => [oid, String])));

/** node-postgres: `queryMode: 'extended'` sends even a statement without values as Parse/Bind/Execute. */
export const NODE_POSTGRES: SourceDriver = {
  async exec(connection, sql) {
    await (connection as pg.Client).query(sql);
  },
  async query<R>(connection: unknown, statement: Statement, zone?: string): Promise<R[]> {
    // Arrays of texts and numbers go as their literal (array-literal.ts), written faster than node-postgres writes them.
    const values = statement.values.map((value) => (isLiteralArray(value) ? arrayLiteral(value) : value));
    const config: pg.QueryConfig & { queryMode: 'extended' } = { text: statement.text, values, queryMode: 'extended' };
    if (statement.timesAsText === true) config.types = TIMES_AS_TEXT;
    else if (zone !== undefined) {
      let types = typesByZone.get(zone);
      if (!types) typesByZone.set(zone, (types = zonedTypes(zone)));
      config.types = types;
    }
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
      // Defaults only: each statement's own transaction sets what matters, whatever the URL's `options` say. The
      // session keeps the database's TimeZone, so that the source can read it (the default of `source.timezone`).
      options: '-c default_transaction_read_only=on',
    },
    pool: { min: 0, max: options.poolSize, idleTimeoutMillis: 10_000 },
    log: knexLog({ log: options.log, quiet: options.quiet, what: "the shop's database" }),
  });
  nameUnreachable(knex, 'source.url', options.url);
  return sourceOverKnex(knex, NODE_POSTGRES, options);
}

/** A zone as a SQL literal (names are checked as IANA names first; quotes doubled all the same). */
function zoneLiteral(zone: string): string {
  return `'${zone.replace(/'/g, "''")}'`;
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
  options: Pick<SourceOptions, 'statementTimeoutMs' | 'onRetry' | 'timezone' | 'pageBytes'> & { shared?: boolean },
): Source {
  const pool = knex.client as ConnectionPool;
  const beginText = (zone: string): string => {
    const begin = ['BEGIN TRANSACTION READ ONLY', `SET LOCAL TimeZone = ${zoneLiteral(zone)}`];
    if (options.statementTimeoutMs > 0) begin.push(`SET LOCAL statement_timeout = ${Math.floor(options.statementTimeoutMs)}`);
    return begin.join('; ');
  };
  /** Connections already seen to open read-only transactions. */
  const verified = new WeakSet<object>();
  let settled: SourceZone | undefined = options.timezone === undefined ? undefined : { name: options.timezone, from: 'config' };

  /** The database's own TimeZone, asked on a connection before any transaction of ours sets it. */
  const settleZone = async (connection: unknown): Promise<SourceZone> => {
    if (settled) return settled;
    const rows = await driver.query<{ tz: string }>(connection, { text: "SELECT current_setting('TimeZone') AS tz", values: [] });
    const setting = rows[0]?.tz ?? '';
    settled = isTimeZone(setting) ? { name: setting, from: 'database', databaseSetting: setting } : { name: 'UTC', from: 'fallback', databaseSetting: setting };
    return settled;
  };

  const once = async <R>(statement: Statement): Promise<R[]> => {
    const connection = await pool.acquireConnection();
    let open = false;
    try {
      const zone = await settleZone(connection);
      await driver.exec(connection, beginText(zone.name));
      open = true;
      if (typeof connection === 'object' && connection !== null && !verified.has(connection)) {
        await refuseWritable(driver, connection);
        verified.add(connection);
      }
      const rows = await driver.query<R>(connection, statement, zone.name);
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
    async zone(): Promise<SourceZone> {
      if (!settled) await this.query({ text: 'SELECT 1', values: [] });
      if (!settled) throw new Error('the source zone was not settled');
      return settled;
    },
    pageBytes: options.pageBytes ?? DEFAULT_PAGE_BYTES,
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
