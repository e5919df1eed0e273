/** Content hashes of carts and wishlists, so unchanged ones are not sent again. */
import { createHash } from 'node:crypto';

/**
 * sha256 (hex) of a cart's or wishlist's items: same ids merged (quantities added), sorted by id, so
 * neither line order nor split lines change it.
 */
export function cartContentHash(items: readonly { id: string; quantity?: number }[]): string {
  const merged = new Map<string, number | null>();
  for (const { id, quantity } of items) {
    const seen = merged.get(id);
    merged.set(id, quantity === undefined ? (seen ?? null) : (seen ?? 0) + quantity);
  }
  const sorted = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
