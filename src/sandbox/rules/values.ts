/**
 * Single JSON values as personaclick-tracking-api.txt and api-notes.md describe them. A value given
 * for an optional field is held to the same rule as a required one, so `""`, `null` and arrays where
 * a scalar is meant are refused everywhere (api-notes.md: omit the field instead).
 */
import { rule, type Check } from './check.js';

/** The longest id the notes allow (item ids, order ids). */
export const MAX_ID_CHARS = 255;

const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
const isWhole = (value: unknown): value is number => Number.isSafeInteger(value);

export const text = rule(isText, 'must be a non-empty string');

export const textUpTo = (chars: number): Check => rule((v) => isText(v) && v.length <= chars, `must be a non-empty string of at most ${chars} characters`);

export const boolean = rule((v) => typeof v === 'boolean', 'must be a JSON boolean');

/** `full_cart` / `full_wish`: "should always be true". */
export const literallyTrue = rule((v) => v === true, 'must be the JSON boolean true');

export const integer = rule(isWhole, 'must be an integer');

/** amount, quantity: a whole count of at least one. */
export const count = rule((v) => isWhole(v) && v >= 1, 'must be a whole number of at least 1');

/** Prices and money fields: numbers, never negative. */
export const money = rule((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, 'must be a number of at least 0');

export const oneOf = (values: readonly string[]): Check =>
  rule((v) => typeof v === 'string' && values.includes(v), `must be one of ${values.map((s) => `"${s}"`).join(', ')}`);

/** "Data stream code. Alphanumeric string (letters, numbers only). Max length: 16." */
export const stream = rule((v) => typeof v === 'string' && /^[A-Za-z0-9]{1,16}$/.test(v), 'must be 1 to 16 letters or digits');

/** "number/string" ids (order_id, line_id): a non-empty string of at most 255 characters, or a whole number ≥ 0. */
export const anyId = rule(
  (v) => (isText(v) && v.length <= MAX_ID_CHARS) || (isWhole(v) && v >= 0),
  `must be a non-empty string of at most ${MAX_ID_CHARS} characters or a whole number`,
);

/** Product ids: as `anyId`, and with no backslash (api-notes.md). */
export const productId = rule(
  (v) => (isText(v) && v.length <= MAX_ID_CHARS && !v.includes('\\')) || (isWhole(v) && v >= 0),
  `must be a non-empty string of at most ${MAX_ID_CHARS} characters without a backslash, or a whole number`,
);

/** A customer identifier of the order-sync API (external_id, loyalty_id, telegram_id …): text or a whole number. */
export const identifier = rule((v) => isText(v) || isWhole(v), 'must be a non-empty string or a whole number');

/** True for a real day written YYYY-MM-DD. */
export function isCalendarDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value);
}

export const calendarDay = rule((v) => typeof v === 'string' && isCalendarDay(v), 'must be a date written YYYY-MM-DD');

/** How far ahead of the sandbox's clock a Unix time may be (clock skew), in seconds. */
const FUTURE_SLACK_SECONDS = 3600;

/**
 * Unix time in seconds (the order-sync `date`, the custom event `time`). Milliseconds are not
 * supported (api-notes.md): read as seconds they are a date tens of thousands of years ahead, so a
 * time in the future is refused.
 */
export const unixSeconds = rule(
  (v) => isWhole(v) && v >= 0 && v <= Date.now() / 1000 + FUTURE_SLACK_SECONDS,
  'must be a Unix time in whole seconds, not in the future (milliseconds are not supported)',
);

/** `source`: a JSON *string* of an object with non-empty `from` and `code` strings. */
export const sourceString = rule((v) => {
  if (typeof v !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'object' && parsed !== null && isText((parsed as { from?: unknown }).from) && isText((parsed as { code?: unknown }).code);
  } catch {
    return false;
  }
}, 'must be a JSON string of {"from": …, "code": …} with non-empty strings');
