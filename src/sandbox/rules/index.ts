/**
 * The sandbox's judgement of a request body, by rules written from the API reference
 * (personaclick-tracking-api.txt) and api-notes.md alone; nothing here comes from the connector's
 * own schemas or builders, so a builder that drifts from the API is refused here.
 *
 * `judge(path, body)`: undefined when the request is acceptable, else the status (401 when a
 * credential is missing, 400 otherwise) and a one-line reason that starts with the field's path.
 */
import { isObject, shown, type JsonObject } from './check.js';
import { customEventCheck } from './custom.js';
import { missingCredential, sessionProblem } from './envelope.js';
import { byUserProblem, syncOrdersProblem, type OrderIds } from './order-sync.js';
import { pushProblem } from './push.js';
import { trackCheck } from './track.js';

export interface Verdict {
  status: 400 | 401;
  reason: string;
}

const NOTHING_STORED: OrderIds = { has: () => false };

const BODY_RULES: Readonly<Record<string, (body: JsonObject, stored: OrderIds) => string | undefined>> = {
  '/push': (body) => pushProblem(body) ?? sessionProblem(body),
  '/push/custom': (body) => customEventCheck(body, '') ?? sessionProblem(body),
  '/track/received': (body) => trackCheck(body, ''),
  '/track/clicked': (body) => trackCheck(body, ''),
  '/track/closed': (body) => trackCheck(body, ''),
  '/sync/orders': syncOrdersProblem,
  '/orders/by_user': byUserProblem,
};

/**
 * Judge `body` (for `GET /orders/by_user`, its query parameters as an object) sent to `path`.
 * `stored` tells which order ids the order-sync API already has (an order it lacks needs more fields).
 */
export function judge(path: string, body: unknown, stored: OrderIds = NOTHING_STORED): Verdict | undefined {
  const rules = BODY_RULES[path];
  if (rules === undefined) return { status: 400, reason: `path: ${shown(path)} is not a path of the API` };
  if (!isObject(body)) return { status: 400, reason: `body: must be a JSON object (got ${shown(body)})` };
  const missing = missingCredential(path, body);
  if (missing !== undefined) return { status: 401, reason: missing };
  const reason = rules(body, stored);
  return reason === undefined ? undefined : { status: 400, reason };
}
