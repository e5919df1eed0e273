/**
 * Text made for the world. Every way out of the process (log lines, the CLI's error line, the webhook, the books:
 * runs.error, failures.reason, notify_state; `status` and `status --json`, `/healthz`, the report, read-back failure
 * reasons) takes an error's or an answer's text from here, once, so that none of them can forget a step:
 *
 * - every spelling of every secret (the shop secret, the databases' passwords, the webhook URL: see
 *   config/secrets.ts spellingsOf) becomes `***`;
 * - a customer's identifiers that an API or a proxy echoes back (an e-mail address, plain or URL-encoded; a phone
 *   number in international form; the value of any `email`, `phone` or secret-named field, JSON or query string)
 *   become `***`;
 * - the text is one storable line (no control characters, no NUL, no lone surrogate) of bounded length.
 */
import { storableText } from './storable-text.js';

/**
 * An e-mail address, as written or URL-/form-encoded (`%40`). The local part and each label are bounded (64 and 63
 * characters, as the RFCs bound them): unbounded, a long run of letters (a 64 KiB answer) took seconds, each
 * position scanning to its end; a longer local part is masked but for its head.
 */
const EMAIL = /[A-Za-z0-9._%+-]{1,64}(?:@|%40)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63}/gi;
/** A phone number in international form, as written or URL-encoded (`%2B`): + and at least 7 digits. */
const PHONE = /(?:\+|%2B)\d(?:[\d().\- ]|%20|%28|%29){5,}\d/gi;
/** Names of fields that identify a customer or hold a secret. */
const KEYS = String.raw`(?:e-?mail|phone|phone_number|tel|shop_secret|secret|password|passwd|token|api_key|authorization)`;
/**
 * Such a field's value in JSON (`"phone":"…"` or `"phone":8912…`, JSON-escaped or not, to 4 levels: up to 15
 * backslashes before a quote, bounded so that a run of backslashes is not scanned again from each of its positions);
 * the value runs to the next quote, `,` or `}`.
 */
const JSON_KEYED = new RegExp(String.raw`((?:\\{0,15}["'])${KEYS}(?:\\{0,15}["'])\s*:\s*(?:\\{0,15}["'])?)([^"'\\,}\r\n]+)`, 'gi');
/** Such a field's value in a query or form string (`phone=…`, `phone%3D…`); the value runs to the next `&` or space. */
const QUERY_KEYED = new RegExp(String.raw`(\b${KEYS}(?:=|%3D))([^&\s"'\\]+)`, 'gi');
const MASK = '***';

/** Replace every secret spelling inside a string (spellings shorter than 3 characters are left: they would mask half the text). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join(MASK);
  }
  return out;
}

/** A customer's e-mail addresses and phone numbers, and the values of identifier- or secret-named fields, masked. */
export function maskPersonal(text: string): string {
  return text
    .replace(JSON_KEYED, (_all, key: string) => `${key}${MASK}`)
    .replace(QUERY_KEYED, (_all, key: string) => `${key}${MASK}`)
    .replace(EMAIL, MASK)
    .replace(PHONE, MASK);
}

/** Secrets and personal data masked; the text's shape (line breaks, length) left as it is: for log lines, which are JSON. */
export function maskAll(text: string, secrets: readonly string[]): string {
  return maskPersonal(maskSecrets(text, secrets));
}

/** Default bound of one outward text: an error line or a failure reason is never megabytes long. */
export const OUTWARD_MAX_CHARS = 2000;

/** The one text every way out shows: secrets and personal data masked, one storable line, at most `maxChars`. */
export function outwardText(text: string, secrets: readonly string[], maxChars = OUTWARD_MAX_CHARS): string {
  return storableText(maskAll(text, secrets), maxChars);
}

/**
 * Make an error fit for the world in place (its class, and so the exit code it leads to, kept): its message, its
 * stack and the messages of its causes become outward text.
 */
export function makeOutward<E extends Error>(error: E, secrets: readonly string[]): E {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    current.message = outwardText(current.message, secrets);
    if (current.stack !== undefined) current.stack = maskAll(current.stack, secrets);
    const body = (current as { body?: unknown }).body;
    if (typeof body === 'string')
      Object.defineProperty(current, 'body', { value: outwardText(body, secrets), writable: false, configurable: true, enumerable: true });
    current = current.cause;
  }
  return error;
}

/** Every way out of one process, bound to its secrets. */
export interface Outward {
  text(text: string, maxChars?: number): string;
  error<E extends Error>(error: E): E;
  readonly secrets: readonly string[];
}

/** DEL and the C1 controls (CSI U+009B, OSC U+009D, …): JSON leaves them raw, some terminals act on them. */
const C1 = /[\u007f-\u009f]/g;

/**
 * JSON text made safe for a terminal: JSON.stringify escapes C0 controls (ESC among them) but leaves DEL and the C1
 * controls as they are; each becomes its `\u00XX` escape, which is the same JSON (they can only stand inside strings).
 */
export function terminalSafeJson(json: string): string {
  return json.replace(C1, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
