/** Line rows → the `items` of a purchase, full cart or full wishlist: checked, merged, sorted by id. */
import { count, money, optionalId, optionalText, requiredId, toNumber } from './fields.js';
import { keep } from './policy.js';
import { fail, isAbsent } from './reason.js';
import { AMOUNT, MAX_AMOUNT, amountRule, isRecord, itemIdRule, longIdRule, moneyRule } from './rules.js';
import type { BuildWarning, Check, Failure } from './types.js';
import { isClosedLine, lineQuantity, toCents } from './line-quantity.js';

export type PurchaseItem = {
  id: string;
  amount: number;
  price?: number;
  line_id?: string;
  fashion_size?: string;
};
export type CartItem = {
  id: string;
  quantity: number;
};
export type WishItem = {
  id: string;
};

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function lineObject(line: unknown, index: number): Check<Record<string, unknown>> {
  return isRecord(line) ? { ok: true, value: line } : fail(`items[${index}]`, 'must be an object', line);
}

const lineIdColumn = (value: unknown, field: string) => optionalId(value, field, longIdRule);

/** A price as `money(value, field)` gives it, without its result object or field name for a good one; undefined otherwise. */
function plainMoney(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value + 0 : typeof value === 'string' ? toNumber(value) : undefined;
  return n !== undefined && moneyRule(n) === undefined ? n : undefined;
}

/**
 * One purchase line; its optional fields (price, line_id, fashion_size) as policy.ts says for a bad value; undefined
 * for a line of no units (left out, with a warning). A weighed line goes as 1 at its final price. Values that pass
 * (nearly all) are taken without a result object or a field name; anything else goes through the same coercer and
 * policy as ever, for the same value or reason.
 */
function purchaseItem(line: unknown, index: number, warnings: BuildWarning[]): Check<PurchaseItem | undefined> {
  const row = lineObject(line, index);
  if (!row.ok) return row;
  const { id: rawId, amount: rawAmount, price: rawPrice, line_id: rawLineId, fashion_size: rawSize } = row.value;
  const id = itemId(rawId, index);
  if (typeof id !== 'string' && !id.ok) return id;
  let amount: number;
  let weighed: number | undefined;
  if (typeof rawAmount === 'number' && amountRule(rawAmount) === undefined) amount = rawAmount + 0;
  else {
    const quantity = lineQuantity(rawAmount, `items[${index}].amount`, warnings);
    if (!quantity.ok) return quantity;
    if (quantity.value === undefined) return { ok: true, value: undefined };
    amount = quantity.value.amount;
    weighed = quantity.value.weighed;
  }
  const item: PurchaseItem = { id: typeof id === 'string' ? id : id.value, amount };
  if (!isAbsent(rawPrice)) {
    let price = plainMoney(rawPrice);
    if (price === undefined) {
      const kept = keep(warnings, `items[${index}].price`, rawPrice, money);
      if (!kept.ok) return kept;
      price = kept.value;
    }
    if (price !== undefined) item.price = weighed === undefined ? price : toCents(price * weighed);
  }
  if (weighed !== undefined && item.price === undefined) return fail(`items[${index}].price`, WEIGHED, rawPrice, true);
  if (!isAbsent(rawLineId)) {
    const lineId = keep(warnings, `items[${index}].line_id`, rawLineId, lineIdColumn);
    if (!lineId.ok) return lineId;
    if (lineId.value !== undefined) item.line_id = lineId.value;
  }
  if (!isAbsent(rawSize)) {
    const size = keep(warnings, `items[${index}].fashion_size`, rawSize, optionalText);
    if (!size.ok) return size;
    if (size.value !== undefined) item.fashion_size = size.value;
  }
  return { ok: true, value: item };
}

/** Why a weighed line needs a price. */
export const WEIGHED = 'must be the unit price of a weighed line (a fractional amount): it goes as quantity 1 at the unit price times the weight';

/** Two items that are one: what `purchaseKey` compares (the same id, fashion_size, line_id and price). */
const sameItem = (a: PurchaseItem, b: PurchaseItem): boolean =>
  a.id === b.id && (a.fashion_size ?? '\u0001') === (b.fashion_size ?? '\u0001') && (a.line_id ?? '\u0001') === (b.line_id ?? '\u0001') && a.price === b.price;

/** The fields that make two lines one item. A separator no id holds keeps the parts apart. */
const purchaseKey = (item: PurchaseItem): string =>
  `${item.id}\u0000${item.fashion_size ?? '\u0001'}\u0000${item.line_id ?? '\u0001'}\u0000${item.price ?? '\u0001'}`;

/** Order among items of one id (rare, so it may cost more): their other fields as JSON. */
const tieKey = (item: PurchaseItem): string => JSON.stringify([item.fashion_size ?? null, item.line_id ?? null, item.price ?? null]);

/** By id, then (same id) by their other fields. */
const comparePurchase = (a: PurchaseItem, b: PurchaseItem): number => compareText(a.id, b.id) || (a.id === b.id ? compareText(tieKey(a), tieKey(b)) : 0);

const MERGED_PURCHASE = `${AMOUNT} once lines with the same id, fashion_size, line_id and price are added up`;
const MERGED_CART = `${AMOUNT} once lines with the same id are added up`;

/**
 * Purchase lines: at least one bought; lines cancelled or refunded, and lines of no units, are not part of what was
 * bought and are left out; lines with the same id, fashion_size, line_id and price merged (amounts added), sorted by
 * id. An order's few lines look for their twin in the list itself; a Map pays only for long orders.
 */
