/**
 * zod schemas of every request in the API reference, for bodies as JSON (money already numbers,
 * `source` a JSON string, optional values omitted rather than null / "" / arrays).
 */
import { z } from 'zod';
import { describeValue, reasonText } from './reason.js';
import {
  amountRule,
  categoryIdRule,
  customEventRule,
  customKeyProblem,
  customValueRule,
  integerRule,
  jsonItemIdRule,
  jsonLongIdRule,
  moneyRule,
  segmentRule,
  sessionIdRule,
  sourceRule,
  streamRule,
  textRule,
  booleanRule,
  type PushEvent,
  type Rule,
} from './rules.js';

/** A required field checked by `rule`; a missing one reads "is required and …". */
const req = <T>(rule: Rule) => z.custom<T>((v) => rule(v) === undefined, { error: (iss) => reasonText(rule(iss.input) ?? '', iss.input, true) });

/** An optional field: absent is fine, but null, "", arrays and wrong types are not. */
const opt = <T>(rule: Rule) => z.custom<T>((v) => rule(v) === undefined, { error: (iss) => reasonText(rule(iss.input) ?? '', iss.input, false) }).optional();

const isBooleanTrue: Rule = (v) => (v === true ? undefined : 'must be the boolean true');
const eventIs =
  (event: string): Rule =>
  (v) =>
    v === event ? undefined : `must be "${event}"`;

/** A JSON object that names its unknown keys. */
const strict = <S extends z.ZodRawShape>(shape: S, what: string) =>
  z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `is not a field of ${what}` : `must be a JSON object (got ${describeValue(iss.input)})`),
  });

const arrayOf = <T extends z.ZodType>(item: T) => z.array(item, { error: (iss) => `must be an array of item objects (got ${describeValue(iss.input)})` });

const countOf = (input: unknown): string => (Array.isArray(input) ? String(input.length) : '?');
const exactlyOne = <T extends z.ZodType>(item: T, event: string) =>
  arrayOf(item).length(1, {
    error: (iss) => `a "${event}" request takes exactly one item (got ${countOf(iss.input)})`,
  });
const atLeastOne = <T extends z.ZodType>(item: T, hint: string) => arrayOf(item).min(1, { error: `must hold at least one item (${hint})` });

const itemId = req<string | number>(jsonItemIdRule);
const idItem = strict({ id: itemId }, 'an item');
const cartItem = strict({ id: itemId, amount: req<number>(amountRule) }, 'an item');
const fullCartItem = strict({ id: itemId, quantity: req<number>(amountRule) }, 'an item');
const purchaseItem = strict(
  {
    id: itemId,
    amount: req<number>(amountRule),
    price: opt<number>(moneyRule),
    line_id: opt<string | number>(jsonLongIdRule),
    fashion_size: opt<string>(textRule),
  },
  'a purchase item',
);

const customSchema = z
  .record(
    z.string(),
    z.custom<string | number>((v) => customValueRule(v) === undefined, {
      error: (iss) => reasonText(customValueRule(iss.input) ?? '', iss.input, false),
    }),
    { error: (iss) => `must be a JSON object (got ${describeValue(iss.input)})` },
  )
  .superRefine((custom, ctx) => {
    const keys = Object.keys(custom);
    if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'must have at least one property (omit it otherwise)' });
    for (const key of keys) {
      const problem = customKeyProblem(key);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: key.trim() === '' ? [] : [key], message: problem });
    }
  });

/** The envelope of every `/push` and `/push/custom` request. */
const envelope = {
  shop_id: req<string>(textRule),
  did: req<string>(sessionIdRule),
  seance: req<string>(sessionIdRule),
  sid: opt<string>(sessionIdRule),
  stream: req<string>(streamRule),
  segment: opt<'A' | 'B'>(segmentRule),
  referer: opt<string>(textRule),
  source: opt<string>(sourceRule),
};

const recommended = { recommended_by: opt<string>(textRule), recommended_code: opt<string>(textRule) };
const money = opt<number>(moneyRule);
const text = opt<string>(textRule);

/** `sid`, when sent, is the session id again. */
const sameSession = (body: Record<string, unknown>, ctx: z.RefinementCtx): void => {
  if (body.sid !== undefined && body.sid !== body.seance) {
    ctx.addIssue({ code: 'custom', path: ['sid'], message: `must equal seance (got ${describeValue(body.sid)})` });
  }
};

const pushRequest = <S extends z.ZodRawShape>(event: PushEvent | 'custom', shape: S, what = `a "${event}" request`) =>
  strict({ event: req<string>(event === 'custom' ? customEventRule : eventIs(event)), ...envelope, ...shape }, what).superRefine(sameSession);

