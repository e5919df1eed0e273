/** What in a configuration must never be printed, and URLs made safe to print. */
import type { Config } from './schema.js';

const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^?#]*)(.*)$/s;

/**
 * `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a `password=` query parameter is
 * masked too. Works on text that is not a valid URL (so a mistyped one can be shown in an error);
 * anything without credentials comes back unchanged.
 */
export function redactUrl(url: string): string {
  const m = URL_SHAPE.exec(url);
  if (!m) return url;
  const scheme = m[1] ?? '';
  const rest = (m[2] ?? '') + (m[3] ?? '');
  const at = userinfoEnd(m[2] ?? '', rest);
  let userinfo = '';
  let tail = rest;
  if (at >= 0) {
    const info = rest.slice(0, at);
    const colon = info.indexOf(':');
    userinfo = colon >= 0 ? `${info.slice(0, colon)}:***` : info;
    tail = rest.slice(at);
  }
  return scheme + userinfo + tail.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * Where the userinfo ends (its '@'), or -1. The last '@' before the query, so a password holding an unescaped '/'
 * or '@' is masked whole; when there is none there, the last '@' of the whole text, so one holding an unescaped
 * '?' or '#' (which URL parsing would take for the query) is masked too. Masking too much is the safe side.
 */
function userinfoEnd(beforeQuery: string, rest: string): number {
  const at = beforeQuery.lastIndexOf('@');
  return at >= 0 ? at : rest.lastIndexOf('@');
}

/** Every spelling of a URL's password that could show up in output: as written, decoded, JSON-escaped. */
function urlPasswords(url: string): string[] {
  const found: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') found.push(parsed.password);
    const fromQuery = parsed.searchParams.get('password');
    if (fromQuery !== null && fromQuery !== '') found.push(fromQuery);
  } catch {
    // not a URL: the text between "user:" and the userinfo's "@" below still counts
  }
  const m = URL_SHAPE.exec(url);
  const rest = (m?.[2] ?? '') + (m?.[3] ?? '');
  const at = userinfoEnd(m?.[2] ?? '', rest);
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0 && colon < userinfo.length - 1) found.push(userinfo.slice(colon + 1));
  }
  return found;
}

/** A webhook URL is a secret as a whole (its path is the token: /services/T…/B…/…): the URL, and its path and query. */
function webhookSecrets(url: string): string[] {
  const found = [url, ...urlPasswords(url)];
  try {
    const parsed = new URL(url);
    const tail = `${parsed.pathname}${parsed.search}`;
    if (tail.length >= 8) found.push(tail);
  } catch {
    // validated as a URL before it gets here
  }
  return found;
}

function spellings(secret: string): string[] {
  const out = [secret];
  try {
    out.push(decodeURIComponent(secret));
  } catch {
    // not percent-encoded
  }
  // As a query string carries it (report --verify sends the shop secret in one): percent- and form-encoded.
  out.push(encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2));
  for (const s of [...out]) out.push(JSON.stringify(s).slice(1, -1));
  return out;
}

/**
 * Strings that must never be printed: the passwords inside source.url and state.url (as written,
 * percent-decoded, percent-encoded and JSON-escaped), the shop secret when one is set, the Pushgateway URL's password and the
 * webhook URL (whole, and its path). Longest first, so that a
 * scrubber replacing them in order masks a secret before any shorter secret inside it.
 */
export function secretsOf(config: Config): string[] {
  const raw: string[] = [...urlPasswords(config.source.url), ...urlPasswords(config.state.url)];
  const shopSecret = config.personaclick.shopSecret;
  if (shopSecret !== undefined && shopSecret !== '') raw.push(shopSecret);
  if (config.metrics.pushgateway !== undefined) raw.push(...urlPasswords(config.metrics.pushgateway));
  if (config.notify.webhook !== undefined) raw.push(...webhookSecrets(config.notify.webhook));
  return spellingsOf(raw);
}

/** Every spelling of these secrets (see spellings()), each once, longest first: what a scrubber must mask. */
export function spellingsOf(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const secret of secrets) for (const s of spellings(secret)) if (s !== '') all.add(s);
  return [...all].sort((a, b) => b.length - a.length);
}
