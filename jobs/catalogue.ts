/**
 * The catalogue: categories and products kept in step with PersonaClick's catalogue imports (docs/catalogue.md), as
 * the carts are: the model (sorted by id in byte order) merge-joined with the ledger's digests (src/run/merge-join.ts). New or
 * changed → added/updated in batches (`PUT`); gone from the shop → removed (`DELETE`: a removed product is marked out
 * of stock); unchanged → nothing. Availability is a field of each product (`available`), sent with it, so a going
 * out of stock is a change like any other. The availability sync (`PATCH`, which marks every product it does not
 * list out of stock) is never used: a catalogue larger than one request would lose the rest of its stock.
 *
 * Every request is a secret-bearing import on the shop's one budget (the `sync` road). Categories go first in any run
 * that sends products, so that a product never names a category PersonaClick does not have yet.
 */
import { ConfigError, LockedError } from '../src/errors.js';
import { requireJob, type Config } from '../src/config/index.js';
import {
  buildCategoryItem,
  buildProductItem,
  catalogueRequest,
  type CatalogueContext,
  type CatalogueKind,
  type ItemResult,
  type JsonValue,
  type Row,
} from '../src/payloads/index.js';
import { readState, readStatePages } from '../src/run/dry-run.js';
import type { Launchable } from '../src/run/launch.js';
import type { RunOptions } from '../src/run/options.js';
import { executeRun, type JobRun, type RowHandle } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { upperBound } from '../src/source/orders.js';
import { tooLargeReason } from '../src/source/byte-budget.js';
import { devicesByDid, snapshotDevices, snapshotPages, type ChangedWindow, type SnapshotDevice } from '../src/source/snapshot.js';
import { ledgerPages, ledgerStates, type LedgerEntry, type LedgerState } from '../src/state/ledger.js';
import { readWatermark, writeWatermark } from '../src/state/watermarks.js';
import { withShard } from '../src/shard.js';
import { acquireJobLock, type JobLock } from '../src/state/lock.js';
import { mergeJoin } from '../src/run/merge-join.js';
import { RequestBatches } from './order-batches.js';
import type { JobDefinition } from './types.js';

/** The watermark of `sync products`: where the last complete incremental run read up to (updated_at). */
export const PRODUCTS_WATERMARK = 'products';

/** The catalogue imports need the shop secret: without it, one line saying where it comes from (exit 2). */
function secretOf(config: Config, kind: CatalogueKind): string {
  const secret = config.personaclick.shopSecret;
  if (secret === undefined || secret === '') {
    throw new ConfigError(
      `${kind}: the catalogue imports need the shop secret: set personaclick.shopSecret (from the environment, e.g. \${PERSONACLICK_SHOP_SECRET})`,
    );
  }
  return secret;
}

/** The category tree of the categories model (id → has children), when the config has one: products must name its leaves. */
async function categoryTree(services: Services): Promise<Map<string, boolean> | undefined> {
  const job = services.config.jobs.categories;
  if (job === undefined) return undefined;
  const tree = new Map<string, boolean>();
  const parents = new Set<string>();
  for await (const category of snapshotDevices(services.source, job.query, job.pageSize, undefined, 'id')) {
    tree.set(category.did, false);
    const parent = 'lines' in category ? category.lines[0]?.parent : undefined;
    if (typeof parent === 'string' || typeof parent === 'number' || typeof parent === 'bigint') parents.add(String(parent));
  }
  for (const id of parents) if (tree.has(id)) tree.set(id, true);
  return tree;
}

async function catalogueContext(services: Services, kind: CatalogueKind): Promise<CatalogueContext> {
  const { config } = services;
  const products = config.jobs.products;
  return {
    shopId: config.personaclick.shopId,
    shopSecret: secretOf(config, kind),
    zeroPrices: products?.zeroPrices ?? false,
    currency: products?.currency,
    categories: kind === 'products' ? await categoryTree(services) : undefined,
  };
}

