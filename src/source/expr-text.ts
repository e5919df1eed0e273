/**
 * Reading the expressions EXPLAIN VERBOSE writes (sort keys, Filter, Hash Cond, …), just enough to turn them into
 * advice: the columns they name, the `= ANY (…)` comparisons, the equalities of a join condition, and an expression
 * made fit for CREATE INDEX. The planner deparses every expression the same way (each operator application in
 * parentheses, columns qualified by their alias, literals with their type), so a small scanner that skips string
 * literals and quoted identifiers suffices; what it does not recognise it leaves alone, and callers then say plainly
 * that they cannot be specific.
 */

import { lexSql } from './sql-lexer.js';

/** An identifier as Postgres deparses it: plain, or double-quoted with "" for a quote. */
const IDENT = String.raw`(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")`;

/** The text cut into code and literals (E'…' included) by the one SQL lexer; quoted identifiers stay in the code. */
function segments(text: string): { code: boolean; text: string }[] {
  const out: { code: boolean; text: string }[] = [];
  for (const segment of lexSql(text, { comments: false, dollarQuotes: false })) {
    const code = segment.kind !== 'string';
    const piece = text.slice(segment.start, segment.end);
    const last = out[out.length - 1];
    if (last && last.code && code) last.text += piece;
    else out.push({ code, text: piece });
  }
  return out;
}

/** Apply `edit` to the code outside string literals. */
function editCode(text: string, edit: (code: string) => string): string {
  return segments(text)
    .map((s) => (s.code ? edit(s.text) : s.text))
    .join('');
}

/** For each `(` outside literals, the offset of its matching `)` (missing when unbalanced). */
function matchingParens(text: string): Map<number, number> {
  const pairs = new Map<number, number>();
  const open: number[] = [];
  let offset = 0;
  for (const s of segments(text)) {
    if (s.code) {
      let quoted = false;
      for (let k = 0; k < s.text.length; k++) {
        const c = s.text[k];
        if (c === '"') quoted = !quoted;
        else if (quoted) continue;
        else if (c === '(') open.push(offset + k);
        else if (c === ')') {
          const from = open.pop();
          if (from !== undefined) pairs.set(from, offset + k);
        }
      }
    }
    offset += s.text.length;
  }
  return pairs;
}

/** Without the parentheses that enclose the whole text: `((a.b))` → `a.b`. */
export function stripParens(expr: string): string {
  let text = expr.trim();
  for (;;) {
    if (!text.startsWith('(') || matchingParens(text).get(0) !== text.length - 1) return text;
    text = text.slice(1, -1).trim();
  }
}

/** Offsets of `needle` in the code of `text` (outside literals and quoted identifiers). */
function codeOffsets(text: string, needle: string): number[] {
  const found: number[] = [];
  let offset = 0;
  for (const s of segments(text)) {
    if (s.code) {
      for (let at = s.text.indexOf(needle); at >= 0; at = s.text.indexOf(needle, at + 1)) found.push(offset + at);
    }
    offset += s.text.length;
  }
  return found;
}

/** The text split at a separator that stands outside every parenthesis and literal. */
function splitTopLevel(text: string, separator: string): string[] {
  const pairs = matchingParens(text);
  const inside = (at: number) => [...pairs].some(([open, close]) => open < at && at < close);
  const cuts = codeOffsets(text, separator).filter((at) => !inside(at));
  const parts: string[] = [];
  let from = 0;
  for (const at of cuts) {
    parts.push(text.slice(from, at));
    from = at + separator.length;
  }
  parts.push(text.slice(from));
  return parts.map((p) => p.trim());
}

/** The ANDed parts of a condition: `((a = b) AND (c > d))` → [`a = b`, `c > d`]. */
export function conjuncts(condition: string): string[] {
  return splitTopLevel(stripParens(condition), ' AND ').map(stripParens);
}

export interface ColumnRef {
  alias: string;
  column: string;
}

/** The alias-qualified columns an expression names (not function or type names). */
export function columnRefs(expr: string): ColumnRef[] {
  const refs: ColumnRef[] = [];
  const pattern = new RegExp(String.raw`(?<![\w$."]|::)(${IDENT})\.(${IDENT})(?![\w$"]|\s*\()`, 'g');
  for (const s of segments(expr)) {
    if (!s.code) continue;
    for (const m of s.text.matchAll(pattern)) {
      if (m[1] !== undefined && m[2] !== undefined) refs.push({ alias: m[1], column: m[2] });
    }
  }
  return refs;
}

/** `alias.column` of the expression as just `column` (for an index on the alias's table). */
export function unqualify(expr: string, alias: string): string {
  const escaped = alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(String.raw`(?<![\w$."]|::)${escaped}\.(?=${IDENT})`, 'g');
  return editCode(expr, (code) => code.replace(pattern, ''));
}

