/** Content hashes of lists (carts and wishlists), so unchanged ones are not sent again. */
import { hash } from 'node:crypto';

type HashItem = { id: string; quantity?: number };

/** True when JSON.stringify would escape a character of `text`: a quote, a backslash, a control, a surrogate (to be safe). */
function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** `JSON.stringify(id)`, without the call for the ids that need no escaping (nearly all). */
const jsonString = (id: string): string => (needsEscape(id) ? JSON.stringify(id) : `"${id}"`);

/** `JSON.stringify(quantity)`: finite numbers as written, anything else (NaN, ±Infinity, none) as null. */
const jsonQuantity = (quantity: number | null | undefined): string => (typeof quantity === 'number' && Number.isFinite(quantity) ? String(quantity) : 'null');

/**
 * The hashed text of items already merged and sorted: exactly `JSON.stringify([[id, quantity ?? null], …])`,
 * written by hand (no array per item, no generic serializer).
 */
function canonical(items: readonly HashItem[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as HashItem;
    text += `${i === 0 ? '' : ','}[${jsonString(item.id)},${jsonQuantity(item.quantity)}]`;
  }
  return `${text}]`;
}

/** True when the ids are strictly increasing (code-unit order): nothing to merge, nothing to sort. */
function mergedAndSorted(items: readonly HashItem[]): boolean {
  for (let i = 1; i < items.length; i++) if (!((items[i - 1] as HashItem).id < (items[i] as HashItem).id)) return false;
  return true;
}

/**
 * sha256 (hex) of a cart's or wishlist's items: same ids merged (quantities added), sorted by id, so
 * neither line order nor split lines change it. The digest is that of the JSON text `[["id",quantity],…]`
 * (quantity null for wishlist items), which ledgers written by earlier versions hold.
 */
export function listContentHash(items: readonly HashItem[]): string {
  if (mergedAndSorted(items)) return mergedItemsHash(items);
  const merged = new Map<string, number | null>();
  for (const { id, quantity } of items) {
    const seen = merged.get(id);
    merged.set(id, quantity === undefined ? (seen ?? null) : (seen ?? 0) + quantity);
  }
  const sorted = [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, quantity]): HashItem => (quantity === null ? { id } : { id, quantity }));
  return mergedItemsHash(sorted);
}

/** `listContentHash` of items whose ids are already unique and in code-unit order (as cartItems / wishItems give them). */
export function mergedItemsHash(items: readonly HashItem[]): string {
  return hash('sha256', canonical(items), 'hex');
}
