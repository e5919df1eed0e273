/** Runs: one row per job run, with its outcome and counts, for `status` and for the operator's own monitoring. */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { StateDb } from './db.js';

export type RunStatus = 'running' | 'done' | 'halted' | 'fatal' | 'interrupted' | 'failed';

export interface RunCounts {
  read: number;
  sent: number;
  skipped: number;
  invalid: number;
  rejected: number;
  retries: number;
  /** Of `sent`: delivered without optional fields whose values were bad (kept as `warning` failures). */
  warnings: number;
}

export function emptyCounts(): RunCounts {
  return { read: 0, sent: 0, skipped: 0, invalid: 0, rejected: 0, retries: 0, warnings: 0 };
}

export function newRunId(): string {
  return randomUUID();
}

/** What a run left `running` by a process that died (kill -9, a lost host) is closed with. */
export const ABANDONED_RUN_ERROR = 'the process ended without finishing this run (killed, or its host went down); a later run took over';

/**
 * Record a run as started. It runs under its job's lock, so any other run of the same job, mode and shard still
 * marked running belongs to a process that died without closing it: those are closed as failed, with the reason.
 */
export async function startRun(db: StateDb, run: { id: string; job: string; mode: string; shard?: string | undefined }): Promise<void> {
  await db
    .table('runs')
    .where({ job: run.job, mode: run.mode, status: 'running' })
    .whereRaw('shard IS NOT DISTINCT FROM ?', [run.shard ?? null])
    .update({ status: 'failed', finished_at: db.knex.fn.now(), error: ABANDONED_RUN_ERROR });
  await db.table('runs').insert({ id: run.id, job: run.job, mode: run.mode, shard: run.shard ?? null, status: 'running', host: hostname(), pid: process.pid });
}

export async function finishRun(db: StateDb, id: string, status: RunStatus, counts: RunCounts, error?: string): Promise<void> {
  await db
    .table('runs')
    .where({ id })
    .update({ status, finished_at: db.knex.fn.now(), ...counts, error: error ?? null });
}

export interface RunRow extends RunCounts {
  id: string;
  job: string;
  mode: string;
  shard: string | null;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  host: string | null;
}

export async function lastRuns(db: StateDb, limit = 10): Promise<RunRow[]> {
  const rows = await db.table('runs').orderBy('started_at', 'desc').limit(limit).select<Record<string, unknown>[]>('*');
  return rows.map((r) => ({
    id: String(r.id),
    job: String(r.job),
    mode: String(r.mode),
    shard: (r.shard as string | null) ?? null,
    status: r.status as RunStatus,
    startedAt: r.started_at as Date,
    finishedAt: (r.finished_at as Date | null) ?? null,
    error: (r.error as string | null) ?? null,
    host: (r.host as string | null) ?? null,
    read: Number(r.read),
    sent: Number(r.sent),
    skipped: Number(r.skipped),
    invalid: Number(r.invalid),
    rejected: Number(r.rejected),
    retries: Number(r.retries),
    warnings: Number(r.warnings ?? 0),
  }));
}
