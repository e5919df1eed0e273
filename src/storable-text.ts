/**
 * Text from outside (API messages and bodies, header values, values quoted in failure reasons) made fit to store in
 * a Postgres text column and to print on one line: Postgres refuses NUL in text, a lone UTF-16 surrogate has no UTF-8
 * form (node-postgres would silently turn it into U+FFFD), control characters break log lines and terminals, and
 * nothing from outside may be unbounded.
 */

/** Control characters (C0, DEL, C1) and lone surrogates; with the `u` flag a well-formed pair is one code point and never matches. */
const UNFIT = /[\p{Cc}\p{Cs}]/gu;
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const REPLACEMENT = '\uFFFD';

/** Where to cut `text` to keep at most `maxChars` UTF-16 units without cutting a surrogate pair in two. */
function cutAt(text: string, maxChars: number): number {
  const end = Math.max(0, maxChars);
  const last = text.charCodeAt(end - 1);
  return last >= 0xd800 && last <= 0xdbff ? end - 1 : end; // a high surrogate whose low half would be cut off
}

/**
 * One storable, printable line: tabs and line breaks become a space, every other control character (NUL among them)
 * and every lone surrogate becomes U+FFFD, and the text is cut to `maxChars` (default 1000) UTF-16 units, with "…".
 */
export function storableText(text: string, maxChars = 1000): string {
  const cut = text.length > maxChars;
  const kept = cut ? text.slice(0, cutAt(text, maxChars)) : text;
  const clean = kept.replace(LINE_BREAKS, ' ').replace(UNFIT, REPLACEMENT);
  return cut ? `${clean}…` : clean;
}

/**
 * Plain printable ASCII (0x20-0x7E), every other UTF-16 unit written as `\uXXXX` (lower-case hex): storable in a
 * database of any server encoding (LATIN1, SQL_ASCII, …). At most about `maxChars` characters, then "...".
 */
export function asciiText(text: string, maxChars = 1000): string {
  let out = '';
  let i = 0;
  for (; i < text.length && out.length < maxChars; i++) {
    const code = text.charCodeAt(i);
    out += code >= 0x20 && code <= 0x7e ? text.charAt(i) : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return i < text.length ? `${out}...` : out;
}
