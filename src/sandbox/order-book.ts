/**
 * What the order-sync API keeps of each order, from batches the rules have accepted, and how
 * `GET /orders/by_user` shows it. Re-sending an id updates the order: fields left out keep their
 * earlier values, so `{id, status}` alone is a status change; `items`, when sent, are the order's
 * lines from then on (a line with status cancelled or refunded stays listed with its status but is
 * out of the order's live lines: a partial return).
 */
import { CUSTOMER_IDENTIFIERS, REMOVED_LINE_STATUSES } from './rules/order-sync.js';

type CustomerIdentifier = (typeof CUSTOMER_IDENTIFIERS)[number];

interface LineFields {
  price: number;
  quantity: number;
  status?: string;
  original_price?: number;
  barcode?: string;
  [field: string]: unknown;
}

/** One order line as sent, with its ids as text. */
export interface StoredLine extends LineFields {
  id: string;
  line_id?: string;
}

interface SyncLine extends LineFields {
  id: string | number;
  line_id?: string | number;
}

export interface StoredOrder {
  id: string;
  /** The device of a live purchase (`/push`); orders from the sync carry none. */
  did?: string;
  /** The latest status. */
  status: string;
  /** Unix seconds. */
  date: number;
  channel: string;
  /** email, phone, external_id, loyalty_id, telegram_id as text, as last sent. */
  identifiers: Partial<Record<CustomerIdentifier, string>>;
  /** value.total */
  total: number;
  /** Every line last sent, each with its status. */
  lines: StoredLine[];
  /** The lines still in the order: those not cancelled or refunded. */
  liveLines: StoredLine[];
  /** Every other field as last sent: promocode, payment_type, payment_structure, custom, comment, … */
  details: Record<string, unknown>;
  /** Each change of status, with when it was received (ms). */
  history: { status: string; at: number }[];
  /** How many times the order was received. */
  received: number;
}

/** An order as the rules let it through (a new order has channel, date, value and items). */
export interface SyncOrder {
  id: string | number;
  status: string;
  channel?: string;
  date?: number;
  value?: { total: number };
  items?: SyncLine[];
  [field: string]: unknown;
}

const OWN_FIELDS = new Set<string>(['id', 'status', 'channel', 'date', 'value', 'items', ...CUSTOMER_IDENTIFIERS]);

function linesOf(items: NonNullable<SyncOrder['items']>): StoredLine[] {
  return items.map(({ id, line_id, ...fields }) => ({ ...fields, id: String(id), ...(line_id === undefined ? {} : { line_id: String(line_id) }) }));
}

/** Store (or update) one accepted order received at `at`. */
export function storeOrder(book: Map<string, StoredOrder>, order: SyncOrder, at: number): void {
  const id = String(order.id);
  const before = book.get(id);
  const lines = order.items === undefined ? (before?.lines ?? []) : linesOf(order.items);
  const identifiers = { ...before?.identifiers };
  for (const name of CUSTOMER_IDENTIFIERS) {
    const value = order[name];
    if (typeof value === 'string' || typeof value === 'number') identifiers[name] = String(value);
  }
  const details = { ...before?.details };
  for (const [field, value] of Object.entries(order)) if (!OWN_FIELDS.has(field)) details[field] = value;
  const history = before?.history ?? [];
  if (before?.status !== order.status) history.push({ status: order.status, at });
  book.set(id, {
    id,
    ...(before?.did === undefined ? {} : { did: before.did }),
    status: order.status,
    date: order.date ?? before?.date ?? 0,
    channel: order.channel ?? before?.channel ?? '',
    identifiers,
    total: order.value?.total ?? before?.total ?? 0,
    lines,
    liveLines: lines.filter((line) => line.status === undefined || !REMOVED_LINE_STATUSES.has(line.status)),
    details,
    history,
    received: (before?.received ?? 0) + 1,
  });
}

/** The query of `GET /orders/by_user`, already judged. */
export type ByUserQuery = Partial<Record<CustomerIdentifier | 'did' | 'date_from', string>>;

/** A live purchase as the tracking API takes it (`/push`, event `purchase`), the rules having let it through. */
export interface PushPurchase {
  did: string;
  order_id: string | number;
  order_price?: number;
  items?: { id: string | number; amount?: number; price?: number; line_id?: string | number }[];
  [field: string]: unknown;
}

