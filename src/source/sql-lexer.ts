/**
 * The one SQL lexer: SQL text cut into code, string literals ('…', E'…' with its prefix, $tag$…$tag$), quoted
 * identifiers ("…", "" for a quote) and comments (-- …, nested /* … *\/), just enough for what reads SQL as text here:
 * finding the `:order_ids` parameter in the operator's items query (sql-text.ts) and turning the expressions EXPLAIN
 * VERBOSE writes into advice (expr-text.ts). What it cannot close (an unterminated literal) runs to the end.
 */

export type SegmentKind = 'code' | 'string' | 'ident' | 'comment';

export interface Segment {
  kind: SegmentKind;
  /** Offsets into the text: [start, end). */
  start: number;
  end: number;
}

export interface LexOptions {
  /** Read `--` and `/*` as comments (the operator's SQL); EXPLAIN's deparsed expressions hold none. Default true. */
  comments?: boolean;
  /** Read `$tag$…$tag$` as a string. Default true. */
  dollarQuotes?: boolean;
}

const WORD = /[\w$]/;

export function lexSql(text: string, opts: LexOptions = {}): Segment[] {
  const comments = opts.comments ?? true;
  const dollarQuotes = opts.dollarQuotes ?? true;
  const out: Segment[] = [];
  const n = text.length;
  let from = 0; // start of the code run not yet pushed
  let i = 0;
  const push = (kind: SegmentKind, start: number, end: number): void => {
    if (start > from) out.push({ kind: 'code', start: from, end: start });
    out.push({ kind, start, end: Math.min(end, n) });
    from = Math.min(end, n);
  };
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (comments && c === '-' && next === '-') {
      const newline = text.indexOf('\n', i + 2);
      const end = newline < 0 ? n : newline + 1;
      push('comment', i, end);
      i = end;
    } else if (comments && c === '/' && next === '*') {
      let depth = 1;
      let k = i + 2;
      while (k < n && depth > 0) {
        if (text[k] === '/' && text[k + 1] === '*') [depth, k] = [depth + 1, k + 2];
        else if (text[k] === '*' && text[k + 1] === '/') [depth, k] = [depth - 1, k + 2];
        else k += 1;
      }
      push('comment', i, k);
      i = k;
    } else if (c === "'") {
      // E'…' strings take backslash escapes; in standard strings a quote is doubled.
      const escapes = i > 0 && /[eE]/.test(text[i - 1] ?? '') && !WORD.test(text[i - 2] ?? '');
      const start = escapes ? i - 1 : i;
      let k = i + 1;
      while (k < n) {
        if (escapes && text[k] === '\\') k += 2;
        else if (text[k] === "'" && text[k + 1] === "'") k += 2;
        else if (text[k] === "'") break;
        else k += 1;
      }
      push('string', start, k + 1);
      i = k + 1;
    } else if (c === '"') {
      let k = i + 1;
      while (k < n && !(text[k] === '"' && text[k + 1] !== '"')) k += text[k] === '"' ? 2 : 1;
      push('ident', i, k + 1);
      i = k + 1;
    } else if (dollarQuotes && c === '$' && !WORD.test(text[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 66));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        const end = close < 0 ? n : close + tag[0].length;
        push('string', i, end);
        i = end;
      } else i += 1;
    } else i += 1;
  }
  if (from < n) out.push({ kind: 'code', start: from, end: n });
  return out;
}
