/**
 * What the runner tells whoever watches runs (metrics, volume alerts, the webhook): a run started, each attempt's
 * answer and latency, the run finished. The runner calls it for real runs only (never a dry run), and a watcher's
 * failure never changes a run's outcome: `finished` is awaited and its error logged.
 */
import type { Logger } from '../log.js';
import type { RunCounts } from '../state/runs.js';
import type { Services } from './services.js';
import type { RunSummary } from './summary.js';

export interface ObservedRun {
  job: string;
  mode: string;
  /** "i/N", or undefined when the run is not sharded. */
  shard: string | undefined;
  runId: string;
  /** When the run started (ms since the epoch). */
  startedAt: number;
  /** The run's counts, updated in place as rows finish (read them at any time for live values). */
  counts: Readonly<RunCounts>;
  /** Retries so far (the counts hold them only at the end). */
  retries: () => number;
  /** The watermark the run moves, if any. */
  watermark: string | undefined;
  services: Services;
  log: Logger;
}

/** An answer of the API to one attempt: its HTTP status, or "network" when none came. */
export type AnswerStatus = number | 'network';

export interface RunWatch {
  /** An attempt is on the wire. */
  requestStarted(): void;
  /** An attempt ended with this answer, after `seconds`. */
  requestEnded(status: AnswerStatus, seconds: number): void;
  /** The run is over and its runs row written. */
  finished(summary: RunSummary): Promise<void>;
}

export interface RunObserver {
  runStarted(run: ObservedRun): Promise<RunWatch>;
}
