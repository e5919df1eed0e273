/**
 * The API's rules for single JSON values, shared by the builders (after they coerce a row value) and
 * the zod schemas (which check incoming JSON). A rule answers the problem text, or undefined when the
 * value is fine.
 */

import { parseDay } from '../dates.js';

export type Rule = (value: unknown) => string | undefined;

export const MAX_ID_LENGTH = 255;
export const MAX_AMOUNT = 1000;
export const MAX_MONEY = 1e12;

/** The `/push` events of the reference. */
export const PUSH_EVENTS = ['view', 'category', 'cart', 'remove_from_cart', 'purchase', 'search', 'wish', 'remove_wish'] as const;
export type PushEvent = (typeof PUSH_EVENTS)[number];

/** `custom` keys that collide with envelope or order field names (api-notes.md). */
export const RESERVED_CUSTOM_KEYS: ReadonlySet<string> = new Set([
  'shop_id',
  'did',
  'seance',
  'sid',
  'segment',
  'stream',
  'event',
  'time',
  'category',
  'label',
  'value',
  'source',
  'payload',
  'from',
  'code',
  'items',
  'order_id',
  'order_price',
  'delivery_type',
  'delivery_address',
  'payment_type',
  'tax_free',
  'promocode',
  'order_cash',
  'order_bonuses',
  'order_delivery',
  'order_discount',
  'channel',
  'custom',
  'recommended_source',
  'recommended_by',
  'recommended_code',
]);

const STREAM_PATTERN = /^[A-Za-z0-9]{1,16}$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export const isNonBlankString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

const isIdInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isCalendarDate(text: string): boolean {
  return parseDay(text) !== undefined;
}

const check = (ok: boolean, text: string): string | undefined => (ok ? undefined : text);

export const TEXT = 'must be a non-empty string';
export const ITEM_ID = `must be a non-empty string of at most ${MAX_ID_LENGTH} characters without a backslash`;
export const LONG_ID = `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`;
export const AMOUNT = `must be a whole number from 1 to ${MAX_AMOUNT}`;
export const MONEY = 'must be a non-negative finite number';
export const MONEY_MAX = 'must be at most 1e12';
export const STREAM = 'must be 1 to 16 letters or digits';
export const SEGMENT = 'must be "A" or "B"';
export const INTEGER = 'must be an integer';
export const CUSTOM_VALUE = 'must be a string, an integer or a YYYY-MM-DD date';
export const CUSTOM_DATE = 'must be a real calendar date (YYYY-MM-DD)';
/** The reference says only "Unique custom event key", pre-created in the account: any non-empty string. */
export const CUSTOM_EVENT = 'must be a non-empty string (a custom event key)';
export const CATEGORY_ID = 'must be a number or a non-empty string';
export const SOURCE = 'must be a JSON string of an object with non-empty "from" and "code" strings';
export const BOOLEAN = 'must be true or false';

export const textRule: Rule = (v) => check(isNonBlankString(v), TEXT);

/** did and seance: non-empty strings, and (like every id) at most 255 characters. */
export const sessionIdRule: Rule = (v) => (isNonBlankString(v) ? check(v.length <= MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`) : TEXT);

const idString = (v: unknown, backslash: boolean): boolean => isNonBlankString(v) && v.length <= MAX_ID_LENGTH && (backslash || !v.includes('\\'));

/** An item id as the builders send it: always a string. */
export const itemIdRule: Rule = (v) => check(idString(v, false), ITEM_ID);
/** An item id in incoming JSON: the reference's own example sends one as a number. */
export const jsonItemIdRule: Rule = (v) => check(idString(v, false) || isIdInteger(v), ITEM_ID);
/** order_id / line_id as the builders send them. */
export const longIdRule: Rule = (v) => check(idString(v, true), LONG_ID);
/** order_id / line_id in incoming JSON ("number/string" in the reference). */
export const jsonLongIdRule: Rule = (v) => check(idString(v, true) || isIdInteger(v), LONG_ID);

export const amountRule: Rule = (v) => check(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_AMOUNT, AMOUNT);

export const moneyRule: Rule = (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return MONEY;
  return check(v <= MAX_MONEY, MONEY_MAX);
};

export const streamRule: Rule = (v) => check(typeof v === 'string' && STREAM_PATTERN.test(v), STREAM);
export const segmentRule: Rule = (v) => check(v === 'A' || v === 'B', SEGMENT);
export const integerRule: Rule = (v) => check(Number.isSafeInteger(v), INTEGER);
export const customEventRule: Rule = (v) => check(isNonBlankString(v), CUSTOM_EVENT);
export const categoryIdRule: Rule = (v) => check(isNonBlankString(v) || (typeof v === 'number' && Number.isFinite(v)), CATEGORY_ID);
export const booleanRule: Rule = (v) => check(typeof v === 'boolean', BOOLEAN);

/**
 * One value of a purchase's `custom` object, as JSON: an integer, or a string. A string that is exactly `YYYY-MM-DD`
 * is a date and must be a real one; any other text (`2024-01-31T10:00:00` too) is a string like any other.
 */
export const customValueRule: Rule = (v) => {
  if (Number.isSafeInteger(v)) return undefined;
  if (!isNonBlankString(v)) return CUSTOM_VALUE;
  if (DATE_PATTERN.test(v) && !isCalendarDate(v)) return CUSTOM_DATE;
  return undefined;
};

export const customKeyProblem = (key: string): string | undefined => {
  if (key.trim() === '') return 'keys must be non-empty';
  if (RESERVED_CUSTOM_KEYS.has(key)) return 'is a reserved name and cannot be a custom order property';
  return undefined;
};

/** `source`: a JSON string holding `{"from": …, "code": …}`. */
export const sourceRule: Rule = (v) => {
  if (typeof v !== 'string') return SOURCE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    return SOURCE;
  }
  return check(isRecord(parsed) && isNonBlankString(parsed.from) && isNonBlankString(parsed.code), SOURCE);
};
