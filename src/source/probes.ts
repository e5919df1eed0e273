/**
 * What `check` asks the shop's database besides the models' own statements: who and what the session is, whether it
 * sees other sessions' open transactions, the columns a model gives, and the plan of a statement. Each runs on the
 * same read-only path as the jobs' statements.
 */
import type { Source } from './db.js';
import { fromModel, type Statement } from './statement.js';
import { toPlanNode, type PlanNode } from './plan.js';

export interface SessionInfo {
  /** e.g. "16.4" */
  version: string;
  /** transaction_read_only inside the statement's transaction: "on" on every session the connector uses. */
  readOnly: string;
  /** A standby (hot standby in recovery). */
  recovery: boolean;
  /** The role the session reads as. */
  role: string;
}

export async function sessionInfo(source: Source): Promise<SessionInfo> {
  const rows = await source.query<{ version: string; read_only: string; recovery: boolean; role: string }>({
    text: `SELECT current_setting('server_version') AS version, current_setting('transaction_read_only') AS read_only, pg_is_in_recovery() AS recovery, current_user AS role`,
    values: [],
  });
  const row = rows[0];
  if (!row) throw new Error('the version query returned no row');
  return { version: row.version.split(' ')[0] ?? row.version, readOnly: row.read_only, recovery: row.recovery, role: row.role };
}

export interface StatsVisibility {
  role: string;
  /** Member of pg_read_all_stats (sees every session's xact_start); null where the role does not exist. */
  allStats: boolean | null;
}

/** Whether this role sees other roles' xact_start in pg_stat_activity (members of pg_read_all_stats and superusers do). */
export async function statsVisibility(source: Source): Promise<StatsVisibility> {
  const rows = await source.query<{ role: string; all_stats: boolean | null }>({
    text: `SELECT current_user AS role,
              CASE WHEN to_regrole('pg_read_all_stats') IS NULL THEN NULL ELSE pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') END AS all_stats`,
    values: [],
  });
  const row = rows[0];
  if (!row) throw new Error('pg_stat_activity query returned no row');
  return { role: row.role, allStats: row.all_stats };
}

/**
 * The columns a model gives, without reading a row: the model with LIMIT 0, left-joined to one row so that the
 * answer carries the column names (as keys of an all-null row). `values` are bound as the jobs bind them.
 */
export async function modelColumns(source: Source, query: string, values: readonly unknown[] = []): Promise<Set<string>> {
  const rows = await source.query({
    text: `SELECT q.* FROM (SELECT 1) AS "__pcs_one" LEFT JOIN (SELECT * FROM ${fromModel(query)} LIMIT 0) AS q ON true`,
    values,
  });
  return new Set(Object.keys(rows[0] ?? {}));
}

/**
 * Each column's type as the model gives it (`timestamp without time zone`, `integer`, …), without reading a row: the
 * same all-null row as `modelColumns`, asked pg_typeof of each column it named.
 */
export async function modelColumnTypes(
  source: Source,
  query: string,
  columns: Iterable<string>,
  values: readonly unknown[] = [],
): Promise<Map<string, string>> {
  const names = [...columns];
  if (names.length === 0) return new Map();
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const rows = await source.query<Record<string, string>>({
    text: `SELECT ${names.map((n, i) => `pg_typeof(q.${quote(n)})::text AS "t${i}"`).join(', ')}
  FROM (SELECT 1) AS "__pcs_one" LEFT JOIN (SELECT * FROM ${fromModel(query)} LIMIT 0) AS q ON true`,
    values,
  });
  const row = rows[0] ?? {};
  return new Map(names.map((n, i) => [n, row[`t${i}`] ?? 'unknown']));
}

/** The planner's plan for a statement, exactly as given (its values bound), without running it. */
export async function explain(source: Source, statement: Statement): Promise<PlanNode> {
  const rows = await source.query<{ 'QUERY PLAN': unknown }>({ text: `EXPLAIN (VERBOSE, FORMAT JSON) ${statement.text}`, values: statement.values });
  let raw: unknown = rows[0]?.['QUERY PLAN'];
  if (typeof raw === 'string') raw = JSON.parse(raw) as unknown;
  const top: unknown = Array.isArray(raw) ? (raw as unknown[])[0] : undefined;
  const plan = typeof top === 'object' && top !== null ? toPlanNode((top as { Plan?: unknown }).Plan) : undefined;
  if (!plan) throw new Error('EXPLAIN gave no plan');
  return plan;
}

/** How many rows the model gives, as the planner estimates them (nothing is read). */
export async function modelRows(source: Source, query: string, values: readonly unknown[] = []): Promise<number> {
  const plan = await explain(source, { text: `SELECT q.* FROM ${fromModel(query)}`, values });
  return plan.rows;
}

export interface IndexFacts {
  name: string;
  /** Each key column as pg_get_indexdef writes it: `order_id`, `('N'::text || number::text)`. */
  columns: string[];
  /** A partial index's WHERE, when it has one. */
  predicate: string | null;
}

export interface TableFacts {
  /** The table as EXPLAIN named it (schema-qualified). */
  relation: string;
  /** pg_class.reltuples: the planner's row count of the table; -1 when it was never analyzed. */
  rows: number;
  indexes: IndexFacts[];
  /** Column name → its type as format_type writes it (`integer`, `uuid`, `numeric(14,2)`). */
  columnTypes: Map<string, string>;
}

/** What the catalog says of a table a plan scans: its size, its indexes' columns, its columns' types. Undefined when the name does not resolve. */
export async function tableFacts(source: Source, relation: string): Promise<TableFacts | undefined> {
  const rows = await source.query<{ reltuples: number; indexes: IndexFacts[]; columns: Record<string, string> | null }>({
    text: `SELECT c.reltuples::float8 AS reltuples,
              (SELECT coalesce(json_agg(json_build_object(
                        'name', i.indexrelid::regclass::text,
                        'columns', (SELECT json_agg(pg_get_indexdef(i.indexrelid, k, true) ORDER BY k) FROM generate_series(1, i.indnkeyatts) k),
                        'predicate', pg_get_expr(i.indpred, i.indrelid, true)) ORDER BY i.indexrelid), '[]')
                 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisvalid) AS indexes,
              (SELECT json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod))
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
    values: [relation],
  });
  const row = rows[0];
  if (!row) return undefined;
  return { relation, rows: Number(row.reltuples), indexes: row.indexes, columnTypes: new Map(Object.entries(row.columns ?? {})) };
}

export interface Timed<R> {
  rows: R[];
  /** Milliseconds from sending the statement to having its rows, as the run's source.query takes them. */
  ms: number;
}

/** Below this, a measured statement is run a second time and the faster run kept (the run's pages meet a warm cache). */
const REPEAT_BELOW_MS = 1_000;

/**
 * Run a statement the way the jobs do (its own read-only transaction, the source's statement_timeout) and time it.
 * A statement that took under a second runs once more and the faster time is kept: the first run may pay for a cold
 * cache that a run's later pages would not.
 */
export async function timedQuery<R extends Record<string, unknown>>(source: Source, statement: Statement): Promise<Timed<R>> {
  const once = async (): Promise<Timed<R>> => {
    const started = performance.now();
    const rows = await source.query<R>(statement);
    return { rows, ms: performance.now() - started };
  };
  const first = await once();
  if (first.ms >= REPEAT_BELOW_MS) return first;
  const second = await once();
  return second.ms < first.ms ? second : first;
}