export const purchaseSchema = pushRequest('purchase', {
  order_id: req<string | number>(jsonLongIdRule),
  order_price: money,
  order_cash: money,
  order_bonuses: money,
  order_delivery: money,
  order_discount: money,
  promocode: text,
  delivery_address: text,
  delivery_type: text,
  payment_type: text,
  tax_free: opt<boolean>(booleanRule),
  email: text,
  phone: text,
  external_id: text,
  loyalty_id: text,
  telegram_id: text,
  channel: text,
  recommended_source: z.record(z.string(), z.union([z.string().min(1), z.number()])).optional(),
  items: atLeastOne(purchaseItem, 'an order needs at least one line'),
  custom: customSchema.optional(),
});

export const pushSchemas: Readonly<Record<PushEvent, z.ZodType>> = {
  view: pushRequest('view', { items: exactlyOne(idItem, 'view'), ...recommended }),
  category: pushRequest('category', { category_id: req<string | number>(categoryIdRule) }),
  cart: pushRequest('cart', { items: exactlyOne(cartItem, 'cart'), ...recommended }),
  remove_from_cart: pushRequest('remove_from_cart', { items: exactlyOne(idItem, 'remove_from_cart') }),
  purchase: purchaseSchema,
  search: pushRequest('search', { search_query: req<string>(textRule), recommended_code: text }),
  wish: pushRequest('wish', { items: exactlyOne(idItem, 'wish') }),
  remove_wish: pushRequest('remove_wish', { items: exactlyOne(idItem, 'remove_wish') }),
};

/** Full cart: `items` overwrite the cart; no `items` clears it. */
export const fullCartSchema = pushRequest(
  'cart',
  {
    items: atLeastOne(fullCartItem, 'omit items to clear the cart').optional(),
    full_cart: req<true>(isBooleanTrue),
  },
  'a full cart request',
);

/** Full wishlist: `items` overwrite the wishlist; no `items` clears it. */
export const fullWishSchema = pushRequest(
  'wish',
  {
    items: atLeastOne(idItem, 'omit items to clear the wishlist').optional(),
    full_wish: req<true>(isBooleanTrue),
  },
  'a full wishlist request',
);

/** `/push/custom`. */
export const customEventSchema = pushRequest(
  'custom',
  {
    category: text,
    label: text,
    value: opt<number>(integerRule),
  },
  'a /push/custom request',
);

/** `/track/received`, `/track/clicked`, `/track/closed`: no envelope, just these four. */
export const trackSchema = strict(
  { shop_id: req<string>(textRule), code: req<string>(textRule), type: req<string>(textRule), stream: req<string>(streamRule) },
  'a /track request',
);

// ───────────────────────────── the order-sync API (api-notes.md, "Order-sync API") ─────────────────────────────

const LINE_STATUS = ['created', 'invoiced', 'shipped', 'delivered', 'cancelled', 'refunded'];
const lineStatusRule: Rule = (v) => (typeof v === 'string' && LINE_STATUS.includes(v) ? undefined : `must be one of ${LINE_STATUS.join(', ')}`);
/** Unix seconds, not milliseconds: a millisecond value would be a date tens of thousands of years ahead. */
const unixSecondsRule: Rule = (v) => (Number.isSafeInteger(v) && (v as number) > 0 && (v as number) < 1e11 ? undefined : 'must be Unix time in seconds');
const commentRule: Rule = (v) =>
  typeof v === 'string' && v.trim() !== '' && v.length <= 500 ? undefined : 'must be a non-empty string of at most 500 characters';

const syncLine = strict(
  {
    id: itemId,
    price: req<number>(moneyRule),
    quantity: req<number>(amountRule),
    line_id: opt<string | number>(jsonLongIdRule),
    status: opt<string>(lineStatusRule),
  },
  'an order-sync line',
);

/** One order of a `/sync/orders` batch, as the connector builds it (a new order: every field the API needs for one). */
export const syncOrderSchema = strict(
  {
    id: req<string | number>(jsonLongIdRule),
    status: req<string>(textRule),
    date: req<number>(unixSecondsRule),
    channel: req<string>(textRule),
    email: text,
    phone: text,
    external_id: text,
    loyalty_id: text,
    telegram_id: text,
    value: strict({ total: req<number>(moneyRule) }, 'value'),
    items: atLeastOne(syncLine, 'an order needs at least one line'),
    payment_structure: strict({ cash: money, bonuses: money, delivery: money, discount: money }, 'payment_structure').optional(),
    promocode: text,
    delivery_type: text,
    delivery_address: text,
    payment_type: text,
    custom: customSchema.optional(),
    comment: opt<string>(commentRule),
    offline: opt<boolean>(booleanRule),
  },
  'an order-sync order',
).superRefine((order, ctx) => {
  if (!['email', 'phone', 'external_id', 'loyalty_id', 'telegram_id'].some((k) => k in order)) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one of email, phone, external_id, loyalty_id, telegram_id' });
  }
  const ids = order.items.map((l) => String(l.id));
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) ctx.addIssue({ code: 'custom', path: ['items'], message: `lists product ${twice} on two lines` });
});
