/**
 * Coercers from node-postgres values to the JSON values the API takes. Each one checks the result
 * with the shared rule and answers a `Check` whose reason names the column.
 */
import { fail, isAbsent } from './reason.js';
import {
  AMOUNT,
  BOOLEAN,
  INTEGER,
  MONEY,
  SEGMENT,
  STREAM,
  TEXT,
  amountRule,
  integerRule,
  moneyRule,
  segmentRule,
  streamRule,
  textRule,
  type Rule,
} from './rules.js';
import type { Check } from './types.js';

const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const NONE: Check<undefined> = { ok: true, value: undefined };

/** A number from a JS number, a bigint, or a plain decimal string (how Postgres numeric arrives). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value + 0; // -0 → 0
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value) + 0;
  return undefined;
}

/** An id-like value as text: strings as they are, integers and bigints in decimal, anything else unchanged. */
function idText(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  return value;
}

/** A required id (did, order_id, item id, event_key): a string, or an integer turned into one. */
export function requiredId(value: unknown, field: string, rule: Rule = textRule): Check<string> {
  const text = idText(value);
  if (isAbsent(text)) return fail(field, rule(undefined) ?? TEXT, value, true);
  const problem = rule(text);
  return problem === undefined && typeof text === 'string' ? ok(text) : fail(field, problem ?? TEXT, value);
}

/** An optional id (line_id, seance): absent → undefined. */
export function optionalId(value: unknown, field: string, rule: Rule = textRule): Check<string | undefined> {
  return isAbsent(value) ? NONE : requiredId(value, field, rule);
}

/** An optional free-text column (email, phone, promocode, referer, …); numbers become strings. */
export function optionalText(value: unknown, field: string): Check<string | undefined> {
  if (isAbsent(value)) return NONE;
  if (typeof value === 'string') return ok(value);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return ok(String(value));
  return fail(field, 'must be a string', value);
}

/** A required free-text column (search_query, track code and type). */
export function requiredText(value: unknown, field: string): Check<string> {
  const text = optionalText(value, field);
  if (!text.ok) return text;
  return text.value === undefined ? fail(field, TEXT, value, true) : ok(text.value);
}

/** An optional money column: finite, non-negative, at most 1e12; sent as a JSON number. */
export function money(value: unknown, field: string): Check<number | undefined> {
  if (isAbsent(value)) return NONE;
  const n = toNumber(value);
  const problem = n === undefined ? MONEY : moneyRule(n);
  return problem === undefined && n !== undefined ? ok(n) : fail(field, problem ?? MONEY, value);
}

/** A required count (purchase amount, cart quantity): a whole number from 1 to 1000. */
export function count(value: unknown, field: string): Check<number> {
  if (isAbsent(value)) return fail(field, AMOUNT, value, true);
  const n = toNumber(value);
  return n !== undefined && amountRule(n) === undefined ? ok(n) : fail(field, AMOUNT, value);
}

/** An optional integer column (the custom event's `value`). */
export function optionalInteger(value: unknown, field: string): Check<number | undefined> {
  if (isAbsent(value)) return NONE;
  const n = toNumber(value);
  return n !== undefined && integerRule(n) === undefined ? ok(n) : fail(field, INTEGER, value);
}

/** A flag column that only switches a request on (full_cart, full_wish): boolean true, or Postgres text 't' / 'true'. */
export function isTrue(value: unknown): boolean {
  if (value === true) return true;
  if (typeof value !== 'string') return false;
  const text = value.trim().toLowerCase();
  return text === 't' || text === 'true';
}

const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { t: true, true: true, f: false, false: false };

/** An optional boolean column (tax_free): sent as the model says it, true or false; also Postgres text 't' / 'f'. */
export function optionalBoolean(value: unknown, field: string): Check<boolean | undefined> {
  if (isAbsent(value)) return NONE;
  if (typeof value === 'boolean') return ok(value);
  const parsed = typeof value === 'string' ? BOOLEAN_TEXT[value.trim().toLowerCase()] : undefined;
  return parsed === undefined ? fail(field, BOOLEAN, value) : ok(parsed);
}

/** A row's own stream: absent → undefined; letters and digits only, at most 16. */
export function optionalStream(value: unknown, field = 'stream'): Check<string | undefined> {
  if (isAbsent(value)) return NONE;
  return streamRule(value) === undefined && typeof value === 'string' ? ok(value) : fail(field, STREAM, value);
}

/** The stream: the row's, else the configured default; letters and digits only, at most 16. */
export function stream(value: unknown, defaultStream: string): Check<string> {
  if (isAbsent(value)) {
    return streamRule(defaultStream) === undefined ? ok(defaultStream) : fail('stream', `${STREAM} (the configured default stream)`, defaultStream, true);
  }
  return streamRule(value) === undefined && typeof value === 'string' ? ok(value) : fail('stream', STREAM, value);
}

/** The optional A/B segment. */
export function segment(value: unknown): Check<string | undefined> {
  if (isAbsent(value)) return NONE;
  return segmentRule(value) === undefined && typeof value === 'string' ? ok(value) : fail('segment', SEGMENT, value);
}

/** A json/jsonb column that may also arrive as JSON text; blank → undefined. */
export function parseJsonColumn(value: unknown, field: string, expected: string): Check<unknown> {
  if (isAbsent(value)) return NONE;
  if (typeof value !== 'string') return ok(value);
  try {
    return ok(JSON.parse(value) as unknown);
  } catch {
    return fail(field, expected, value);
  }
}
