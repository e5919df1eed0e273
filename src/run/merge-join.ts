/**
 * The one paged merge-join, for the mirrors (carts, wishlists, the catalogue) and `report`: the shop's side (a model
 * read in key byte order) and the books' side (the ledger in the same order) walked in step, a page at a time on each side (each reading its next page meanwhile). Every key is
 * visited once: on both sides (compare), only in the shop (new), only in the books (gone). Neither side is ever
 * loaded whole, and nothing is awaited for a key whose visit returns nothing (unchanged).
 */
import { compareC } from '../source/snapshot.js';

export interface MergeOptions {
  /** Keys visited at most (--limit). */
  limit?: number | undefined;
  /** Checked before each key: true stops the walk (a signal, a halt). */
  stop?: (() => boolean) | undefined;
}

/**
 * Walk both sides in key order. `visit(shop, known)` gets the shop's item and the books' entry of one key (either may
 * be undefined, never both); a promise it returns is awaited before the next key (backpressure from the queue).
 */
export async function mergeJoin<S, L>(
  shop: AsyncIterable<S[]>,
  shopKey: (item: S) => string,
  books: AsyncIterable<L[]>,
  bookKey: (entry: L) => string,
  visit: (item: S | undefined, known: L | undefined) => Promise<void> | undefined,
  opts: MergeOptions = {},
): Promise<void> {
  const pages = shop[Symbol.asyncIterator]();
  const ledger = books[Symbol.asyncIterator]();
  let items: S[] = [];
  let entries: L[] = [];
  let d = 0;
  let e = 0;
  let itemsDone = false;
  let entriesDone = false;
  let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      if (d === items.length && !itemsDone) {
        const page = await pages.next();
        if (page.done === true) itemsDone = true;
        else [items, d] = [page.value, 0];
      }
      if (e === entries.length && !entriesDone) {
        const page = await ledger.next();
        if (page.done === true) entriesDone = true;
        else [entries, e] = [page.value, 0];
      }
      const item = items[d];
      const known = entries[e];
      if ((item === undefined && known === undefined) || remaining <= 0 || opts.stop?.() === true) break;
      remaining -= 1;
      const order = item === undefined ? 1 : known === undefined ? -1 : compareC(shopKey(item), bookKey(known));
      let pending: Promise<void> | undefined;
      if (item !== undefined && order <= 0) {
        d += 1;
        if (order === 0) e += 1;
        pending = visit(item, order === 0 ? known : undefined);
      } else if (known !== undefined) {
        e += 1;
        pending = visit(undefined, known);
      }
      if (pending !== undefined) await pending;
    }
  } finally {
    await pages.return?.(undefined);
    await ledger.return?.(undefined);
  }
}