/** `(number)::text` → `number::text`: the parentheses EXPLAIN puts around a cast column, which CREATE INDEX does not need. */
function tidyCasts(expr: string): string {
  const pattern = new RegExp(String.raw`\((${IDENT})\)::`, 'g');
  return editCode(expr, (code) => code.replace(pattern, '$1::'));
}

/**
 * One column of CREATE INDEX for a sort key or compared expression of the table `alias` stands for: a plain column
 * as its name (`updated_at`), anything else in parentheses (`('N'::text || number::text)`), with its COLLATE kept.
 */
export function indexColumn(expr: string, alias: string): string {
  let text = stripParens(expr);
  let collate = '';
  const collation = new RegExp(String.raw`^(.*?)\s+COLLATE\s+(${IDENT})$`, 's').exec(text);
  if (collation?.[1] !== undefined && collation[2] !== undefined && columnRefs(collation[2]).length === 0) {
    text = stripParens(collation[1]);
    collate = ` COLLATE ${collation[2]}`;
  }
  text = tidyCasts(unqualify(text, alias));
  if (new RegExp(`^${IDENT}$`).test(text)) return `${text}${collate}`;
  return collate === '' ? `(${text})` : `(${text})${collate}`;
}

/** The plain column an expression is, when it is one: `o.id`, `(o.id)` → {o, id}. */
export function plainColumn(expr: string): ColumnRef | undefined {
  const m = new RegExp(`^(${IDENT})\\.(${IDENT})$`).exec(stripParens(expr));
  return m?.[1] !== undefined && m[2] !== undefined ? { alias: m[1], column: m[2] } : undefined;
}

/** Each `left = ANY (right)` in a condition, e.g. left `('N'::text || (o.number)::text)`, right `'{N1,N2}'::text[]`. */
export function anyComparisons(condition: string): { left: string; right: string }[] {
  const pairs = matchingParens(condition);
  const found: { left: string; right: string }[] = [];
  const needle = ' = ANY (';
  for (const at of codeOffsets(condition, needle)) {
    let best: [number, number] | undefined;
    for (const [open, close] of pairs) {
      if (open < at && at < close && (best === undefined || open > best[0])) best = [open, close];
    }
    const left = best === undefined ? condition.slice(0, at) : condition.slice(best[0] + 1, at);
    const open = at + needle.length - 1;
    const close = pairs.get(open);
    const right = close === undefined ? condition.slice(open + 1) : condition.slice(open + 1, close);
    found.push({ left: stripParens(left), right: right.trim() });
  }
  return found;
}

/** The `a = b` parts of a join condition: `(l.order_id = o.id)` → [[`l.order_id`, `o.id`]]. */
export function equalities(condition: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of conjuncts(condition)) {
    const sides = splitTopLevel(part, ' = ');
    if (sides.length === 2 && sides[0] !== undefined && sides[1] !== undefined) out.push([stripParens(sides[0]), stripParens(sides[1])]);
  }
  return out;
}

/**
 * A key the model computes from one column, and how to get the column back from the key text `x`, for the
 * forms a model's key usually takes: `'N' || number` (a prefix), `number || '-A'` (a suffix), `id::text`.
 */
export interface KeyInverse {
  column: ColumnRef;
  /** SQL giving the column's value (before any cast to its type) from the key text `x`; undefined: x itself. */
  fromKey: ((x: string) => string) | undefined;
}

const LITERAL = String.raw`'((?:[^']|'')*)'(?:::text)?`;
const CAST_COLUMN = String.raw`\(*(${IDENT})\.(${IDENT})\)*(?:::(?:text|character varying))?`;

export function keyInverse(expr: string): KeyInverse | undefined {
  const text = stripParens(expr);
  const literalLength = (quoted: string) => [...quoted.replace(/''/g, "'")].length;
  const prefix = new RegExp(`^${LITERAL} \\|\\| ${CAST_COLUMN}$`).exec(text);
  if (prefix?.[1] !== undefined && prefix[2] !== undefined && prefix[3] !== undefined) {
    const skip = literalLength(prefix[1]) + 1;
    return { column: { alias: prefix[2], column: prefix[3] }, fromKey: (x) => `substr(${x}, ${skip})` };
  }
  const suffix = new RegExp(`^${CAST_COLUMN} \\|\\| ${LITERAL}$`).exec(text);
  if (suffix?.[1] !== undefined && suffix[2] !== undefined && suffix[3] !== undefined) {
    const cut = literalLength(suffix[3]);
    return { column: { alias: suffix[1], column: suffix[2] }, fromKey: (x) => `left(${x}, -${cut})` };
  }
  const cast = new RegExp(`^${CAST_COLUMN}$`).exec(text);
  if (cast?.[1] !== undefined && cast[2] !== undefined && /::/.test(text)) return { column: { alias: cast[1], column: cast[2] }, fromKey: undefined };
  return undefined;
}

/** An identifier as SQL text: bare when it may be, else double-quoted. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
