/** Events-model rows (ops migrations) → any request of the API reference. */
import { buildEnvelope, pushBody } from './envelope.js';
import { optionalInteger, optionalStream, optionalText, requiredId, requiredText, stream } from './fields.js';
import { keep } from './policy.js';
import { pushEventFields } from './push-event.js';
import { fail, isAbsent } from './reason.js';
import { finish } from './request.js';
import { CUSTOM_EVENT, TEXT, customEventRule, isNonBlankString, sessionIdRule } from './rules.js';
import type { ApiPath, BuildContext, BuildResult, BuildWarning, Check, JsonValue, Row } from './types.js';

const ENDPOINTS: Readonly<Record<string, ApiPath>> = {
  push: '/push',
  custom: '/push/custom',
  'push/custom': '/push/custom',
  'track/received': '/track/received',
  'track/clicked': '/track/clicked',
  'track/closed': '/track/closed',
};
const ENDPOINT_RULE = 'must be one of push, custom, track/received, track/clicked, track/closed';

/** The `endpoint` column: absent → /push; a leading "/" is allowed. */
function endpointOf(value: unknown): Check<ApiPath> {
  if (isAbsent(value)) return { ok: true, value: '/push' };
  const path = typeof value === 'string' ? ENDPOINTS[value.trim().replace(/^\//, '')] : undefined;
  return path === undefined ? fail('endpoint', ENDPOINT_RULE, value) : { ok: true, value: path };
}

/** `/track/*`: shop_id, code, type and stream, nothing else. */
function trackRequest(path: ApiPath, row: Row, ctx: BuildContext): BuildResult {
  if (!isNonBlankString(ctx.shopId)) return fail('shop_id', `${TEXT} (the configured shop id)`, ctx.shopId, true);
  const code = requiredText(row.code, 'code');
  if (!code.ok) return code;
  const type = requiredText(row.type, 'type');
  if (!type.ok) return type;
  const warnings: BuildWarning[] = [];
  const ownStream = keep(warnings, 'stream', row.stream, optionalStream);
  if (!ownStream.ok) return ownStream;
  const streamValue = stream(ownStream.value, ctx.defaultStream);
  if (!streamValue.ok) return streamValue;
  return finish(path, { shop_id: ctx.shopId, code: code.value, type: type.value, stream: streamValue.value }, warnings);
}

/** The custom event key: any non-empty string (the reference sets no other rule); a number is written as text. */
function customEventKey(value: unknown): Check<string> {
  const key = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
  return customEventRule(key) === undefined && typeof key === 'string' ? { ok: true, value: key } : fail('event', CUSTOM_EVENT, value, true);
}

/** `/push/custom`: a custom event key and its optional category, label and integer value. */
function customFields(row: Row, warnings: BuildWarning[]): Check<{ event: string; fields: Record<string, JsonValue | undefined> }> {
  const event = customEventKey(row.event);
  if (!event.ok) return event;
  const category = keep(warnings, 'category', row.category, optionalText);
  if (!category.ok) return category;
  const label = keep(warnings, 'label', row.label, optionalText);
  if (!label.ok) return label;
  const value = keep(warnings, 'value', row.value, optionalInteger);
  if (!value.ok) return value;
  return { ok: true, value: { event: event.value, fields: { category: category.value, label: label.value, value: value.value } } };
}

/**
 * One events-model row → its request. `endpoint` picks the path (push by default); `/push` and
 * `/push/custom` carry the envelope, with a seance derived from (did, event_key) when the row has none
 * and `source` counted back 48 hours from now.
 */
export function buildEventRequest(row: Row, ctx: BuildContext): BuildResult {
  const key = requiredId(row.event_key, 'event_key');
  if (!key.ok) return key;
  const path = endpointOf(row.endpoint);
  if (!path.ok) return path;
  if (path.value !== '/push' && path.value !== '/push/custom') return trackRequest(path.value, row, ctx);
  const warnings: BuildWarning[] = [];
  const content = path.value === '/push' ? pushEventFields(row, warnings) : customFields(row, warnings);
  if (!content.ok) return content;
  const did = requiredId(row.did, 'did', sessionIdRule);
  if (!did.ok) return did;
  const envelope = buildEnvelope(did.value, row, key.value, Date.now(), ctx, warnings);
  if (!envelope.ok) return envelope;
  return finish(path.value, pushBody(content.value.event, envelope.value, content.value.fields), warnings);
}
