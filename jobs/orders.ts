/** Orders → purchase events: incremental sync (and, with a range, backfill) over the operator's orders model. */
import type { Writable } from 'node:stream';
import { resolveStartFrom } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { buildPurchase } from '../src/payloads/index.js';
import { executeRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { linesFor, ordersPage, sourceNow, upperBound } from '../src/source/orders.js';
import { isUndefinedTable } from '../src/state/db.js';
import { deliveredKeys } from '../src/state/ledger.js';
import { readWatermark, writeWatermark, type Cursor } from '../src/state/watermarks.js';

export const ORDERS_LEDGER = 'orders';

export interface OrdersRunOptions {
  dryRun: boolean;
  limit?: number | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
}

export async function syncOrders(services: Services, opts: OrdersRunOptions): Promise<RunSummary> {
  const job = services.config.jobs.orders;
  if (!job) throw new ConfigError('No orders job in the configuration (jobs.orders)');
  const { source, state } = services;
  const watermarkName = 'orders';

  const { bound, heldBy } = await upperBound(source, job.settleSeconds);
  if (heldBy) {
    opts.log.warn({ heldBy, bound }, 'an open transaction in the shop database holds the upper bound back; orders after its start wait for the next run');
  }

  let start = await readStateOrNothing(() => readWatermark(state, watermarkName));
  const firstRun = start === undefined;
  if (!start) start = { ts: job.startFrom === 'now' ? await sourceNow(source) : resolveStartFrom(job.startFrom).toISOString(), key: null };

  return executeRun(
    services,
    { job: 'orders', mode: 'sync', ledgerJob: ORDERS_LEDGER, watermark: watermarkName, upperBound: bound, dryRun: opts.dryRun, out: opts.out, signal: opts.signal, log: opts.log },
    async (run) => {
      if (firstRun && !opts.dryRun) {
        // Remember the starting point now, so that `startFrom: now` means the first run's now, not the next one's.
        await writeWatermark(state, state.knex, watermarkName, start, { upperBound: bound, runId: run.runId });
      }
      run.log.debug({ from: start, before: bound }, 'reading orders');
      let after: Cursor = start;
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      while (remaining > 0 && !run.shouldStop()) {
        const page = await ordersPage(source, job.query, { after, before: bound, limit: Math.min(job.pageSize, remaining) });
        if (page.length === 0) break;
        const keys = page.map((o) => o.key);
        const [lines, delivered] = await Promise.all([
          linesFor(source, job.itemsQuery, keys),
          readStateOrNothing(() => deliveredKeys(state, ORDERS_LEDGER, keys)),
        ]);
        for (const order of page) {
          if (run.shouldStop()) break;
          const row = run.track(order.key, order.cursor);
          if (delivered?.has(order.key)) {
            run.skip(row);
            continue;
          }
          const built = buildPurchase(order.row, lines.get(order.key) ?? [], { shopId: services.config.personaclick.shopId, defaultStream: services.config.personaclick.stream });
          if (!built.ok) run.invalid(row, built.reason);
          else await run.dispatch(row, built.request);
        }
        const last = page[page.length - 1];
        if (last) after = last.cursor;
        remaining -= page.length;
        if (page.length < job.pageSize) break;
      }
    },
  );

  /** A dry run may look at a state schema that does not exist yet: then nothing is delivered and no watermark is set. */
  async function readStateOrNothing<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (caught) {
      if (opts.dryRun && isUndefinedTable(caught)) return undefined;
      throw caught;
    }
  }
}