export function purchaseItems(lines: readonly unknown[], warnings: BuildWarning[] = []): Check<PurchaseItem[]> {
  if (lines.length === 0) return { ok: false, reason: NO_LINES };
  if (lines.length === 1 && !isClosedLine(lines[0])) {
    const only = purchaseItem(lines[0], 0, warnings);
    if (!only.ok) return only;
    return only.value === undefined ? { ok: false, reason: NO_LINES_BOUGHT } : { ok: true, value: [only.value] };
  }
  const byKey = lines.length > 16 ? new Map<string, PurchaseItem>() : undefined;
  const items: PurchaseItem[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (isClosedLine(lines[index])) continue;
    const item = purchaseItem(lines[index], index, warnings);
    if (!item.ok) return item;
    if (item.value === undefined) continue;
    let seen: PurchaseItem | undefined;
    const key = byKey === undefined ? undefined : purchaseKey(item.value);
    if (key !== undefined) seen = byKey?.get(key);
    else for (let k = 0; k < items.length && seen === undefined; k++) if (sameItem(items[k] as PurchaseItem, item.value)) seen = items[k];
    if (seen === undefined) {
      items.push(item.value);
      if (key !== undefined) byKey?.set(key, item.value);
      continue;
    }
    seen.amount += item.value.amount;
    if (seen.amount > MAX_AMOUNT) return fail(`items[${index}].amount`, MERGED_PURCHASE, seen.amount);
  }
  if (items.length === 0) return { ok: false, reason: NO_LINES_BOUGHT };
  return { ok: true, value: items.sort(comparePurchase) };
}

const NO_LINES = 'items: an order needs at least one line';
const NO_LINES_BOUGHT = 'items: no line is bought (every line is cancelled, refunded or of no units)';

/**
 * An item id as `requiredId(value, field, itemIdRule)` gives it, without its result object for the usual case (a
 * string that passes the rule); anything else goes through `requiredId` for the same value or reason.
 */
function itemId(value: unknown, index: number): Check<string> | string {
  return typeof value === 'string' && itemIdRule(value) === undefined ? value : requiredId(value, `items[${index}].id`, itemIdRule);
}

/** A quantity as `count(value, field)` gives it, without its result object for an integer number in range. */
function quantityOf(value: unknown, index: number): Check<number> | number {
  return typeof value === 'number' && amountRule(value) === undefined ? value : count(value, `items[${index}].quantity`);
}

/** Sort a few items in place by id (insertion sort: carts hold a handful of ids, all different). */
function sortSmallById<T extends { id: string }>(items: T[]): T[] {
  if (items.length > 16) return items.sort((a, b) => compareText(a.id, b.id));
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as T;
    let j = i - 1;
    while (j >= 0 && (items[j] as T).id > item.id) {
      items[j + 1] = items[j] as T;
      j--;
    }
    items[j + 1] = item;
  }
  return items;
}

const isFailure = (value: object): value is Failure => (value as { ok?: unknown }).ok === false;

/**
 * List lines → items with unique ids, sorted by id: `take` reads a line into an item (or the failure), and a line
 * whose id came before goes into that item through `merge` (a failure stops), or is dropped without one. Small lists
 * look their ids up in the list itself; a Map pays only for big ones.
 */
function uniqueById<T extends { id: string }>(
  lines: readonly unknown[],
  take: (line: Record<string, unknown>, index: number, id: string) => T | Failure,
  merge?: (seen: T, item: T, index: number) => Failure | undefined,
): Check<T[]> {
  const byId = lines.length > 16 ? new Map<string, T>() : undefined;
  const items: T[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (!isRecord(line)) return lineObject(line, index) as Failure; // the same reason as ever
    const id = itemId(line.id, index);
    if (typeof id !== 'string' && !id.ok) return id;
    const idText = typeof id === 'string' ? id : id.value;
    const item = take(line, index, idText);
    if (isFailure(item)) return item;
    let seen: T | undefined;
    if (byId !== undefined) seen = byId.get(idText);
    else for (let k = 0; k < items.length && seen === undefined; k++) if ((items[k] as T).id === idText) seen = items[k];
    if (seen === undefined) {
      items.push(item);
      byId?.set(idText, item);
      continue;
    }
    const problem = merge?.(seen, item, index);
    if (problem !== undefined) return problem;
  }
  return { ok: true, value: sortSmallById(items) };
}

/** Full-cart lines `{id, quantity}`: lines with the same id merged (quantities added), sorted by id. */
export function cartItems(lines: readonly unknown[]): Check<CartItem[]> {
  return uniqueById<CartItem>(
    lines,
    (line, index, id) => {
      const quantity = quantityOf(line.quantity, index);
      if (typeof quantity !== 'number' && !quantity.ok) return quantity;
      return { id, quantity: typeof quantity === 'number' ? quantity : quantity.value };
    },
    (seen, item, index) => {
      seen.quantity += item.quantity;
      return seen.quantity > MAX_AMOUNT ? fail(`items[${index}].quantity`, MERGED_CART, seen.quantity) : undefined;
    },
  );
}

/** Full-wishlist lines `{id}`: duplicate ids merged, sorted by id. */
export function wishItems(lines: readonly unknown[]): Check<WishItem[]> {
  return uniqueById<WishItem>(lines, (_line, _index, id) => ({ id }));
}
