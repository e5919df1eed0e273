/** One-off migrations: every row of the events model becomes one request of any kind; the ledger makes re-runs resume. */
import { requireJob } from '../src/config/index.js';
import { buildEventRequest } from '../src/payloads/index.js';
import { readState } from '../src/run/dry-run.js';
import type { Launchable } from '../src/run/launch.js';
import type { RunOptions } from '../src/run/options.js';
import { executeRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { nextLimit } from '../src/source/byte-budget.js';
import { eventsByKeys, eventsPage } from '../src/source/events.js';
import { deliveredKeys } from '../src/state/ledger.js';
import { buildContext } from './context.js';
import type { JobDefinition } from './types.js';
import { warnedRows } from './warned.js';

export const EVENTS_LEDGER = 'events';

export async function migrateEvents(services: Services, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, 'events');
  const ctx = buildContext(services.config);
  return executeRun(services, opts, { job: 'events', mode: 'events', ledgerJob: EVENTS_LEDGER }, async (run) => {
    let after: string | null = null;
    let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
    let limit = job.pageSize;
    while (remaining > 0 && !run.shouldStop()) {
      const { events: page, more, byBytes } = await eventsPage(services.source, job.query, after, Math.min(limit, remaining), opts.shard);
      limit = nextLimit({ limit, rows: page.length, byBytes }, job.pageSize);
      if (page.length === 0) break;
      const delivered = await readState(opts.dryRun, () =>
        deliveredKeys(
          services.state,
          EVENTS_LEDGER,
          page.map((e) => e.key),
        ),
      );
      for (const event of page) {
        if (run.shouldStop()) break;
        const row = run.track(event.key, undefined);
        if (delivered?.has(event.key)) run.skip(row);
        else await run.submit(row, buildEventRequest(event.row, ctx));
      }
      after = page[page.length - 1]?.key ?? after;
      remaining -= page.length;
      if (!more) break;
    }
  });
}

const migration: Launchable = { job: 'events', lock: 'events', run: async (services, opts) => [await migrateEvents(services, opts)] };

export const eventsJob: JobDefinition = {
  name: 'events',
  delivers: { push: 'event' },
  commands: [
    {
      verb: 'events',
      options: [],
      usage: 'events',
      summary: 'send every row of the events model once (one-off migrations; re-runs resume)',
      prepare: () => migration,
    },
  ],
  scheduled: migration,
  replay: {
    async resend(services, run, failed) {
      const job = requireJob(services.config, 'events');
      const ctx = buildContext(services.config);
      const keys = failed.map((f) => f.key);
      const warned = warnedRows(failed);
      const seen = new Set<string>();
      for await (const page of eventsByKeys(services.source, job.query, keys)) {
        for (const event of page) {
          if (run.shouldStop()) return [];
          seen.add(event.key);
          await run.submit(run.track(event.key, undefined), buildEventRequest(event.row, ctx), { deliveredWithWarnings: warned.get(event.key) });
        }
      }
      return keys.filter((k) => !seen.has(k));
    },
  },
};
