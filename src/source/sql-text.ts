/**
 * Reading the operator's SQL as text, just enough to find the named parameter `:order_ids` where it is a parameter:
 * in code as the one SQL lexer (sql-lexer.ts) cuts it, outside string literals, quoted identifiers and comments, and
 * not the tail of a `::cast`.
 */

import { lexSql } from './sql-lexer.js';

const NAMED = ':order_ids';

/** Offsets of each `:order_ids` that is a parameter: in code, not the tail of a `::cast` nor part of a longer name. */
function parameterOffsets(sql: string): number[] {
  const found: number[] = [];
  for (const segment of lexSql(sql)) {
    if (segment.kind !== 'code') continue;
    let at = sql.indexOf(NAMED, segment.start);
    while (at >= 0 && at + NAMED.length <= segment.end) {
      if (sql[at - 1] !== ':' && !/[\w$]/.test(sql[at + NAMED.length] ?? '')) found.push(at);
      at = sql.indexOf(NAMED, at + NAMED.length);
    }
  }
  return found;
}

/** True when the text uses `:order_ids` as a parameter (not only in a comment or a string). */
export function usesOrderIds(sql: string): boolean {
  return parameterOffsets(sql).length > 0;
}

/** The items query with each `:order_ids` parameter replaced by the positional `$1`; literals and comments untouched. */
export function bindOrderIds(sql: string): string {
  let out = '';
  let from = 0;
  for (const at of parameterOffsets(sql)) {
    out += `${sql.slice(from, at)}$1`;
    from = at + NAMED.length;
  }
  return out + sql.slice(from);
}
