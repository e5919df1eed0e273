/** Cart and wishlist snapshots → full_cart / full_wish requests, and the clearing requests (no `items`). */
import { buildEnvelope, pushBody } from './envelope.js';
import { optionalId, optionalStream, optionalText, requiredId, segment, stream } from './fields.js';
import { mergedItemsHash } from './hash.js';
import { cartItems, wishItems, type CartItem, type WishItem } from './items.js';
import { keep } from './policy.js';
import { fail, isAbsent } from './reason.js';
import { finish } from './request.js';
import { TEXT, isNonBlankString, sessionIdRule, streamRule } from './rules.js';
import type { ApiRequest, BuildContext, BuildResult, BuildWarning, Check, Failure, JsonObject, Row } from './types.js';

export type ListKind = 'cart' | 'wish';
const FLAG: Record<ListKind, 'full_cart' | 'full_wish'> = { cart: 'full_cart', wish: 'full_wish' };

/**
 * `{event, …envelope, items?, full_cart|full_wish: true, source?}`. Empty `items` → no `items` key (clears).
 * The seance, when the envelope row has none, derives from (did, seanceKey ?? did).
 */
export function fullListRequest(
  kind: ListKind,
  did: unknown,
  items: readonly JsonObject[],
  envelopeRow: Row,
  ctx: BuildContext,
  seanceKey?: string,
): BuildResult {
  const device = requiredId(did, 'did', sessionIdRule);
  if (!device.ok) return device;
  const warnings: BuildWarning[] = [];
  const envelope = buildEnvelope(device.value, envelopeRow, seanceKey ?? device.value, Date.now(), ctx, warnings);
  if (!envelope.ok) return envelope;
  const fields = { items: items.length > 0 ? [...items] : undefined, [FLAG[kind]]: true };
  return finish('/push', pushBody(kind, envelope.value, fields), warnings);
}

/** The whole cart of `did` (lines `{id, quantity}`); same ids merged, sorted by id; no lines → clears. */
export function buildFullCart(did: string, lines: readonly Row[], envelope: Row, ctx: BuildContext): BuildResult {
  const items = cartItems(lines);
  return items.ok ? fullListRequest('cart', did, items.value, envelope, ctx) : items;
}

/**
 * What the ledger remembers of a device's last full request, so that the request clearing its list goes out on the
 * same stream and segment (null where that request had none).
 */
export interface ListEnvelope {
  stream: string | null;
  segment: string | null;
}

/** The envelope columns of a clearing request: the last full request's stream and segment, else the defaults. */
const clearingRow = (last: ListEnvelope | undefined): Row => (last === undefined ? {} : { stream: last.stream, segment: last.segment });

/** `full_cart: true` with no items: PersonaClick empties the cart. `last`: the stream and segment of its last full cart. */
export function buildClearCart(did: string, ctx: BuildContext, last?: ListEnvelope): BuildResult {
  return fullListRequest('cart', did, [], clearingRow(last), ctx);
}

/** The whole wishlist of `did` (lines `{id}`); duplicate ids merged, sorted by id; no lines → clears. */
export function buildFullWish(did: string, lines: readonly Row[], envelope: Row, ctx: BuildContext): BuildResult {
  const items = wishItems(lines);
  return items.ok ? fullListRequest('wish', did, items.value, envelope, ctx) : items;
}

/** `full_wish: true` with no items: PersonaClick empties the wishlist. `last`: the stream and segment of its last full wishlist. */
export function buildClearWish(did: string, ctx: BuildContext, last?: ListEnvelope): BuildResult {
  return fullListRequest('wish', did, [], clearingRow(last), ctx);
}

/** The stream and segment a built full or clearing request went out with, for the ledger. */
export function listEnvelopeOf(request: ApiRequest): ListEnvelope {
  const { stream: sent, segment: part } = request.body;
  return { stream: typeof sent === 'string' ? sent : null, segment: typeof part === 'string' ? part : null };
}

/** A device's list as the nightly diff sees it: its checked, merged, id-sorted items and their content hash. */
export interface ListContent {
  items: CartItem[] | WishItem[];
  /** `listContentHash(items)`. */
  hash: string;
}

/**
 * The items of `lines` (the same checks and reasons as `buildFullCart` / `buildFullWish` give for them) and their
 * content hash, before any request is built: an unchanged list then costs no envelope, seance or schema check.
 */
export function listContent(kind: ListKind, lines: readonly Row[]): Check<ListContent> {
  const items = kind === 'cart' ? cartItems(lines) : wishItems(lines);
  if (!items.ok) return items;
  // cartItems / wishItems give unique ids in code-unit order: listContentHash's merge and sort have nothing to do.
  return { ok: true, value: { items: items.value, hash: mergedItemsHash(items.value) } };
}

const seanceColumn = (value: unknown, field: string) => optionalId(value, field, sessionIdRule);

/** The envelope columns a list request takes from its row, checked as buildEnvelope checks them. */
const ENVELOPE_COLUMNS: readonly (readonly [string, (value: unknown, field: string) => Check<unknown>])[] = [
  ['seance', seanceColumn],
  ['stream', optionalStream],
  ['segment', segment],
  ['referer', optionalText],
];

/**
 * The reason `fullListRequest` would refuse this did and envelope row for, without building anything (no seance
 * is derived): the did, the shop, the envelope columns a bad value of which makes the row invalid (policy.ts: none
 * of them today; a bad one is left out with a warning when the request is built), and the configured stream where
 * the row's is absent or left out. Undefined when they pass.
 */
export function listEnvelopeProblem(did: string, envelopeRow: Row, ctx: BuildContext): Failure | undefined {
  if (sessionIdRule(did) !== undefined) {
    const device = requiredId(did, 'did', sessionIdRule);
    if (!device.ok) return device;
  }
  if (!isNonBlankString(ctx.shopId)) return fail('shop_id', `${TEXT} (the configured shop id)`, ctx.shopId, true);
  // Absent envelope columns (the usual case) pass without a call. Warnings are kept only for requests sent.
  let ownStream = false;
  for (const [field, coerce] of ENVELOPE_COLUMNS) {
    const value = envelopeRow[field];
    if (isAbsent(value)) continue;
    const checked = keep([], field, value, coerce);
    if (!checked.ok) return checked;
    if (field === 'stream') ownStream = checked.value !== undefined;
  }
  if (!ownStream && streamRule(ctx.defaultStream) !== undefined) {
    const fallback = stream(undefined, ctx.defaultStream);
    if (!fallback.ok) return fallback;
  }
  return undefined;
}

/** `buildFullCart` / `buildFullWish` for items `listContent` has already checked, merged and sorted. */
export function buildFullList(kind: ListKind, did: string, content: ListContent, envelopeRow: Row, ctx: BuildContext): BuildResult {
  return fullListRequest(kind, did, content.items, envelopeRow, ctx);
}
