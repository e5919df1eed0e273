/**
 * An order's `custom` object (purchase and order sync alike): "Custom properties of the order …
 * string - integer - date (YYYY-MM-DD)" (reference); a non-empty object whose keys do not collide
 * with envelope or order field names (api-notes.md).
 */
import { at, isObject, shown, type Check } from './check.js';
import { isCalendarDay } from './values.js';

/** The reserved names, as api-notes.md lists them. */
export const RESERVED_PROPERTY_NAMES: ReadonlySet<string> = new Set(
  (
    'shop_id did seance sid segment stream event time category label value source payload from code items ' +
    'order_id order_price delivery_type delivery_address payment_type tax_free promocode order_cash ' +
    'order_bonuses order_delivery order_discount channel custom recommended_source recommended_by recommended_code'
  ).split(' '),
);

const VALUE = 'must be a non-empty string, an integer or a date written YYYY-MM-DD';

function valueProblem(value: unknown, path: string): string | undefined {
  if (Number.isSafeInteger(value)) return undefined;
  if (typeof value !== 'string' || value.trim() === '') return `${path}: ${VALUE} (got ${shown(value)})`;
  // Shaped like a date, it is one: 2021-02-30 is neither a date nor a deliberate string.
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !isCalendarDay(value)) return `${path}: is not a real calendar date (got ${shown(value)})`;
  return undefined;
}

export const customProperties: Check = (value, path) => {
  if (!isObject(value)) return `${path}: must be a JSON object of order properties (got ${shown(value)})`;
  const names = Object.keys(value);
  if (names.length === 0) return `${path}: must hold at least one property (leave it out otherwise)`;
  for (const name of names) {
    if (name.trim() === '') return `${path}: property names must be non-empty (got ${shown(name)})`;
    if (RESERVED_PROPERTY_NAMES.has(name)) return `${at(path, name)}: is a reserved name, not an order property`;
    const problem = valueProblem(value[name], at(path, name));
    if (problem !== undefined) return problem;
  }
  return undefined;
};
