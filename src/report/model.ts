/**
 * `report`'s numbers as a pure model: each order of the shop's model (by the UTC day of its updated_at, the days
 * `backfill --from/--to` takes) is delivered, invalid, rejected, held (for the shop secret), or not sent; not sent is *pending* when the
 * incremental sync has not got there yet (after its watermark) and *missing* when it has passed it (or never ran):
 * a day with missing orders does not add up. Carts and wishlists compare the devices in the shop's snapshot with
 * those the ledger says PersonaClick holds.
 */
import type { Cursor } from '../cursor.js';

export type OrderFate = 'delivered' | 'invalid' | 'rejected' | 'held' | 'pending' | 'missing';

export interface DayRow {
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** Orders of the shop's model whose updated_at falls on the day. */
  shop: number;
  /** In the delivered ledger, by either road. */
  delivered: number;
  /** Delivered as a live purchase event (the tracking API). */
  push: number;
  /** Delivered through the order-sync API (history with real dates). */
  sync: number;
  /** Delivered with a warning (an optional field left out). A part of `delivered`. */
  warned: number;
  invalid: number;
  rejected: number;
  /** Kept back, with the reason, until personaclick.shopSecret is set (only the order-sync API can carry them). */
  held: number;
  /** Not sent, after the incremental watermark: the next sync sends them. */
  pending: number;
  /** Not sent, not failed, behind the watermark (or no sync ever ran): PersonaClick does not have them. */
  missing: number;
}

export interface MirrorRow {
  job: 'carts' | 'wishlists';
  /** Devices with at least one line in the shop's snapshot. */
  shop: number;
  /** Devices the ledger says PersonaClick holds. */
  ledger: number;
  both: number;
  /** In the shop, not at PersonaClick: new since the last reconcile, or invalid. */
  shopOnly: number;
  /** At PersonaClick, gone from the shop: the next reconcile clears them. */
  ledgerOnly: number;
}

export interface ReportData {
  /** First day (inclusive) and the day after the last, YYYY-MM-DD. */
  from: string;
  to: string;
  generatedAt: string;
  /** Whether the config has an orders job (no day rows without it). */
  orders: boolean;
  /** The incremental sync's watermark (the lowest of its shards'), if it ever ran. */
  watermark: Cursor | undefined;
  days: DayRow[];
  mirrors: MirrorRow[];
  /** The catalogue jobs configured (categories, products): the shop's model now against what PersonaClick was told. */
  catalogue: CatalogueRow[];
}

/** One catalogue job in `report`: ids in the shop's model now, against the ledger (what PersonaClick was told). */
export interface CatalogueRow {
  job: 'categories' | 'products';
  /** Ids in the shop's model. */
  shop: number;
  /** Ids PersonaClick was told (the ledger). */
  told: number;
  /** In the shop, not told: new since the last run, or invalid. */
  notTold: number;
  /** Told, gone from the shop: the next reconcile removes them (a removed product is marked out of stock). */
  toRemove: number;
  /** Products in the shop whose available is false (told as out of stock once told). */
  outOfStock: number;
  /** Open failures of the job (invalid, rejected). */
  failed: number;
}

export function catalogueAddsUp(row: CatalogueRow): boolean {
  return row.notTold === row.failed && row.toRemove === 0;
}

/** What became of one order, from the books: the ledger first, then an open failure, then the watermark. */
export function fateOf(
  order: { key: string; ts: string },
  delivered: boolean,
  failureClass: string | undefined,
  watermark: Cursor | undefined,
): { fate: OrderFate; warned: boolean } {
  if (delivered) return { fate: 'delivered', warned: failureClass === 'warning' };
  if (failureClass === 'invalid' || failureClass === 'rejected' || failureClass === 'held') return { fate: failureClass, warned: false };
  return { fate: watermark !== undefined && after(order, watermark) ? 'pending' : 'missing', warned: false };
}

/** (ts, key) after the watermark, in the keyset's order; keys that are both whole numbers compare as numbers. */
export function after(order: { key: string; ts: string }, mark: Cursor): boolean {
  if (order.ts !== mark.ts) return order.ts > mark.ts;
  if (mark.key === null) return true; // the watermark means "from ts, inclusive"
  const [a, b] = [order.key, mark.key];
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a > b;
}

export function emptyDay(day: string): DayRow {
  return { day, shop: 0, delivered: 0, push: 0, sync: 0, warned: 0, invalid: 0, rejected: 0, held: 0, pending: 0, missing: 0 };
}

/** A day adds up when every order of it is accounted for: delivered, failed with a reason, or still ahead of the sync. */
export function addsUp(row: DayRow): boolean {
  return row.missing === 0;
}

/** Kept with a reason: invalid, rejected, or held for the shop secret. */
export function failed(row: DayRow): number {
  return row.invalid + row.rejected + row.held;
}

export function mirrorAddsUp(row: MirrorRow): boolean {
  return row.shopOnly === 0 && row.ledgerOnly === 0;
}

/** Every day of [from, to) as YYYY-MM-DD. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t < end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Counts orders into the days of a range. */
export class DayTally {
  private readonly rows = new Map<string, DayRow>();

  constructor(from: string, to: string) {
    for (const day of daysOf(from, to)) this.rows.set(day, emptyDay(day));
  }

  add(day: string, fate: OrderFate, warned: boolean, road?: 'push' | 'sync'): void {
    let row = this.rows.get(day);
    if (row === undefined) {
      row = emptyDay(day);
      this.rows.set(day, row);
    }
    row.shop += 1;
    row[fate] += 1;
    if (fate === 'delivered') row[road ?? 'push'] += 1;
    if (warned) row.warned += 1;
  }

  result(): DayRow[] {
    return [...this.rows.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  }
}

export function totalOf(rows: readonly DayRow[]): DayRow {
  const total = emptyDay('total');
  for (const r of rows) {
    total.shop += r.shop;
    total.delivered += r.delivered;
    total.push += r.push;
    total.sync += r.sync;
    total.warned += r.warned;
    total.invalid += r.invalid;
    total.rejected += r.rejected;
    total.held += r.held;
    total.pending += r.pending;
    total.missing += r.missing;
  }
  return total;
}
