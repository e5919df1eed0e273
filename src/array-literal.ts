/**
 * A Postgres array parameter written here as the array's literal (`{"a","b",NULL}`), the text Postgres reads for an
 * array however the statement casts it (`$1::text[]`). node-postgres writes an array itself element by element, a
 * string concatenated and two regex replacements a value (and knex first walks every element for an undefined): for
 * the ledger's 5 000-row writes and the shop's pages of ids that was a fifth of all a first catalogue reconcile of a
 * million products allocated. Here a page of plain values is one join; only values holding a quote or a backslash are
 * escaped one by one. The state binds its arrays through it (src/state/db.ts, pgArray), the source's driver every
 * array of its statements (src/source/db.ts).
 */

/** An array this module writes: texts, numbers and nulls (node-postgres keeps any other). */
export type LiteralArray = readonly (string | number | null)[];

/** An element a Postgres array literal must escape inside its quotes. */
const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

function element(value: string | number | null): string {
  if (value === null) return 'NULL';
  const text = String(value);
  return `"${NEEDS_ESCAPE.test(text) ? text.replace(ESCAPED, '\\$&') : text}"`;
}

/** The literal of these values, as node-postgres would write it. */
export function arrayLiteral(values: LiteralArray): string {
  if (values.length === 0) return '{}';
  let plain = true;
  for (const value of values) {
    if (value === null || (typeof value === 'string' && NEEDS_ESCAPE.test(value))) {
      plain = false;
      break;
    }
  }
  if (plain) return `{"${values.join('","')}"}`;
  return `{${values.map(element).join(',')}}`;
}

/** Whether a bound value is an array this module writes (every element a text, a number or null). */
export function isLiteralArray(value: unknown): value is LiteralArray {
  return Array.isArray(value) && value.every((e) => e === null || typeof e === 'string' || typeof e === 'number');
}
