/**
 * What the run observer needs of the metrics without prom-client: a group's labels, a live run, the answer classes
 * and the volume reasons. A run that exports no metrics (the usual cron run) never loads prom-client.
 */
import type { RunCounts } from '../state/runs.js';

export interface GroupLabels {
  job_name: string;
  mode: string;
  /** "i/N", or "" for an unsharded run. */
  shard: string;
}

/** The row counts a run keeps. */
export type RowCounts = Readonly<RunCounts>;

export const VOLUME_REASONS = ['nothing_read', 'low_volume', 'rejected_share'] as const;
export type VolumeReason = (typeof VOLUME_REASONS)[number];

/** A run in progress: its counts are read live at each collection. */
export interface LiveRun {
  counts: RowCounts;
  retries: () => number;
}

/** "2xx" for 204, "network" when no answer came. */
export function answerClass(status: number | 'network'): string {
  if (status === 'network') return 'network';
  return `${Math.floor(status / 100)}xx`;
}

export function groupLabels(run: { job: string; mode: string; shard: string | undefined }): GroupLabels {
  return { job_name: run.job, mode: run.mode, shard: run.shard ?? '' };
}
