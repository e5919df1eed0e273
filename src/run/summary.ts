/** The outcome of one run: what the summary log line, the runs table and the exit code are made from. */
import type { RunCounts, RunStatus } from '../state/runs.js';

export interface RunSummary extends RunCounts {
  job: string;
  runId: string;
  status: RunStatus;
  dryRun: boolean;
  durationMs: number;
  /** Rows finished per second over the whole run. */
  rate: number;
  waitedMs: number;
  /** With `concurrency: auto`: the adaptive limit's lowest and highest value in the run, and where it settled (its value at the end). */
  concurrencyLimit?: { low: number; high: number; settled: number } | undefined;
  error?: Error | undefined;
}

export function summarize(base: Omit<RunSummary, 'rate'>): RunSummary {
  const seconds = base.durationMs / 1000;
  const finished = base.sent + base.skipped + base.invalid + base.rejected;
  return { ...base, rate: seconds > 0 ? Math.round((finished / seconds) * 10) / 10 : 0 };
}
