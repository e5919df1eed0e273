/** Replay's view of `warning` rows: key → the warnings the row was delivered with. */
import type { FailedRow } from './types.js';

export function warnedRows(failed: readonly FailedRow[]): Map<string, string> {
  return new Map(failed.filter((f) => f.class === 'warning').map((f) => [f.key, f.reason]));
}
