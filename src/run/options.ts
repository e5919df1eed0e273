/** What every job run is given by whoever starts it (the command line, the scheduler, the demo, tests). */
import type { Writable } from 'node:stream';
import type { Logger } from '../log.js';
import type { Shard } from '../shard.js';
import type { RunObserver } from './run-observer.js';

export interface RunOptions {
  /** Build every request and print it as NDJSON on `out`; send nothing, write no state. */
  dryRun: boolean;
  /** Stop after reading this many rows. */
  limit?: number | undefined;
  /** The shard this run takes; undefined for all rows. */
  shard?: Shard | undefined;
  /** Where dry-run request bodies go. */
  out: Writable;
  log: Logger;
  /** A shutdown request (SIGTERM / SIGINT): stop reading, let in-flight requests finish, checkpoint. */
  signal?: AbortSignal | undefined;
  /** Aborted if the job's lock is lost (its state connection dropped): the run stops and ends failed. */
  lockLost?: AbortSignal | undefined;
  /** A terminal to draw live progress on; undefined for JSON progress lines only. */
  progressTty?: NodeJS.WriteStream | undefined;
  /** Told of every real run: metrics, volume alerts, the webhook (src/monitor); absent: nobody watches. */
  observer?: RunObserver | undefined;
  /**
   * Ask the operator to go on (a first backfill, which can mail customers): shows `text` and resolves true on a typed
   * `yes`; undefined where no one can be asked (no terminal): the caller then stops and says to pass --yes.
   */
  confirm?: ((text: string) => Promise<boolean | undefined>) | undefined;
}
