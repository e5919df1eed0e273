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
  buildFullCart,
  buildFullWish,
  cartContentHash,
  type BuildContext,
  type BuildResult,
  type Row,
} from '../src/payloads/index.js';
import { executeRun, type JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { compareC, snapshotDevices, type DeviceLines } from '../src/source/snapshot.js';
import { isUndefinedTable } from '../src/state/db.js';
import { ledgerInKeyOrder, type LedgerEntry } from '../src/state/ledger.js';

export type MirrorKind = 'carts' | 'wishlists';

interface MirrorSpec {
  build(did: string, lines: readonly Row[], envelope: Row, ctx: BuildContext): BuildResult;
  clear(did: string, ctx: BuildContext): BuildResult;
}

const SPECS: Record<MirrorKind, MirrorSpec> = {
  carts: { build: buildFullCart, clear: buildClearCart },
  wishlists: { build: buildFullWish, clear: buildClearWish },
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
      const devices = snapshotDevices(services.source, job.query, job.pageSize, opts.shard)[Symbol.asyncIterator]();
      const ledger = ledgerOrEmpty(ledgerInKeyOrder(services.state, kind, run.runId, 5000, opts.shard), opts.dryRun)[Symbol.asyncIterator]();
      let device = await devices.next();
      let known = await ledger.next();
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      while ((!device.done || !known.done) && remaining > 0 && !run.shouldStop()) {
        const order = device.done ? 1 : known.done ? -1 : compareC(device.value.did, known.value.key);
        remaining -= 1;
        if (order < 0 && !device.done) {
          await send(run, device.value, undefined);
          device = await devices.next();
        } else if (order === 0 && !device.done && !known.done) {
          await send(run, device.value, known.value);
          device = await devices.next();
          known = await ledger.next();
        } else if (!known.done) {
          await clear(run, known.value);
          known = await ledger.next();
        }
      }
      await devices.return?.(undefined);
      await ledger.return?.(undefined);
    },
  );

  async function send(run: JobRun, device: DeviceLines, before: LedgerEntry | undefined): Promise<void> {
    const row = run.track(device.did, undefined);
    const first = device.lines[0] ?? {};
    const built = spec.build(device.did, device.lines, first, ctx);
    if (!built.ok) return run.invalid(row, built.reason);
    const items = (built.request.body.items ?? []) as { id: string; quantity?: number }[];
    const hash = cartContentHash(items);
    if (!opts.full && before?.hash === hash) return run.skip(row);
    await run.dispatch(row, built.request, { hash });
  }

  async function clear(run: JobRun, entry: LedgerEntry): Promise<void> {
    const row = run.track(entry.key, undefined);
    const built = spec.clear(entry.key, ctx);
    if (!built.ok) return run.invalid(row, built.reason);
    await run.dispatch(row, built.request, { forgetOnDelivery: true });
  }
}

/** A dry run before `migrate` has no ledger: every device is then new. */
async function* ledgerOrEmpty(entries: AsyncGenerator<LedgerEntry>, dryRun: boolean): AsyncGenerator<LedgerEntry> {
  try {
    yield* entries;
  } catch (caught) {
    if (dryRun && isUndefinedTable(caught)) return;
    throw caught;
  }
}
