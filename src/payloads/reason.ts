/** One-line failure reasons: `<field>: <rule> (got <value>)`. */
import type { Failure } from './types.js';

const SHOWN_CHARS = 40;

/** A short, one-line picture of a value for a reason; strings are quoted and trimmed to ~40 chars. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const flat = value.replace(/[\r\n\t]+/g, ' ');
    return JSON.stringify(flat.length > SHOWN_CHARS ? `${flat.slice(0, SHOWN_CHARS)}…` : flat);
  }
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** True for the values that count as "not given": undefined, null, and blank strings. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** The reason text for a value that broke `rule`; a missing value reads "is required and …". */
export function reasonText(rule: string, value: unknown, required: boolean): string {
  if (required && isAbsent(value)) return `is required and ${rule}`;
  return `${rule} (got ${describeValue(value)})`;
}

/** A failed check for `field`. */
export function fail(field: string, rule: string, value: unknown, required = false): Failure {
  return { ok: false, reason: `${field}: ${reasonText(rule, value, required)}` };
}

/** A failed check whose message is already complete (no "got" part). */
export function failPlain(field: string, message: string): Failure {
  return { ok: false, reason: `${field}: ${message}` };
}
