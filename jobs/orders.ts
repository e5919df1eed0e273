/**
 * Orders → purchase events. Incremental sync follows the `orders` watermark from run to run; a backfill walks a
 * range of updated_at with a watermark of its own and stops where the incremental sync stands, so the two never
 * read the same order. Both consult the one delivered ledger.
 */
import type { Writable } from 'node:stream';
import { resolveStartFrom } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { buildPurchase } from '../src/payloads/index.js';
import { executeRun, type JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import { shardLabel, withShard, type Shard } from '../src/run/shard.js';
import type { RunSummary } from '../src/run/summary.js';
import { countOrders, linesFor, ordersPage, sourceNow, unplaceableOrders, upperBound } from '../src/source/orders.js';
import { isUndefinedTable } from '../src/state/db.js';
import { deliveredKeys } from '../src/state/ledger.js';
import { listWatermarks, readWatermark, writeWatermark, type Cursor } from '../src/state/watermarks.js';

export const ORDERS_LEDGER = 'orders';
export const ORDERS_WATERMARK = 'orders';

export interface OrdersRunOptions {
  dryRun: boolean;
  limit?: number | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Aborted if the job's lock is lost: the run stops and ends failed. */
  lockLost?: AbortSignal | undefined;
  shard?: Shard | undefined;
  progressTty?: NodeJS.WriteStream | undefined;
}

export interface BackfillRange {
  /** Inclusive start of updated_at, as given (ISO date or datetime). */
  from: string;
  /** Exclusive end of updated_at. */
  to: string;
}

/** Incremental: everything after the watermark, up to this run's frozen upper bound. */
export async function syncOrders(services: Services, opts: OrdersRunOptions): Promise<RunSummary> {
  const job = ordersJob(services);
  const watermark = withShard(ORDERS_WATERMARK, opts.shard);
  const { bound } = await boundOf(services, opts.log);
  let start = await stateOrNothing(opts.dryRun, () => readWatermark(services.state, watermark));
  const firstRun = start === undefined;
  if (!start && opts.shard) {
    // A new shard of a job that ran unsharded before carries on from there.
    start = await stateOrNothing(opts.dryRun, () => readWatermark(services.state, ORDERS_WATERMARK));
  }
  start ??= { ts: job.startFrom === 'now' ? await sourceNow(services.source) : resolveStartFrom(job.startFrom).toISOString(), key: null };
  return runOrders(services, opts, { mode: 'sync', watermark, start, bound, saveStart: firstRun });
}

/** Backfill: the orders of [from, to) by updated_at, resumable, never past the incremental watermark. */
export async function backfillOrders(services: Services, range: BackfillRange, opts: OrdersRunOptions): Promise<RunSummary> {
  ordersJob(services);
  const from = parseInstant(range.from, '--from');
  const to = parseInstant(range.to, '--to');
  if (from >= to) throw new ConfigError(`--from must be before --to (got ${range.from} .. ${range.to})`);
  const watermark = withShard(`orders:backfill:${range.from}..${range.to}`, opts.shard);
  const { bound: settled } = await boundOf(services, opts.log);
  // Stop where the incremental sync stands (the lowest of its watermarks): orders after it are its to send.
  const incremental = (await stateOrNothing(opts.dryRun, () => listWatermarks(services.state))) ?? [];
  const marks = incremental.filter((w) => w.name === ORDERS_WATERMARK || w.name.startsWith(`${ORDERS_WATERMARK}#`)).map((w) => w.cursor.ts);
  const bound = [to.toISOString(), settled, ...marks].reduce((a, b) => (b < a ? b : a));
  const start = (await stateOrNothing(opts.dryRun, () => readWatermark(services.state, watermark))) ?? { ts: from.toISOString(), key: null };
  return runOrders(services, opts, { mode: 'backfill', watermark, start, bound, saveStart: false, countTotal: true });
}

interface OrdersPass {
  mode: 'sync' | 'backfill';
  watermark: string;
  start: Cursor;
  bound: string;
  /** Write the starting point before anything else (the first incremental run: `startFrom: now` must stick). */
  saveStart: boolean;
  countTotal?: boolean;
}

async function runOrders(services: Services, opts: OrdersRunOptions, pass: OrdersPass): Promise<RunSummary> {
  const job = ordersJob(services);
  const { source, state } = services;
  const ctx = { shopId: services.config.personaclick.shopId, defaultStream: services.config.personaclick.stream };
  const total = pass.countTotal ? await countOrders(source, job.query, pass.start, pass.bound, opts.shard) : undefined;
  return executeRun(
    services,
    {
      job: 'orders',
      mode: pass.mode,
      ledgerJob: ORDERS_LEDGER,
      watermark: pass.watermark,
      upperBound: pass.bound,
      shard: shardLabel(opts.shard),
      dryRun: opts.dryRun,
      out: opts.out,
      signal: opts.signal, lockLost: opts.lockLost,
      log: opts.log,
      total: total === undefined ? undefined : Math.min(total, opts.limit ?? total),
      progressTty: opts.progressTty,
    },
    async (run) => {
      if (pass.saveStart && !opts.dryRun) await writeWatermark(state, state.knex, pass.watermark, pass.start, { upperBound: pass.bound, runId: run.runId });
      run.log.debug({ from: pass.start, before: pass.bound }, 'reading orders');
      await keepUnplaceable(services, run, job.query, pass, opts);
      // The next page (and its lines and ledger rows) is read while this one is built and sent: the shop's
      // database and this process work at the same time. Only one source query runs at a time.
      const fetchPage = async (after: Cursor, limit: number) => {
        const page = await ordersPage(source, job.query, { after, before: pass.bound, limit, shard: opts.shard });
        const keys = page.map((o) => o.key);
        const [lines, delivered] = await Promise.all([
          linesFor(source, job.itemsQuery, keys),
          stateOrNothing(opts.dryRun, () => deliveredKeys(state, ORDERS_LEDGER, keys)),
        ]);
        return { page, lines, delivered };
      };
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      let next: ReturnType<typeof fetchPage> | undefined = fetchPage(pass.start, Math.min(job.pageSize, remaining));
      while (next && !run.shouldStop()) {
        const { page, lines, delivered } = await next;
        next = undefined;
        const last = page[page.length - 1];
        if (!last) break;
        remaining -= page.length;
        if (page.length === job.pageSize && remaining > 0) {
          next = fetchPage(last.cursor, Math.min(job.pageSize, remaining));
          next.catch(() => undefined); // awaited next turn; a run that stops first must not leave it unhandled
        }
        for (const order of page) {
          if (run.shouldStop()) break;
          const row = run.track(order.key, order.cursor);
          if (delivered?.has(order.key)) {
            run.skip(row);
            continue;
          }
          const built = buildPurchase(order.row, lines.get(order.key) ?? [], ctx);
          if (!built.ok) run.invalid(row, built.reason);
          else await run.dispatch(row, built.request, { warnings: built.warnings });
        }
      }
      // Stopped early with a page on its way: let its query end before the source closes.
      if (next) await next.catch(() => undefined);
    },
  );
}

/** Rows with a NULL order_id or updated_at: kept as invalid failures (named column), with one warning per run. */
async function keepUnplaceable(services: Services, run: JobRun, query: string, pass: OrdersPass, opts: OrdersRunOptions): Promise<void> {
  if (opts.limit !== undefined) return; // a sample run (--limit) reads pages only
  const found = await unplaceableOrders(services.source, query, pass.start, pass.bound, opts.shard);
  if (found.length === 0) return;
  const delivered = await stateOrNothing(opts.dryRun, () => deliveredKeys(services.state, ORDERS_LEDGER, found.map((u) => u.key)));
  const kept = found.filter((u) => !delivered?.has(u.key));
  if (kept.length === 0) return;
  run.log.warn({ count: kept.length, keys: kept.slice(0, 5).map((u) => u.key) }, 'orders with a NULL order_id or updated_at: kept as invalid, never sent');
  for (const u of kept) run.invalid(run.track(u.key, undefined), u.reason);
}

function ordersJob(services: Services) {
  const job = services.config.jobs.orders;
  if (!job) throw new ConfigError('No orders job in the configuration (jobs.orders)');
  return job;
}

async function boundOf(services: Services, log: Logger): Promise<{ bound: string }> {
  const job = ordersJob(services);
  const { bound, heldBy } = await upperBound(services.source, job.settleSeconds);
  if (heldBy) log.warn({ heldBy, bound }, 'an open transaction in the shop database holds the upper bound back; orders after its start wait for the next run');
  return { bound };
}

function parseInstant(value: string, flag: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new ConfigError(`${flag}: must be an ISO date or datetime, e.g. 2024-01-01 or 2024-01-01T12:00:00Z (got "${value}")`);
  return date;
}

/** A dry run may look at a state schema that does not exist yet: then nothing is delivered and no watermark is set. */
async function stateOrNothing<T>(dryRun: boolean, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (caught) {
    if (dryRun && isUndefinedTable(caught)) return undefined;
    throw caught;
  }
}
