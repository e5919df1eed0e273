/**
 * Gather `report`'s numbers from both databases (which may be two servers: nothing here joins across them).
 *
 * Orders: the model's orders of the range are read in the sync's keyset order, a page at a time (key and
 * updated_at only), the next page read while the ledger and the open failures are looked up for this one.
 * Carts and wishlists: the snapshot (device by device, in byte order, as the reconcile reads it) is merge-joined
 * with the ledger's keys. Memory stays flat whatever the shop's size.
 *
 * `report --verify N` (reading orders back, verify.ts): the page loop below sees every order with its fate, and
 * offers the delivered ones, in keyset order, to the sample the read-back takes.
 */
import type { Config } from '../config/index.js';
import type { Source } from '../source/db.js';
import { orderStampsPage, type OrderStamp } from '../source/order-keys.js';
import { snapshotPages, type SnapshotDevice } from '../source/snapshot.js';
import { mergeJoin } from '../run/merge-join.js';
import { countOpenFailures } from '../state/failures.js';
import type { StateDb } from '../state/db.js';
import { ledgerPages } from '../state/ledger.js';
import { bookedKeys } from '../state/booked.js';
import { listWatermarks, type Cursor } from '../state/watermarks.js';
import { DayTally, fateOf, type CatalogueRow, type MirrorRow, type ReportData } from './model.js';
import type { DeliveredOrder, EvenSample } from './verify.js';

/** The ledger and failures namespace, and the watermark, of the orders job (jobs/orders.ts). */
const ORDERS = 'orders';
const PAGE = 10_000;
const LOOKUPS = 2;

export interface ReportRange {
  /** YYYY-MM-DD, inclusive. */
  from: string;
  /** YYYY-MM-DD, exclusive. */
  to: string;
}

/** `sample`: offered every delivered order of the range, in keyset order (report --verify). */
export async function collectReport(
  config: Config,
  source: Source,
  state: StateDb,
  range: ReportRange,
  now: Date = new Date(),
  sample?: EvenSample<DeliveredOrder>,
): Promise<ReportData> {
  const orders = config.jobs.orders;
  const watermark = orders ? await incrementalWatermark(state) : undefined;
  const days = orders ? await tallyOrders(source, state, orders.query, range, watermark, sample) : [];
  const mirrors: MirrorRow[] = [];
  for (const job of ['carts', 'wishlists'] as const) {
    const cfg = config.jobs[job];
    if (cfg) mirrors.push(await compareMirror(source, state, job, cfg.query, cfg.pageSize));
  }
  const catalogue: CatalogueRow[] = [];
  for (const job of ['categories', 'products'] as const) {
    const cfg = config.jobs[job];
    if (cfg) catalogue.push(await compareCatalogue(source, state, job, cfg.query, cfg.pageSize));
  }
  return { from: range.from, to: range.to, generatedAt: now.toISOString(), orders: orders !== undefined, watermark, days, mirrors, catalogue };
}

/** A catalogue model against its ledger: the same byte-order merge as the mirrors, keyed on id; products out of stock counted. */
async function compareCatalogue(source: Source, state: StateDb, job: 'categories' | 'products', query: string, pageSize: number): Promise<CatalogueRow> {
  const row: CatalogueRow = { job, shop: 0, told: 0, notTold: 0, toRemove: 0, outOfStock: 0, failed: 0 };
  // No run writes under this id: every ledger row is read.
  await mergeJoin(
    snapshotPages(source, query, pageSize, undefined, 'id'),
    (item: SnapshotDevice) => item.did,
    ledgerPages(state, job, '', 10_000),
    (entry) => entry.key,
    (item, known) => {
      if (item !== undefined) {
        row.shop += 1;
        if ('lines' in item && item.lines[0]?.available === false) row.outOfStock += 1;
        if (known !== undefined) row.told += 1;
        else row.notTold += 1;
      } else if (known !== undefined) {
        row.told += 1;
        row.toRemove += 1;
      }
      return undefined;
    },
  );
  row.failed = (await countOpenFailures(state)).filter((f) => f.job === job && f.class !== 'warning').reduce((sum, f) => sum + f.count, 0);
  return row;
}

