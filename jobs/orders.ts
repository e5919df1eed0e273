/**
 * Orders → purchase events. Incremental sync follows the `orders` watermark from run to run; a backfill walks a
 * range of updated_at with a watermark of its own and stops where the incremental sync stands, so the two never
 * read the same order. Both consult the one delivered ledger. Rows are read as keyset pages (the next page, its
 * lines and its ledger rows read while this one is built and sent).
 */
import { requireJob, resolveStartFrom } from '../src/config/index.js';
import { INSTANT_RULE, parseInstant } from '../src/dates.js';
import { ConfigError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { readState } from '../src/run/dry-run.js';
import type { Launchable } from '../src/run/launch.js';
import type { RunOptions } from '../src/run/options.js';
import { executeRun, type JobRun, type RunMode } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { withShard } from '../src/shard.js';
import { CUSTOMER_IDENTIFIERS } from '../src/payloads/index.js';
import { audience, countOrders, ordersPage, type OrderSpan, sourceNow, unplaceableOrders, upperBound } from '../src/source/orders.js';
import { nextLimit } from '../src/source/byte-budget.js';
import { linesWithin, readOrders, sizeOrders } from '../src/source/order-reads.js';
import { deliveredKeys, ledgerStates, type Road } from '../src/state/ledger.js';
import { listWatermarks, readWatermark, startWatermark, writeWatermark, type Cursor } from '../src/state/watermarks.js';
import { newRunId } from '../src/state/runs.js';
import { reconcileBuyers } from './mirror.js';
import { requireDistinct, requireOnceEach, requireOrderColumns } from './model-shape.js';
import { OrderTeller, type TellerOptions } from './order-teller.js';
import type { JobDefinition, Replayer } from './types.js';

export const ORDERS_LEDGER = 'orders';
export const ORDERS_WATERMARK = 'orders';

export interface BackfillRange {
  /** Inclusive start of updated_at, as given (ISO date or datetime). */
  from: string;
  /** Exclusive end of updated_at. */
  to: string;
  /** The road: the order-sync API (history with real dates; the default with a shop secret) or live purchases. */
  via?: Road | undefined;
  /** `--via push`: send orders placed more than two days ago too (they count as bought today). */
  oldOrdersAsNew?: boolean | undefined;
  /** `--yes`: the operator's yes to telling the range's customers (asked before a first backfill of a range sends anything). */
  yes?: boolean | undefined;
}

/** Where the shop secret comes from, for the line that stops a backfill without one. */
const NO_SECRET =
  'backfill orders: history goes through the order-sync API, which needs the shop secret: set personaclick.shopSecret ' +
  '(the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET}), ' +
  'or pass --via push to send history as new purchases dated today';

/** The road a backfill takes: as asked, else the order-sync API; ConfigError (exit 2) when that needs a secret that is not there. */
function backfillRoad(services: Services, range: BackfillRange): Road {
  const secret = services.config.personaclick.shopSecret;
  if (range.via === 'push') return 'push';
  if (secret === undefined) throw new ConfigError(NO_SECRET);
  return 'sync';
}

/**
 * Incremental: everything after the watermark, up to this run's frozen upper bound. New orders go out as live
 * purchases; status changes of delivered ones through the order-sync API. `onPurchase` hears each buyer's did.
 */
export async function syncOrders(services: Services, opts: RunOptions, onPurchase?: (did: string) => void): Promise<RunSummary> {
  const job = requireJob(services.config, 'orders');
  const watermark = withShard(ORDERS_WATERMARK, opts.shard);
  const bound = await boundOf(services, opts.log);
  let start = await readState(opts.dryRun, () => readWatermark(services.state, watermark));
  const firstRun = start === undefined;
  if (!start && opts.shard) {
    // A new shard of a job that ran unsharded before carries on from there.
    start = await readState(opts.dryRun, () => readWatermark(services.state, ORDERS_WATERMARK));
  }
  start ??= { ts: job.startFrom === 'now' ? await sourceNow(services.source) : resolveStartFrom(job.startFrom).toISOString(), key: null };
  return runOrders(services, opts, { mode: 'sync', watermark, start, bound, saveStart: firstRun, teller: { newOrders: 'live', onPurchase } });
}

/** Backfill: the orders of [from, to) by updated_at, resumable, never past the incremental watermark. */
export async function backfillOrders(services: Services, range: BackfillRange, opts: RunOptions): Promise<RunSummary> {
  const job = requireJob(services.config, 'orders');
  const { from, to } = backfillInstants(range);
  const road = backfillRoad(services, range);
  if (road === 'push') {
    opts.log.warn(
      { oldOrdersAsNew: range.oldOrdersAsNew === true },
      'backfill --via push: PersonaClick records each purchase as made when it arrives (today), and its post-purchase triggers may treat every old order as new (mail to its buyers); history belongs on the order-sync API (personaclick.shopSecret)',
    );
  }
  // The push road keeps its old watermark names; the order-sync road has its own, so the two never share progress.
  const watermark = withShard(`orders:${road === 'push' ? 'backfill' : 'history'}:${range.from}..${range.to}`, opts.shard);
  const settled = await boundOf(services, opts.log);
  const bound = [to.toISOString(), settled].reduce((a, b) => (b < a ? b : a));
  // Stop where the incremental sync stands: up to and including the last order each of its watermarks has passed (a
  // (ts, key) ceiling, not ts alone: an order at exactly the watermark's ts that the live sync left alone as history
  // is this backfill's). Orders after it are the sync's to send.
  const incremental = (await readState(opts.dryRun, () => listWatermarks(services.state))) ?? [];
  let through = incremental.filter((w) => w.name === ORDERS_WATERMARK || w.name.startsWith(`${ORDERS_WATERMARK}#`)).map((w) => w.cursor);
  // No incremental sync yet, and it is to start from now: it starts where this backfill stops (written once it is
  // confirmed), so that an order placed between this backfill and the first sync is told by one of them.
  const syncStart: Cursor | undefined = through.length === 0 && job.startFrom === 'now' ? { ts: settled, key: null } : undefined;
  if (syncStart) through = [syncStart];
  const resumed = await readState(opts.dryRun, () => readWatermark(services.state, watermark));
  const start = resumed ?? { ts: from.toISOString(), key: null };
  // A first backfill of a range (not a resumed one, not a dry run) says whom it will tell and needs an explicit yes.
  const asked = resumed === undefined && !opts.dryRun;
  if (asked) await confirmBackfill(services, range, road, { after: start, before: bound, shard: opts.shard, through }, opts);
  if (syncStart && !opts.dryRun) {
    const runId = newRunId();
    through = [await startWatermark(services.state, ORDERS_WATERMARK, syncStart, { upperBound: settled, runId })];
    opts.log.info({ watermark: ORDERS_WATERMARK, start: through[0] }, 'the incremental sync (startFrom: now) will start where this backfill stops');
  }
  const teller: TellerOptions = {
    newOrders: road,
    pushNotBefore: road === 'push' && range.oldOrdersAsNew !== true ? Date.now() - job.newPurchaseHours * 3_600_000 : undefined,
  };
  return runOrders(services, opts, { mode: 'backfill', watermark, start, bound, through, saveStart: false, countTotal: true, shapeChecked: asked, teller });
}

/**
 * Before a first backfill of a range sends anything: the models' shape, then how many orders of how many customers it
 * will tell and that each can start a trigger chain (mail); on with `--yes`, or a `yes` typed at a terminal, never by
 * default. ConfigError (exit 2) without one.
 */
async function confirmBackfill(services: Services, range: BackfillRange, road: Road, span: OrderSpan, opts: RunOptions): Promise<void> {
  const job = requireJob(services.config, 'orders');
  const columns = await requireOrderColumns(services.source, job);
  await requireOnceEach(services.source, job.query, span);
  const identifiers = [...CUSTOMER_IDENTIFIERS, 'did'].filter((c) => columns.has(c));
  const { orders, customers } = await audience(services.source, job.query, span, identifiers);
  if (orders === 0) return;
  const chain =
    road === 'sync'
      ? 'through the order-sync API, which starts PersonaClick\'s "order status changed" trigger chain for each order (it can mail the customer)'
      : "as live purchases, each starting PersonaClick's after-purchase trigger chain (it can mail the customer)";
  const text = `backfill orders ${range.from}..${range.to}: ${orders} order(s) of ${customers} customer(s) will be told ${chain}; orders PersonaClick has already are not sent again`;
  if (range.yes === true) {
    opts.log.warn({ orders, customers, road }, `${text} (--yes given)`);
    return;
  }
  const answer = await opts.confirm?.(`${text}.`);
  if (answer === true) return;
  throw new ConfigError(
    answer === false
      ? 'backfill orders: not confirmed (type yes to go on, or pass --yes); nothing was sent'
      : `${text}: pass --yes to go on (a dry run needs none); nothing was sent`,
  );
}

/** The range's instants; ConfigError (exit 2) when they are not dates or not in order. */
function backfillInstants(range: BackfillRange): { from: Date; to: Date } {
  const instant = (value: string, flag: string): Date => {
    const ms = parseInstant(value);
    if (ms === undefined) throw new ConfigError(`${flag}: ${INSTANT_RULE} (got "${value}")`);
    return new Date(ms);
  };
  const from = instant(range.from, '--from');
  const to = instant(range.to, '--to');
  if (from >= to) throw new ConfigError(`--from must be before --to (got ${range.from} .. ${range.to})`);
  return { from, to };
}

interface OrdersPass {
  mode: Extract<RunMode, 'sync' | 'backfill'>;
  watermark: string;
  start: Cursor;
  bound: string;
  /** The models' shape was checked over this very range already (before a first backfill's yes): not read twice. */
  shapeChecked?: boolean;
  /** Keyset ceilings besides the bound (a backfill's: where the incremental sync stands). */
  through?: readonly Cursor[] | undefined;
  /** Write the starting point before anything else (the first incremental run: `startFrom: now` must stick). */
  saveStart: boolean;
  countTotal?: boolean;
  teller: TellerOptions;
}

async function runOrders(services: Services, opts: RunOptions, pass: OrdersPass): Promise<RunSummary> {
  const job = requireJob(services.config, 'orders');
  const { source, state } = services;
  const total = pass.countTotal ? await countOrders(source, job.query, pass.start, pass.bound, opts.shard, pass.through) : undefined;
  return executeRun(
    services,
    opts,
    {
      job: 'orders',
      mode: pass.mode,
      ledgerJob: ORDERS_LEDGER,
      watermark: pass.watermark,
      upperBound: pass.bound,
      total: total === undefined ? undefined : Math.min(total, opts.limit ?? total),
    },
    async (run) => {
      // The models' shape first: a broken rule stops the run before anything is sent or the watermark written.
      if (pass.shapeChecked !== true) {
        await requireOrderColumns(source, job);
        await requireOnceEach(source, job.query, { after: pass.start, before: pass.bound, shard: opts.shard, through: pass.through });
      }
      if (pass.saveStart && !opts.dryRun) await writeWatermark(state, state.knex, pass.watermark, pass.start, { upperBound: pass.bound, runId: run.runId });
      run.log.debug({ from: pass.start, before: pass.bound }, 'reading orders');
      await keepUnplaceable(services, run, job.query, pass, opts);
      // The next page (and its lines and ledger rows) is read while this one is built and sent: the shop's
      // database and this process work at the same time. Only one source query runs at a time.
      const fetchPage = async (after: Cursor, limit: number) => {
        const page = await ordersPage(source, job.query, { after, before: pass.bound, limit, shard: opts.shard, through: pass.through });
        // The lines (counted, then read) and the ledger's rows at once: the page may be cut by bytes, so the ledger is
        // asked for every order of it, a few more than are kept.
        const [sized, told] = await Promise.all([
          linesWithin(source, job.itemsQuery, page),
          readState(opts.dryRun, () =>
            ledgerStates(
              state,
              ORDERS_LEDGER,
              page.orders.map((o) => o.key),
            ),
          ),
        ]);
        return { ...sized, told };
      };
      const teller = new OrderTeller(services, run, pass.teller);
      let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
      let limit = job.pageSize;
      let next: ReturnType<typeof fetchPage> | undefined = fetchPage(pass.start, Math.min(limit, remaining));
      while (next && !run.shouldStop()) {
        const { orders, lines, tooLarge, more, byBytes, told } = await next;
        next = undefined;
        requireDistinct(orders); // the range was checked; rows changed since must not send an order twice either
        const last = orders[orders.length - 1];
        if (!last) break;
        remaining -= orders.length;
        limit = nextLimit({ limit, rows: orders.length, byBytes }, job.pageSize);
        if (more && remaining > 0) {
          next = fetchPage(last.cursor, Math.min(limit, remaining));
          next.catch(() => undefined); // awaited next turn; a run that stops first must not leave it unhandled
        }
        for (const order of orders) {
          if (run.shouldStop()) break;
          const size = tooLarge.get(order.key);
          if (size !== undefined) teller.tooLarge(order, size, told?.get(order.key), source.pageBytes);
          else await teller.tell(order, lines.get(order.key) ?? [], told?.get(order.key));
        }
      }
      await teller.finish();
      // Stopped early with a page on its way: let its query end before the source closes.
      if (next) await next.catch(() => undefined);
    },
  );
}

/** Rows with a NULL order_id or updated_at: kept as invalid failures (named column), with one warning per run. */
async function keepUnplaceable(services: Services, run: JobRun, query: string, pass: OrdersPass, opts: RunOptions): Promise<void> {
  if (opts.limit !== undefined) return; // a sample run (--limit) reads pages only
  // Rows without a key have no keyset position: a backfill reports those before the sync's earliest watermark only.
  const before = [pass.bound, ...(pass.through ?? []).map((c) => c.ts)].reduce((a, b) => (b < a ? b : a));
  const found = await unplaceableOrders(services.source, query, pass.start, before, opts.shard);
  if (found.length === 0) return;
  const delivered = await readState(opts.dryRun, () =>
    deliveredKeys(
      services.state,
      ORDERS_LEDGER,
      found.map((u) => u.key),
    ),
  );
  const kept = found.filter((u) => !delivered?.has(u.key));
  if (kept.length === 0) return;
  run.log.warn({ count: kept.length, keys: kept.slice(0, 5).map((u) => u.key) }, 'orders with a NULL order_id or updated_at: kept as invalid, never sent');
  for (const u of kept) run.invalid(run.track(u.key, undefined), u.reason);
}

async function boundOf(services: Services, log: Logger): Promise<string> {
  const job = requireJob(services.config, 'orders');
  const { bound, heldBy } = await upperBound(services.source, job.settleSeconds);
  if (heldBy) log.warn({ heldBy, bound }, 'an open transaction in the shop database holds the upper bound back; orders after its start wait for the next run');
  return bound;
}

/**
 * Replay: orders fresh from the model with their lines, each sent again by the road it failed on (a purchase, or the
 * order-sync API); one delivered since it failed needs nothing, unless it was delivered with warnings (then it is
 * sent again whole, once fixed) or what failed was a status update (then the update, when the state still differs).
 * An `unconfirmed` order (report --verify found PersonaClick's copy missing or different) goes out whole through the
 * order-sync API, with its real date, whichever road first delivered it: the API updates an order by its id, so
 * this is safe to repeat, where a second live purchase is not.
 */
const replay: Replayer = {
  async resend(services, run, failed) {
    const job = requireJob(services.config, 'orders');
    const keys = failed.map((f) => f.key);
    const byKey = new Map(failed.map((f) => [f.key, f]));
    const told = await ledgerStates(services.state, ORDERS_LEDGER, keys);
    const teller = new OrderTeller(services, run, { newOrders: 'live' });
    const sized = await sizeOrders(services.source, job.query, job.itemsQuery, keys);
    const gone = new Set(sized.missing);
    for (const [key, size] of sized.tooLarge) teller.tooLarge({ key }, size, told.get(key), services.source.pageBytes);
    for (const chunk of sized.runs) {
      if (run.shouldStop()) break;
      const { orders: found, lines } = await readOrders(services.source, job.query, job.itemsQuery, chunk);
      requireDistinct(found);
      for (const order of found) {
        if (run.shouldStop()) break;
        const failure = byKey.get(order.key);
        const known = told.get(order.key);
        const road: Road = failure?.road === 'sync' ? 'sync' : 'push';
        if (failure?.class === 'unconfirmed') await teller.tell(order, lines.get(order.key) ?? [], known, { road: 'sync', unconfirmed: true });
        else if (failure?.class === 'warning')
          await teller.tell(order, lines.get(order.key) ?? [], known, { road: known?.road ?? road, deliveredWithWarnings: failure.reason });
        // Not delivered yet: by the road it would take now (a purchase that is no longer new goes with its real date).
        // A history order (a backfill's) stays on the order-sync API.
        else if (known === undefined)
          await teller.tell(order, lines.get(order.key) ?? [], undefined, { road: failure?.class === 'held' || road === 'push' ? 'live' : 'sync' });
        // A status update of a delivered order: sent while the state still differs; an invalid one stays open.
        else if (road === 'sync') await teller.tell(order, lines.get(order.key) ?? [], known);
        else gone.add(order.key); // delivered since it failed
      }
    }
    await teller.finish();
    return [...gone];
  },
};

/** The live sync, then the buyers' carts: PersonaClick must not hold what they bought as an abandoned cart until the night. */
async function syncWithBuyers(services: Services, opts: RunOptions): Promise<RunSummary[]> {
  // Without a carts model there is nothing to reconcile: no did is kept (a million orders held ~300k of them).
  if (services.config.jobs.carts === undefined) return [await syncOrders(services, opts)];
  const buyers = new Set<string>();
  const orders = await syncOrders(services, opts, (did) => buyers.add(did));
  if (orders.status !== 'done' || buyers.size === 0) return [orders];
  return [orders, await reconcileBuyers(services, [...buyers], opts)];
}

const sync: Launchable = { job: 'orders', lock: 'orders', run: syncWithBuyers };

export const ordersJob: JobDefinition = {
  name: 'orders',
  delivers: { push: 'purchase', sync: 'order-sync' },
  commands: [
    {
      verb: 'sync',
      target: 'orders',
      options: [],
      usage: 'sync orders',
      summary: "send new orders as purchase events (and their buyers' carts), status changes through the order-sync API",
      prepare: () => sync,
    },
    {
      verb: 'backfill',
      target: 'orders',
      options: ['from', 'to', 'via', 'old-orders-as-new', 'yes'],
      usage: 'backfill orders --from D --to D [--via push] [--yes]',
      summary: 'send the orders whose updated_at is in [from, to) with their real dates (order-sync API); resumable; one ledger',
      prepare(args) {
        if (args.from === undefined || args.to === undefined)
          throw new ConfigError('backfill orders: needs --from DATE and --to DATE (updated_at range, --to exclusive)');
        if (args.oldOrdersAsNew === true && args.via !== 'push')
          throw new ConfigError('--old-orders-as-new: only with --via push (the order-sync API sends real dates)');
        const range: BackfillRange = { from: args.from, to: args.to, via: args.via, oldOrdersAsNew: args.oldOrdersAsNew, yes: args.yes };
        backfillInstants(range);
        return { job: 'orders', lock: 'orders:backfill', run: async (services, opts) => [await backfillOrders(services, range, opts)] };
      },
    },
  ],
  scheduled: sync,
  replay,
};
