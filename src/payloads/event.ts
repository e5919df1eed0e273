/** Events-model rows (ops migrations) → any request of the API reference. */
import { buildEnvelope, pushBody } from './envelope.js';
import { optionalInteger, optionalText, requiredId, requiredText, stream } from './fields.js';
import { pushEventFields } from './push-event.js';
import { fail, isAbsent } from './reason.js';
import { finish } from './request.js';
import { CUSTOM_EVENT, TEXT, customEventRule, isNonBlankString, sessionIdRule } from './rules.js';
import type { ApiPath, BuildContext, BuildResult, Check, JsonValue, Row } from './types.js';

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
  const streamValue = stream(row.stream, ctx.defaultStream);
  if (!streamValue.ok) return streamValue;
  return finish(path, { shop_id: ctx.shopId, code: code.value, type: type.value, stream: streamValue.value });
}

/** `/push/custom`: a custom event key and its optional category, label and integer value. */
function customFields(row: Row): Check<{ event: string; fields: Record<string, JsonValue | undefined> }> {
  if (customEventRule(row.event) !== undefined) return fail('event', CUSTOM_EVENT, row.event, true);
  const category = optionalText(row.category, 'category');
  if (!category.ok) return category;
  const label = optionalText(row.label, 'label');
  if (!label.ok) return label;
  const value = optionalInteger(row.value, 'value');
  if (!value.ok) return value;
  return {
    ok: true,
    value: { event: String(row.event), fields: { category: category.value, label: label.value, value: value.value } },
  };
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
  const content = path.value === '/push' ? pushEventFields(row) : customFields(row);
  if (!content.ok) return content;
  const did = requiredId(row.did, 'did', sessionIdRule);
  if (!did.ok) return did;
  const envelope = buildEnvelope(did.value, row, key.value, Date.now(), ctx);
  if (!envelope.ok) return envelope;
  return finish(path.value, pushBody(content.value.event, envelope.value, content.value.fields));
}
