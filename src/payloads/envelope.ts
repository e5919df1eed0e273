/** The envelope every `/push` and `/push/custom` request carries: shop_id, did, seance (+ sid), stream, segment, referer, source. */
import { optionalId, optionalText, segment, stream } from './fields.js';
import { fail } from './reason.js';
import { TEXT, isNonBlankString, sessionIdRule } from './rules.js';
import { deriveSeance } from './seance.js';
import { sourceParam } from './source.js';
import type { BuildContext, Check, JsonObject, JsonValue, Row } from './types.js';

export interface Envelope {
  /** shop_id, did, seance, sid, stream, then segment / referer when given. */
  head: JsonObject;
  /** The `source` JSON string, when the row has a click young enough. */
  source: string | undefined;
}

/** Build the envelope for `did` from a row's optional envelope columns; `seanceKey` seeds a derived seance. */
export function buildEnvelope(
  did: string,
  row: Row,
  seanceKey: string,
  referenceMs: number | undefined,
  ctx: BuildContext,
): Check<Envelope> {
  if (!isNonBlankString(ctx.shopId)) return fail('shop_id', `${TEXT} (the configured shop id)`, ctx.shopId, true);
  const seance = optionalId(row.seance, 'seance', sessionIdRule);
  if (!seance.ok) return seance;
  const streamValue = stream(row.stream, ctx.defaultStream);
  if (!streamValue.ok) return streamValue;
  const segmentValue = segment(row.segment);
  if (!segmentValue.ok) return segmentValue;
  const referer = optionalText(row.referer, 'referer');
  if (!referer.ok) return referer;
  const session = seance.value ?? deriveSeance(did, seanceKey);
  const head = compact({
    shop_id: ctx.shopId,
    did,
    seance: session,
    sid: session,
    stream: streamValue.value,
    segment: segmentValue.value,
    referer: referer.value,
  });
  return { ok: true, value: { head, source: sourceParam(row, referenceMs) } };
}

/** Drop the keys whose value is undefined. */
export function compact(fields: Record<string, JsonValue | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A `/push` or `/push/custom` body: event first, then the envelope, the event's fields, and source last. */
export function pushBody(event: string, envelope: Envelope, fields: Record<string, JsonValue | undefined>): JsonObject {
  return compact({ event, ...envelope.head, ...fields, source: envelope.source });
}
