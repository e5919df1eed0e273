/** Line rows → the `items` of a purchase, full cart or full wishlist: checked, merged, sorted by id. */
import { count, money, optionalId, optionalText, requiredId } from './fields.js';
import { fail } from './reason.js';
import { AMOUNT, MAX_AMOUNT, isRecord, itemIdRule, longIdRule } from './rules.js';
import type { Check } from './types.js';

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

/** Sort by id (code-unit order, like COLLATE "C" for ASCII), keeping the given order among equal ids. */
export function sortById<T extends { id: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareText(a.id, b.id));
}

export function lineObject(line: unknown, index: number): Check<Record<string, unknown>> {
  return isRecord(line) ? { ok: true, value: line } : fail(`items[${index}]`, 'must be an object', line);
}

function purchaseItem(line: unknown, index: number): Check<PurchaseItem> {
  const at = `items[${index}]`;
  const row = lineObject(line, index);
  if (!row.ok) return row;
  const id = requiredId(row.value.id, `${at}.id`, itemIdRule);
  if (!id.ok) return id;
  const amount = count(row.value.amount, `${at}.amount`);
  if (!amount.ok) return amount;
  const price = money(row.value.price, `${at}.price`);
  if (!price.ok) return price;
  const lineId = optionalId(row.value.line_id, `${at}.line_id`, longIdRule);
  if (!lineId.ok) return lineId;
  const size = optionalText(row.value.fashion_size, `${at}.fashion_size`);
  if (!size.ok) return size;
  const item: PurchaseItem = { id: id.value, amount: amount.value };
  if (price.value !== undefined) item.price = price.value;
  if (lineId.value !== undefined) item.line_id = lineId.value;
  if (size.value !== undefined) item.fashion_size = size.value;
  return { ok: true, value: item };
}

/** The fields that make two lines one item. A separator no id holds keeps the parts apart. */
const purchaseKey = (item: PurchaseItem): string => `${item.id}\u0000${item.fashion_size ?? '\u0001'}\u0000${item.line_id ?? '\u0001'}\u0000${item.price ?? '\u0001'}`;

/** Order among items of one id (rare, so it may cost more): their other fields as JSON. */
const tieKey = (item: PurchaseItem): string => JSON.stringify([item.fashion_size ?? null, item.line_id ?? null, item.price ?? null]);

const MERGED_PURCHASE = `${AMOUNT} once lines with the same id, fashion_size, line_id and price are added up`;
const MERGED_CART = `${AMOUNT} once lines with the same id are added up`;

/** Purchase lines: at least one; lines with the same id, fashion_size, line_id and price merged (amounts added). */
export function purchaseItems(lines: readonly unknown[]): Check<PurchaseItem[]> {
  if (lines.length === 0) return { ok: false, reason: 'items: an order needs at least one line' };
  if (lines.length === 1) {
    const only = purchaseItem(lines[0], 0);
    return only.ok ? { ok: true, value: [only.value] } : only;
  }
  const merged = new Map<string, PurchaseItem>();
  for (let index = 0; index < lines.length; index++) {
    const item = purchaseItem(lines[index], index);
    if (!item.ok) return item;
    const key = purchaseKey(item.value);
    const seen = merged.get(key);
    if (seen === undefined) {
      merged.set(key, item.value);
      continue;
    }
    seen.amount += item.value.amount;
    if (seen.amount > MAX_AMOUNT) return fail(`items[${index}].amount`, MERGED_PURCHASE, seen.amount);
  }
  const sorted = [...merged.values()].sort((a, b) => compareText(a.id, b.id) || compareText(tieKey(a), tieKey(b)));
  return { ok: true, value: sorted };
}

/** Full-cart lines `{id, quantity}`: lines with the same id merged (quantities added), sorted by id. */
export function cartItems(lines: readonly unknown[]): Check<CartItem[]> {
  const merged = new Map<string, CartItem>();
  for (const [index, line] of lines.entries()) {
    const row = lineObject(line, index);
    if (!row.ok) return row;
    const id = requiredId(row.value.id, `items[${index}].id`, itemIdRule);
    if (!id.ok) return id;
    const quantity = count(row.value.quantity, `items[${index}].quantity`);
    if (!quantity.ok) return quantity;
    const seen = merged.get(id.value);
    if (seen === undefined) {
      merged.set(id.value, { id: id.value, quantity: quantity.value });
      continue;
    }
    seen.quantity += quantity.value;
    if (seen.quantity > MAX_AMOUNT) return fail(`items[${index}].quantity`, MERGED_CART, seen.quantity);
  }
  return { ok: true, value: sortById([...merged.values()]) };
}

/** Full-wishlist lines `{id}`: duplicate ids merged, sorted by id. */
export function wishItems(lines: readonly unknown[]): Check<WishItem[]> {
  const ids = new Set<string>();
  for (const [index, line] of lines.entries()) {
    const row = lineObject(line, index);
    if (!row.ok) return row;
    const id = requiredId(row.value.id, `items[${index}].id`, itemIdRule);
    if (!id.ok) return id;
    ids.add(id.value);
  }
  return { ok: true, value: sortById([...ids].map((id) => ({ id }))) };
}
