/**
 * A keyset position in a model's `(updated_at, key)` order: where a page starts and where a watermark stands. Shared by
 * the source (which reads after it) and the state (which keeps it), so neither depends on the other.
 */
export interface Cursor {
  /** UTC text at microsecond precision. */
  ts: string;
  /** null means "from ts, inclusive". */
  key: string | null;
}
