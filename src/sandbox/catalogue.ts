/**
 * The catalogue imports, as REES46's `docs/integration/catalog/import/api/{index,products,categories}.md` describe
 * them (written from those pages, never from the connector's builders):
 * - `/import/categories`: POST replaces the whole tree ("all categories absent from the request are deleted"), PUT
 *   adds or updates the listed ones, DELETE removes the listed ids (`categories: ["635", …]`).
 * - `/import/products`: PUT adds or updates full products, PATCH lists the ids in stock and marks every other product
 *   out of stock, DELETE marks the listed ids out of stock (`items: ["635", …]`).
 * - Access is checked first: a wrong `shop_id` / `shop_secret` is `400 Bad request`. The rest is queued: the answer
 *   is `204` with no body, and errors in the data reach the account by e-mail later. The sandbox checks the data at
 *   once all the same and keeps what it finds as the "e-mails" (`errors`), storing only the valid items.
 * - Limits: 40 requests a minute for the account (shared here with the order-sync API), 32 MB a request, at most 5000
 *   products a request recommended (more: 413 here, so a connector that ignores it is caught).
 * The sandbox keeps the catalogue it was told, for tests and the demo to compare with the shop.
 */
import { isObject, type JsonObject } from './rules/check.js';

export const CATALOGUE_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/import/products', ['PUT', 'PATCH', 'DELETE']],
  ['/import/categories', ['POST', 'PUT', 'DELETE']],
]);

/** products.md: "Рекомендуется отправлять не более 5000 товаров в одном запросе". */
export const CATALOGUE_MAX_ITEMS = 5000;
/** The longest id the events accept ("ID длиннее 255 символов ... проигнорированы"). */
const MAX_ID = 255;
/** products.md: `picture` "URL, required, max. 500 characters". */
const MAX_PICTURE = 500;

export interface StoredProduct {
  item: JsonObject;
  /** As PersonaClick shows it: the item's `available` (true when absent), false after DELETE or a PATCH leaving it out. */
  available: boolean;
  /** Removed with DELETE (the docs: marked out of stock). */
  removed: boolean;
}

export interface StoredCategory {
  id: string;
  name: string;
  parent: string | null;
  url?: string;
  alias?: string;
}

const isId = (v: unknown): boolean =>
  (typeof v === 'string' && v.trim() !== '' && v.length <= MAX_ID) || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const isUrl = (v: unknown): v is string => isText(v) && /^https?:\/\//i.test(v);

/** Why a product of a PUT is not taken, or undefined. */
export function productProblem(item: unknown, i: number, zeroPrices: boolean): string | undefined {
  const at = `items[${i}]`;
  if (!isObject(item)) return `${at}: must be an object`;
  if (!isId(item.id)) return `${at}.id: required, a non-empty string of at most ${MAX_ID} characters or a whole number`;
  if (!isText(item.name)) return `${at}.name: required`;
  if (typeof item.price !== 'number' || !Number.isFinite(item.price) || (zeroPrices ? item.price < 0 : item.price <= 0)) return `${at}.price: required, > 0`;
  if (!isUrl(item.url)) return `${at}.url: required, a URL`;
  if (!isUrl(item.picture) || item.picture.length > MAX_PICTURE) return `${at}.picture: required, a URL of at most ${MAX_PICTURE} characters`;
  if (!Array.isArray(item.categories) || item.categories.length === 0 || !item.categories.every(isId))
    return `${at}.categories: required, an array of strings or integers`;
  if (item.available !== undefined && typeof item.available !== 'boolean') return `${at}.available: must be true or false`;
  if (!isText(item.currency)) return `${at}.currency: required (the currency of the price)`;
  if (item.oldprice !== undefined && !(typeof item.oldprice === 'number' && item.oldprice > 0)) return `${at}.oldprice: must be a positive number`;
  if (item.params !== undefined) {
    if (!Array.isArray(item.params)) return `${at}.params: must be an array`;
    for (const p of item.params) if (!isObject(p) || !isText(p.name) || !Array.isArray(p.value)) return `${at}.params: each is {name, value: [...]}`;
  }
  if (item.locations !== undefined) {
    if (!Array.isArray(item.locations)) return `${at}.locations: must be an array`;
    for (const l of item.locations) if (!isObject(l) || !isText(l.location)) return `${at}.locations: each names its location`;
  }
  if (item.stock_quantity !== undefined && !(typeof item.stock_quantity === 'number' && Number.isSafeInteger(item.stock_quantity) && item.stock_quantity >= 0))
    return `${at}.stock_quantity: must be a whole number`;
  for (const [key, value] of Object.entries(item)) if (value === null || value === '') return `${at}.${key}: must not be null or empty (leave it out)`;
  return undefined;
}

