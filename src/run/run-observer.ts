/**
 * What the runner tells whoever watches runs (metrics, volume alerts, the webhook): a run started, each attempt's
 * answer and latency, the run finished. The runner calls it for real runs only (never a dry run), and a watcher's
 * failure never changes a run's outcome: `finished` is awaited and its error logged.
 */
import { performance } from 'node:perf_hooks';
import { ApiError } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import type { Sender } from '../delivery/queue.js';
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

/** A sender that tells a run's watcher of every attempt: on the wire, then its answer (or "network") and latency. */
export function observedSender(inner: Sender, watch: RunWatch): Sender {
  return {
    async send(req: ApiRequest): Promise<unknown> {
      watch.requestStarted();
      const started = performance.now();
      try {
        const result = await inner.send(req);
        const status = (result as { status?: unknown } | undefined)?.status;
        watch.requestEnded(typeof status === 'number' ? status : 200, (performance.now() - started) / 1000);
        return result;
      } catch (caught) {
        watch.requestEnded(caught instanceof ApiError && caught.status !== undefined ? caught.status : 'network', (performance.now() - started) / 1000);
        throw caught;
      }
    },
  };
}
