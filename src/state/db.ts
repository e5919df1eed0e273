/** The connection to the connector's own schema (which may live in the shop's database or elsewhere). */
import knexFactory, { type Knex } from 'knex';
import { arrayLiteral, type LiteralArray } from '../array-literal.js';
import { nameUnreachable } from '../db-unreachable.js';
import { knexLog } from '../knex-log.js';
import type { Logger } from '../log.js';

export interface StateDb {
  knex: Knex;
  schema: string;
  /** Schema-qualified table for the query builder: db.table('ledger'). */
  table(name: StateTable): Knex.QueryBuilder;
  close(): Promise<void>;
}

export type StateTable = 'watermarks' | 'ledger' | 'failures' | 'runs';

export interface StateDbOptions {
  /** Shown in pg_stat_activity (":state" is added). */
  applicationName?: string;
  /** Connections at most (default 3). */
  poolSize?: number;
  /** Quiet knex's own warnings: knex writes them to stdout, where they would break `check --json`. */
  quiet?: boolean;
  /** Where knex's own messages go (else one line on stderr; never stdout). */
  log?: Logger | undefined;
  /** Each statement's deadline on the server (statement_timeout); 0: none (migrations building an index). Default STATE_DEADLINES.statementMs. */
  statementTimeoutMs?: number;
}

/**
 * Deadlines on the connector's own database, so that one that accepts the connection and never answers, or a lock
 * another session holds, ends the run within a stated bound instead of holding it for ever: the connection within
 * connectMs, a pooled connection lent within acquireMs, a lock waited for at most lockMs (lock_timeout), a statement
 * at most statementMs on the server (statement_timeout) and statementMs + answerGraceMs at the client (query_timeout:
 * a server that stops answering mid-statement).
 */
export const STATE_DEADLINES = {
  connectMs: 10_000,
  acquireMs: 15_000,
  lockMs: 10_000,
  statementMs: 60_000,
  answerGraceMs: 5_000,
} as const;

export function openStateDb(url: string, schema: string, options: StateDbOptions = {}): StateDb {
  const statementMs = options.statementTimeoutMs ?? STATE_DEADLINES.statementMs;
  const knex = knexFactory({
    client: 'pg',
    connection: withPgSettings({
      connectionString: url,
      application_name: `${options.applicationName ?? 'personaclick-sync'}:state`,
      connectionTimeoutMillis: STATE_DEADLINES.connectMs,
      lock_timeout: STATE_DEADLINES.lockMs,
      ...(statementMs > 0 ? { statement_timeout: statementMs, query_timeout: statementMs + STATE_DEADLINES.answerGraceMs } : {}),
      keepAlive: true,
    }),
    acquireConnectionTimeout: STATE_DEADLINES.acquireMs,
    pool: { min: 0, max: options.poolSize ?? 3 },
    log: knexLog({ log: options.log, quiet: options.quiet, what: 'the state database' }),
  });
  nameUnreachable(knex, 'state.url', url);
  return fromKnex(knex, schema);
}

/** node-postgres takes `lock_timeout` (sent at startup, as `statement_timeout` is); knex's typings do not know it. */
function withPgSettings(settings: Knex.PgConnectionConfig & { lock_timeout?: number }): Knex.PgConnectionConfig {
  return settings;
}

/** Wrap an existing knex (the embedded demo hands in its own). */
export function fromKnex(knex: Knex, schema: string): StateDb {
  return {
    knex,
    schema,
    table: (name) => knex.withSchema(schema).table(name),
    close: () => knex.destroy(),
  };
}

/** True when the error says a table or schema does not exist (state not migrated yet). */
export function isUndefinedTable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '42P01' || code === '3F000';
}

/** An array bound as one Postgres array parameter (every statement casts it, `?::text[]`): its literal (array-literal.ts). */
export function pgArray(values: LiteralArray): Knex.Value {
  return arrayLiteral(values);
}
