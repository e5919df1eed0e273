/**
 * Orders model row + lines → an order of the order-sync API (`POST /sync/orders`, api-notes.md "Order-sync API"):
 * history with its real date (Unix seconds), its status and channel, the customer named by any of email, phone,
 * external_id, loyalty_id or telegram_id (no device id needed), value, lines with their statuses, payment structure,
 * promocode, delivery and payment fields, custom, comment. Also the status updates of orders PersonaClick has, and the
 * batch request that carries them (with the shop secret, which only that request holds).
 */
import { hash } from 'node:crypto';
import { toEpochMs } from '../dates.js';
import { customProperties } from './custom.js';
import { money, optionalBoolean, optionalId, optionalText, requiredId } from './fields.js';
import { isClosedLine, lineQuantity, toCents } from './line-quantity.js';
import { keep, tolerate } from './policy.js';
import { fail, isAbsent } from './reason.js';
import { itemIdRule, longIdRule } from './rules.js';
import { syncOrderSchema } from './schemas.js';
import { issueReason } from './validate.js';
import type { ApiRequest, BuildWarning, Check, JsonObject, JsonValue, Row } from './types.js';

/** The customer identifiers the API takes; any one suffices. */
export const CUSTOMER_IDENTIFIERS = ['email', 'phone', 'external_id', 'loyalty_id', 'telegram_id'] as const;