/** One key of the model: its item, or why it cannot make one (a key the model returns twice is a model error). */
function itemOf(kind: CatalogueKind, key: string, lines: readonly Row[], ctx: CatalogueContext): ItemResult {
  if (lines.length > 1)
    return { ok: false, reason: `id: the ${kind} model returns "${key}" ${lines.length} times (a join that multiplies rows?); each id must come once` };
  const row = lines[0] ?? {};
  return kind === 'products' ? buildProductItem(row, ctx) : buildCategoryItem(row);
}

/** The two batches of a catalogue run: add/update (PUT, or POST for a whole tree) and remove (DELETE). */
class CatalogueBatches {
  readonly upserts: RequestBatches;
  readonly deletes: RequestBatches;

  constructor(run: JobRun, kind: CatalogueKind, ctx: CatalogueContext, batchSize: number) {
    const noun = kind === 'products' ? 'product' : 'category';
    this.upserts = new RequestBatches(run, (items) => catalogueRequest(kind, 'PUT', items, ctx), { batchSize }, noun);
    this.deletes = new RequestBatches(run, (items) => catalogueRequest(kind, 'DELETE', items, ctx), { batchSize }, noun);
  }

  async flush(): Promise<void> {
    await this.upserts.flush();
    await this.deletes.flush();
  }
}

/** A key of the model now: skipped when its digest is what PersonaClick was told, else added to the PUT batch. */
function tellItem(
  run: JobRun,
  batches: CatalogueBatches,
  kind: CatalogueKind,
  key: string,
  lines: readonly Row[],
  known: string | null | undefined,
  full: boolean,
  ctx: CatalogueContext,
): Promise<void> | undefined {
  const row = run.track(key, undefined);
  const built = itemOf(kind, key, lines, ctx);
  if (!built.ok) return void run.invalid(row, built.reason);
  if (!full && known === built.hash) return void run.skip(row);
  return batches.upserts.add(row, built.item, { hash: built.hash });
}

/** A key of the model as a page gave it: one too large to read is an invalid failure with its size (PersonaClick keeps what it has). */
function tellDevice(
  run: JobRun,
  batches: CatalogueBatches,
  kind: CatalogueKind,
  device: SnapshotDevice,
  known: string | null | undefined,
  full: boolean,
  ctx: CatalogueContext,
  budget: number,
): Promise<void> | undefined {
  if (!('tooLarge' in device)) return tellItem(run, batches, kind, device.did, device.lines, known, full, ctx);
  return void run.invalid(run.track(device.did, undefined), tooLargeReason(kind === 'products' ? 'the product' : 'the category', device.tooLarge, budget));
}

/** A key gone from the model: removed from PersonaClick's catalogue; delivered, the ledger forgets it. */
function removeItem(run: JobRun, batches: CatalogueBatches, key: string): Promise<void> {
  const row: RowHandle = run.track(key, undefined);
  return batches.deletes.add(row, key, { forgetOnDelivery: true });
}

/** `reconcile categories|products`: the whole model against the books. */
async function reconcile(services: Services, kind: CatalogueKind, full: boolean, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, kind);
  const ctx = await catalogueContext(services, kind);
  if (kind === 'categories' && services.config.jobs.categories?.replaceTree === true) return replaceTree(services, ctx, opts);
  return executeRun(services, opts, { job: kind, mode: 'reconcile', ledgerJob: kind }, async (run) => {
    const batches = new CatalogueBatches(run, kind, ctx, job.batchSize);
    await mergeJoin(
      snapshotPages(services.source, job.query, job.pageSize, opts.shard, 'id'),
      (item: SnapshotDevice) => item.did,
      readStatePages(opts.dryRun, ledgerPages(services.state, kind, run.runId, 5000, opts.shard)),
      (entry: LedgerEntry) => entry.key,
      (item, known) =>
        item !== undefined
          ? tellDevice(run, batches, kind, item, known?.hash, full, ctx, services.source.pageBytes)
          : known !== undefined
            ? removeItem(run, batches, known.key)
            : undefined,
      { limit: opts.limit, stop: () => run.shouldStop() },
    );
    if (!run.shouldStop()) await batches.flush();
  });
}

/**
 * `replaceTree: true`: the whole tree in one `POST /import/categories`, which removes every category it does not
 * list; so it must be one request (categories are few). The ledger then holds exactly the tree.
 */
