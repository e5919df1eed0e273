/**
 * The catalogue: categories and products kept in step with PersonaClick's catalogue imports (docs/catalogue.md), as
 * the carts are, but compared by the databases (docs/catalogue.md, "How changes are found"): the model's (id, digest)
 * pairs are compared with the ledger in the state database a page at a time, and only the rows that differ are read
 * whole. New or changed → added/updated in batches (`PUT`); gone from the shop → removed (`DELETE`: a removed product
 * is marked out of stock); unchanged → nothing. Availability is a field of each product (`available`), sent with it,
 * so a going out of stock is a change like any other. The availability sync (`PATCH`, which marks every product it
 * does not list out of stock) is never used: a catalogue larger than one request would lose the rest of its stock.
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
  contextDigest,
  ledgerDigest,
  toldItem,
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
import { tooLargeReason, type KeySize } from '../src/source/byte-budget.js';
import { snapshotDevices, snapshotPages, type ChangedWindow, type SizedDevices, type SnapshotDevice } from '../src/source/snapshot.js';
import { ModelDigests, pageEntries, type DigestedRow, type DigestPage } from '../src/source/catalogue-digests.js';
import { ledgerDiff, ledgerPages, type LedgerDiff, type LedgerEntry } from '../src/state/ledger.js';
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

/**
 * Catalogue requests handed to the delivery and not answered yet, at most (of each kind): up to 5000 products a
 * request, the delivery queue's own bound (16 on the wire and 16 waiting) would hold 160 000 products in memory.
 */
const MAX_OPEN_BATCHES = 2;

/** The two batches of a catalogue run: add/update (PUT, or POST for a whole tree) and remove (DELETE). */
class CatalogueBatches {
  readonly upserts: RequestBatches;
  readonly deletes: RequestBatches;

  constructor(run: JobRun, kind: CatalogueKind, ctx: CatalogueContext, batchSize: number) {
    const noun = kind === 'products' ? 'product' : 'category';
    this.upserts = new RequestBatches(run, (items) => catalogueRequest(kind, 'PUT', items, ctx), { batchSize, maxOpen: MAX_OPEN_BATCHES }, noun);
    this.deletes = new RequestBatches(run, (items) => catalogueRequest(kind, 'DELETE', items, ctx), { batchSize, maxOpen: MAX_OPEN_BATCHES }, noun);
  }

  async flush(): Promise<void> {
    await this.upserts.flush();
    await this.deletes.flush();
  }
}

/** What a catalogue run needs to tell an item: its batches, the context and its digest, and whether every item goes (--full). */
interface Teller {
  run: JobRun;
  batches: CatalogueBatches;
  kind: CatalogueKind;
  ctx: CatalogueContext;
  /** The digest of the context (contextDigest): part of every ledger digest this run writes. */
  context: string;
  full: boolean;
}

/**
 * A key's rows fetched from the model: built and sent, unless the item is the one PersonaClick was told (`known`, the
 * ledger's digest text): then nothing is sent and the ledger takes the new digests. Gone meanwhile: left for the next run.
 */
function tellRows(t: Teller, row: RowHandle, lines: readonly DigestedRow[] | undefined, known: string | null | undefined): Promise<void> | undefined {
  if (lines === undefined || lines.length === 0) return void t.run.skip(row);
  const built = itemOf(t.kind, row.key, lines, t.ctx);
  if (!built.ok) return void t.run.invalid(row, built.reason);
  const digest = ledgerDigest(t.context, lines[0]?.__pcs_digest ?? '', built.hash);
  if (!t.full && toldItem(known) === built.hash) return void (known === digest ? t.run.skip(row) : t.run.retag(row, digest));
  return t.batches.upserts.add(row, built.item, { hash: digest }, built.bytes);
}

/** A key that needs its row: tracked now, what the ledger holds for it, and its place among the model's ids read. */
interface Wanted {
  row: RowHandle;
  known: string | null | undefined;
  at: number;
}

/**
 * The keys whose rows must be fetched, in key order, a batch at a time: each batch is fetched while the one before is
 * built and sent. A batch that is most of the stretch of ids it lies in (a first run) is read as a range of ids, a
 * few changes among many ids by id.
 */
class RowFetcher {
  private wanted: Wanted[] = [];
  private pending: { batch: Wanted[]; rows: Promise<FetchedRows> } | undefined;

  constructor(
    private readonly teller: Teller,
    private readonly size: number,
    private readonly model: ModelDigests,
    /** `source.pageBytes`: two fetched batches are held at most, so each is read within half of it. */
    private readonly budget: number,
  ) {}

  want(row: RowHandle, known: string | null | undefined, at: number): Promise<void> | undefined {
    this.wanted.push({ row, known, at });
    return this.wanted.length >= this.size ? this.flush() : undefined;
  }

