/**
 * What monitoring reads and writes in the state schema: a group's totals from the runs table (to seed the metrics'
 * counters), the same weekday's runs (volume alerts), a run's answers and notice, and the state the webhook was
 * last told of per job.
 */
import type { Knex } from 'knex';
import type { StateDb } from './db.js';
import type { RunStatus } from './runs.js';

export interface RunGroup {
  job: string;
  mode: string;
  shard: string | undefined;
}

/** What the runs table says a group of runs has done: the metrics start their counters from it. */
export interface RunTotals {
  rows: { read: number; sent: number; skipped: number; invalid: number; rejected: number; warned: number };
  retries: number;
  /** API answers by status class ("2xx", "4xx", "network", …). */
  answers: Record<string, number>;
  /** Finished runs by status. */
  runs: Partial<Record<RunStatus, number>>;
  /** End of the last run that finished done, in seconds since the epoch. */
  lastSuccess: number | undefined;
  /** End of the last run of any status. */
  lastRun: number | undefined;
  lastDurationSeconds: number | undefined;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** The totals of the group's finished runs (every run but `exceptRunId` that is no longer running). */
export async function runTotals(db: StateDb, group: RunGroup, exceptRunId: string): Promise<RunTotals> {
  const where = `job = ? AND mode = ? AND shard IS NOT DISTINCT FROM ? AND status <> 'running' AND id <> ?`;
  const params = [group.job, group.mode, group.shard ?? null, exceptRunId];
  const sums = await db.knex.raw<{ rows: Record<string, unknown>[] }>(
    `SELECT sum(read) AS read, sum(sent) AS sent, sum(skipped) AS skipped, sum(invalid) AS invalid, sum(rejected) AS rejected,
            sum(warnings) AS warnings, sum(retries) AS retries,
            extract(epoch FROM max(finished_at) FILTER (WHERE status = 'done'))::float8 AS last_success,
            extract(epoch FROM max(finished_at))::float8 AS last_run,
            extract(epoch FROM (array_agg(finished_at - started_at ORDER BY finished_at DESC) FILTER (WHERE finished_at IS NOT NULL))[1])::float8 AS last_duration
       FROM ??.runs WHERE ${where}`,
    [db.schema, ...params],
  );
  const byStatus = await db.knex.raw<{ rows: { status: RunStatus; n: string }[] }>(`SELECT status, count(*) AS n FROM ??.runs WHERE ${where} GROUP BY status`, [
    db.schema,
    ...params,
  ]);
  const answers = await db.knex.raw<{ rows: { class: string; n: string }[] }>(
    `SELECT a.key AS class, sum(a.value::bigint) AS n FROM ??.runs, jsonb_each_text(answers) AS a WHERE ${where} AND answers IS NOT NULL GROUP BY a.key`,
    [db.schema, ...params],
  );
  const s = sums.rows[0] ?? {};
  return {
    rows: { read: num(s.read), sent: num(s.sent), skipped: num(s.skipped), invalid: num(s.invalid), rejected: num(s.rejected), warned: num(s.warnings) },
    retries: num(s.retries),
    answers: Object.fromEntries(answers.rows.map((r) => [r.class, Number(r.n)])),
    runs: Object.fromEntries(byStatus.rows.map((r) => [r.status, Number(r.n)])),
    lastSuccess: optNum(s.last_success),
    lastRun: optNum(s.last_run),
    lastDurationSeconds: optNum(s.last_duration),
  };
}

export interface HistoryRun {
  read: number;
  sent: number;
  rejected: number;
  startedAt: Date;
}

/**
 * The group's runs that finished done in the `weeks` weeks before `at`, on the same weekday as `at` in `timezone`
 * and started within `windowMinutes` of its time of day, from earlier weeks only (never the same day).
 */
export async function sameWeekdayRuns(
  db: StateDb,
  group: RunGroup,
  at: Date,
  opts: { timezone: string; weeks: number; windowMinutes: number; exceptRunId: string },
): Promise<HistoryRun[]> {
  // Minutes since local midnight, of a run's start and of `at`; the distance between them goes round the clock.
  const minutes = (ts: string) => `(extract(hour FROM ${ts}) * 60 + extract(minute FROM ${ts}))`;
  const runLocal = 'r.started_at AT TIME ZONE ?';
  const result = await db.knex.raw<{ rows: { read: string; sent: string; rejected: string; started_at: Date }[] }>(
    `WITH here AS (SELECT (?::timestamptz AT TIME ZONE ?) AS local)
     SELECT r.read, r.sent, r.rejected, r.started_at
       FROM ??.runs r, here
      WHERE r.job = ? AND r.mode = ? AND r.shard IS NOT DISTINCT FROM ? AND r.status = 'done' AND r.id <> ?
        AND r.started_at >= ?::timestamptz - make_interval(days => ? * 7 + 1)
        AND r.started_at < ?::timestamptz - interval '20 hours'
        AND extract(isodow FROM ${runLocal}) = extract(isodow FROM here.local)
        AND least(abs(${minutes(`(${runLocal})`)} - ${minutes('here.local')}), 1440 - abs(${minutes(`(${runLocal})`)} - ${minutes('here.local')})) <= ?
      ORDER BY r.started_at DESC
      LIMIT 2000`,
    [
      at.toISOString(),
      opts.timezone,
      db.schema,
      group.job,
      group.mode,
      group.shard ?? null,
      opts.exceptRunId,
      at.toISOString(),
      opts.weeks,
      at.toISOString(),
      opts.timezone,
      ...[opts.timezone, opts.timezone, opts.timezone, opts.timezone],
      opts.windowMinutes,
    ],
  );
  return result.rows.map((r) => ({ read: Number(r.read), sent: Number(r.sent), rejected: Number(r.rejected), startedAt: r.started_at }));
}

/** What a run's end adds to its row: its answers by status class and its volume notice (null: none). */
export async function recordRunNotes(db: StateDb, runId: string, notes: { answers: Record<string, number>; notice: string | null }): Promise<void> {
  await db.knex.raw(`UPDATE ??.runs SET answers = ?::jsonb, notice = ? WHERE id = ?`, [db.schema, JSON.stringify(notes.answers), notes.notice, runId]);
}

/** The notices of these runs, by run id (runs without one are left out). */
export async function runNotices(db: StateDb, runIds: readonly string[]): Promise<Map<string, string>> {
  if (runIds.length === 0) return new Map();
  const result = await db.knex.raw<{ rows: { id: string; notice: string }[] }>(
    `SELECT id, notice FROM ??.runs WHERE id = ANY(?::text[]) AND notice IS NOT NULL`,
    [db.schema, runIds as unknown as Knex.Value],
  );
  return new Map(result.rows.map((r) => [r.id, r.notice]));
}

export interface NotifiedState {
  key: string;
  state: string;
  detail: string | null;
  since: Date;
}

export async function readNotifiedState(db: StateDb, key: string): Promise<NotifiedState | undefined> {
  const result = await db.knex.raw<{ rows: { key: string; state: string; detail: string | null; since: Date }[] }>(
    `SELECT key, state, detail, since FROM ??.notify_state WHERE key = ?`,
    [db.schema, key],
  );
  return result.rows[0];
}

/** The webhook has been told of this state: keep it (its `since` moves only when the state changes). */
export async function writeNotifiedState(db: StateDb, key: string, state: string, detail: string, runId: string): Promise<void> {
  await db.knex.raw(
    `INSERT INTO ??.notify_state (key, state, detail, since, run_id) VALUES (?, ?, ?, now(), ?)
     ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state, detail = EXCLUDED.detail, run_id = EXCLUDED.run_id,
       since = CASE WHEN notify_state.state = EXCLUDED.state THEN notify_state.since ELSE now() END`,
    [db.schema, key, state, detail, runId],
  );
}

export async function listNotifiedStates(db: StateDb): Promise<NotifiedState[]> {
  const result = await db.knex.raw<{ rows: NotifiedState[] }>(`SELECT key, state, detail, since FROM ??.notify_state ORDER BY key`, [db.schema]);
  return result.rows;
}
