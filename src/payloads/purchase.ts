/** Orders model row + its lines → a `purchase` request. */
import { customProperties } from './custom.js';
import { buildEnvelope, pushBody } from './envelope.js';
import { money, optionalBoolean, optionalText, parseJsonColumn, requiredId } from './fields.js';
import { purchaseItems } from './items.js';
import { keep } from './policy.js';
import { finish } from './request.js';
import { longIdRule, sessionIdRule } from './rules.js';
import { toEpochMs } from '../dates.js';
import { fail } from './reason.js';
import { isRecord } from './rules.js';
import type { BuildContext, BuildResult, BuildWarning, Check, JsonObject, JsonValue, Row } from './types.js';

const MONEY_COLUMNS = ['order_price', 'order_cash', 'order_bonuses', 'order_delivery', 'order_discount'] as const;
/** Text fields of a purchase: the order's, and the customer identifiers and channel the SDKs send with it (api-notes.md). */
const TEXT_COLUMNS = [
  'promocode',
  'delivery_address',
  'delivery_type',
  'payment_type',
  'email',
  'phone',
  'external_id',
  'loyalty_id',
  'telegram_id',
  'channel',
] as const;

/** `recommended_source`: a non-empty object of text or number values, as PersonaClick's SDKs send it. */
function recommendedSource(value: unknown, field: string): Check<JsonObject | undefined> {
  const parsed = parseJsonColumn(value, field, 'must be a JSON object of text or number values');
  if (!parsed.ok) return parsed;
  const object = parsed.value;
  if (object === undefined || object === null) return { ok: true, value: undefined };
  if (!isRecord(object) || Object.keys(object).length === 0) return fail(field, 'must be a non-empty JSON object', value);
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(object)) {
    if (typeof v === 'string' && v.trim() !== '') out[key] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else return fail(`${field}.${key}`, 'must be non-empty text or a number', v);
  }
  return { ok: true, value: out };
}

export interface OrderFields {
  orderId: string;
  /** order_id, money, texts, tax_free, items, custom: in body order, undefined where absent. */
  fields: Record<string, JsonValue | undefined>;
}

/**
 * The purchase-specific fields of an order row (shared by the orders and the events model). A bad optional column is
 * left out with a warning pushed onto `warnings`, or makes the row invalid, as policy.ts says.
 */
export function orderFields(row: Row, lines: readonly unknown[], warnings: BuildWarning[] = []): Check<OrderFields> {
  const orderId = requiredId(row.order_id, 'order_id', longIdRule);
  if (!orderId.ok) return orderId;
  const fields: Record<string, JsonValue | undefined> = { order_id: orderId.value };
  for (const column of MONEY_COLUMNS) {
    const value = keep(warnings, column, row[column], money);
    if (!value.ok) return value;
    fields[column] = value.value;
  }
  for (const column of TEXT_COLUMNS) {
    const value = keep(warnings, column, row[column], optionalText);
    if (!value.ok) return value;
    fields[column] = value.value;
  }
  const source = keep(warnings, 'recommended_source', row.recommended_source, recommendedSource);
  if (!source.ok) return source;
  fields.recommended_source = source.value;
  const taxFree = keep(warnings, 'tax_free', row.tax_free, optionalBoolean);
  if (!taxFree.ok) return taxFree;
  fields.tax_free = taxFree.value;
  const items = purchaseItems(lines, warnings);
  if (!items.ok) return items;
  fields.items = items.value; // built without undefined fields
  const custom = customProperties(row.custom, warnings);
  if (!custom.ok) return custom;
  fields.custom = custom.value;
  return { ok: true, value: { orderId: orderId.value, fields } };
}

/**
 * An orders-model row and its lines → `purchase`. The seance, when the row has none, derives from
 * (did, order_id); `source` counts its 48 hours back from `ordered_at` (else `updated_at`).
 */
export function buildPurchase(order: Row, lines: readonly Row[], ctx: BuildContext): BuildResult {
  const warnings: BuildWarning[] = [];
  const fields = orderFields(order, lines, warnings);
  if (!fields.ok) return fields;
  const did = requiredId(order.did, 'did', sessionIdRule);
  if (!did.ok) return did;
  const referenceMs = toEpochMs(order.ordered_at) ?? toEpochMs(order.updated_at);
  const envelope = buildEnvelope(did.value, order, fields.value.orderId, referenceMs, ctx, warnings);
  if (!envelope.ok) return envelope;
  return finish('/push', pushBody('purchase', envelope.value, fields.value.fields), warnings);
}