/** Line statuses the API knows; `cancelled` and `refunded` take a line out of the order (a partial return). */
export const LINE_STATUSES = ['created', 'invoiced', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;

const MAX_COMMENT = 500;
/** The channel of an order whose model gives none. */
export const DEFAULT_CHANNEL = 'web';

export interface SyncContext {
  shopId: string;
  /** The shop secret; undefined when not configured (the order-sync road is then closed). */
  shopSecret: string | undefined;
}

export interface SyncLine {
  id: string;
  price: number;
  quantity: number;
  line_id?: string;
  status?: string;
}

/** A built order: its JSON, the digest of its state (status and line statuses), and the warnings of what was left out. */
export interface BuiltSyncOrder {
  order: JsonObject;
  state: string;
  warnings: BuildWarning[];
}

export type SyncOrderResult = ({ ok: true } & BuiltSyncOrder) | { ok: false; reason: string };

const digest = (value: unknown): string => hash('sha256', JSON.stringify(value), 'hex').slice(0, 16);

const text = (value: unknown): string | null => (isAbsent(value) ? null : typeof value === 'string' ? value : String(value));

/**
 * The state PersonaClick is told about an order: `<status digest>.<lines digest>`, from the model's status and each
 * line's product, status and amount; undefined when the model gives no status (then there is no state to tell). Two
 * rows with the same state need no update; the lines part says whether the lines (their statuses, what a return
 * changes) must go too. Line order does not matter.
 */
export function orderStateOf(row: Row, lines: readonly Row[]): string | undefined {
  const status = text(row.status);
  if (status === null || status.trim() === '') return undefined;
  const parts = lines.map((l) => JSON.stringify([text(l.id), text(l.status), text(l.amount)])).sort();
  return `${digest(status)}.${digest(parts)}`;
}

/** True when the lines part of two states differs (a status update must then carry the items). */
export function linesChanged(before: string | null, after: string): boolean {
  return before === null || before.split('.')[1] !== after.split('.')[1];
}

function lineStatus(value: unknown, field: string): Check<string | undefined> {
  if (isAbsent(value)) return { ok: true, value: undefined };
  return typeof value === 'string' && (LINE_STATUSES as readonly string[]).includes(value)
    ? { ok: true, value }
    : fail(field, `must be one of ${LINE_STATUSES.join(', ')}`, value);
}

/** One line as the model gives it: id, quantity (a weighed line as 1 at its final price), price, line_id and status. */
function syncLine(line: Row, index: number, warnings: BuildWarning[]): Check<SyncLine | undefined> {
  const at = `items[${index}]`;
  const id = requiredId(line.id, `${at}.id`, itemIdRule);
  if (!id.ok) return id;
  const quantity = lineQuantity(line.amount, `${at}.amount`, warnings);
  if (!quantity.ok) return quantity;
  if (quantity.value === undefined) return { ok: true, value: undefined };
  const price = money(line.price, `${at}.price`);
  if (!price.ok) return price;
  if (price.value === undefined) return fail(`${at}.price`, 'must be a non-negative finite number (the order-sync API needs the unit price)', line.price, true);
  const weighed = quantity.value.weighed;
  const out: SyncLine = { id: id.value, price: weighed === undefined ? price.value : toCents(price.value * weighed), quantity: quantity.value.amount };
  const lineId = keep(warnings, `${at}.line_id`, line.line_id, (v, f) => optionalId(v, f, longIdRule));
  if (!lineId.ok) return lineId;
  if (lineId.value !== undefined) out.line_id = lineId.value;
  const status = keep(warnings, `${at}.status`, line.status, lineStatus);
  if (!status.ok) return status;
  if (status.value !== undefined) out.status = status.value;
  return { ok: true, value: out };
}

/** Lines of one product, added up: quantities summed, the unit price their average (the money kept). */
function addUp(lines: readonly SyncLine[]): SyncLine | undefined {
  const first = lines[0];
  if (first === undefined) return undefined;
  const quantity = lines.reduce((n, l) => n + l.quantity, 0);
  const paid = lines.reduce((n, l) => n + l.price * l.quantity, 0);
  const out: SyncLine = { id: first.id, price: toCents(paid / quantity), quantity };
  const lineIds = new Set(lines.map((l) => l.line_id));
  if (lineIds.size === 1 && first.line_id !== undefined) out.line_id = first.line_id;
  const statuses = new Set(lines.map((l) => l.status));
  if (statuses.size === 1 && first.status !== undefined) out.status = first.status;
  return out;
}

/**
 * The lines, one per product (the API takes no product on two lines). A product's lines still bought (not cancelled
 * or refunded) make its line: the kept quantity, at their average unit price, with their status when they agree. A
 * product whose every line was cancelled or refunded is one line of that status (`refunded` when any was), which
 * takes it out of the order: so 1 of 2 units returned is the product ×1, and a return of all of it is the product
 * refunded. Lines of no units are left out with a warning; an order with no line left is refused.
 */
export function syncLines(lines: readonly Row[], warnings: BuildWarning[]): Check<SyncLine[]> {
  if (lines.length === 0) return { ok: false, reason: 'items: an order needs at least one line' };
  const byId = new Map<string, SyncLine[]>();
  for (let i = 0; i < lines.length; i++) {
    const line = syncLine(lines[i] ?? {}, i, warnings);
    if (!line.ok) return line;
    if (line.value === undefined) continue;
    const same = byId.get(line.value.id);
    if (same === undefined) byId.set(line.value.id, [line.value]);
    else same.push(line.value);
  }
  const out: SyncLine[] = [];
  for (const same of byId.values()) {
    const kept = same.filter((l) => !isClosedLine(l));
    const line = kept.length > 0 ? addUp(kept) : addUp(same);
    if (line === undefined) continue;
    if (kept.length === 0) line.status = same.some((l) => l.status === 'refunded') ? 'refunded' : 'cancelled';
    out.push(line);
  }
  if (out.length === 0) return { ok: false, reason: 'items: no line left (every line is of no units)' };
  return { ok: true, value: out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

/** What the lines still bought come to (cancelled and refunded lines are out of it), in cents. */
function linesTotal(lines: readonly SyncLine[]): number {
  return toCents(lines.reduce((a, l) => (isClosedLine(l) ? a : a + l.price * l.quantity), 0));
}

const PAYMENT_PARTS = [
  ['order_cash', 'cash'],
  ['order_bonuses', 'bonuses'],
  ['order_delivery', 'delivery'],
  ['order_discount', 'discount'],
] as const;

/**
 * `payment_structure` from the money columns, under the documented identity total = cash + bonuses + delivery −
 * discount (REES46 docs, orders/sync.md): when the model gives no cash, cash is what the rest leaves of the total;
 * parts that do not add up to the total are left out with a warning (PersonaClick would hold a wrong split).
 */
function paymentStructure(row: Row, total: number, warnings: BuildWarning[]): Check<JsonObject | undefined> {
  const parts: Partial<Record<'cash' | 'bonuses' | 'delivery' | 'discount', number>> = {};
  for (const [column, key] of PAYMENT_PARTS) {
    const value = keep(warnings, column, row[column], money);
    if (!value.ok) return value;
    if (value.value !== undefined) parts[key] = value.value;
  }
  if (Object.keys(parts).length === 0) return { ok: true, value: undefined };
  const rest = (parts.bonuses ?? 0) + (parts.delivery ?? 0) - (parts.discount ?? 0);
  if (parts.cash === undefined) {
    const cash = toCents(total - rest);
    if (cash < 0) return { ok: true, value: leaveOut(warnings, row, total, rest) };
    parts.cash = cash;
  } else if (Math.abs(parts.cash + rest - total) > 0.005) return { ok: true, value: leaveOut(warnings, row, total, parts.cash + rest) };
  const out: JsonObject = {};
  for (const [, key] of PAYMENT_PARTS) if (parts[key] !== undefined) out[key] = parts[key];
  return { ok: true, value: out };
}

function leaveOut(warnings: BuildWarning[], row: Row, total: number, sum: number): undefined {
  const given = PAYMENT_PARTS.filter(([c]) => !isAbsent(row[c]))
    .map(([c]) => c)
    .join(', ');
  warnings.push({
    field: 'payment_structure',
    value: given,
    reason: `payment_structure: cash + bonuses + delivery − discount must equal the total (${total}), the parts given (${given}) come to ${toCents(sum)}; left out`,
  });
  return undefined;
}

/** The order's value and its payment structure: the model's total (order_price), else what its lines still bought come to. */
function orderValue(row: Row, items: readonly SyncLine[], warnings: BuildWarning[]): Check<{ value: JsonObject; payment?: JsonObject }> {
  const total = keep(warnings, 'order_price', row.order_price, money);
  if (!total.ok) return total;
  const value = total.value ?? linesTotal(items);
  const payment = paymentStructure(row, value, warnings);
  if (!payment.ok) return payment;
  return { ok: true, value: { value: { total: value }, ...(payment.value === undefined ? {} : { payment: payment.value }) } };
}

function requiredStatus(row: Row): Check<string> {
  const status = optionalText(row.status, 'status');
  if (!status.ok) return status;
  if (status.value === undefined || status.value.trim() === '') {
    return fail(
      'status',
      "is required by the order-sync API: the shop's own status name (mapped in the account under Settings > Order Statuses)",
      row.status,
      true,
    );
  }
  return { ok: true, value: status.value };
}

/** An order for the order-sync API, or why it cannot be one. */
export function buildSyncOrder(row: Row, lines: readonly Row[]): SyncOrderResult {
  const warnings: BuildWarning[] = [];
  const id = requiredId(row.order_id, 'order_id', longIdRule);
  if (!id.ok) return id;
  const status = requiredStatus(row);
  if (!status.ok) return status;
  const at = toEpochMs(row.ordered_at) ?? toEpochMs(row.updated_at);
  if (at === undefined) return fail('ordered_at', 'must be a timestamp: the order-sync API needs the date the order was placed', row.ordered_at, true);
  const items = syncLines(lines, warnings);
  if (!items.ok) return items;

  const order: JsonObject = { id: id.value, status: status.value, date: Math.floor(at / 1000) };
  const channel = keep(warnings, 'channel', row.channel, optionalText);
  if (!channel.ok) return channel;
  order.channel = channel.value ?? DEFAULT_CHANNEL;
  let named = 0;
  for (const field of CUSTOMER_IDENTIFIERS) {
    const value = keep(warnings, field, row[field], optionalText);
    if (!value.ok) return value;
    if (value.value !== undefined && value.value.trim() !== '') {
      order[field] = value.value;
      named += 1;
    }
  }
  if (named === 0) return { ok: false, reason: `customer: the order-sync API needs at least one of ${CUSTOMER_IDENTIFIERS.join(', ')} (the model gave none)` };

  const worth = orderValue(row, items.value, warnings);
  if (!worth.ok) return worth;
  order.value = worth.value.value;
  order.items = items.value.map((l) => ({ ...l }));
  if (worth.value.payment !== undefined) order.payment_structure = worth.value.payment;
  const offline = keep(warnings, 'offline', row.offline, optionalBoolean);
  if (!offline.ok) return offline;
  if (offline.value === true) order.offline = true;
  for (const column of ['promocode', 'delivery_type', 'delivery_address', 'payment_type'] as const) {
    const value = keep(warnings, column, row[column], optionalText);
    if (!value.ok) return value;
    if (value.value !== undefined) order[column] = value.value;
  }
  const custom = customProperties(row.custom, warnings);
  if (!custom.ok) return custom;
  if (custom.value !== undefined) order.custom = custom.value;
  const comment = keep(warnings, 'comment', row.comment, optionalText);
  if (!comment.ok) return comment;
  if (comment.value !== undefined) {
    if (comment.value.length <= MAX_COMMENT) order.comment = comment.value;
    else {
      const left = tolerate(warnings, 'comment', comment.value, `comment: must be at most ${MAX_COMMENT} characters (got ${comment.value.length})`);
      if (!left.ok) return left;
    }
  }
  const checked = syncOrderSchema.safeParse(order);
  if (!checked.success) return { ok: false, reason: issueReason(checked.error.issues) };
  return { ok: true, order, state: orderStateOf(row, lines) ?? '', warnings };
}

/**
 * A status update of an order PersonaClick has: `{id, status}`, and its items when the lines changed since the state
 * last told (a line `refunded` or `cancelled` is how a partial return is told). The customer, date and money are not
 * sent again: "fields left empty keep their earlier values".
 */
export function buildStatusUpdate(row: Row, lines: readonly Row[], toldState: string | null): SyncOrderResult {
  const warnings: BuildWarning[] = [];
  const id = requiredId(row.order_id, 'order_id', longIdRule);
  if (!id.ok) return id;
  const status = requiredStatus(row);
  if (!status.ok) return status;
  const state = orderStateOf(row, lines) ?? '';
  const order: JsonObject = { id: id.value, status: status.value };
  if (linesChanged(toldState, state)) {
    // The lines changed (a return, a cancelled line): the items, and the value they now come to with its payment
    // structure, since PersonaClick keeps the value of a field not sent.
    const items = syncLines(lines, warnings);
    if (!items.ok) return items;
    const worth = orderValue(row, items.value, warnings);
    if (!worth.ok) return worth;
    order.value = worth.value.value;
    order.items = items.value.map((l) => ({ ...l }));
    if (worth.value.payment !== undefined) order.payment_structure = worth.value.payment;
  }
  return { ok: true, order, state, warnings };
}

/** The batch request. The shop secret travels in the body: nothing but this request may hold it. */
export function syncOrdersRequest(orders: readonly JsonValue[], ctx: SyncContext): ApiRequest {
  return { path: '/sync/orders', body: { shop_id: ctx.shopId, shop_secret: ctx.shopSecret ?? '', orders: [...orders] } };
}
