/**
 * Replay: read the failed rows again from the source (fresh data, so a fixed row now passes) and send them again.
 * Delivered ones are resolved by the checkpoint; failing ones stay open with their new reason.
 */
import type { Writable } from 'node:stream';
import type { Config, JobName } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import {
  buildClearCart,
  buildClearWish,
  buildEventRequest,
  buildFullCart,
  buildFullWish,
  buildPurchase,
  cartContentHash,
  type BuildContext,
} from '../src/payloads/index.js';
import { executeRun, type JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { eventsByKeys } from '../src/source/events.js';
import { linesFor, ordersByKeys } from '../src/source/orders.js';
import { devicesByDid } from '../src/source/snapshot.js';
import { openFailurePage, resolveGone, type FailureFilter } from '../src/state/failures.js';
import { deliveredKeys } from '../src/state/ledger.js';

export interface ReplayOptions {
  dryRun: boolean;
  limit?: number | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Aborted if the job's lock is lost: the run stops and ends failed. */
  lockLost?: AbortSignal | undefined;
  filter: FailureFilter;
}

const REPLAYABLE: readonly JobName[] = ['orders', 'carts', 'wishlists', 'events'];
const PAGE = 500;

/** One run per job that has open failures matching the filter; the summaries in job order. */
export async function replayFailures(services: Services, opts: ReplayOptions): Promise<RunSummary[]> {
  if (opts.filter.job && !REPLAYABLE.includes(opts.filter.job as JobName)) throw new ConfigError(`--job: must be one of ${REPLAYABLE.join(', ')} (got "${opts.filter.job}")`);
  const jobs = opts.filter.job ? [opts.filter.job as JobName] : REPLAYABLE.filter((j) => services.config.jobs[j] !== undefined);
  const summaries: RunSummary[] = [];
  for (const job of jobs) {
    if (!services.config.jobs[job]) throw new ConfigError(`--job ${job}: there is no jobs.${job} in the configuration to read the rows from`);
    const summary = await replayJob(services, job, opts);
    summaries.push(summary);
    if (summary.status !== 'done') break;
  }
  return summaries;
}

async function replayJob(services: Services, job: JobName, opts: ReplayOptions): Promise<RunSummary> {
  const ctx: BuildContext = { shopId: services.config.personaclick.shopId, defaultStream: services.config.personaclick.stream };
  const filter = { ...opts.filter, job };
  return executeRun(services, { job, mode: 'replay', ledgerJob: job, dryRun: opts.dryRun, out: opts.out, signal: opts.signal, lockLost: opts.lockLost, log: opts.log }, async (run) => {
    let afterId = 0;
    let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0 && !run.shouldStop()) {
      const page = await openFailurePage(services.state, filter, afterId, Math.min(PAGE, remaining));
      if (page.length === 0) break;
      afterId = page[page.length - 1]?.id ?? afterId;
      remaining -= page.length;
      const keys = page.map((f) => f.key);
      const gone = await replayPage(services.config, services, job, keys, run, ctx);
      if (gone.length > 0) {
        run.log.info({ keys: gone.slice(0, 20), count: gone.length }, 'failed rows gone from the source or delivered since: nothing to send, resolved');
        if (!opts.dryRun) await resolveGone(services.state, job, gone);
      }
      if (page.length < PAGE) break;
    }
  });
}

/** Send the page's rows again; returns the keys no longer in the source. */
async function replayPage(config: Config, services: Services, job: JobName, keys: string[], run: JobRun, ctx: BuildContext): Promise<string[]> {
  const { source, state } = services;
  if (job === 'orders') {
    const orders = config.jobs.orders;
    if (!orders) return [];
    const delivered = await deliveredKeys(state, 'orders', keys);
    const found = await ordersByKeys(source, orders.query, keys.filter((k) => !delivered.has(k)));
    const lines = await linesFor(source, orders.itemsQuery, found.map((o) => o.key));
    for (const order of found) {
      if (run.shouldStop()) break;
      const row = run.track(order.key, undefined);
      const built = buildPurchase(order.row, lines.get(order.key) ?? [], ctx);
      if (!built.ok) run.invalid(row, built.reason);
      else await run.dispatch(row, built.request);
    }
    for (const key of delivered) run.skip(run.track(key, undefined));
    const seen = new Set(found.map((o) => o.key));
    // Not in the source any more, or delivered since it failed: nothing to send either way.
    return keys.filter((k) => !seen.has(k));
  }
  if (job === 'events') {
    const events = config.jobs.events;
    if (!events) return [];
    const found = await eventsByKeys(source, events.query, keys);
    for (const event of found) {
      if (run.shouldStop()) break;
      const row = run.track(event.key, undefined);
      const built = buildEventRequest(event.row, ctx);
      if (!built.ok) run.invalid(row, built.reason);
      else await run.dispatch(row, built.request);
    }
    const seen = new Set(found.map((e) => e.key));
    return keys.filter((k) => !seen.has(k));
  }
  // carts / wishlists: the device's current lines, or the clearing request when it has none now.
  const mirror = config.jobs[job];
  if (!mirror) return [];
  const devices = await devicesByDid(source, mirror.query, keys);
  for (const did of keys) {
    if (run.shouldStop()) break;
    const row = run.track(did, undefined);
    const lines = devices.get(did);
    if (lines === undefined) {
      const clear = job === 'carts' ? buildClearCart(did, ctx) : buildClearWish(did, ctx);
      if (!clear.ok) run.invalid(row, clear.reason);
      else await run.dispatch(row, clear.request, { forgetOnDelivery: true });
      continue;
    }
    const built = job === 'carts' ? buildFullCart(did, lines, lines[0] ?? {}, ctx) : buildFullWish(did, lines, lines[0] ?? {}, ctx);
    if (!built.ok) {
      run.invalid(row, built.reason);
      continue;
    }
    const hash = cartContentHash((built.request.body.items ?? []) as { id: string; quantity?: number }[]);
    await run.dispatch(row, built.request, { hash });
  }
  return [];
}
