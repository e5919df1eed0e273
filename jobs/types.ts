/**
 * The shape of the job table (jobs/index.ts): each job says what it is called, which commands run it and how, what
 * `schedule` runs, and how `replay` re-reads and rebuilds its rows by key. The command line, the scheduler and replay
 * know jobs only through these.
 */
import type { JobName } from '../src/config/index.js';
import type { Launchable } from '../src/run/launch.js';
import type { JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { FailureFilter } from '../src/state/failures.js';

/** What the command line parsed that a job command may take (each command names the ones it takes). */
export interface CommandArgs {
  from?: string | undefined;
  to?: string | undefined;
  full?: boolean | undefined;
  job?: string | undefined;
  failureClass?: FailureFilter['class'];
  since?: Date | undefined;
  via?: 'push' | 'sync' | undefined;
  oldOrdersAsNew?: boolean | undefined;
  /** backfill: the explicit yes to a first backfill of a range (it can mail customers). */
  yes?: boolean | undefined;
}

/** The command-line options of job commands, beyond the common ones (--dry-run, --limit, --shard, --shards). */
export type CommandOption = 'from' | 'to' | 'full' | 'job' | 'class' | 'since' | 'via' | 'old-orders-as-new' | 'yes';

export interface JobCommand {
  /** The first word: `sync`, `backfill`, `reconcile`, `events`, `replay`. */
  verb: string;
  /** The second word, when the verb takes one: `sync orders`, `reconcile carts`. */
  target?: string | undefined;
  options: readonly CommandOption[];
  /** For --help: how to call it, and what it does. */
  usage: string;
  summary: string;
  /** Check the command's options and give what to launch. Throws ConfigError (exit 2) on bad usage. */
  prepare(args: CommandArgs): Launchable;
}

/** An open failure as replay hands it to a job. */
export interface FailedRow {
  key: string;
  class: string;
  /** Orders: the road it failed on (`sync`: the order-sync API); null for the others. */
  road: string | null;
  /** For a `warning`: the warnings it was delivered with (a rebuild with exactly these is not sent again). */
  reason: string;
}

/** How replay sends a job's failed rows again. */
export interface Replayer {
  /**
   * Read these rows again from the source, build and submit them on `run`; answers the keys that need nothing sent
   * (gone from the source, or delivered since they failed). A `warning` row was delivered, and is sent again all the
   * same when its rebuild differs (PersonaClick keeps one order per order_id).
   */
  resend(services: Services, run: JobRun, failed: readonly FailedRow[]): Promise<string[]>;
}

export interface JobDefinition {
  /** Its section in the config (`jobs.<name>`), and its ledger and failures namespace. */
  name: JobName;
  commands: readonly JobCommand[];
  /** What `schedule` runs on `jobs.<name>.schedule`: the incremental or nightly form, never a backfill or --full. */
  scheduled: Launchable;
  replay: Replayer;
  /** What its ledger rows stand for, by road (`status` shows it): `{ push: 'purchase', sync: 'order-sync' }`, `{ push: 'full_cart' }`. */
  delivers: Partial<Record<'push' | 'sync', string>>;
}