async function replaceTree(services: Services, ctx: CatalogueContext, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, 'categories');
  return executeRun(services, { ...opts, limit: undefined }, { job: 'categories', mode: 'reconcile', ledgerJob: 'categories' }, async (run) => {
    const entries: { row: RowHandle; item: JsonValue; options: { hash?: string; forgetOnDelivery?: boolean } }[] = [];
    await mergeJoin(
      snapshotPages(services.source, job.query, job.pageSize, undefined, 'id'),
      (item: SnapshotDevice) => item.did,
      readStatePages(opts.dryRun, ledgerPages(services.state, 'categories', run.runId, 5000)),
      (entry: LedgerEntry) => entry.key,
      (item, known) => {
        const key = item?.did ?? known?.key ?? '';
        const row = run.track(key, undefined);
        if (item === undefined) return void entries.push({ row, item: null, options: { forgetOnDelivery: true } });
        if ('tooLarge' in item) return void run.invalid(row, tooLargeReason('the category', item.tooLarge, services.source.pageBytes));
        const built = itemOf('categories', key, item.lines, ctx);
        if (!built.ok) return void run.invalid(row, built.reason);
        entries.push({ row, item: built.item, options: { hash: built.hash } });
        return undefined;
      },
      { stop: () => run.shouldStop() },
    );
    if (run.shouldStop() || entries.length === 0) return;
    // The categories gone from the tree ride in the same request (as nothing): the POST removes them.
    await run.dispatchBatch(entries, (items) =>
      catalogueRequest(
        'categories',
        'POST',
        items.filter((i) => i !== null),
        ctx,
      ),
    );
  });
}

/**
 * `sync products`: the products whose updated_at moved since the last complete run (up to a settled bound), each sent
 * only when its digest differs from what PersonaClick was told. Products deleted from the shop are the nightly
 * reconcile's (an incremental read cannot see a row that is gone).
 */
async function syncProducts(services: Services, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, 'products');
  const ctx = await catalogueContext(services, 'products');
  const watermark = withShard(PRODUCTS_WATERMARK, opts.shard);
  const since = (await readState(opts.dryRun, () => readWatermark(services.state, watermark)))?.ts ?? null;
  const { bound } = await upperBound(services.source, job.settleSeconds);
  const window: ChangedWindow = { since, before: bound };
  let complete = false;
  const summary = await executeRun(services, opts, { job: 'products', mode: 'sync', ledgerJob: 'products', upperBound: bound }, async (run) => {
    const batches = new CatalogueBatches(run, 'products', ctx, job.batchSize);
    let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
    for await (const page of snapshotPages(services.source, job.query, job.pageSize, opts.shard, 'id', window)) {
      if (run.shouldStop() || remaining <= 0) return;
      const take = page.slice(0, remaining);
      remaining -= take.length;
      const known: Map<string, LedgerState> =
        (await readState(opts.dryRun, () =>
          ledgerStates(
            services.state,
            'products',
            take.map((p) => p.did),
          ),
        )) ?? new Map<string, LedgerState>();
      for (const product of take) {
        if (run.shouldStop()) return;
        const pending = tellDevice(run, batches, 'products', product, known.get(product.did)?.hash, false, ctx, services.source.pageBytes);
        if (pending !== undefined) await pending;
      }
    }
    if (run.shouldStop()) return;
    await batches.flush();
    complete = remaining > 0;
  });
  // The window moves on only after a whole run: a failed or cut-short one is read again (the digests skip what went).
  if (complete && summary.status === 'done' && summary.rejected === 0 && !opts.dryRun) {
    await writeWatermark(services.state, services.state.knex, watermark, { ts: bound, key: null }, { upperBound: bound, runId: summary.runId });
  }
  return summary;
}

/**
 * Categories before the products that use them: a run that sends products reconciles the categories first (when
 * configured), under the categories' own lock; should another runner hold it (a `reconcile categories` right now),
 * that runner tells them and this run goes on to the products.
 */
