/**
 * The sandbox judges requests by rules of its own, written from the API reference and api-notes.md.
 * Proved over real HTTP on a corpus: every curl example body of the reference (committed under
 * test/fixtures/reference, one file an example) is accepted, except the purchase example whose
 * stray `}` makes it malformed JSON; and a table of mutations of those examples is refused, each
 * with a reason that names the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorMessage, sandboxClient } from './support/sandbox-client.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'reference');
const SHOP = '0d42fd8b713d0752776ca589cc0056';

interface Example {
  /** The API path: the file's folder below the corpus root. */
  path: string;
  /** The file, relative to the corpus root. */
  name: string;
  text: string;
}

function examples(dir = ROOT): Example[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const file = join(dir, entry.name);
      if (entry.isDirectory()) return examples(file);
      if (!entry.name.endsWith('.json')) return [];
      return [{ path: `/${relative(ROOT, dir)}`, name: relative(ROOT, file), text: readFileSync(file, 'utf8') }];
    });
}

const CORPUS = examples();
/** The reference's first checkout example closes its body before `custom` with a stray `}`. */
const MALFORMED = 'push/successful-checkout.json';

type Body = Record<string, unknown>;
function example(name: string): Body {
  const found = CORPUS.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no example ${name}`);
  return JSON.parse(found.text) as Body;
}

const { sandbox, call, post } = sandboxClient();

describe('the reference examples', () => {
  it('has every curl example of the reference: 26 bodies over 5 paths', () => {
    expect(CORPUS).toHaveLength(26);
    expect(new Set(CORPUS.map((e) => e.path))).toEqual(new Set(['/push', '/push/custom', '/track/received', '/track/clicked', '/track/closed']));
  });

  it('accepts every example as sent, except the one with a stray brace (400, malformed JSON)', async () => {
    const sb = await sandbox({ shopIds: [SHOP] });
    const answers: Record<string, number> = {};
    for (const e of CORPUS) answers[e.name] = (await call(sb, e.path, { raw: e.text })).status;

    const expected = Object.fromEntries(CORPUS.map((e) => [e.name, e.name === MALFORMED ? 400 : e.path === '/push/custom' ? 204 : 200]));
    expect(answers).toEqual(expected);
    expect(sb.stats()).toMatchObject({ received: 26, accepted: 25, invalid: 1, rejected: 0 });
    expect(sb.purchases.get('N100500')).toBe(1);
    // In name order the last examples to touch the device's cart and wishlist are the full ones.
    expect(sb.carts.get('7rjVGhMykT')).toEqual(
      new Map([
        ['100500', 3],
        ['100123', 1],
      ]),
    );
    expect(sb.wishlists.get('7rjVGhMykT')).toEqual(new Set(['100500', '100123']));
  });

  it('answers the malformed example with a JSON error', async () => {
    const sb = await sandbox();
    const reply = await call(sb, '/push', { raw: CORPUS.find((e) => e.name === MALFORMED)?.text ?? '' });
    expect(reply.status).toBe(400);
    expect(errorMessage(reply)).toMatch(/Invalid JSON/);
  });
});

const view = example('push/product-view--with-source.json');
const category = example('push/category-view.json');
const cart = example('push/adding-to-cart.json');
const removeFromCart = example('push/removing-from-cart.json');
const fullCart = example('push/update-cart.json');
const fullWish = example('push/update-wishlist.json');
const search = example('push/search-request.json');
const purchase = example('push/successful-checkout--with-source.json');
const customEvent = example('push/custom/custom-event.json');
const track = example('track/clicked/clicking-app-push.json');

const without = (body: Body, field: string): Body => Object.fromEntries(Object.entries(body).filter(([k]) => k !== field));
const withItem = (body: Body, item: Body): Body => ({ ...body, items: [item] });
const withCustom = (custom: unknown): Body => ({ ...purchase, custom });

interface Mutation {
  what: string;
  path?: string;
  body: unknown;
  /** The field path the reason must start with. */
  field: string;
  status?: number;
}

const MUTATIONS: Mutation[] = [
  // Envelope and credentials.
  { what: 'no shop_id', body: without(view, 'shop_id'), field: 'shop_id', status: 401 },
  { what: 'no did', body: without(view, 'did'), field: 'did', status: 401 },
  { what: 'did a number', body: { ...view, did: 123 }, field: 'did' },
  { what: 'no seance', body: without(view, 'seance'), field: 'seance' },
  { what: 'seance ""', body: { ...view, seance: '' }, field: 'seance' },
  { what: 'sid other than seance', body: { ...view, sid: 'Other12345' }, field: 'sid' },
  { what: 'no stream', body: without(view, 'stream'), field: 'stream' },
  { what: 'stream ""', body: { ...view, stream: '' }, field: 'stream' },
  { what: 'stream not alphanumeric', body: { ...view, stream: 'web-app' }, field: 'stream' },
  { what: 'stream of 17 characters', body: { ...view, stream: 'a'.repeat(17) }, field: 'stream' },
  { what: 'segment "C"', body: { ...view, segment: 'C' }, field: 'segment' },
  { what: 'segment ""', body: { ...view, segment: '' }, field: 'segment' },
  { what: 'segment null', body: { ...view, segment: null }, field: 'segment' },
  { what: 'referer ""', body: { ...view, referer: '' }, field: 'referer' },
  { what: 'referer null', body: { ...view, referer: null }, field: 'referer' },
  { what: 'referer an array', body: { ...view, referer: ['https://mystore.com'] }, field: 'referer' },
  { what: 'source an object, not a string', body: { ...view, source: { from: 'chain', code: 'abc' } }, field: 'source' },
  { what: 'source not JSON', body: { ...view, source: 'chain:abc' }, field: 'source' },
  { what: 'source without code', body: { ...view, source: '{"from":"chain"}' }, field: 'source' },
  { what: 'source ""', body: { ...view, source: '' }, field: 'source' },
  { what: 'a field the reference does not have', body: { ...purchase, order_cost: 750 }, field: 'order_cost' },
  { what: 'body an array', body: [view], field: 'body' },
  { what: 'body a string', body: 'view', field: 'body' },
  // Events and items.
  { what: 'no event', body: without(view, 'event'), field: 'event' },
  { what: 'an event /push does not have', body: { ...view, event: 'checkout' }, field: 'event' },
  { what: 'view with two items', body: { ...view, items: [{ id: '1' }, { id: '2' }] }, field: 'items' },
  { what: 'view without items', body: without(view, 'items'), field: 'items' },
  { what: 'view with items an object', body: { ...view, items: { id: '1' } }, field: 'items' },
  { what: 'item id ""', body: withItem(view, { id: '' }), field: 'items[0].id' },
  { what: 'item id with a backslash', body: withItem(view, { id: 'a\\b' }), field: 'items[0].id' },
  { what: 'item id of 256 characters', body: withItem(view, { id: 'x'.repeat(256) }), field: 'items[0].id' },
  { what: 'item id null', body: withItem(view, { id: null }), field: 'items[0].id' },
  { what: 'item id a fraction', body: withItem(view, { id: 1.5 }), field: 'items[0].id' },
  { what: 'cart item without amount', body: withItem(cart, { id: '100500' }), field: 'items[0].amount' },
  { what: 'cart amount 0', body: withItem(cart, { id: '100500', amount: 0 }), field: 'items[0].amount' },
  { what: 'cart amount 1.5', body: withItem(cart, { id: '100500', amount: 1.5 }), field: 'items[0].amount' },
  { what: 'cart amount a string', body: withItem(cart, { id: '100500', amount: '2' }), field: 'items[0].amount' },
  { what: 'remove_from_cart with an amount', body: withItem(removeFromCart, { id: '1', amount: 1 }), field: 'items[0].amount' },
  { what: 'no category_id', body: without(category, 'category_id'), field: 'category_id' },
  { what: 'category_id ""', body: { ...category, category_id: '' }, field: 'category_id' },
  { what: 'no search_query', body: without(search, 'search_query'), field: 'search_query' },
  { what: 'recommended_code ""', body: { ...search, recommended_code: '' }, field: 'recommended_code' },
  { what: 'recommended_by on a search', body: { ...search, recommended_by: 'dynamic' }, field: 'recommended_by' },
  // Full cart and full wishlist.
  { what: 'full_cart the string "true"', body: { ...fullCart, full_cart: 'true' }, field: 'full_cart' },
  { what: 'full_cart false', body: { ...fullCart, full_cart: false }, field: 'full_cart' },
  { what: 'full_cart null', body: { ...fullCart, full_cart: null }, field: 'full_cart' },
  { what: 'full cart line with amount instead of quantity', body: withItem(fullCart, { id: '100500', amount: 3 }), field: 'items[0].amount' },
  { what: 'full cart line without quantity', body: withItem(fullCart, { id: '100500' }), field: 'items[0].quantity' },
  { what: 'full cart quantity 0', body: withItem(fullCart, { id: '100500', quantity: 0 }), field: 'items[0].quantity' },
  { what: 'full cart items [] (clearing leaves items out)', body: { ...fullCart, items: [] }, field: 'items' },
  { what: 'full_wish 1', body: { ...fullWish, full_wish: 1 }, field: 'full_wish' },
  { what: 'full wishlist line with a quantity', body: withItem(fullWish, { id: '1', quantity: 1 }), field: 'items[0].quantity' },
  { what: 'full_cart on a view', body: { ...view, full_cart: true }, field: 'full_cart' },
  { what: 'full_wish on a cart', body: { ...cart, full_wish: true }, field: 'full_wish' },
  // Purchase.
  { what: 'purchase without items', body: without(purchase, 'items'), field: 'items' },
  { what: 'purchase with items []', body: { ...purchase, items: [] }, field: 'items' },
  { what: 'purchase line without amount', body: withItem(purchase, { id: '1', price: 10 }), field: 'items[0].amount' },
  { what: 'purchase line price negative', body: withItem(purchase, { id: '1', amount: 1, price: -5 }), field: 'items[0].price' },
  { what: 'purchase line price a string', body: withItem(purchase, { id: '1', amount: 1, price: '100' }), field: 'items[0].price' },
  { what: 'purchase line line_id ""', body: withItem(purchase, { id: '1', amount: 1, line_id: '' }), field: 'items[0].line_id' },
  { what: 'order_id ""', body: { ...purchase, order_id: '' }, field: 'order_id' },
  { what: 'order_id null', body: { ...purchase, order_id: null }, field: 'order_id' },
  { what: 'order_id of 256 characters', body: { ...purchase, order_id: 'N'.repeat(256) }, field: 'order_id' },
  { what: 'order_price negative', body: { ...purchase, order_price: -1 }, field: 'order_price' },
  { what: 'order_price a string', body: { ...purchase, order_price: '750' }, field: 'order_price' },
  { what: 'order_cash null', body: { ...purchase, order_cash: null }, field: 'order_cash' },
  { what: 'order_discount an array', body: { ...purchase, order_discount: [50] }, field: 'order_discount' },
  { what: 'promocode ""', body: { ...purchase, promocode: '' }, field: 'promocode' },
  { what: 'payment_type null', body: { ...purchase, payment_type: null }, field: 'payment_type' },
  { what: 'tax_free "yes"', body: { ...purchase, tax_free: 'yes' }, field: 'tax_free' },
  { what: 'email ""', body: { ...purchase, email: '' }, field: 'email' },
  { what: 'custom {}', body: withCustom({}), field: 'custom' },
  { what: 'custom an array', body: withCustom([{ boxes: 2 }]), field: 'custom' },
  { what: 'custom a JSON string', body: withCustom('{"boxes":2}'), field: 'custom' },
  { what: 'custom key order_id (reserved)', body: withCustom({ order_id: 'N1' }), field: 'custom.order_id' },
  { what: 'custom key did (reserved)', body: withCustom({ did: 'x' }), field: 'custom.did' },
  { what: 'custom key recommended_by (reserved)', body: withCustom({ recommended_by: 'x' }), field: 'custom.recommended_by' },
  { what: 'custom value a fraction', body: withCustom({ boxes: 2.5 }), field: 'custom.boxes' },
  { what: 'custom value null', body: withCustom({ boxes: null }), field: 'custom.boxes' },
  { what: 'custom value a boolean', body: withCustom({ gift: true }), field: 'custom.gift' },
  { what: 'custom value ""', body: withCustom({ order_comment: '' }), field: 'custom.order_comment' },
  { what: 'custom value an object', body: withCustom({ boxes: { n: 2 } }), field: 'custom.boxes' },
  { what: 'custom date that is no day', body: withCustom({ refund_date: '2021-02-30' }), field: 'custom.refund_date' },
  // Custom events.
  { what: 'custom event without event', path: '/push/custom', body: without(customEvent, 'event'), field: 'event' },
  { what: 'custom event key ""', path: '/push/custom', body: { ...customEvent, event: '' }, field: 'event' },
  { what: 'custom event without did', path: '/push/custom', body: without(customEvent, 'did'), field: 'did', status: 401 },
  { what: 'custom event value 1.5', path: '/push/custom', body: { ...customEvent, value: 1.5 }, field: 'value' },
  { what: 'custom event value a string', path: '/push/custom', body: { ...customEvent, value: '100' }, field: 'value' },
  { what: 'custom event category ""', path: '/push/custom', body: { ...customEvent, category: '' }, field: 'category' },
  { what: 'custom event label null', path: '/push/custom', body: { ...customEvent, label: null }, field: 'label' },
  { what: 'custom event time in milliseconds', path: '/push/custom', body: { ...customEvent, time: Date.now() }, field: 'time' },
  { what: 'custom event with items', path: '/push/custom', body: { ...customEvent, items: [{ id: '1' }] }, field: 'items' },
  // Track.
  { what: 'track without code', path: '/track/clicked', body: without(track, 'code'), field: 'code' },
  { what: 'track type ""', path: '/track/received', body: { ...track, type: '' }, field: 'type' },
  { what: 'track without stream', path: '/track/closed', body: without(track, 'stream'), field: 'stream' },
  { what: 'track with a did', path: '/track/clicked', body: { ...track, did: '7rjVGhMykT' }, field: 'did' },
  { what: 'track without shop_id', path: '/track/clicked', body: without(track, 'shop_id'), field: 'shop_id', status: 401 },
];

/** What the notes allow beyond the examples' own values. */
const ACCEPTED_VARIANTS: { what: string; path?: string; body: Body }[] = [
  { what: 'tax_free false (a boolean in the reference)', body: { ...purchase, tax_free: false } },
  { what: 'tax_free true', body: { ...purchase, tax_free: true } },
  { what: 'a purchase without order_id (optional in the reference)', body: without(purchase, 'order_id') },
  { what: 'a numeric order_id ("number/string")', body: { ...purchase, order_id: 100500 } },
  { what: 'sid equal to seance', body: { ...purchase, sid: purchase.seance } },
  { what: 'the person on a purchase', body: { ...purchase, email: 'a@b.c', phone: '+15550001', external_id: 'c1', loyalty_id: 'L1' } },
  { what: 'line_id and fashion_size on a purchase line', body: withItem(purchase, { id: '1', amount: 2, price: 9.5, line_id: 'L-1', fashion_size: 'XL' }) },
  { what: 'an amount above 1000 (the server clamps it)', body: withItem(cart, { id: '100500', amount: 5000 }) },
  { what: 'a string category_id', body: { ...category, category_id: 'shoes' } },
  { what: 'segment B', body: { ...view, segment: 'B' } },
  { what: 'a custom event key of any characters', path: '/push/custom', body: { ...customEvent, event: 'Ordered: gift card (50€)!' } },
  { what: 'a custom event time in seconds', path: '/push/custom', body: { ...customEvent, time: Math.floor(Date.now() / 1000) - 86_400 } },
  { what: 'a negative custom event value', path: '/push/custom', body: { ...customEvent, value: -3 } },
];

describe('mutations of the examples', () => {
  it(`refuses each of ${MUTATIONS.length} mutations with a reason that names the field, and records none`, async () => {
    const sb = await sandbox({ shopIds: [SHOP] });
    const seen: { what: string; status: number; reason: string }[] = [];
    for (const m of MUTATIONS) {
      const reply = await post(sb, m.path ?? '/push', m.body);
      seen.push({ what: m.what, status: reply.status, reason: errorMessage(reply) });
    }
    const wanted = MUTATIONS.map((m) => ({
      what: m.what,
      status: m.status ?? 400,
      reason: expect.stringMatching(new RegExp(`^${m.field.replace(/[.[\]]/g, '\\$&')}: `)) as unknown,
    }));
    expect(seen).toEqual(wanted);
    expect(sb.stats()).toMatchObject({ received: MUTATIONS.length, accepted: 0, invalid: MUTATIONS.length });
    expect(sb.accepted).toHaveLength(0);
  });

  it('gives one line a reason, quoting the value it refused', async () => {
    const sb = await sandbox();
    const reply = await post(sb, '/push', { ...fullCart, full_cart: 'true' });
    expect(errorMessage(reply)).toBe('full_cart: must be the JSON boolean true (got "true")');
    const item = await post(sb, '/push', withItem(fullCart, { id: '100500', amount: 3 }));
    expect(errorMessage(item)).toBe('items[0].amount: is not a field of a full cart item {id, quantity}');
  });

  it(`accepts ${ACCEPTED_VARIANTS.length} variants the notes allow`, async () => {
    const sb = await sandbox();
    const statuses: Record<string, number> = {};
    for (const v of ACCEPTED_VARIANTS) statuses[v.what] = (await post(sb, v.path ?? '/push', v.body)).status;
    expect(statuses).toEqual(Object.fromEntries(ACCEPTED_VARIANTS.map((v) => [v.what, v.path === '/push/custom' ? 204 : 200])));
  });
});