/** The lowest of the incremental sync's watermarks ("orders", "orders#i/N"), or undefined before its first run. */
async function incrementalWatermark(state: StateDb): Promise<Cursor | undefined> {
  const marks = (await listWatermarks(state)).filter((w) => w.name === ORDERS || w.name.startsWith(`${ORDERS}#`));
  let lowest: Cursor | undefined;
  for (const m of marks) if (lowest === undefined || m.cursor.ts < lowest.ts) lowest = m.cursor;
  return lowest;
}

async function tallyOrders(
  source: Source,
  state: StateDb,
  query: string,
  range: ReportRange,
  watermark: Cursor | undefined,
  sample: EvenSample<DeliveredOrder> | undefined,
) {
  const tally = new DayTally(range.from, range.to);
  const from = `${range.from}T00:00:00Z`;
  const before = `${range.to}T00:00:00Z`;
  const read = (afterStamp: OrderStamp | null) =>
    orderStampsPage(source, query, { from, before, after: afterStamp === null ? null : { ts: afterStamp.ts, key: afterStamp.key }, limit: PAGE });
  /** Counts a page; its delivered orders, for the sample (offered as the pages are awaited, in order). */
  const count = async (page: OrderStamp[]): Promise<DeliveredOrder[]> => {
    const booked = await bookedKeys(
      state,
      ORDERS,
      page.map((o) => o.key),
    );
    const delivered: DeliveredOrder[] = [];
    for (const order of page) {
      const b = booked.get(order.key);
      const { fate, warned } = fateOf(order, b?.delivered === true, b?.failure, watermark);
      tally.add(order.ts.slice(0, 10), fate, warned, b?.road);
      if (sample !== undefined && fate === 'delivered') delivered.push({ key: order.key, road: b?.road ?? 'push', ts: order.ts });
    }
    return delivered;
  };
  const offer = (delivered: DeliveredOrder[]): void => {
    if (sample !== undefined) for (const order of delivered) sample.offer(order);
  };
  // One source query at a time (the shop's database is read gently), the next page read while the books are
  // looked up for the pages before it, at most LOOKUPS pages of lookups at once (the state pool's connections).
  const counting: Promise<DeliveredOrder[]>[] = [];
  let next: Promise<OrderStamp[]> | undefined = read(null);
  try {
    while (next !== undefined) {
      const page: OrderStamp[] = await next;
      const last = page[page.length - 1];
      next = last !== undefined && page.length === PAGE ? read(last) : undefined;
      next?.catch(() => undefined); // awaited on the next turn; should a lookup fail first, it must not go unhandled
      if (last === undefined) break;
      const counted = count(page);
      counted.catch(() => undefined); // awaited below, in order
      counting.push(counted);
      if (counting.length >= LOOKUPS) offer((await counting.shift()) ?? []);
    }
    for (const counted of counting) offer(await counted);
  } finally {
    await Promise.allSettled([...counting, next]);
  }
  return tally.result();
}

async function compareMirror(source: Source, state: StateDb, job: 'carts' | 'wishlists', query: string, pageSize: number): Promise<MirrorRow> {
  const row: MirrorRow = { job, shop: 0, ledger: 0, both: 0, shopOnly: 0, ledgerOnly: 0 };
  // No run writes under this id: every ledger row is read.
  await mergeJoin(
    snapshotPages(source, query, pageSize, undefined),
    (device: SnapshotDevice) => device.did,
    ledgerPages(state, job, '', 10_000),
    (entry) => entry.key,
    (device, known) => {
      if (device !== undefined && known !== undefined) row.both += 1;
      else if (device !== undefined) row.shopOnly += 1;
      else row.ledgerOnly += 1;
      return undefined;
    },
  );
  row.shop = row.both + row.shopOnly;
  row.ledger = row.both + row.ledgerOnly;
  return row;
}
