/** Check an incoming JSON request as the reference says: pick the schema by path and event, report one line. */
import type { z } from 'zod';
import { describeValue } from './reason.js';
import { PUSH_EVENTS, isRecord, type PushEvent } from './rules.js';
import { customEventSchema, fullCartSchema, fullWishSchema, pushSchemas, trackSchema } from './schemas.js';
import type { ApiPath, Check } from './types.js';

export const API_PATHS: readonly ApiPath[] = ['/push', '/push/custom', '/track/received', '/track/clicked', '/track/closed'];

const isApiPath = (path: string): path is ApiPath => (API_PATHS as readonly string[]).includes(path);
const isPushEvent = (event: unknown): event is PushEvent => (PUSH_EVENTS as readonly unknown[]).includes(event);

/** The schema for a body sent to `path`: by path, then by `event`, `full_cart` and `full_wish`. */
export function schemaFor(path: string, body: unknown): Check<z.ZodType> {
  if (!isApiPath(path)) {
    return { ok: false, reason: `path: must be one of ${API_PATHS.join(', ')} (got ${describeValue(path)})` };
  }
  if (!isRecord(body)) return { ok: false, reason: `body: must be a JSON object (got ${describeValue(body)})` };
  if (path === '/push/custom') return { ok: true, value: customEventSchema };
  if (path !== '/push') return { ok: true, value: trackSchema };
  const event = body.event;
  if (event === 'cart' && 'full_cart' in body) return { ok: true, value: fullCartSchema };
  if (event === 'wish' && 'full_wish' in body) return { ok: true, value: fullWishSchema };
  if (isPushEvent(event)) return { ok: true, value: pushSchemas[event] };
  const rule = `must be one of ${PUSH_EVENTS.join(', ')}`;
  return {
    ok: false,
    reason: event === undefined ? `event: is required and ${rule}` : `event: ${rule} (got ${describeValue(event)})`,
  };
}

function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  return text === '' ? 'body' : text;
}

/** One line for a zod failure: the first problem, and how many more there are. */
export function issueReason(issues: readonly z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (first === undefined) return 'body: is not a valid request';
  const path = first.code === 'unrecognized_keys' ? [...first.path, first.keys[0] ?? '?'] : first.path;
  const more = issues.length - 1 + (first.code === 'unrecognized_keys' ? first.keys.length - 1 : 0);
  const tail = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
  return `${pathText(path)}: ${first.message}${tail}`;
}

/** Check a request body for `path` as the reference says; the reason is one line naming the field path. */
export function validateRequest(path: string, body: unknown): { ok: true } | { ok: false; reason: string } {
  const schema = schemaFor(path, body);
  if (!schema.ok) return schema;
  const parsed = schema.value.safeParse(body);
  return parsed.success ? { ok: true } : { ok: false, reason: issueReason(parsed.error.issues) };
}
