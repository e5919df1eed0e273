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
}

export async function sessionInfo(source: Source): Promise<SessionInfo> {
  const rows = await source.query<{ version: string; read_only: string; recovery: boolean }>({
    text: `SELECT current_setting('server_version') AS version, current_setting('transaction_read_only') AS read_only, pg_is_in_recovery() AS recovery`,
    values: [],
  });
  const row = rows[0];
  if (!row) throw new Error('the version query returned no row');
  return { version: row.version.split(' ')[0] ?? row.version, readOnly: row.read_only, recovery: row.recovery };
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
