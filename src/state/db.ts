/** The connection to the connector's own schema (which may live in the shop's database or elsewhere). */
import knexFactory, { type Knex } from 'knex';
import { knexLog, nameUnreachable } from '../db-unreachable.js';

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
  /** Where knex's own warnings go instead (the log, at debug); unset: nowhere (never the console). */
  knexWarnings?: ((message: string) => void) | undefined;
}

export function openStateDb(url: string, schema: string, options: StateDbOptions = {}): StateDb {
  const quiet = () => undefined;
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: `${options.applicationName ?? 'personaclick-sync'}:state` },
    pool: { min: 0, max: options.poolSize ?? 3 },
    log: options.quiet ? { warn: quiet, error: quiet, deprecate: quiet, debug: quiet } : knexLog(options.knexWarnings),
  });
  nameUnreachable(knex, 'state.url', url);
  return fromKnex(knex, schema);
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

/** An array bound as one Postgres array parameter (knex's typings only know arrays of strings). */
export function pgArray(values: readonly (string | number | null)[]): Knex.Value {
  return values as unknown as Knex.Value;
}
