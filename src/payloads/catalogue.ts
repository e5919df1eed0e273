/**
 * Catalogue model rows → items of PersonaClick's catalogue imports (docs/catalogue.md, after REES46's
 * `docs/integration/catalog/import/api/{products,categories}.md`): `PUT /import/products` with full products,
 * `PUT`/`POST /import/categories` with categories, and `DELETE` of either with a list of ids.
 *
 * A row that cannot make a valid item is refused whole with one line naming the column and the rule (an *invalid*
 * failure): the API takes the batch and reports bad products only later, by e-mail, so the rules are checked here.
 * Absent or null optional columns are left out, never sent as null or "".
 */
import { hash } from 'node:crypto';
import { describeValue } from './reason.js';
import type { ApiMethod, ApiRequest, JsonObject, JsonValue, Row } from './types.js';

/** Longest product or category id: ids longer than 255 characters are ignored by the tracking events, so would never match. */
export const MAX_CATALOGUE_ID_CHARS = 255;
/** "picture: URL, required, max. 500 characters" (products.md). */
export const MAX_PICTURE_CHARS = 500;

export interface CatalogueContext {
  shopId: string;
  shopSecret: string;
  /** The shop enabled zero prices (an administrator's setting, by request to support): price 0 is allowed. */
  zeroPrices: boolean;
  /** The currency of a product whose row gives none. */
  currency: string | undefined;
  /** The category tree from the categories model (id → has children), when the config has one: product categories must be leaves in it. */
  categories: ReadonlyMap<string, boolean> | undefined;
}

/** A built item, its digest and the UTF-8 length of its JSON (what it adds to a request); or why there is none. */
export type ItemResult = { ok: true; item: JsonObject; hash: string; bytes: number } | { ok: false; reason: string };

type Field = { ok: true; value: JsonValue | undefined } | { ok: false; reason: string };

const bad = (column: string, rule: string, value: unknown): Field => ({ ok: false, reason: `${column}: ${rule} (got ${describeValue(value)})` });
const absent = (value: unknown): boolean => value === null || value === undefined;

function idText(column: string, value: unknown, required: boolean): Field {
  if (absent(value)) return required ? { ok: false, reason: `${column}: is required` } : { ok: true, value: undefined };
  const text =
    typeof value === 'number' && Number.isSafeInteger(value)
      ? String(value)
      : typeof value === 'string' || typeof value === 'bigint'
        ? String(value)
        : undefined;
  if (text === undefined || text.trim() === '') return bad(column, 'must be a non-empty text or whole number', value);
  if (text.length > MAX_CATALOGUE_ID_CHARS)
    return bad(column, `must be at most ${MAX_CATALOGUE_ID_CHARS} characters`, `${text.slice(0, 40)}… (${text.length} characters)`);
  return { ok: true, value: text };
}

function textOf(column: string, value: unknown, required: boolean, maxChars?: number): Field {
  if (absent(value)) return required ? { ok: false, reason: `${column}: is required` } : { ok: true, value: undefined };
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || text.trim() === '') return bad(column, 'must be a non-empty text', value);
  if (maxChars !== undefined && text.length > maxChars)
    return bad(column, `must be at most ${maxChars} characters`, `${text.slice(0, 40)}… (${text.length} characters)`);
  return { ok: true, value: text };
}

function urlOf(column: string, value: unknown, required: boolean, maxChars?: number): Field {
  const text = textOf(column, value, required, maxChars);
  if (!text.ok || text.value === undefined) return text;
  if (typeof text.value !== 'string' || !/^https?:\/\/[^\s]+$/i.test(text.value)) return bad(column, 'must be an http(s) URL', value);
  return text;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

function priceOf(column: string, value: unknown, required: boolean, zeroAllowed: boolean): Field {
  if (absent(value)) return required ? { ok: false, reason: `${column}: is required` } : { ok: true, value: undefined };
  const n = numberOf(value);
  if (n === undefined) return bad(column, 'must be a number', value);
  if (zeroAllowed ? n < 0 : n <= 0)
    return bad(column, zeroAllowed ? 'must be at least 0' : 'must be greater than 0 (zero prices need the shop setting: jobs.products.zeroPrices)', value);
  return { ok: true, value: n };
}

function wholeOf(column: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): Field {
  if (absent(value)) return { ok: true, value: undefined };
  const n = numberOf(value);
  if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max)
    return bad(column, `must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`, value);
  return { ok: true, value: n };
}

