/**
 * What every `/push` and `/push/custom` request carries ("Basic Details" of the reference, and the
 * envelope section of api-notes.md), and the credentials each path must name: a request without
 * them answers 401, as the notes record.
 */
import { may, must, shown, type JsonObject, type Shape } from './check.js';
import { sourceString, stream, text, oneOf } from './values.js';

export const ENVELOPE: Shape = {
  shop_id: must(text),
  did: must(text),
  seance: must(text),
  /** The SDKs send the session id twice. */
  sid: may(text),
  stream: must(stream),
  segment: may(oneOf(['A', 'B'])),
  referer: may(text),
  source: may(sourceString),
};

/** `sid`, when sent, is the same session id as `seance`. */
export function sessionProblem(body: JsonObject): string | undefined {
  if (body.sid === undefined || body.sid === body.seance) return undefined;
  return `sid: must be the same session id as seance (got ${shown(body.sid)})`;
}

/** The fields without which a path answers 401 rather than 400. */
const CREDENTIALS: Readonly<Record<string, readonly string[]>> = {
  '/push': ['shop_id', 'did'],
  '/push/custom': ['shop_id', 'did'],
  '/sync/orders': ['shop_id', 'shop_secret'],
  '/orders/by_user': ['shop_id', 'shop_secret'],
};

const isMissing = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** The first credential `body` lacks on `path` (shop_id everywhere), as a 401 reason. */
export function missingCredential(path: string, body: JsonObject): string | undefined {
  const names = CREDENTIALS[path] ?? ['shop_id'];
  const missing = names.find((name) => isMissing(body[name]));
  return missing === undefined ? undefined : `${missing}: is required`;
}