/** The identifiers a purchase may carry besides its did, to link the device to a person (api-notes.md). */
const PURCHASE_IDENTIFIERS = ['email', 'phone', 'external_id', 'loyalty_id'] as const;

/**
 * Store a live purchase received at `at` as an order: dated when it arrived (the tracking API has no date field), no
 * status until the order-sync API tells one, its total `order_price` (else the lines' sum). A purchase whose
 * order_id is held already creates no second order (api-notes.md), so it changes nothing.
 */
export function storePurchase(book: Map<string, StoredOrder>, purchase: PushPurchase, at: number): void {
  const id = String(purchase.order_id);
  if (book.has(id)) return;
  const lines: StoredLine[] = (purchase.items ?? []).map((item) => ({
    id: String(item.id),
    quantity: typeof item.amount === 'number' ? item.amount : 1,
    price: typeof item.price === 'number' ? item.price : 0,
    ...(item.line_id === undefined ? {} : { line_id: String(item.line_id) }),
  }));
  const identifiers: StoredOrder['identifiers'] = {};
  for (const name of PURCHASE_IDENTIFIERS) {
    const value = purchase[name];
    if (typeof value === 'string' || typeof value === 'number') identifiers[name] = String(value);
  }
  const sum = Math.round(lines.reduce((a, l) => a + l.price * l.quantity, 0) * 100) / 100;
  const details: Record<string, unknown> = {};
  for (const field of ['promocode', 'payment_type', 'delivery_type', 'delivery_address', 'custom'] as const)
    if (purchase[field] !== undefined) details[field] = purchase[field];
  book.set(id, {
    id,
    did: purchase.did,
    status: '',
    date: Math.floor(at / 1000),
    channel: '',
    identifiers,
    total: typeof purchase.order_price === 'number' ? purchase.order_price : sum,
    lines,
    liveLines: lines,
    details,
    history: [],
    received: 1,
  });
}

/**
 * The orders of the customer named by any of the query's identifiers or its did (orders from the sync carry no did,
 * so a did finds only live purchases), from `date_from` on, oldest first. Each book is searched; an id in an earlier
 * book hides the same id in a later one.
 */
export function ordersByUser(books: readonly ReadonlyMap<string, StoredOrder>[], query: ByUserQuery): StoredOrder[] {
  const from = query.date_from === undefined ? 0 : Date.parse(`${query.date_from}T00:00:00Z`) / 1000;
  const found = new Map<string, StoredOrder>();
  for (const book of books) {
    for (const order of book.values()) {
      if (found.has(order.id) || order.date < from) continue;
      const byDid = query.did !== undefined && order.did === query.did;
      if (byDid || CUSTOMER_IDENTIFIERS.some((name) => query[name] !== undefined && order.identifiers[name] === query[name])) found.set(order.id, order);
    }
  }
  return [...found.values()].sort((a, b) => a.date - b.date || a.id.localeCompare(b.id));
}

const iso = (ms: number): string => new Date(ms).toISOString();
const orNull = (value: unknown): unknown => value ?? null;

/** An order in the documented answer shape of `/orders/by_user` (line amounts and prices as strings). */
export function byUserView(order: StoredOrder): Record<string, unknown> {
  const payment = (order.details.payment_structure ?? {}) as { cash?: number; bonuses?: number; delivery?: number };
  return {
    id: order.id,
    date: iso(order.date * 1000),
    value: order.total,
    cash_value: orNull(payment.cash),
    bonuses_value: orNull(payment.bonuses),
    delivery_value: orNull(payment.delivery),
    promocode: orNull(order.details.promocode),
    channel: order.channel === '' ? null : order.channel,
    order_status: order.status === '' ? null : order.status,
    payment_type: orNull(order.details.payment_type),
    delivery_type: orNull(order.details.delivery_type),
    delivery_address: orNull(order.details.delivery_address),
    custom_properties: order.details.custom ?? {},
    items: order.liveLines.map((line) => ({
      amount: String(line.quantity),
      price: String(line.price),
      status: orNull(line.status),
      line_id: orNull(line.line_id),
      original_price: line.original_price === undefined ? null : String(line.original_price),
      barcode: orNull(line.barcode),
      item: { id: line.id },
    })),
    history: order.history.map((change) => ({ status: change.status, date: iso(change.at) })),
  };
}
