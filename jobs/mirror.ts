/**
 * Carts → full_cart, wishlists → full_wish: the nightly mirror. The snapshot (sorted by did in byte order) is
 * merge-joined with the ledger's content hashes: new or changed → the full request; gone → the clearing request,
 * after which the ledger forgets the device; unchanged → nothing. Neither side is ever loaded whole.
 */
import type { Writable } from 'node:stream';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import {
  buildClearCart,
  buildClearWish,
  buildFullList,
  listContent,
  listEnvelopeOf,
  listEnvelopeProblem,
  type BuildContext,
  type BuildResult,
  type ListEnvelope,
  type ListKind,
} from '../src/payloads/index.js';
import { executeRun, type JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { compareC, snapshotPages, type DeviceLines } from '../src/source/snapshot.js';
import { isUndefinedTable } from '../src/state/db.js';
import { ledgerPages, type LedgerEntry } from '../src/state/ledger.js';

export type MirrorKind = 'carts' | 'wishlists';

interface MirrorSpec {
  list: ListKind;
  /** The clearing request, on the stream and segment of the device's last full request. */
  clear(did: string, ctx: BuildContext, last: ListEnvelope): BuildResult;
}

const SPECS: Record<MirrorKind, MirrorSpec> = {
  carts: { list: 'cart', clear: buildClearCart },
  wishlists: { list: 'wish', clear: buildClearWish },
};

export interface MirrorRunOptions {
  dryRun: boolean;
  /** Re-send every device, and clear every one the ledger knows that is gone. */
  full: boolean;
  limit?: number | undefined;
  out: Writable;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Aborted if the job's lock is lost: the run stops and ends failed. */
  lockLost?: AbortSignal | undefined;
  shard?: { index: number; count: number } | undefined;
}

export async function reconcile(services: Services, kind: MirrorKind, opts: MirrorRunOptions): Promise<RunSummary> {
  const job = services.config.jobs[kind];
  if (!job) throw new ConfigError(`No ${kind} job in the configuration (jobs.${kind})`);
  const spec = SPECS[kind];
  const ctx: BuildContext = { shopId: services.config.personaclick.shopId, defaultStream: services.config.personaclick.stream };
  const shardLabel = opts.shard && opts.shard.count > 1 ? `${opts.shard.index}/${opts.shard.count}` : undefined;

  return executeRun(
    services,
    { job: kind, mode: 'reconcile', ledgerJob: kind, shard: shardLabel, dryRun: opts.dryRun, out: opts.out, signal: opts.signal, lockLost: opts.lockLost, log: opts.log },
    async (run) => {
      // Both sides arrive a page at a time (each reading its next page meanwhile); the merge walks the pages in
      // step and awaits nothing for a device that is unchanged.
      const pages = snapshotPages(services.source, job.query, job.pageSize, opts.shard)[Symbol.asyncIterator]();
      const ledger = ledgerOrEmpty(ledgerPages(services.state, kind, run.runId, 5000, opts.shard), opts.dryRun)[Symbol.asyncIterator]();
      let devices: DeviceLines[] = [];
      let entries: LedgerEntry[] = [];
      let d = 0;
      let e = 0;
      let devicesDone = false;
      let entriesDone = false;
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      try {
        for (;;) {
          if (d === devices.length && !devicesDone) {
            const page = await pages.next();
            if (page.done) devicesDone = true;
            else [devices, d] = [page.value, 0];
          }
          if (e === entries.length && !entriesDone) {
            const page = await ledger.next();
            if (page.done) entriesDone = true;
            else [entries, e] = [page.value, 0];
          }
          const device = devices[d];
          const known = entries[e];
          if ((device === undefined && known === undefined) || remaining <= 0 || run.shouldStop()) break;
          remaining -= 1;
          const order = device === undefined ? 1 : known === undefined ? -1 : compareC(device.did, known.key);
          let pending: Promise<void> | undefined;
          if (device !== undefined && order <= 0) {
            d += 1;
            if (order === 0) e += 1;
            pending = send(run, device, order === 0 ? known : undefined);
          } else if (known !== undefined) {
            e += 1;
            pending = clear(run, known);
          }
          if (pending !== undefined) await pending;
        }
      } finally {
        await pages.return(undefined);
        await ledger.return(undefined);
      }
    },
  );

  /**
   * Items and their hash first: an unchanged device (most of them) is skipped before any request is built. The
   * did and envelope columns are checked before the skip too, so a device they make invalid is still reported;
   * a changed device's request is built and schema-checked in full before it is sent.
   */
  function send(run: JobRun, device: DeviceLines, before: LedgerEntry | undefined): Promise<void> | undefined {
    const row = run.track(device.did, undefined);
    const content = listContent(spec.list, device.lines);
    if (!content.ok) return void run.invalid(row, content.reason);
    const first = device.lines[0] ?? {};
    const problem = listEnvelopeProblem(device.did, first, ctx);
    if (problem !== undefined) return void run.invalid(row, problem.reason);
    const hash = content.value.hash;
    if (!opts.full && before?.hash === hash) return void run.skip(row);
    const built = buildFullList(spec.list, device.did, content.value, first, ctx);
    if (!built.ok) return void run.invalid(row, built.reason);
    return run.dispatch(row, built.request, { hash, envelope: listEnvelopeOf(built.request), warnings: built.warnings });
  }

  async function clear(run: JobRun, entry: LedgerEntry): Promise<void> {
    const row = run.track(entry.key, undefined);
    const built = spec.clear(entry.key, ctx, { stream: entry.stream ?? null, segment: entry.segment ?? null });
    if (!built.ok) return run.invalid(row, built.reason);
    await run.dispatch(row, built.request, { forgetOnDelivery: true, warnings: built.warnings });
  }
}

/** A dry run before `migrate` has no ledger: every device is then new. */
async function* ledgerOrEmpty<T>(entries: AsyncGenerator<T>, dryRun: boolean): AsyncGenerator<T> {
  try {
    yield* entries;
  } catch (caught) {
    if (dryRun && isUndefinedTable(caught)) return;
    throw caught;
  }
}