function booleanOf(column: string, value: unknown, required: boolean): Field {
  if (absent(value)) return required ? { ok: false, reason: `${column}: is required (true or false)` } : { ok: true, value: undefined };
  if (typeof value !== 'boolean') return bad(column, 'must be true or false', value);
  return { ok: true, value };
}

/** A JSON value the model gives as json/jsonb (or an SQL array): kept as it is when it has the expected shape. */
function jsonOf(column: string, value: unknown, shape: 'array' | 'object', check?: (v: JsonValue) => string | undefined): Field {
  if (absent(value)) return { ok: true, value: undefined };
  const ok = shape === 'array' ? Array.isArray(value) : typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!ok) return bad(column, `must be a JSON ${shape}`, value);
  const problem = check?.(value as JsonValue);
  return problem === undefined ? { ok: true, value: value as JsonValue } : { ok: false, reason: `${column}${problem}` };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `params`: [{name, value: [...], unit?, priority?, searchable?}] (products.md, "Особенности params"). */
function paramsProblem(value: JsonValue): string | undefined {
  const list = value as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (!isObject(p)) return `[${i}]: must be an object {name, value}`;
    if (typeof p.name !== 'string' || p.name.trim() === '') return `[${i}].name: is required (a non-empty text)`;
    if (!Array.isArray(p.value)) return `[${i}].value: is required (an array)`;
  }
  return undefined;
}

/** `locations`: [{location, price?, oldprice?, stock_quantity?, …}] (products.md, "Особенности location"). */
function locationsProblem(value: JsonValue): string | undefined {
  const list = value as JsonValue[];
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    if (!isObject(l)) return `[${i}]: must be an object {location}`;
    if (typeof l.location !== 'string' || l.location.trim() === '') return `[${i}].location: is required (a non-empty text)`;
    for (const money of ['price', 'oldprice'] as const)
      if (l[money] !== undefined && !(typeof l[money] === 'number' && l[money] > 0)) return `[${i}].${money}: must be a positive number`;
  }
  return undefined;
}

/** Product `categories`: a non-empty array of ids; leaves of the category tree when the config has one. */
function categoriesOf(value: unknown, tree: ReadonlyMap<string, boolean> | undefined): Field {
  if (absent(value)) return { ok: false, reason: 'categories: is required (an array of category ids)' };
  const list = Array.isArray(value) ? (value as unknown[]) : typeof value === 'string' || typeof value === 'number' ? [value] : undefined;
  if (list === undefined || list.length === 0) return bad('categories', 'must be a non-empty array of category ids', value);
  const ids: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const id = idText(`categories[${i}]`, list[i], true);
    if (!id.ok) return id;
    const text = typeof id.value === 'string' ? id.value : '';
    if (tree !== undefined) {
      const parent = tree.get(text);
      if (parent === undefined) return bad(`categories[${i}]`, 'must be a category of the categories model', text);
      if (parent) return bad(`categories[${i}]`, 'must be a leaf category (the docs: only the end categories a product lies in, not the breadcrumbs)', text);
    }
    ids.push(text);
  }
  return { ok: true, value: ids };
}

type Rule = (value: unknown, ctx: CatalogueContext, column: string) => Field;

const optionalText: Rule = (v, _ctx, column) => textOf(column, v, false);

/**
 * The product columns, in the order they go out (products.md): each column's rule; the field takes the column's name.
 * Columns the model gives beyond these (and `updated_at`) are not sent.
 */