/** Why a category of a POST or PUT is not taken, or undefined. */
export function categoryProblem(item: unknown, i: number): string | undefined {
  const at = `categories[${i}]`;
  if (!isObject(item)) return `${at}: must be an object`;
  if (!isId(item.id)) return `${at}.id: required`;
  if (!isText(item.name)) return `${at}.name: required`;
  if (item.parent !== undefined && item.parent !== null && !isId(item.parent)) return `${at}.parent: a string or null`;
  if (item.url !== undefined && !isUrl(item.url)) return `${at}.url: a URL`;
  if (item.alias !== undefined && !isText(item.alias)) return `${at}.alias: a string`;
  return undefined;
}

export interface CatalogueVerdict {
  status: number;
  message?: string;
}

/** What the sandbox holds of the catalogue, and the errors it would have mailed. */
export class SandboxCatalogue {
  readonly products = new Map<string, StoredProduct>();
  readonly categories = new Map<string, StoredCategory>();
  /** The errors the real API reports by e-mail after the 204: one line each. */
  readonly errors: string[] = [];
  /** Every accepted request: method, path and how many items. */
  readonly requests: { method: string; path: string; count: number; at: number }[] = [];
  /** Product id → how many times a PUT added or updated it (a product told twice shows here). */
  readonly puts = new Map<string, number>();

  /** The shop enabled zero prices (an administrator setting at PersonaClick): price 0 is then taken. */
  zeroPrices = false;

  reset(): void {
    this.products.clear();
    this.categories.clear();
    this.errors.length = 0;
    this.requests.length = 0;
    this.puts.clear();
  }

  /** Judge and apply a request whose credentials were checked. */
  apply(path: string, method: string, body: JsonObject, at: number): CatalogueVerdict {
    const list = path === '/import/products' ? body.items : body.categories;
    const listName = path === '/import/products' ? 'items' : 'categories';
    if (!Array.isArray(list)) return { status: 400, message: `${listName}: required, an array` };
    if (list.length > CATALOGUE_MAX_ITEMS) return { status: 413, message: `${listName}: at most ${CATALOGUE_MAX_ITEMS} a request (got ${list.length})` };
    this.requests.push({ method, path, count: list.length, at });
    if (path === '/import/products') this.applyProducts(method, list);
    else this.applyCategories(method, list);
    return { status: 204 };
  }

  private ids(list: readonly unknown[], listName: string): string[] {
    const out: string[] = [];
    list.forEach((id, i) => (isId(id) ? out.push(String(id)) : this.errors.push(`${listName}[${i}]: an id (string or integer)`)));
    return out;
  }

  private applyProducts(method: string, list: readonly unknown[]): void {
    if (method === 'PUT') {
      list.forEach((item, i) => {
        const problem = productProblem(item, i, this.zeroPrices);
        if (problem !== undefined) return void this.errors.push(problem);
        const product = item as JsonObject;
        const id = String(product.id);
        this.products.set(id, { item: product, available: product.available !== false, removed: false });
        this.puts.set(id, (this.puts.get(id) ?? 0) + 1);
      });
    } else if (method === 'DELETE') {
      for (const id of this.ids(list, 'items')) {
        const held = this.products.get(id);
        if (held) this.products.set(id, { ...held, available: false, removed: true });
      }
    } else {
      // PATCH: the listed ids are in stock, every other product out of stock.
      const inStock = new Set(this.ids(list, 'items'));
      for (const [id, held] of this.products) this.products.set(id, { ...held, available: inStock.has(id) });
    }
  }

  private applyCategories(method: string, list: readonly unknown[]): void {
    if (method === 'DELETE') {
      for (const id of this.ids(list, 'categories')) this.categories.delete(id);
      return;
    }
    const taken: StoredCategory[] = [];
    list.forEach((item, i) => {
      const problem = categoryProblem(item, i);
      if (problem !== undefined) return void this.errors.push(problem);
      const c = item as JsonObject;
      taken.push({
        id: String(c.id),
        name: String(c.name),
        parent: typeof c.parent === 'string' || typeof c.parent === 'number' ? String(c.parent) : null,
        ...(typeof c.url === 'string' ? { url: c.url } : {}),
        ...(typeof c.alias === 'string' ? { alias: c.alias } : {}),
      });
    });
    if (method === 'POST') this.categories.clear();
    for (const c of taken) this.categories.set(c.id, c);
  }

  /** Products PersonaClick would recommend: held, available, not removed. */
  inStock(): string[] {
    return [...this.products].filter(([, p]) => p.available && !p.removed).map(([id]) => id);
  }
}
