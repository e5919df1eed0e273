/**
 * Reading the operator's SQL as text, just enough to find the named parameter `:order_ids` where it is a parameter:
 * outside string literals ('…', E'…', $tag$…$tag$), quoted identifiers ("…") and comments (-- …, nested /* … *\/), and
 * not the tail of a `::cast`.
 */

const NAMED = ':order_ids';

/** Offsets of each `:order_ids` that is a parameter. */
function parameterOffsets(sql: string): number[] {
  const found: number[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') [depth, i] = [depth + 1, i + 2];
        else if (sql[i] === '*' && sql[i + 1] === '/') [depth, i] = [depth - 1, i + 2];
        else i += 1;
      }
    } else if (c === "'") {
      // E'…' strings take backslash escapes; in standard strings a quote is doubled.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i += 1;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i += 1;
      }
      i += 1;
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      i = end < 0 ? n : end + 1;
      while (i < n && sql[i] === '"') {
        const more = sql.indexOf('"', i + 1); // a doubled "" inside the identifier
        i = more < 0 ? n : more + 1;
      }
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
      } else i += 1;
    } else if (c === ':' && sql.startsWith(NAMED, i) && sql[i - 1] !== ':' && !/[\w$]/.test(sql[i + NAMED.length] ?? '')) {
      found.push(i);
      i += NAMED.length;
    } else i += 1;
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
