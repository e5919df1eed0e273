/**
 * The human-readable log form (`LOG_PRETTY=1`, or stderr a terminal): pino-pretty prints each JSON line pino writes.
 *
 * pino-pretty decodes the line, and so undoes what JSON escaped: as found by test/log-pretty.test.ts, it printed DEL
 * and the C1 controls (CSI U+009B, OSC U+009D, ST U+009C) raw inside logged values, and a line break raw inside a
 * message (a second line that looks like a log line of its own); ESC, BEL and CR it dropped from messages without a
 * trace. So before pino-pretty sees a line, every control character in its strings (keys too) is written as the
 * escape an operator can read (`\u001b`, `\u009b`, `\n`, `\r`, `\t`): what the shop or the API sent stays visible, and
 * the terminal acts on none of it. Stack traces keep their line breaks: pino-pretty indents every line of one, so no
 * line of a stack can pass for a log line; each of their other control characters is escaped too.
 *
 * The JSON form does not cut logged values and neither does this one, so a pretty line is no longer than its JSON
 * line but for pino-pretty's indentation: the errors' and answers' texts in them are outward text already (outward.ts:
 * at most 2 000 characters, one line); a row's key from the shop is logged whole in both forms.
 */
import { createRequire } from 'node:module';
import type { PrettyOptions } from 'pino-pretty';

/** Every control character (C0 with tab and line feed, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written as its escape (`\u001b`); line feeds kept when `keepLineFeeds`. */
export function escapeControls(text: string, keepLineFeeds = false): string {
  return text.replace(CONTROL, (c) => (keepLineFeeds && c === '\n' ? c : (SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)));
}

function escapedValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return escapeControls(value, key === 'stack');
  if (Array.isArray(value)) return value.map((item) => escapedValue(item, undefined));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [escapeControls(k), escapedValue(v, k)]));
  return value;
}

/** One JSON log line with the control characters of its strings escaped (as text), still one JSON line. */
export function escapedLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `${escapeControls(line.replace(/\n$/, ''))}\n`; // not pino's JSON: shown as escaped text
  }
  return `${JSON.stringify(escapedValue(parsed, undefined))}\n`;
}

type PrettyFactory = (options: PrettyOptions) => (line: string) => string;

/**
 * The function that turns one JSON log line into its pretty form. It runs in this thread, as the logger writes: the
 * lines go to the logger's own destination (a test captures them like the JSON form), written as they come (nothing
 * left in a worker at exit). pino-pretty is loaded only here: the JSON form never pays for it.
 */
export function prettyPrinter(): (jsonLine: string) => string {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as { prettyFactory: PrettyFactory };
  const pretty = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' });
  return (line) => pretty(escapedLogLine(line));
}
