/**
 * Carts → full_cart, wishlists → full_wish: the nightly mirror. The snapshot (sorted by did in byte order) is
 * merge-joined with the ledger's content hashes: new or changed → the full request; gone → the clearing request,
 * after which the ledger forgets the device; unchanged → nothing. Neither side is ever loaded whole.
 */
import { requireJob } from '../src/config/index.js';
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
  type Row,
} from '../src/payloads/index.js';
import { readState, readStatePages } from '../src/run/dry-run.js';
import type { Launchable } from '../src/run/launch.js';
import type { RunOptions } from '../src/run/options.js';
import { executeRun, type JobRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { tooLargeReason } from '../src/source/byte-budget.js';
import { devicesByDid, sizeDevices, snapshotPages, type SnapshotDevice } from '../src/source/snapshot.js';
import { ledgerEnvelopes, ledgerPages, type LedgerEntry } from '../src/state/ledger.js';
import { buildContext } from './context.js';
import { mergeJoin } from '../src/run/merge-join.js';
import type { JobDefinition } from './types.js';
import { warnedRows } from './warned.js';
import { requireColumns } from './model-shape.js';
import { CARTS_MODEL, WISHLISTS_MODEL, type ModelSpec } from '../src/source/models.js';

export type MirrorKind = 'carts' | 'wishlists';

interface MirrorSpec {
  list: ListKind;
  /** The clearing request, on the stream and segment of the device's last full request. */
  clear(did: string, ctx: BuildContext, last: ListEnvelope | undefined): BuildResult;
}

const MODELS: Record<MirrorKind, ModelSpec> = { carts: CARTS_MODEL, wishlists: WISHLISTS_MODEL };

const SPECS: Record<MirrorKind, MirrorSpec> = {
  carts: { list: 'cart', clear: buildClearCart },
  wishlists: { list: 'wish', clear: buildClearWish },
};

/** What one device of the snapshot comes to: invalid, or its content hash and (built only when needed) its request. */
type DeviceRequest = { ok: false; reason: string } | { ok: true; hash: string; build: () => BuildResult };

/**
 * Items and their hash first: an unchanged device (most of them) is skipped before any request is built. The did and
 * envelope columns are checked before the skip too, so a device they make invalid is still reported.
 */
function deviceRequest(spec: MirrorSpec, did: string, lines: readonly Row[], ctx: BuildContext): DeviceRequest {
  const content = listContent(spec.list, lines);
  if (!content.ok) return content;
  const first = lines[0] ?? {};
  const problem = listEnvelopeProblem(did, first, ctx);
  if (problem !== undefined) return problem;
  return { ok: true, hash: content.value.hash, build: () => buildFullList(spec.list, did, content.value, first, ctx) };
}

/**
 * A device's full request, or (when the hash is unchanged and `full` is off) nothing. The ledger keeps the stream and
 * segment it went out with, for its clearing request one day.
 */
function sendDevice(
  run: JobRun,
  spec: MirrorSpec,
  device: SnapshotDevice,
  before: { hash: string | null | undefined; full: boolean; deliveredWithWarnings?: string | undefined },
  ctx: BuildContext,
  budget: number,
): Promise<void> | undefined {
  const row = run.track(device.did, undefined);
  // Too large to read: PersonaClick keeps what it was last told, and the device stays an open failure with its size.
  if ('tooLarge' in device) return void run.invalid(row, tooLargeReason(`the ${spec.list === 'cart' ? 'cart' : 'wishlist'}`, device.tooLarge, budget));
  const request = deviceRequest(spec, device.did, device.lines, ctx);
  if (!request.ok) return void run.invalid(row, request.reason);
  if (!before.full && before.hash === request.hash) return void run.skip(row);
  const built = request.build();
  return run.submit(row, built, {
    hash: request.hash,
    envelope: built.ok ? listEnvelopeOf(built.request) : undefined,
    deliveredWithWarnings: before.deliveredWithWarnings,
  });
}

/** The clearing request of a device the shop no longer has, on its last stream and segment; delivered, the ledger forgets it. */
function clearDevice(
  run: JobRun,
  spec: MirrorSpec,
  did: string,
  last: ListEnvelope | undefined,
  ctx: BuildContext,
  deliveredWithWarnings?: string,
): Promise<void> {
  return run.submit(run.track(did, undefined), spec.clear(did, ctx, last), { forgetOnDelivery: true, deliveredWithWarnings });
}

export async function reconcile(services: Services, kind: MirrorKind, full: boolean, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, kind);
  const spec = SPECS[kind];
  const ctx = buildContext(services.config);

  return executeRun(services, opts, { job: kind, mode: 'reconcile', ledgerJob: kind }, async (run) => {
    // A required column missing would make every device invalid: a model error, before anything is sent.
    await requireColumns(services.source, MODELS[kind], job.query);
    // Both sides arrive a page at a time; the merge walks them in step and awaits nothing for an unchanged device.
    await mergeJoin(
      snapshotPages(services.source, job.query, job.pageSize, opts.shard),
      (device: SnapshotDevice) => device.did,
      readStatePages(opts.dryRun, ledgerPages(services.state, kind, run.runId, 5000, opts.shard)),
      (entry: LedgerEntry) => entry.key,
      (device, known) =>
        device !== undefined
          ? sendDevice(run, spec, device, { hash: known?.hash, full }, ctx, services.source.pageBytes)
          : known !== undefined
            ? clearDevice(run, spec, known.key, { stream: known.stream ?? null, segment: known.segment ?? null }, ctx)
            : undefined,
      { limit: opts.limit, stop: () => run.shouldStop() },
    );
  });
}

