/** Cart and wishlist snapshots → full_cart / full_wish requests, and the clearing requests (no `items`). */
import { buildEnvelope, pushBody } from './envelope.js';
import { requiredId } from './fields.js';
import { cartItems, wishItems } from './items.js';
import { finish } from './request.js';
import { sessionIdRule } from './rules.js';
import type { BuildContext, BuildResult, JsonObject, Row } from './types.js';

type ListKind = 'cart' | 'wish';
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
