/**
 * Orders with their lines, read within the byte budget (`source.pageBytes`, byte-budget.ts): the lines of each order
 * are counted in the database before they are read, so an order of a hundred thousand lines is never brought into
 * this process whole. An order larger than the whole budget (its row and its lines) is named in `tooLarge` and not
 * read; a page stops before the order that would take it over the budget (the next page starts there).
 */
import type { Row } from '../payloads/index.js';
import { packWithin, type KeySize } from './byte-budget.js';
import type { Source } from './db.js';
import { lineSizes, linesFor, orderSizes, ordersByKeys, type OrderRow, type OrdersPage } from './orders.js';

export interface SizedOrders {
  orders: OrderRow[];
  /** The lines of each order of `orders` that is not too large, by order id. */
  lines: Map<string, Row[]>;
  /** Orders larger than the budget, by order id, with their size: their lines are never read. */
  tooLarge: Map<string, KeySize>;
}

export interface SizedOrdersPage extends SizedOrders {
  /** More orders may follow the page's last (it was cut by rows or by bytes). */
  more: boolean;
  /** It was the byte budget that cut it, of the rows or of the lines (see `nextLimit`). */
  byBytes: boolean;
}

const NO_LINES: KeySize = { rows: 0, bytes: 0 };

/**
 * A page of orders (`ordersPage`) with its lines, within the budget: the lines counted first, the page cut before the
 * order that would pass the budget, too-large orders named (they stay in `orders`, in their place in the keyset, so
 * the watermark passes them); then the lines read. (The run reads the ledger meanwhile.)
 */
export async function linesWithin(source: Source, itemsQuery: string, page: OrdersPage): Promise<SizedOrdersPage> {
  const sizes = await lineSizes(
    source,
    itemsQuery,
    page.orders.map((o) => o.key),
  );
  const budget = source.pageBytes;
  const orders: OrderRow[] = [];
  const tooLarge = new Map<string, KeySize>();
  let used = 0;
  let cut = false;
  for (const order of page.orders) {
    const lines = sizes.get(order.key) ?? NO_LINES;
    const size = { rows: 1 + lines.rows, bytes: (order.bytes ?? 0) + lines.bytes };
    if (size.bytes > budget) tooLarge.set(order.key, size);
    else if (used + size.bytes > budget && orders.length > 0) {
      cut = true;
      break;
    } else used += size.bytes;
    orders.push(order);
  }
  const lines = await linesFor(
    source,
    itemsQuery,
    orders.filter((o) => !tooLarge.has(o.key)).map((o) => o.key),
  );
  return { orders, lines, tooLarge, more: page.more || cut, byBytes: page.byBytes || cut };
}

/** Orders asked for by key, sized before any is read: in runs within the budget, too large, or no longer in the model. */
export interface SizedKeys {
  /** Keys to read together (`readOrders`), each run within the budget. */
  runs: string[][];
  tooLarge: Map<string, KeySize>;
  /** Keys the model does not give (any more). */
  missing: string[];
}

/** Size orders by key (replay, report --verify): their rows and their lines, counted in the database, none read. */
export async function sizeOrders(source: Source, query: string, itemsQuery: string, keys: readonly string[]): Promise<SizedKeys> {
  const rows = await orderSizes(source, query, keys);
  const lines = await lineSizes(source, itemsQuery, [...rows.keys()]);
  const sizeOf = (key: string): KeySize => {
    const l = lines.get(key) ?? NO_LINES;
    return { rows: 1 + l.rows, bytes: (rows.get(key) ?? 0) + l.bytes };
  };
  const { runs, over } = packWithin([...rows.keys()], (key) => sizeOf(key).bytes, source.pageBytes);
  return { runs, tooLarge: new Map(over.map((key) => [key, sizeOf(key)])), missing: keys.filter((k) => !rows.has(k)) };
}

/** One run of `sizeOrders`: the orders and their lines. */
export async function readOrders(source: Source, query: string, itemsQuery: string, keys: readonly string[]): Promise<Omit<SizedOrders, 'tooLarge'>> {
  return { orders: await ordersByKeys(source, query, keys), lines: await linesFor(source, itemsQuery, keys) };
}
