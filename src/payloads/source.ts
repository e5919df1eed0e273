/** The `source` parameter: a campaign click that is sent only while it is at most 48 hours old. */
import { toEpochMs } from '../dates.js';
import { isAbsent } from './reason.js';
import type { Row } from './types.js';

export const SOURCE_LIFETIME_MS = 48 * 60 * 60 * 1000;

function sourceText(value: unknown): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * The `source` JSON string from a row's `source_from`, `source_code` and `source_at`, or undefined when
 * either part is missing or the click is more than 48 hours before (or after) `referenceMs`.
 */
export function sourceParam(row: Row, referenceMs: number | undefined): string | undefined {
  const from = sourceText(row.source_from);
  const code = sourceText(row.source_code);
  const at = toEpochMs(row.source_at);
  if (from === undefined || code === undefined || at === undefined || referenceMs === undefined) return undefined;
  if (at > referenceMs || referenceMs - at > SOURCE_LIFETIME_MS) return undefined;
  return JSON.stringify({ from, code });
}
