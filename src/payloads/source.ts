/** The `source` parameter: a campaign click that is sent only while it is at most 48 hours old. */
import { keep } from './policy.js';
import { fail, isAbsent } from './reason.js';
import type { BuildWarning, Check, Row } from './types.js';

export const SOURCE_LIFETIME_MS = 48 * 60 * 60 * 1000;

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Milliseconds since the epoch of a timestamp column (a Date, or text as Postgres writes it); undefined when unreadable. Text without a zone is read as UTC. */
export function toEpochMs(value: unknown): number | undefined {
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as [
    number, number, number, number, number, number,
  ];
  const millis = Number(`0.${m[7] ?? '0'}`) * 1000;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return utc - zoneOffsetMs(m[8]);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  return sign * (hours * 60 + minutes) * 60_000;
}

const TEXT_PART = 'must be text';
const TIME_PART = 'must be a timestamp';

/** A source part as text: strings and numbers; absent → undefined; anything else is bad. */
function sourceText(value: unknown, field: string): Check<string | undefined> {
  if (isAbsent(value)) return { ok: true, value: undefined };
  if (typeof value === 'string') return { ok: true, value };
  if (typeof value === 'number' || typeof value === 'bigint') return { ok: true, value: String(value) };
  return fail(field, TEXT_PART, value);
}

/** The click's time; absent → undefined, unreadable → bad. */
function sourceTime(value: unknown, field: string): Check<number | undefined> {
  if (isAbsent(value)) return { ok: true, value: undefined };
  const ms = toEpochMs(value);
  return ms === undefined ? fail(field, TIME_PART, value) : { ok: true, value: ms };
}

/**
 * The `source` JSON string from a row's `source_from`, `source_code` and `source_at`, or undefined when
 * either part is missing or the click is more than 48 hours before (or after) `referenceMs`. A part that is there
 * but unusable (an object, an unreadable time) leaves source out with a warning.
 */
export function sourceParam(row: Row, referenceMs: number | undefined, warnings: BuildWarning[] = []): string | undefined {
  if (isAbsent(row.source_from) && isAbsent(row.source_code)) return undefined; // the usual case: no click at all
  const from = keep(warnings, 'source_from', row.source_from, sourceText);
  const code = keep(warnings, 'source_code', row.source_code, sourceText);
  if (!from.ok || !code.ok || from.value === undefined || code.value === undefined) return undefined;
  const at = keep(warnings, 'source_at', row.source_at, sourceTime);
  if (!at.ok || at.value === undefined || referenceMs === undefined) return undefined;
  if (at.value > referenceMs || referenceMs - at.value > SOURCE_LIFETIME_MS) return undefined;
  return JSON.stringify({ from: from.value, code: code.value });
}