/** Devices read per statement when a run asks for given ones. */
const DEVICES_PER_READ = 1000;

/**
 * The carts of these devices now, as the shop has them: the full cart, or the clearing request when it has none.
 * The live orders sync runs it for the buyers whose purchases it delivered, so that PersonaClick never holds what
 * they bought as an abandoned cart until the night. Always sent (PersonaClick's view of a cart comes from the
 * storefront too, not only from this ledger), and booked in the carts ledger like the nightly run.
 */
export async function reconcileBuyers(services: Services, dids: readonly string[], opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, 'carts');
  return executeRun(services, { ...opts, limit: undefined }, { job: 'carts', mode: 'buyers', ledgerJob: 'carts' }, async (run) => {
    await requireColumns(services.source, CARTS_MODEL, job.query);
    for (let i = 0; i < dids.length && !run.shouldStop(); i += DEVICES_PER_READ) {
      await resendDevices(services, run, 'carts', dids.slice(i, i + DEVICES_PER_READ), new Map(), opts.dryRun);
    }
  });
}

/**
 * These devices as the shop has them now: each full request, or the clearing request for one the model no longer
 * gives (on the stream and segment of its last full request); one larger than `source.pageBytes` stays an invalid
 * failure. Sized first, then read in runs within the budget.
 */
async function resendDevices(
  services: Services,
  run: JobRun,
  kind: MirrorKind,
  dids: readonly string[],
  warned: ReadonlyMap<string, string>,
  dryRun: boolean,
): Promise<void> {
  const job = requireJob(services.config, kind);
  const spec = SPECS[kind];
  const ctx = buildContext(services.config);
  const budget = services.source.pageBytes;
  const sized = await sizeDevices(services.source, job.query, dids);
  const last = await readState(dryRun, () => ledgerEnvelopes(services.state, kind, sized.missing));
  for (const did of sized.missing) {
    if (run.shouldStop()) return;
    await clearDevice(run, spec, did, last?.get(did), ctx, warned.get(did));
  }
  for (const [did, tooLarge] of sized.tooLarge) void sendDevice(run, spec, { did, tooLarge }, { hash: undefined, full: true }, ctx, budget);
  for (const chunk of sized.runs) {
    if (run.shouldStop()) return;
    const devices = await devicesByDid(services.source, job.query, chunk);
    for (const [did, lines] of devices) {
      if (run.shouldStop()) return;
      await sendDevice(run, spec, { did, lines }, { hash: undefined, full: true, deliveredWithWarnings: warned.get(did) }, ctx, budget);
    }
  }
}

function mirrorJob(kind: MirrorKind): JobDefinition {
  const launch = (full: boolean): Launchable => ({ job: kind, lock: kind, run: async (services, opts) => [await reconcile(services, kind, full, opts)] });
  const nightly = launch(false);
  return {
    name: kind,
    delivers: { push: kind === 'carts' ? 'full_cart' : 'full_wish' },
    commands: [
      {
        verb: 'reconcile',
        target: kind,
        options: ['full'],
        usage: `reconcile ${kind} [--full]`,
        summary: `make PersonaClick's ${kind} equal the shop's (changed, new and gone ones); --full re-sends every one`,
        prepare: (args) => (args.full ? launch(true) : nightly),
      },
    ],
    scheduled: nightly,
    // The device's lines now, built exactly as the nightly merge builds them (the same hash); none left: the clearing request.
    replay: {
      async resend(services, run, failed) {
        await resendDevices(
          services,
          run,
          kind,
          failed.map((f) => f.key),
          warnedRows(failed),
          false,
        );
        return [];
      },
    },
  };
}

export const cartsJob = mirrorJob('carts');
export const wishlistsJob = mirrorJob('wishlists');
