/** Cart and wishlist snapshots → full_cart / full_wish requests, and the clearing requests (no `items`). */
import { buildEnvelope, pushBody } from './envelope.js';
import { optionalId, optionalText, requiredId, segment, stream } from './fields.js';
import { mergedItemsHash } from './hash.js';
import { cartItems, wishItems, type CartItem, type WishItem } from './items.js';
import { fail, isAbsent } from './reason.js';
import { finish } from './request.js';
import { TEXT, isNonBlankString, sessionIdRule, streamRule } from './rules.js';
import type { BuildContext, BuildResult, Check, Failure, JsonObject, Row } from './types.js';

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
  const envelope = buildEnvelope(device.value, envelopeRow, seanceKey ?? device.value, Date.now(), ctx);
  if (!envelope.ok) return envelope;
  const fields = { items: items.length > 0 ? [...items] : undefined, [FLAG[kind]]: true };
  return finish('/push', pushBody(kind, envelope.value, fields));
}

/** The whole cart of `did` (lines `{id, quantity}`); same ids merged, sorted by id; no lines → clears. */
export function buildFullCart(did: string, lines: readonly Row[], envelope: Row, ctx: BuildContext): BuildResult {
  const items = cartItems(lines);
  return items.ok ? fullListRequest('cart', did, items.value, envelope, ctx) : items;
}

/** `full_cart: true` with no items: PersonaClick empties the cart. */
export function buildClearCart(did: string, ctx: BuildContext): BuildResult {
  return fullListRequest('cart', did, [], {}, ctx);
}

/** The whole wishlist of `did` (lines `{id}`); duplicate ids merged, sorted by id; no lines → clears. */
export function buildFullWish(did: string, lines: readonly Row[], envelope: Row, ctx: BuildContext): BuildResult {
  const items = wishItems(lines);
  return items.ok ? fullListRequest('wish', did, items.value, envelope, ctx) : items;
}

/** `full_wish: true` with no items: PersonaClick empties the wishlist. */
export function buildClearWish(did: string, ctx: BuildContext): BuildResult {
  return fullListRequest('wish', did, [], {}, ctx);
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

/**
 * The reason `fullListRequest` would refuse this did and envelope row for, without building anything (no seance
 * is derived): the did, then the envelope's checks in `buildEnvelope`'s order. Undefined when they pass.
 */
export function listEnvelopeProblem(did: string, envelopeRow: Row, ctx: BuildContext): Failure | undefined {
  if (sessionIdRule(did) !== undefined) {
    const device = requiredId(did, 'did', sessionIdRule);
    if (!device.ok) return device;
  }
  if (!isNonBlankString(ctx.shopId)) return fail('shop_id', `${TEXT} (the configured shop id)`, ctx.shopId, true);
  // Absent envelope columns (the usual case) pass without a call.
  if (!isAbsent(envelopeRow.seance)) {
    const seance = optionalId(envelopeRow.seance, 'seance', sessionIdRule);
    if (!seance.ok) return seance;
  }
  if (!isAbsent(envelopeRow.stream) || streamRule(ctx.defaultStream) !== undefined) {
    const streamValue = stream(envelopeRow.stream, ctx.defaultStream);
    if (!streamValue.ok) return streamValue;
  }
  if (!isAbsent(envelopeRow.segment)) {
    const segmentValue = segment(envelopeRow.segment);
    if (!segmentValue.ok) return segmentValue;
  }
  if (!isAbsent(envelopeRow.referer)) {
    const referer = optionalText(envelopeRow.referer, 'referer');
    if (!referer.ok) return referer;
  }
  return undefined;
}

/** `buildFullCart` / `buildFullWish` for items `listContent` has already checked, merged and sorted. */
export function buildFullList(kind: ListKind, did: string, content: ListContent, envelopeRow: Row, ctx: BuildContext): BuildResult {
  return fullListRequest(kind, did, content.items, envelopeRow, ctx);
}
