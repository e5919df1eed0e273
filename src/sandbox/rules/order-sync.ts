/**
 * The order-sync API (api-notes.md, "Order-sync API", after REES46's sync and client-orders pages):
 * `POST /sync/orders` with `{shop_id, shop_secret, orders: […]}`, and `GET /orders/by_user`, whose
 * query parameters are checked as an object of strings.
 *
 * One bad order refuses the whole batch, naming the order and the field. The real API answers
 * success and reports invalid orders later by email; a stand-in that said nothing would hide the
 * connector's mistakes, so the sandbox refuses at once and stores nothing from that batch (the
 * connector then splits the batch to find the order).
 */
import { isObject, listOf, may, must, shaped, shown, type Check, type JsonObject, type Shape } from './check.js';
import { customProperties } from './properties.js';
import { anyId, boolean, calendarDay, count, identifier, money, oneOf, productId, text, textUpTo, unixSeconds } from './values.js';

export const LINE_STATUSES = ['created', 'invoiced', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
/** A line with one of these statuses is taken out of the order (a partial return). */
export const REMOVED_LINE_STATUSES: ReadonlySet<string> = new Set(['cancelled', 'refunded']);
/** At least one names the customer; there is no did. */
export const CUSTOMER_IDENTIFIERS = ['email', 'phone', 'external_id', 'loyalty_id', 'telegram_id'] as const;
/** Required when the API does not have the order yet (a known one may be sent as `{id, status}`). */
const NEW_ORDER_FIELDS = ['channel', 'date', 'value', 'items'] as const;

const line = shaped(
  {
    id: must(productId),
    price: must(money),
    quantity: must(count),
    line_id: may(anyId),
    original_price: may(money),
    barcode: may(text),
    status: may(oneOf(LINE_STATUSES)),
    discount_product: may(money),
    discount_coupon: may(money),
    discount_bonuses: may(money),
    delivery_company: may(text),
    cancel_reason: may(text),
  },
  'an order line',
);

const paymentStructure: Check = (value, path) => {
  if (isObject(value) && Object.keys(value).length === 0) return `${path}: must name at least one of cash, bonuses, delivery, discount`;
  return shaped(
    { cash: may(money), bonuses: may(money), delivery: may(money), discount: may(money) },
    'a payment_structure {cash, bonuses, delivery, discount}',
  )(value, path);
};

const ORDER: Shape = {
  id: must(anyId),
  status: must(text),
  channel: may(text),
  date: may(unixSeconds),
  value: may(shaped({ total: must(money), products: may(money) }, 'an order value {total}')),
  items: may(listOf(line, 1)),
  email: may(text),
  phone: may(text),
  external_id: may(identifier),
  loyalty_id: may(identifier),
  telegram_id: may(identifier),
  promocode: may(text),
  delivery_type: may(text),
  delivery_address: may(text),
  delivery_date: may(text),
  delivery_time: may(text),
  payment_type: may(text),
  payment_structure: may(paymentStructure),
  tax_free: may(boolean),
  gift_package: may(boolean),
  bank_issuer: may(text),
  bank_pos_processor: may(text),
  bank_loyalty_program: may(text),
  bank_total_installment: may(money),
  payment_card_provider: may(text),
  custom: may(customProperties),
  comment: may(textUpTo(500)),
  offline: may(boolean),
  location_id: may(identifier),
};
const orderFields = shaped(ORDER, 'an order');

/** The first line that repeats a product of an earlier line. */
function repeatedProduct(items: unknown[]): string | undefined {
  const first = new Map<string, number>();
  for (const [i, item] of items.entries()) {
    const id = String((item as { id: unknown }).id);
    const earlier = first.get(id);
    if (earlier !== undefined) return `items[${i}].id: product ${shown(id)} is already on items[${earlier}] (one line a product)`;
    first.set(id, i);
  }
  return undefined;
}

function newOrderProblem(order: JsonObject): string | undefined {
  const missing = NEW_ORDER_FIELDS.find((field) => order[field] === undefined);
  if (missing !== undefined) return `${missing}: is required for an order the API does not have yet`;
  if (CUSTOMER_IDENTIFIERS.every((field) => order[field] === undefined)) {
    return `${CUSTOMER_IDENTIFIERS.join(' | ')}: one is required to name the customer of a new order`;
  }
  return undefined;
}

function orderProblem(order: JsonObject, isNew: boolean): string | undefined {
  return orderFields(order, '') ?? (Array.isArray(order.items) ? repeatedProduct(order.items) : undefined) ?? (isNew ? newOrderProblem(order) : undefined);
}

/** Which order ids the API already has. */
export interface OrderIds {
  has(id: string): boolean;
}

const batchFields = shaped(
  {
    shop_id: must(text),
    shop_secret: must(text),
    orders: must(listOf((v, p) => (isObject(v) ? undefined : `${p}: must be an order object (got ${shown(v)})`), 1)),
  },
  'an order-sync request',
);

/** `POST /sync/orders`: the body, then every order; an order is new unless `stored` or sent earlier in the batch. */
export function syncOrdersProblem(body: JsonObject, stored: OrderIds): string | undefined {
  const problem = batchFields(body, '');
  if (problem !== undefined) return problem;
  const seen = new Set<string>();
  for (const [i, order] of (body.orders as JsonObject[]).entries()) {
    const id = anyId(order.id, 'id') === undefined ? String(order.id) : undefined;
    const problemText = orderProblem(order, id === undefined || !(stored.has(id) || seen.has(id)));
    if (problemText !== undefined) return `orders[${i}]${id === undefined ? '' : ` (id ${shown(id)})`}: ${problemText}`;
    if (id !== undefined) seen.add(id);
  }
  return undefined;
}

const byUserParams = shaped(
  {
    shop_id: must(text),
    shop_secret: must(text),
    did: may(text),
    sid: may(text),
    ...Object.fromEntries(CUSTOMER_IDENTIFIERS.map((name) => [name, may(text)])),
    date_from: may(calendarDay),
  },
  'an orders/by_user query',
);

/** `GET /orders/by_user`: its query parameters, with at least one customer identifier (or did). */
export function byUserProblem(params: JsonObject): string | undefined {
  const problem = byUserParams(params, '');
  if (problem !== undefined) return problem;
  const names = [...CUSTOMER_IDENTIFIERS, 'did'];
  return names.some((name) => params[name] !== undefined) ? undefined : `${names.join(' | ')}: one is required to name the customer`;
}
