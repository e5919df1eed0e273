/**
 * What a bad value in a model column costs, field by field, decided from the API reference: a field the request
 * can do without is left out (or replaced by what the connector sends when the model gives none) and the request
 * goes out with a *warning*; a field the request cannot do without makes the row *invalid*, never sent. This table
 * is the one place that decides it; the builders pass every optional column through `keep`, which reads it.
 */
import { describeValue } from './reason.js';
import type { BuildWarning, Check } from './types.js';

export type OnBadValue =
  /** Left out of the request; `outcome` says what that means for the request (default "left out"). */
  | { readonly drop: true; readonly outcome?: string; readonly why: string }
  /** The row is invalid: no request without it, or none that says what the shop's data says. */
  | { readonly drop: false; readonly why: string };

const optional = (why: string, outcome?: string): OnBadValue => (outcome === undefined ? { drop: true, why } : { drop: true, outcome, why });
const needed = (why: string): OnBadValue => ({ drop: false, why });

const ORDER_MONEY = optional('"optionally" in the reference; PersonaClick needs the purchase, not this sum');
const ORDER_TEXT = optional('"optionally" in the reference');
const SOURCE_PART = optional('source is sent only while a campaign click is young; the event counts without it', 'source left out');
const REQUIRED_IN_SOME_CASES = needed('"required in some cases" in the reference: the request may be refused or mean something else without it');

/**
 * Field names as the builders report them; `items[].x` stands for every line's `items[i].x`, `custom.*` for every
 * key of `custom`. A field not listed makes the row invalid.
 */
export const ON_BAD_VALUE: Readonly<Record<string, OnBadValue>> = {
  // The envelope of /push and /push/custom.
  shop_id: needed('required by every request (the configured shop id)'),
  did: needed('required: the device the event belongs to'),
  seance: optional('the model may leave it out: the connector derives one then', 'left out, a derived seance sent instead'),
  stream: optional('the model may leave it out: the configured stream is sent then', 'left out, the configured stream sent instead'),
  segment: optional('"optionally" in the reference'),
  referer: optional('"optionally" in the reference'),
  source_from: SOURCE_PART,
  source_code: SOURCE_PART,
  source_at: SOURCE_PART,

  // purchase
  order_id: needed('the ledger and PersonaClick key the purchase by it: without it a resend would make a second order'),
  order_price: ORDER_MONEY,
  order_cash: ORDER_MONEY,
  order_bonuses: ORDER_MONEY,
  order_delivery: ORDER_MONEY,
  order_discount: ORDER_MONEY,
  promocode: ORDER_TEXT,
  delivery_address: ORDER_TEXT,
  delivery_type: ORDER_TEXT,
  payment_type: ORDER_TEXT,
  tax_free: ORDER_TEXT,
  email: optional('links the device to a person; the purchase counts without it'),
  phone: optional('links the device to a person; the purchase counts without it'),
  custom: optional('"optionally" in the reference (the whole column is left out)'),
  'custom.*': optional('each order property is optional (only that key is left out)'),
  items: needed('a purchase needs at least one line'),
  // the order-sync API
  channel: optional('the order-sync API gets "web" when the model gives no channel', 'left out, "web" sent instead'),
  external_id: optional('one customer identifier is enough'),
  loyalty_id: optional('one customer identifier is enough'),
  telegram_id: optional('one customer identifier is enough'),
  comment: optional('an optional note of the order'),
  offline: optional('optional mark of an order taken offline'),
  payment_structure: optional('the order counts without its split of the money, which must add up to its total'),
  recommended_source: optional('optional attribution of a purchase to a recommendation'),
  'items[].status': optional('optional line status: the line counts as bought without it'),
  'items[].id': needed('required: the product bought'),
  'items[].amount': needed('required: how many were bought'),
  'items[].price': needed('left out, PersonaClick would price the line from the feed: a refund typed as a negative price would become a sale'),
  'items[].line_id': optional('optional line property'),
  'items[].fashion_size': optional('optional line property'),

  // full_cart / full_wish
  'items[].quantity': needed('required: the absolute count in the cart'),

  // The events model (ops migrations).
  event_key: needed('the ledger keys the row by it'),
  endpoint: needed('picks the endpoint: no request without it'),
  event: needed('required: which event or custom event this is'),
  category_id: needed('required for "category"'),
  search_query: needed('required for "search"'),
  recommended_by: REQUIRED_IN_SOME_CASES,
  recommended_code: REQUIRED_IN_SOME_CASES,
  category: optional('"optionally" in the reference'),
  label: optional('"optionally" in the reference'),
  value: REQUIRED_IN_SOME_CASES,
  code: needed('required for /track'),
  type: needed('required for /track'),
  full_cart: needed('picks the request: a full cart or a single cart event'),
  full_wish: needed('picks the request: a full wishlist or a single wish event'),
};

const INVALID: OnBadValue = needed('not a field the connector may leave out');

/** The table's entry for a reported field name: `items[3].price` → `items[].price`, `custom.gift` → `custom.*`. */
export function onBadValue(field: string): OnBadValue {
  const name = field.startsWith('custom.') ? 'custom.*' : field.replace(/^items\[\d+\]\./, 'items[].');
  return ON_BAD_VALUE[name] ?? INVALID;
}

/**
 * Check an optional column: fine → its value; bad and droppable by the table → undefined (left out) and a warning;
 * bad and not droppable → the check's failure, which makes the row invalid.
 */
export function keep<T>(warnings: BuildWarning[], field: string, raw: unknown, coerce: (value: unknown, field: string) => Check<T>): Check<T | undefined> {
  const checked = coerce(raw, field);
  if (checked.ok) return checked;
  return tolerate(warnings, field, raw, checked.reason);
}

/** `keep` for a problem found without a coercer: `reason` is the whole one-line reason, field first. */
export function tolerate(warnings: BuildWarning[], field: string, raw: unknown, reason: string): Check<undefined> {
  const policy = onBadValue(field);
  if (!policy.drop) return { ok: false, reason };
  warnings.push({ field, value: describeValue(raw), reason: `${reason}; ${policy.outcome ?? 'left out'}` });
  return { ok: true, value: undefined };
}

/** One line for a failure row of class `warning`: every warning's reason, in the order they were found. */
export function warningsText(warnings: readonly BuildWarning[]): string {
  return warnings.map((w) => w.reason).join(' | ');
}
