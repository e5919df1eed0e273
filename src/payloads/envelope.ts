/** The envelope every `/push` and `/push/custom` request carries: shop_id, did, seance (+ sid), stream, segment, referer, source. */
import { optionalId, optionalStream, optionalText, segment, stream } from './fields.js';
import { keep } from './policy.js';
import { fail } from './reason.js';
import { TEXT, isNonBlankString, sessionIdRule } from './rules.js';
import { deriveSeance } from './seance.js';
import { sourceParam } from './source.js';
import type { BuildContext, BuildWarning, Check, JsonObject, JsonValue, Row } from './types.js';

export interface Envelope {
  /** shop_id, did, seance, sid, stream, then segment / referer when given. */
  head: JsonObject;
  /** The `source` JSON string, when the row has a click young enough. */
  source: string | undefined;
}

const seanceColumn = (value: unknown, field: string) => optionalId(value, field, sessionIdRule);

/**
 * Build the envelope for `did` from a row's optional envelope columns; `seanceKey` seeds a derived seance. A bad
 * seance, stream, segment, referer or source column is left out with a warning (policy.ts): the seance is then
 * derived and the stream is the configured one, as when the model gives none.
 */
export function buildEnvelope(
  did: string,
  row: Row,
  seanceKey: string,
  referenceMs: number | undefined,
  ctx: BuildContext,
  warnings: BuildWarning[] = [],
): Check<Envelope> {
  if (!isNonBlankString(ctx.shopId)) return fail('shop_id', `${TEXT} (the configured shop id)`, ctx.shopId, true);
  const seance = keep(warnings, 'seance', row.seance, seanceColumn);
  if (!seance.ok) return seance;
  const ownStream = keep(warnings, 'stream', row.stream, optionalStream);
  if (!ownStream.ok) return ownStream;
  const streamValue = stream(ownStream.value, ctx.defaultStream);
  if (!streamValue.ok) return streamValue;
  const segmentValue = keep(warnings, 'segment', row.segment, segment);
  if (!segmentValue.ok) return segmentValue;
  const referer = keep(warnings, 'referer', row.referer, optionalText);
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
  return { ok: true, value: { head, source: sourceParam(row, referenceMs, warnings) } };
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
  // What compact({ event, ...envelope.head, ...fields, source }) gives, written into one object (no spread copy).
  const body: JsonObject = { event };
  const { head } = envelope;
  for (const key in head) body[key] = head[key] as JsonValue;
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) body[key] = value;
    else if (key in body) delete body[key];
  }
  if (envelope.source !== undefined) body.source = envelope.source;
  else if ('source' in body) delete body.source;
  return body;
}
