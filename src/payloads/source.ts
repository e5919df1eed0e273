/** The `source` parameter: a campaign click that is sent only while it is at most 48 hours old. */
import { toEpochMs } from '../dates.js';
import { keep } from './policy.js';
import { fail, isAbsent } from './reason.js';
import type { BuildWarning, Check, Row } from './types.js';

export const SOURCE_LIFETIME_MS = 48 * 60 * 60 * 1000;

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
