/**
 * Launching a job: take its lock (one runner per job and shard), open the connections, run it, let go of
 * everything. The command line and the scheduler both come through here.
 */
import type { Writable } from 'node:stream';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { acquireJobLock, type JobLock } from '../state/lock.js';
import type { FailureFilter } from '../state/failures.js';
import { backfillOrders, syncOrders } from '../../jobs/orders.js';
import { reconcile } from '../../jobs/mirror.js';
import { migrateEvents } from '../../jobs/events.js';
import { replayFailures } from '../../jobs/replay.js';
import { openServices } from './services.js';
import { withShard, type Shard } from './shard.js';
import type { RunSummary } from './summary.js';
import type { RunObserver } from './observer.js';

export type JobRequest =
  | { kind: 'sync' }
  | { kind: 'backfill'; from: string; to: string }
  | { kind: 'reconcile'; target: 'carts' | 'wishlists'; full: boolean }
  | { kind: 'events' }
  | { kind: 'replay'; filter: FailureFilter };

export interface LaunchOptions {
  dryRun: boolean;
  limit?: number | undefined;
  shard?: Shard | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
  progressTty?: NodeJS.WriteStream | undefined;
  /** Told of every real run: metrics, volume alerts, the webhook (src/monitor). */
  observer?: RunObserver | undefined;
}

/** The lock a job request takes: runs of the same name and shard exclude each other. */
export function lockName(req: JobRequest, shard: Shard | undefined): string {
  const base = req.kind === 'sync' ? 'orders' : req.kind === 'backfill' ? 'orders:backfill' : req.kind === 'reconcile' ? req.target : req.kind === 'events' ? 'events' : 'replay';
  return withShard(base, shard);
}

export async function launchJob(config: Config, req: JobRequest, opts: LaunchOptions): Promise<RunSummary[]> {
  // A dry run writes nothing, so it needs no lock and never blocks (or is blocked by) a real run.
  const lock: JobLock | undefined = opts.dryRun ? undefined : await acquireJobLock(config.state.url, config.state.schema, lockName(req, opts.shard));
  const services = openServices(config, { dryRun: opts.dryRun, log: opts.log, observer: opts.observer });
  // A lost lock is not a shutdown: the run stops the same way but ends failed, with the reason (exit 1, not 143).
  const common = { dryRun: opts.dryRun, limit: opts.limit, out: opts.out, log: opts.log, signal: opts.signal, lockLost: lock?.lost };
  try {
    switch (req.kind) {
      case 'sync':
        return [await syncOrders(services, { ...common, shard: opts.shard, progressTty: opts.progressTty })];
      case 'backfill':
        return [await backfillOrders(services, { from: req.from, to: req.to }, { ...common, shard: opts.shard, progressTty: opts.progressTty })];
      case 'reconcile':
        return [await reconcile(services, req.target, { ...common, full: req.full, shard: opts.shard })];
      case 'events':
        return [await migrateEvents(services, { ...common, shard: opts.shard })];
      case 'replay':
        return await replayFailures(services, { ...common, filter: req.filter });
      default:
        return assertNever(req);
    }
  } finally {
    await services.close();
    await lock?.release().catch((caught: unknown) => opts.log.warn({ err: caught }, 'could not release the job lock cleanly; it ends with the connection'));
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown job request: ${JSON.stringify(value)}`);
}
