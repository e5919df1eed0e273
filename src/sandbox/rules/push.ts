/**
 * `/push`: the events of the reference with the fields each section lists, on top of the envelope.
 * A `cart` with `full_cart` is the full cart, a `wish` with `full_wish` the full wishlist; either
 * flag on another event is a field that event does not have.
 */
import { isObject, may, must, rule, shaped, shown, type Check, type JsonObject, type Shape } from './check.js';
import { ENVELOPE } from './envelope.js';
import { cartLine, fullCartLine, oneItem, productOnly, purchaseLine, someItems } from './items.js';
import { customProperties } from './properties.js';
import { anyId, boolean, literallyTrue, money, text } from './values.js';

/** `recommended_source`: the SDKs send a non-empty object of the recommendation that led to the purchase. */
const recommendedSource: Check = (value, path) =>
  isObject(value) &&
  Object.keys(value).length > 0 &&
  Object.values(value).every((v) => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v)))
    ? undefined
    : `${path}: must be a non-empty object of text or number values (got ${shown(value)})`;

const recommended: Shape = { recommended_by: may(text), recommended_code: may(text) };
const categoryId = rule(
  (v) => (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v)),
  'must be a number or a non-empty string',
);

const purchase: Shape = {
  order_id: may(anyId),
  order_price: may(money),
  order_cash: may(money),
  order_bonuses: may(money),
  order_delivery: may(money),
  order_discount: may(money),
  promocode: may(text),
  delivery_address: may(text),
  delivery_type: may(text),
  payment_type: may(text),
  /** A boolean in the reference; the notes advise sending it only when true, but false is no error. */
  tax_free: may(boolean),
  /** Purchases may name the person too, and say their channel and recommendation (api-notes.md; PersonaClick's SDKs). */
  email: may(text),
  phone: may(text),
  external_id: may(text),
  loyalty_id: may(text),
  telegram_id: may(text),
  channel: may(text),
  recommended_source: may(recommendedSource),
  items: must(someItems(purchaseLine, ' (the order lines)')),
  custom: may(customProperties),
};

/** Each kind of `/push` request: the event's own fields and how a reason names the request. */
const KINDS: Readonly<Record<string, { shape: Shape; what: string }>> = {
  view: { shape: { items: must(oneItem(productOnly)), ...recommended }, what: 'a "view" request' },
  category: { shape: { category_id: must(categoryId) }, what: 'a "category" request' },
  cart: { shape: { items: must(oneItem(cartLine)), ...recommended }, what: 'a "cart" request' },
  remove_from_cart: { shape: { items: must(oneItem(productOnly)) }, what: 'a "remove_from_cart" request' },
  purchase: { shape: purchase, what: 'a "purchase" request' },
  search: { shape: { search_query: must(text), recommended_code: may(text) }, what: 'a "search" request' },
  wish: { shape: { items: must(oneItem(productOnly)) }, what: 'a "wish" request' },
  remove_wish: { shape: { items: must(oneItem(productOnly)) }, what: 'a "remove_wish" request' },
  full_cart: {
    shape: { full_cart: must(literallyTrue), items: may(someItems(fullCartLine, ' (leave items out to clear the cart)')) },
    what: 'a full cart request',
  },
  full_wish: {
    shape: { full_wish: must(literallyTrue), items: may(someItems(productOnly, ' (leave items out to clear the wishlist)')) },
    what: 'a full wishlist request',
  },
};

const EVENTS = Object.keys(KINDS).filter((kind) => !kind.startsWith('full_'));

/** The whole body check of each kind, built once. */
const CHECKS: ReadonlyMap<string, Check> = new Map(
  Object.entries(KINDS).map(([kind, { shape, what }]) => [kind, shaped({ event: must(text), ...ENVELOPE, ...shape }, what)]),
);

function kindOf(body: JsonObject): string | undefined {
  const event = body.event;
  if (event === 'cart' && body.full_cart !== undefined) return 'full_cart';
  if (event === 'wish' && body.full_wish !== undefined) return 'full_wish';
  return typeof event === 'string' && EVENTS.includes(event) ? event : undefined;
}

export function pushProblem(body: JsonObject): string | undefined {
  const kind = kindOf(body);
  const check = kind === undefined ? undefined : CHECKS.get(kind);
  if (check === undefined) {
    const says = `must be one of ${EVENTS.join(', ')}`;
    return body.event === undefined ? `event: is required and ${says}` : `event: ${says} (got ${shown(body.event)})`;
  }
  return check(body, '');
}
