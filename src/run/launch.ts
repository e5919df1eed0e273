/**
 * Launching a job: take its lock (one runner per job and shard), open the connections, run it, let go of everything.
 * The command line and the scheduler both come through here with a `Launchable` from the job table (jobs/index.ts);
 * this layer knows no job by name.
 */
import type { Config } from '../config/index.js';
import { withShard } from '../shard.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { ConfigError } from '../errors.js';
import { acquireJobLock, type JobLock } from '../state/lock.js';
import { pendingMigrations } from '../state/migrate.js';
import type { RunOptions } from './options.js';
import { openServices, type Services } from './services.js';
import type { RunSummary } from './summary.js';

/** One way to run a job, ready to go: what the job table hands the command line and the scheduler. */
export interface Launchable {
  /** The job's name, for logs ("orders"). */
  job: string;
  /** The lock it takes: runs of the same lock and shard exclude each other. */
  lock: string;
  /** Run it on opened services; one summary per run (replay makes one per job it replays). */
  run(services: Services, opts: RunOptions): Promise<RunSummary[]>;
}

export type LaunchOptions = Omit<RunOptions, 'lockLost'>;

/** The lock a launch takes: its name made shard-specific. */
export function lockName(launchable: Launchable, opts: Pick<RunOptions, 'shard'>): string {
  return withShard(launchable.lock, opts.shard);
}

/** A real run keeps books: a state schema never migrated (or dropped since) stops it with one line saying what to do. */
async function requireMigrated(services: Services): Promise<void> {
  const pending = await pendingMigrations(services.state);
  if (pending.length === 0) return;
  const { schema } = services.state;
  const what =
    pending.length === MIGRATIONS.length
      ? `schema "${schema}" has no connector tables (never migrated, or dropped)`
      : `schema "${schema}" lacks migrations ${pending.join(', ')}`;
  throw new ConfigError(`the state ${what}: run personaclick-sync migrate`);
}

export async function launchJob(config: Config, launchable: Launchable, opts: LaunchOptions): Promise<RunSummary[]> {
  // A dry run writes nothing, so it needs no lock and never blocks (or is blocked by) a real run.
  const lock: JobLock | undefined = opts.dryRun ? undefined : await acquireJobLock(config.state.url, config.state.schema, lockName(launchable, opts));
  const services = openServices(config, { dryRun: opts.dryRun, log: opts.log });
  try {
    if (!opts.dryRun) await requireMigrated(services);
    // A lost lock is not a shutdown: the run stops the same way but ends failed, with the reason (exit 1, not 143).
    return await launchable.run(services, { ...opts, lockLost: lock?.lost });
  } finally {
    await services.close();
    await lock?.release().catch((caught: unknown) => opts.log.warn({ err: caught }, 'could not release the job lock cleanly; it ends with the connection'));
  }
}
