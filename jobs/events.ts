/** One-off migrations: every row of the events model becomes one request of any kind; the ledger makes re-runs resume. */
import type { Writable } from 'node:stream';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { buildEventRequest } from '../src/payloads/index.js';
import { executeRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { eventsPage } from '../src/source/events.js';
import { isUndefinedTable } from '../src/state/db.js';
import { deliveredKeys } from '../src/state/ledger.js';

export const EVENTS_LEDGER = 'events';

export interface EventsRunOptions {
  dryRun: boolean;
  limit?: number | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Aborted if the job's lock is lost: the run stops and ends failed. */
  lockLost?: AbortSignal | undefined;
  shard?: { index: number; count: number } | undefined;
}

export async function migrateEvents(services: Services, opts: EventsRunOptions): Promise<RunSummary> {
  const job = services.config.jobs.events;
  if (!job) throw new ConfigError('No events job in the configuration (jobs.events)');
  const ctx = { shopId: services.config.personaclick.shopId, defaultStream: services.config.personaclick.stream };
  const shardLabel = opts.shard && opts.shard.count > 1 ? `${opts.shard.index}/${opts.shard.count}` : undefined;
  return executeRun(
    services,
    { job: 'events', mode: 'events', ledgerJob: EVENTS_LEDGER, shard: shardLabel, dryRun: opts.dryRun, out: opts.out, signal: opts.signal, lockLost: opts.lockLost, log: opts.log },
    async (run) => {
      let after: string | null = null;
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      while (remaining > 0 && !run.shouldStop()) {
        const page = await eventsPage(services.source, job.query, after, Math.min(job.pageSize, remaining), opts.shard);
        if (page.length === 0) break;
        const keys = page.map((e) => e.key);
        let delivered: Set<string>;
        try {
          delivered = await deliveredKeys(services.state, EVENTS_LEDGER, keys);
        } catch (caught) {
          if (!(opts.dryRun && isUndefinedTable(caught))) throw caught;
          delivered = new Set();
        }
        for (const event of page) {
          if (run.shouldStop()) break;
          const row = run.track(event.key, undefined);
          if (delivered.has(event.key)) {
            run.skip(row);
            continue;
          }
          const built = buildEventRequest(event.row, ctx);
          if (!built.ok) run.invalid(row, built.reason);
          else await run.dispatch(row, built.request, { warnings: built.warnings });
        }
        after = page[page.length - 1]?.key ?? after;
        remaining -= page.length;
        if (page.length < job.pageSize) break;
      }
    },
  );
}