  /** Fetch the wanted rows so far; tell the batch fetched before. */
  async flush(): Promise<void> {
    const batch = this.wanted;
    this.wanted = [];
    const previous = this.pending;
    this.pending = undefined;
    if (batch.length > 0) {
      const rows = this.fetch(batch);
      // Should the run stop before this batch is awaited, its failure must not surface as an unhandled rejection.
      rows.catch(() => undefined);
      this.pending = { batch, rows };
    }
    if (previous !== undefined) await this.tell(previous.batch, await previous.rows);
  }

  /** Every wanted row fetched and told. */
  async finish(): Promise<void> {
    await this.flush();
    await this.flush();
  }

  /**
   * A batch's rows, sized first: a product larger than the budget is never read; a batch within half the budget is
   * read at once (ahead of its turn), a larger one in runs within it, each read as it is told.
   */
  private async fetch(batch: readonly Wanted[]): Promise<FetchedRows> {
    const sized = await this.model.sizes(
      batch.map((w) => w.row.key),
      Math.max(1, Math.floor(this.budget / 2)),
    );
    const only = sized.runs.length === 1 ? sized.runs[0] : undefined;
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (only === undefined || first === undefined || last === undefined) return { sized, rows: undefined };
    return { sized, rows: await this.model.rowsOf(only, last.at - first.at + 1) };
  }

  private async tell(batch: readonly Wanted[], { sized, rows }: FetchedRows): Promise<void> {
    const byKey = new Map(batch.map((w) => [w.row.key, w]));
    for (const [key, size] of sized.tooLarge) {
      const w = byKey.get(key);
      if (w !== undefined) this.teller.run.invalid(w.row, tooLargeItem(this.teller.kind, size, this.budget));
    }
    // Each key's rows told (none: gone from the model meanwhile, skipped); false once the run stops.
    const told = async (fetched: Map<string, DigestedRow[]>, keys: Iterable<string>): Promise<boolean> => {
      for (const key of keys) {
        const w = byKey.get(key);
        if (w === undefined || sized.tooLarge.has(key)) continue;
        if (this.teller.run.shouldStop()) return false;
        const pending = tellRows(this.teller, w.row, fetched.get(key), w.known);
        if (pending !== undefined) await pending;
      }
      return true;
    };
    if (rows !== undefined) {
      await told(rows, byKey.keys());
      return;
    }
    for (const run of sized.runs) if (!(await told(await this.model.rowsById(run), run))) return;
    await told(new Map(), sized.missing);
  }
}

/** A batch sized, and its rows when it was read at once (one run); else its runs are read as they are told. */
interface FetchedRows {
  sized: SizedDevices;
  rows: Map<string, DigestedRow[]> | undefined;
}

/** The reason a category or product too large to read is filed with. */
function tooLargeItem(kind: CatalogueKind, size: KeySize, budget: number): string {
  return tooLargeReason(kind === 'products' ? 'the product' : 'the category', size, budget);
}

/** A key gone from the model: removed from PersonaClick's catalogue; delivered, the ledger forgets it. */
function removeItem(run: JobRun, batches: CatalogueBatches, key: string): Promise<void> {
  const row: RowHandle = run.track(key, undefined);
  return batches.deletes.add(row, key, { forgetOnDelivery: true });
}

/**
 * Rows fetched whole at a time (two batches are held: one fetched while the one before is told): the model's page
 * size, at most 2000 (5000 rows of a wide model held twice were a good part of a first run's memory).
 */
const fetchBatch = (pageSize: number): number => Math.min(pageSize, 2000);

/** A page and the keys where it differs from the ledger. */
interface ComparedPage {
  page: DigestPage;
  diffs: LedgerDiff[];
}

/** Each page of the model compared with the ledger, the next page's comparison running while the consumer works on this one. */
async function* compared(pages: AsyncIterable<DigestPage>, compare: (page: DigestPage) => Promise<LedgerDiff[]>): AsyncGenerator<ComparedPage> {
  let previous: Promise<ComparedPage> | undefined;
  try {
    for await (const page of pages) {
      const next = compare(page).then((diffs) => ({ page, diffs }));
      next.catch(() => undefined);
      if (previous !== undefined) yield await previous;
      previous = next;
    }
    if (previous !== undefined) yield await previous;
  } finally {
    previous?.catch(() => undefined);
  }
}

/** Without a ledger (a dry run before `migrate`): every key of the page is new. */
async function allNew(services: Services, page: DigestPage): Promise<LedgerDiff[]> {
  return (await pageEntries(services.source, page)).map((e) => ({ key: e.key, hash: null, at: e.at, count: e.count }));
}

/**
 * The keys of a compared page: gone from the model → removed; else (new, changed, or told under another context) its
 * row is wanted. The rest of the page is unchanged: counted, never decoded.
 */
