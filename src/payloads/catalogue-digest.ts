/**
 * What the ledger keeps for a catalogue item (docs/catalogue.md, "How changes are found"): three digests in one text,
 * `<context>.<row>.<item>`:
 *
 * - context: everything besides the row that shapes the item (this builder's version, the kind, `zeroPrices`,
 *   `currency`, and for products the category tree their categories are checked against);
 * - row: the database's digest of the model's row (`hash_record_extended`, or the `md5` of its text for a column type
 *   without a hash: src/source/catalogue-digests.ts), as read;
 * - item: the digest of the item sent (the JSON PersonaClick got).
 *
 * A key whose context and row digests are the ones read now is unchanged, and its row is never fetched (the state
 * database compares them: src/state/ledger.ts, ledgerDiff, which tests that this text starts with the context and row
 * read now). Otherwise the row is fetched and built; when the item is still the one told (a column not sent changed,
 * the config moved without changing this item, or a ledger row from before this scheme, which holds the item digest
 * alone), nothing is sent and the ledger takes the new digests.
 */
import { hash } from 'node:crypto';
import type { CatalogueContext, CatalogueKind } from './catalogue.js';

/**
 * Bump when the builders make a different item from the same row and config (a field added, a rule changed): every
 * key is then built again once, and the items that changed are sent.
 */
export const CATALOGUE_BUILDER_VERSION = 1;

/** The context digest's length (base64url characters). */
const CONTEXT_CHARS = 12;

/** The digest of everything besides the row that shapes a catalogue item of this kind. */
export function contextDigest(kind: CatalogueKind, ctx: CatalogueContext): string {
  const parts: string[] = [`v${CATALOGUE_BUILDER_VERSION}`, kind];
  if (kind === 'products') {
    parts.push(`zeroPrices=${ctx.zeroPrices}`, `currency=${JSON.stringify(ctx.currency ?? null)}`);
    if (ctx.categories === undefined) parts.push('tree=none');
    // The tree in a fixed order (whatever order it was read in): each id, and whether it has children.
    else for (const id of [...ctx.categories.keys()].sort()) parts.push(`${JSON.stringify(id)}${ctx.categories.get(id) === true ? '+' : '-'}`);
  }
  return hash('sha1', parts.join('\n'), 'base64url').slice(0, CONTEXT_CHARS);
}

/** The ledger's text for an item told: the context, the row and the item digests. */
export function ledgerDigest(context: string, row: string, item: string): string {
  return `${context}.${row}.${item}`;
}

/** The item digest the ledger's text holds (all of it for a ledger row from before the three digests). */
export function toldItem(known: string | null | undefined): string | undefined {
  if (known === null || known === undefined) return undefined;
  const dot = known.lastIndexOf('.');
  return dot < 0 ? known : known.slice(dot + 1);
}
