/** Events-model rows for `/push`: the fields of each event the reference lists. */
import { parseJsonColumn, count, isTrue, optionalText, requiredId, requiredText } from './fields.js';
import { cartItems, lineObject, wishItems } from './items.js';
import { keep } from './policy.js';
import { orderFields } from './purchase.js';
import { fail, failPlain, isAbsent } from './reason.js';
import { CATEGORY_ID, PUSH_EVENTS, isNonBlankString, itemIdRule, type PushEvent } from './rules.js';
import type { BuildWarning, Check, JsonValue, Row } from './types.js';

export interface PushEventFields {
  event: PushEvent;
  /** Event-specific fields in body order; undefined where absent. */
  fields: Record<string, JsonValue | undefined>;
}

type Fields = Check<Record<string, JsonValue | undefined>>;

const ITEMS = 'must be a JSON array of item objects';
const isPushEvent = (value: unknown): value is PushEvent => (PUSH_EVENTS as readonly unknown[]).includes(value);

/** The `items` column: a json array (or its JSON text); absent → undefined. */
function itemsColumn(value: unknown): Check<unknown[] | undefined> {
  const parsed = parseJsonColumn(value, 'items', ITEMS);
  if (!parsed.ok) return parsed;
  if (parsed.value === undefined || parsed.value === null) return { ok: true, value: undefined };
  return Array.isArray(parsed.value) ? { ok: true, value: parsed.value } : fail('items', ITEMS, value);
}

/** The one item a view / cart / remove / wish event carries: its id, and for `cart` its amount. */
function singleItem(items: readonly unknown[] | undefined, event: PushEvent, withAmount: boolean): Fields {
  const n = items?.length ?? 0;
  if (items === undefined || n !== 1) return failPlain('items', `a "${event}" event needs exactly one item (got ${n})`);
  const row = lineObject(items[0], 0);
  if (!row.ok) return row;
  const id = requiredId(row.value.id, 'items[0].id', itemIdRule);
  if (!id.ok) return id;
  if (!withAmount) return { ok: true, value: { items: [{ id: id.value }] } };
  const amount = count(row.value.amount, 'items[0].amount');
  return amount.ok ? { ok: true, value: { items: [{ id: id.value, amount: amount.value }] } } : amount;
}

function recommended(row: Row, columns: readonly ('recommended_by' | 'recommended_code')[], warnings: BuildWarning[]): Fields {
  const out: Record<string, JsonValue | undefined> = {};
  for (const column of columns) {
    const value = keep(warnings, column, row[column], optionalText);
    if (!value.ok) return value;
    out[column] = value.value;
  }
  return { ok: true, value: out };
}

function withRecommended(item: Fields, row: Row, warnings: BuildWarning[]): Fields {
  if (!item.ok) return item;
  const recs = recommended(row, ['recommended_by', 'recommended_code'], warnings);
  return recs.ok ? { ok: true, value: { ...item.value, ...recs.value } } : recs;
}

function categoryId(value: unknown): Fields {
  if (isAbsent(value)) return fail('category_id', CATEGORY_ID, value, true);
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: { category_id: value } };
  if (isNonBlankString(value) || typeof value === 'bigint') return { ok: true, value: { category_id: String(value) } };
  return fail('category_id', CATEGORY_ID, value);
}

function search(row: Row, warnings: BuildWarning[]): Fields {
  const query = requiredText(row.search_query, 'search_query');
  if (!query.ok) return query;
  const recs = recommended(row, ['recommended_code'], warnings);
  return recs.ok ? { ok: true, value: { search_query: query.value, ...recs.value } } : recs;
}

function fullList(kind: 'cart' | 'wish', items: readonly unknown[] | undefined): Fields {
  const checked = kind === 'cart' ? cartItems(items ?? []) : wishItems(items ?? []);
  if (!checked.ok) return checked;
  const list = checked.value.length > 0 ? checked.value.map((item) => ({ ...item })) : undefined;
  return { ok: true, value: { items: list, [kind === 'cart' ? 'full_cart' : 'full_wish']: true } };
}

function eventFields(event: PushEvent, row: Row, items: readonly unknown[] | undefined, full: boolean, warnings: BuildWarning[]): Fields {
  switch (event) {
    case 'view':
      return withRecommended(singleItem(items, event, false), row, warnings);
    case 'category':
      return categoryId(row.category_id);
    case 'cart':
      return full ? fullList('cart', items) : withRecommended(singleItem(items, event, true), row, warnings);
    case 'remove_from_cart':
    case 'remove_wish':
      return singleItem(items, event, false);
    case 'wish':
      return full ? fullList('wish', items) : singleItem(items, event, false);
    case 'search':
      return search(row, warnings);
    case 'purchase': {
      const order = orderFields(row, items ?? [], warnings);
      return order.ok ? { ok: true, value: order.value.fields } : order;
    }
  }
}

/** The event and its fields for an events-model row going to `/push`; warnings of left-out fields go onto `warnings`. */
export function pushEventFields(row: Row, warnings: BuildWarning[] = []): Check<PushEventFields> {
  const event = row.event;
  if (!isPushEvent(event)) return fail('event', `must be one of ${PUSH_EVENTS.join(', ')} for /push`, event, true);
  const fullCart = isTrue(row.full_cart);
  const fullWish = isTrue(row.full_wish);
  if (fullCart && event !== 'cart') return failPlain('full_cart', `is only for the "cart" event (the event is "${event}")`);
  if (fullWish && event !== 'wish') return failPlain('full_wish', `is only for the "wish" event (the event is "${event}")`);
  const items = itemsColumn(row.items);
  if (!items.ok) return items;
  const fields = eventFields(event, row, items.value, fullCart || fullWish, warnings);
  return fields.ok ? { ok: true, value: { event, fields: fields.value } } : fields;
}