async function visitPage(t: Teller, fetcher: RowFetcher, batches: CatalogueBatches, { page, diffs }: ComparedPage, offset: number): Promise<void> {
  let wanted = 0;
  for (const diff of diffs) {
    if (t.run.shouldStop()) return;
    let pending: Promise<void> | undefined;
    if (diff.at === null) pending = removeItem(t.run, batches, diff.key);
    else {
      wanted += diff.count;
      pending = fetcher.want(t.run.track(diff.key, undefined), diff.hash, offset + diff.at);
    }
    if (pending !== undefined) await pending;
  }
  // Every pair of the page not wanted is an unchanged key (an id the model returns twice is always wanted).
  t.run.pass(page.count - wanted);
}

/**
 * The model's pages (for `sync products`, a window of updated_at) compared with the ledger and told: new and changed
 * keys fetched, built and sent; with `gone` (a whole reconcile), keys the model lacks removed. The pairs read, or
 * undefined when the run stopped before the end.
 */
async function tellModel(
  services: Services,
  run: JobRun,
  kind: CatalogueKind,
  ctx: CatalogueContext,
  opts: RunOptions,
  how: { full: boolean; gone: boolean; window?: ChangedWindow },
): Promise<number | undefined> {
  const job = requireJob(services.config, kind);
  const batches = new CatalogueBatches(run, kind, ctx, job.batchSize);
  const teller: Teller = { run, batches, kind, ctx, context: contextDigest(kind, ctx), full: how.full };
  const model = new ModelDigests(services.source, job.query, opts.shard);
  const fetcher = new RowFetcher(teller, fetchBatch(job.pageSize), model, services.source.pageBytes);
  const compare = async (page: DigestPage): Promise<LedgerDiff[]> =>
    (await readState(opts.dryRun, () =>
      ledgerDiff(services.state, kind, run.runId, page, { context: teller.context, all: how.full, gone: how.gone, shard: opts.shard }),
    )) ?? allNew(services, page);
  let read = 0;
  // Pairs of (id, digest) a page: the job's page size. Four times as many cost 10-15% less CPU in all (fewer
  // statements and round trips) on a million products, but each page then travels as text of 600 KB, through
  // node-postgres's read and write buffers: once glibc's malloc has seen such a buffer freed it keeps every buffer
  // below that size in its heap, and the 1% reconcile of a million products peaked 10-15 MB higher, over 150 MB
  // (docs/catalogue.md).
  for await (const item of compared(model.pages(job.pageSize, how.window, opts.limit), compare)) {
    if (run.shouldStop()) return undefined;
    await visitPage(teller, fetcher, batches, item, read);
    read += item.page.count;
  }
  if (run.shouldStop()) return undefined;
  await fetcher.finish();
  if (run.shouldStop()) return undefined;
  await batches.flush();
  return read;
}

/**
 * `reconcile categories|products`: the model's (id, digest) pairs compared with the ledger in the state database, a
 * page at a time; only new or changed rows are fetched whole, built and compared; gone ones are removed.
 */
async function reconcile(services: Services, kind: CatalogueKind, full: boolean, opts: RunOptions): Promise<RunSummary> {
  requireJob(services.config, kind);
  const ctx = await catalogueContext(services, kind);
  if (kind === 'categories' && services.config.jobs.categories?.replaceTree === true) return replaceTree(services, ctx, opts);
  return executeRun(services, opts, { job: kind, mode: 'reconcile', ledgerJob: kind }, async (run) => {
    // Each page's stretch of the ledger (the last page's reaches to its end): what the model lacks there is gone.
    await tellModel(services, run, kind, ctx, opts, { full, gone: true });
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
        if ('tooLarge' in item) return void run.invalid(row, tooLargeItem('categories', item.tooLarge, services.source.pageBytes));
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
    // A window of the model: its keys looked up in the ledger, nothing taken as gone.
    const read = await tellModel(services, run, 'products', ctx, opts, { full: false, gone: false, window });
    complete = read !== undefined && read < (opts.limit ?? Number.POSITIVE_INFINITY);
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
  const teller: Teller = { run, batches, kind, ctx, context: contextDigest(kind, ctx), full: true };
  // Sized first, then read in runs within source.pageBytes; one too large stays invalid, one gone is removed.
  const model = new ModelDigests(services.source, job.query, undefined);
  const budget = services.source.pageBytes;
  const { runs, tooLarge, missing } = await model.sizes(keys, budget);
  for (const key of missing) {
    if (run.shouldStop()) return;
    await removeItem(run, batches, key);
  }
  for (const [key, size] of tooLarge) run.invalid(run.track(key, undefined), tooLargeItem(kind, size, budget));
  for (const chunk of runs) {
    const rows = await model.rowsById(chunk);
    for (const key of chunk) {
      if (run.shouldStop()) return;
      const pending = tellRows(teller, run.track(key, undefined), rows.get(key), undefined);
      if (pending !== undefined) await pending;
    }
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