async function withCategoriesFirst(services: Services, opts: RunOptions, products: () => Promise<RunSummary>): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  if (services.config.jobs.categories !== undefined && opts.shard === undefined) {
    const { state } = services.config;
    const takeLock = services.takeLock ?? ((name: string) => acquireJobLock(state.url, state.schema, name));
    let lock: JobLock | undefined;
    let heldElsewhere = false;
    if (!opts.dryRun) {
      try {
        lock = await takeLock('categories');
      } catch (caught) {
        if (!(caught instanceof LockedError)) throw caught;
        heldElsewhere = true;
        opts.log.info({ reason: caught.message }, 'categories are being reconciled by another runner; going on to the products');
      }
    }
    if (!heldElsewhere) {
      try {
        const categories = await reconcile(services, 'categories', false, opts);
        out.push(categories);
        if (categories.status !== 'done') return out;
      } finally {
        await lock
          ?.release()
          .catch((caught: unknown) => opts.log.warn({ err: caught }, 'could not release the categories lock cleanly; it ends with the connection'));
      }
    }
  }
  out.push(await products());
  return out;
}

/** Replay: the failed keys read again from the model and sent as they are now (gone: removed). */
async function resend(services: Services, run: JobRun, kind: CatalogueKind, keys: readonly string[]): Promise<void> {
  const job = requireJob(services.config, kind);
  const ctx = await catalogueContext(services, kind);
  const batches = new CatalogueBatches(run, kind, ctx, job.batchSize);
  const rows = await devicesByDid(services.source, job.query, keys, 'id');
  for (const key of keys) {
    if (run.shouldStop()) return;
    const lines = rows.get(key);
    const pending = lines === undefined ? removeItem(run, batches, key) : tellItem(run, batches, kind, key, lines, undefined, true, ctx);
    if (pending !== undefined) await pending;
  }
  await batches.flush();
}

export const categoriesJob: JobDefinition = (() => {
  const launch = (full: boolean): Launchable => ({
    job: 'categories',
    lock: 'categories',
    run: async (services, opts) => [await reconcile(services, 'categories', full, opts)],
  });
  const nightly = launch(false);
  return {
    name: 'categories',
    // Catalogue imports go by the shop's budgeted import road; whichever road a row records, it is a category told.
    delivers: { push: 'category', sync: 'category' },
    commands: [
      {
        verb: 'reconcile',
        target: 'categories',
        options: ['full'],
        usage: 'reconcile categories [--full]',
        summary: "make PersonaClick's category tree equal the shop's (changed and new ones added, gone ones removed); --full re-sends every one",
        prepare: (args) => (args.full ? launch(true) : nightly),
      },
    ],
    scheduled: nightly,
    replay: {
      async resend(services, run, failed) {
        await resend(
          services,
          run,
          'categories',
          failed.map((f) => f.key),
        );
        return [];
      },
    },
  };
})();

export const productsJob: JobDefinition = (() => {
  const reconcileLaunch = (full: boolean): Launchable => ({
    job: 'products',
    lock: 'products',
    run: (services, opts) => withCategoriesFirst(services, opts, () => reconcile(services, 'products', full, opts)),
  });
  const sync: Launchable = {
    job: 'products',
    lock: 'products',
    run: (services, opts) => withCategoriesFirst(services, opts, () => syncProducts(services, opts)),
  };
  const nightly = reconcileLaunch(false);
  return {
    name: 'products',
    delivers: { push: 'product', sync: 'product' },
    commands: [
      {
        verb: 'sync',
        target: 'products',
        options: [],
        usage: 'sync products',
        summary: 'send the products changed since the last run (by updated_at), only those whose content changed; categories first',
        prepare: () => sync,
      },
      {
        verb: 'reconcile',
        target: 'products',
        options: ['full'],
        usage: 'reconcile products [--full]',
        summary: "make PersonaClick's catalogue equal the shop's: changed and new products sent, gone ones removed, availability mirrored; categories first",
        prepare: (args) => (args.full ? reconcileLaunch(true) : nightly),
      },
    ],
    scheduled: sync,
    replay: {
      async resend(services, run, failed) {
        await resend(
          services,
          run,
          'products',
          failed.map((f) => f.key),
        );
        return [];
      },
    },
  };
})();