const PRODUCT_COLUMNS: readonly (readonly [string, Rule])[] = [
  ['id', (v) => idText('id', v, true)],
  ['name', (v) => textOf('name', v, true)],
  ['price', (v, ctx) => priceOf('price', v, true, ctx.zeroPrices)],
  ['currency', (v, ctx) => textOf('currency', absent(v) ? ctx.currency : v, true)],
  ['url', (v) => urlOf('url', v, true)],
  ['picture', (v) => urlOf('picture', v, true, MAX_PICTURE_CHARS)],
  ['available', (v) => booleanOf('available', v, true)],
  ['categories', (v, ctx) => categoriesOf(v, ctx.categories)],
  ['oldprice', (v) => priceOf('oldprice', v, false, false)],
  ['price_with_promocode', (v) => priceOf('price_with_promocode', v, false, true)],
  ['brand', optionalText],
  ['barcode', optionalText],
  ['group_id', (v) => idText('group_id', v, false)],
  ['vendor_code', optionalText],
  ['type_prefix', optionalText],
  ['model', optionalText],
  ['description', optionalText],
  ['stock_quantity', (v) => wholeOf('stock_quantity', v, 0)],
  ['discount_percent', (v) => wholeOf('discount_percent', v, 0, 100)],
  ['price_margin', (v) => wholeOf('price_margin', v, 0, 100)],
  ['rating', (v) => wholeOf('rating', v, 1, 5)],
  [
    'leftovers',
    (v) =>
      absent(v) || v === 'one' || v === 'few' || v === 'lot'
        ? { ok: true, value: absent(v) ? undefined : (v as string) }
        : bad('leftovers', 'must be one of "one", "few", "lot"', v),
  ],
  ['is_new', (v) => booleanOf('is_new', v, false)],
  ['ignored', (v) => booleanOf('ignored', v, false)],
  ['promocode', optionalText],
  ['deeplink_android', optionalText],
  ['deeplink_ios', optionalText],
  ['tags', (v) => jsonOf('tags', v, 'array')],
  [
    'seasonality',
    (v) =>
      jsonOf('seasonality', v, 'array', (s) =>
        (s as JsonValue[]).every((m) => typeof m === 'number' && Number.isInteger(m) && m >= 1 && m <= 12) ? undefined : ': must be months 1 to 12',
      ),
  ],
  ['params', (v) => jsonOf('params', v, 'array', paramsProblem)],
  ['locations', (v) => jsonOf('locations', v, 'array', locationsProblem)],
  ['fashion', (v) => jsonOf('fashion', v, 'object')],
  ['child', (v) => jsonOf('child', v, 'object')],
  ['cosmetic', (v) => jsonOf('cosmetic', v, 'object')],
  ['jewelry', (v) => jsonOf('jewelry', v, 'object')],
];

/** Columns whose rule runs even when the row has no value: the required ones, and currency (the config's default). */
const ALWAYS_CHECKED: ReadonlySet<string> = new Set(['id', 'name', 'price', 'currency', 'url', 'picture', 'available', 'categories']);

/** The item's digest and JSON length, from one serialisation. */
function digested(item: JsonObject): ItemResult {
  const json = JSON.stringify(item);
  return { ok: true, item, hash: hash('sha1', json, 'base64url'), bytes: Buffer.byteLength(json) };
}

/** One product row → its `PUT /import/products` item and the digest of its content (availability included). */
export function buildProductItem(row: Row, ctx: CatalogueContext): ItemResult {
  const item: JsonObject = {};
  for (const [column, rule] of PRODUCT_COLUMNS) {
    const value = row[column];
    // Most optional columns are absent or null: nothing to check, nothing sent.
    if ((value === null || value === undefined) && !ALWAYS_CHECKED.has(column)) continue;
    const field = rule(value, ctx, column);
    if (!field.ok) return field;
    if (field.value !== undefined) item[column] = field.value;
  }
  return digested(item);
}

/** One category row → its `/import/categories` item ({id, name, parent, url?, alias?}) and its digest. */
export function buildCategoryItem(row: Row): ItemResult {
  const item: JsonObject = {};
  const fields: [string, Field][] = [
    ['id', idText('id', row.id, true)],
    ['name', textOf('name', row.name, true)],
    ['parent', idText('parent', row.parent, false)],
    ['url', urlOf('url', row.url, false)],
    ['alias', textOf('alias', row.alias, false)],
  ];
  for (const [column, field] of fields) {
    if (!field.ok) return field;
    if (field.value !== undefined) item[column] = field.value;
  }
  if (item.parent === item.id) return { ok: false, reason: `parent: must not be the category itself (got ${describeValue(item.parent)})` };
  return digested(item);
}

export type CatalogueKind = 'products' | 'categories';

const PATHS = { products: '/import/products', categories: '/import/categories' } as const;
/** The body's list: `items` for products, `categories` for categories (the docs' names). */
const LISTS = { products: 'items', categories: 'categories' } as const;

/**
 * A catalogue import: PUT adds or updates the items (ids of products or categories left out stay as they are), DELETE
 * removes the listed ids (a deleted product is marked out of stock), POST replaces the whole category tree.
 */
export function catalogueRequest(
  kind: CatalogueKind,
  method: Exclude<ApiMethod, 'PATCH'>,
  items: readonly JsonValue[],
  ctx: Pick<CatalogueContext, 'shopId' | 'shopSecret'>,
): ApiRequest {
  return { path: PATHS[kind], method, body: { shop_id: ctx.shopId, shop_secret: ctx.shopSecret, [LISTS[kind]]: [...items] } };
}
