/**
 * Replay: read the failed rows again from the source (fresh data, so a fixed row now passes) and send them again.
 * Delivered ones are resolved by the checkpoint; failing ones stay open with their new reason.
 *
 * A *warning* (a row delivered without optional fields whose values were bad) is read again although the ledger has
 * it, rebuilt, and sent again as a whole request when the rebuild differs: without warnings it is resolved, with
 * other warnings it stays open with them. A purchase resent this way is the same order_id, which PersonaClick
 * dedupes: no second order. A rebuild with the very same warnings (nothing fixed yet) is not sent again.
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
  listEnvelopeOf,
  warningsText,
  type BuildContext,
  type BuildResult,
} from '../src/payloads/index.js';
import { executeRun, type DispatchOptions, type JobRun, type RowHandle } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { eventsByKeys } from '../src/source/events.js';
import { linesFor, ordersByKeys } from '../src/source/orders.js';
import { devicesByDid } from '../src/source/snapshot.js';
import { openFailurePage, resolveGone, type FailureFilter } from '../src/state/failures.js';
import { deliveredKeys, ledgerEnvelopes } from '../src/state/ledger.js';

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
      const open = new Map(page.map((f) => [f.key, f]));
      const gone = await replayPage(services.config, services, job, open, run, ctx);
      if (gone.length > 0) {
        run.log.info({ keys: gone.slice(0, 20), count: gone.length }, 'failed rows gone from the source or delivered since: nothing to send, resolved');
        if (!opts.dryRun) await resolveGone(services.state, job, gone);
      }
      if (page.length < PAGE) break;
    }
  });
}

/** An open failure as replay sees it. */
interface OpenRow {
  class: string;
  reason: string;
}

/**
 * Send a rebuilt row again, or record why it cannot go. A warning whose rebuild has exactly the warnings it was
 * delivered with is left open and not sent: nothing in it was fixed, and PersonaClick has that request already.
 */
async function resend(run: JobRun, row: RowHandle, built: BuildResult, open: OpenRow | undefined, opts: DispatchOptions = {}): Promise<void> {
  if (!built.ok) return run.invalid(row, built.reason);
  if (open?.class === 'warning' && built.warnings.length > 0 && warningsText(built.warnings) === open.reason) return run.skip(row);
  await run.dispatch(row, built.request, { ...opts, warnings: built.warnings });
}

/** Send the page's rows again; returns the keys no longer in the source. */
async function replayPage(config: Config, services: Services, job: JobName, open: Map<string, OpenRow>, run: JobRun, ctx: BuildContext): Promise<string[]> {
  const { source, state } = services;
  const keys = [...open.keys()];
  if (job === 'orders') {
    const orders = config.jobs.orders;
    if (!orders) return [];
    // A warning is in the ledger (it was delivered) and is sent again all the same; any other delivered key is done.
    const delivered = await deliveredKeys(state, 'orders', keys.filter((k) => open.get(k)?.class !== 'warning'));
    const found = await ordersByKeys(source, orders.query, keys.filter((k) => !delivered.has(k)));
    const lines = await linesFor(source, orders.itemsQuery, found.map((o) => o.key));
    for (const order of found) {
      if (run.shouldStop()) break;
      const row = run.track(order.key, undefined);
      await resend(run, row, buildPurchase(order.row, lines.get(order.key) ?? [], ctx), open.get(order.key));
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
      await resend(run, row, buildEventRequest(event.row, ctx), open.get(event.key));
    }
    const seen = new Set(found.map((e) => e.key));
    return keys.filter((k) => !seen.has(k));
  }
  // carts / wishlists: the device's current lines, or the clearing request when it has none now.
  const mirror = config.jobs[job];
  if (!mirror) return [];
  const devices = await devicesByDid(source, mirror.query, keys);
  // Devices gone from the snapshot are cleared on the stream and segment of their last full request.
  const gone = keys.filter((did) => !devices.has(did));
  const last = await ledgerEnvelopes(state, job, gone);
  for (const did of keys) {
    if (run.shouldStop()) break;
    const row = run.track(did, undefined);
    const lines = devices.get(did);
    if (lines === undefined) {
      const envelope = last.get(did);
      const clear = job === 'carts' ? buildClearCart(did, ctx, envelope) : buildClearWish(did, ctx, envelope);
      await resend(run, row, clear, open.get(did), { forgetOnDelivery: true });
      continue;
    }
    const built = job === 'carts' ? buildFullCart(did, lines, lines[0] ?? {}, ctx) : buildFullWish(did, lines, lines[0] ?? {}, ctx);
    if (!built.ok) {
      run.invalid(row, built.reason);
      continue;
    }
    const hash = cartContentHash((built.request.body.items ?? []) as { id: string; quantity?: number }[]);
    await resend(run, row, built, open.get(did), { hash, envelope: listEnvelopeOf(built.request) });
  }
  return [];
}
