/**
 * A statement for the shop's database: SQL text with `$n` placeholders and the values bound to them. The source's
 * builders return these, the jobs run them and `check` EXPLAINs the very same ones.
 */
export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
  /**
   * Its rows' timestamps and dates are wanted as the text the database wrote, not parsed: rows none of whose times go
   * anywhere (the catalogue's: no field of a category or product is a time).
   */
  readonly timesAsText?: boolean;
}

/** Collects bound values while a statement is written: `bind(v)` gives the placeholder for `v`. */
export class Binder {
  readonly values: unknown[] = [];
  readonly bind = (value: unknown): string => {
    this.values.push(value);
    return `$${this.values.length}`;
  };
  statement(text: string): Statement {
    return { text, values: this.values };
  }
}

/**
 * The operator's SELECT as a subquery named `q`. Their text goes in verbatim (it is never edited or spliced into
 * other text), on lines of its own so that a trailing `-- comment` in it cannot swallow what follows.
 */
export function fromModel(query: string): string {
  return `(
${query}
) AS q`;
}

/**
 * Cursor text bound as an instant (timestamptz): an updated_at `timestamp without time zone` is then compared in the
 * source's zone (the transaction's TimeZone), as its values are read, not as UTC wall time. Indexes still serve it.
 */
export function instant(b: Binder, ts: string): string {
  return `${b.bind(ts)}::timestamptz`;
}
