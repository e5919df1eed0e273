import { describe, expect, it } from 'vitest';
import { validateRequest } from '../src/payloads/index.js';

const SHOP = '0d42fd8b713d0752776ca589cc0056';
const SOURCE = '{"from":"chain","code":"abcdef-0123-4567-9810-012345abcdef"}';
const env = { shop_id: SHOP, did: '7rjVGhMykT', seance: 'R5eQXkrKCf', stream: 'web', segment: 'A', referer: 'https://mystore.com/x' };

/** The request examples of the API reference (the first purchase example without its stray `}`). */
const REFERENCE: [string, Record<string, unknown>][] = [
  ['/push', { event: 'view', ...env, items: [{ id: '100500' }], recommended_by: 'dynamic', recommended_code: '3d045e1b' }],
  ['/push', { event: 'view', ...env, items: [{ id: '100500' }], recommended_by: 'dynamic', recommended_code: '3d04', source: SOURCE }],
  ['/push', { event: 'category', ...env, category_id: 146 }],
  ['/push', { event: 'category', ...env, category_id: 146, source: SOURCE }],
  ['/push', { event: 'cart', ...env, items: [{ id: '100500', amount: 2 }], recommended_by: 'dynamic', recommended_code: '3d04' }],
  ['/push', { event: 'remove_from_cart', ...env, items: [{ id: '100500' }] }],
  [
    '/push',
    {
      event: 'cart',
      ...env,
      items: [
        { id: '100500', quantity: 3 },
        { id: '100123', quantity: 1 },
      ],
      full_cart: true,
    },
  ],
  ['/push', { event: 'cart', ...env, full_cart: true, source: SOURCE }],
  [
    '/push',
    {
      event: 'purchase',
      ...env,
      order_id: 'N100500',
      order_price: 750,
      order_cash: 650,
      order_bonuses: 100,
      order_discount: 50,
      promocode: 'BIRTHDAY',
      delivery_type: 'delivery',
      payment_type: 'cart',
      items: [
        { id: '100500', amount: 3, price: 100 },
        { id: 100123, amount: 1, price: 500 },
      ],
      custom: { order_comment: 'Delivery after 15:00, 2nd floor, apt. 222', boxes: 2, refund_date: '2021-09-21' },
      source: SOURCE,
    },
  ],
  ['/push', { event: 'search', ...env, search_query: 'apple', recommended_code: 'apple' }],
  ['/push', { event: 'wish', ...env, items: [{ id: '100500' }], source: SOURCE }],
  ['/push', { event: 'remove_wish', ...env, items: [{ id: '100500' }] }],
  ['/push', { event: 'wish', ...env, items: [{ id: '100500' }, { id: '100123' }], full_wish: true }],
  ['/push', { event: 'wish', ...env, full_wish: true }],
  ['/push/custom', { event: 'my_event', ...env, category: 'my_category', label: 'my_label', value: 100500, source: SOURCE }],
  ['/track/received', { shop_id: SHOP, code: '731d5e0c-e3b1-11eb-ba80-0242ac130004', type: 'chain', stream: 'android' }],
  ['/track/clicked', { shop_id: SHOP, code: '731d5e0c-e3b1-11eb-ba80-0242ac130004', type: 'chain', stream: 'android' }],
  ['/track/closed', { shop_id: SHOP, code: '731d5e0c-e3b1-11eb-ba80-0242ac130004', type: 'chain', stream: 'android' }],
];

const reason = (path: string, body: unknown): string => {
  const result = validateRequest(path, body);
  if (result.ok) throw new Error(`expected invalid: ${JSON.stringify(body)}`);
  expect(result.reason).not.toMatch(/[\r\n]/);
  return result.reason;
};

const view = (extra: Record<string, unknown> = {}) => ({ event: 'view', ...env, items: [{ id: 'a' }], ...extra });
const purchase = (extra: Record<string, unknown> = {}) => ({ event: 'purchase', ...env, order_id: 'N1', items: [{ id: 'a', amount: 1 }], ...extra });

describe('validateRequest: the reference examples', () => {
  it.each(REFERENCE)('accepts %s %j', (path, body) => {
    expect(validateRequest(path, body)).toEqual({ ok: true });
  });

  it('accepts sid equal to seance', () => {
    expect(validateRequest('/push', view({ sid: env.seance }))).toEqual({ ok: true });
  });
});

describe('validateRequest: picking the schema', () => {
  it('rejects an unknown path', () => {
    expect(reason('/push/other', view())).toBe('path: must be one of /push, /push/custom, /track/received, /track/clicked, /track/closed (got "/push/other")');
  });

  it.each([
    [null, 'null'],
    [[], 'an array'],
    ['{}', '"{}"'],
  ])('rejects a body that is not an object (%j)', (body, shown) => {
    expect(reason('/push', body)).toBe(`body: must be a JSON object (got ${shown})`);
  });

  it('needs a known event on /push', () => {
    expect(reason('/push', { ...env })).toBe(
      'event: is required and must be one of view, category, cart, remove_from_cart, purchase, search, wish, remove_wish',
    );
    expect(reason('/push', { ...env, event: 'page' })).toMatch(/^event: must be one of view, .* \(got "page"\)$/);
  });

  it('uses the full cart schema when full_cart is present', () => {
    expect(reason('/push', { event: 'cart', ...env, full_cart: 'true' })).toBe('full_cart: must be the boolean true (got "true")');
    expect(reason('/push', { event: 'cart', ...env, full_cart: false })).toBe('full_cart: must be the boolean true (got false)');
    expect(reason('/push', { event: 'cart', ...env, full_cart: true, items: [{ id: 'a', amount: 1 }] })).toMatch(/^items\[0\]\.quantity: is required/);
  });

  it('uses the full wish schema when full_wish is present', () => {
    expect(reason('/push', { event: 'wish', ...env, full_wish: null })).toBe('full_wish: is required and must be the boolean true');
    expect(reason('/push', { event: 'wish', ...env, full_wish: true, items: [] })).toBe(
      'items: must hold at least one item (omit items to clear the wishlist)',
    );
  });
});

describe('validateRequest: envelope', () => {
  it.each(['shop_id', 'did', 'seance', 'stream'])('requires %s', (key) => {
    const body: Record<string, unknown> = view();
    delete body[key];
    expect(reason('/push', body)).toMatch(new RegExp(`^${key}: is required and `));
  });

  it.each(['segment', 'referer', 'source', 'recommended_by'])('rejects %s sent as null, "" or an array', (key) => {
    expect(reason('/push', view({ [key]: null }))).toMatch(new RegExp(`^${key}: must .*\\(got null\\)$`));
    expect(reason('/push', view({ [key]: '' }))).toMatch(new RegExp(`^${key}: must .*\\(got ""\\)$`));
    expect(reason('/push', view({ [key]: ['A'] }))).toMatch(new RegExp(`^${key}: must .*\\(got an array\\)$`));
  });

  it('checks stream and segment', () => {
    expect(reason('/push', view({ stream: 'we b' }))).toBe('stream: must be 1 to 16 letters or digits (got "we b")');
    expect(reason('/push', view({ stream: 'x'.repeat(17) }))).toMatch(/^stream: must be 1 to 16 letters or digits/);
    expect(reason('/push', view({ segment: 'C' }))).toBe('segment: must be "A" or "B" (got "C")');
  });

  it('wants did and seance as strings', () => {
    expect(reason('/push', view({ did: 123 }))).toBe('did: must be a non-empty string (got 123)');
    expect(reason('/push', view({ seance: '  ' }))).toBe('seance: is required and must be a non-empty string');
  });

  it('wants sid equal to seance', () => {
    expect(reason('/push', view({ sid: 'other' }))).toBe('sid: must equal seance (got "other")');
  });

  it.each([
    [{ from: 'chain', code: 'c' }, 'an object'],
    ['{"from":"chain"}', '"{\\"from\\":\\"chain\\"}"'],
    ['{"from":"chain","code":""}', '"{\\"from\\":\\"chain\\",\\"code\\":\\"\\"}"'],
    ['not json', '"not json"'],
    ['[1]', '"[1]"'],
  ])('wants source as a JSON string with from and code (%j)', (source, shown) => {
    expect(reason('/push', view({ source }))).toBe(`source: must be a JSON string of an object with non-empty "from" and "code" strings (got ${shown})`);
  });

  it('rejects fields the request does not have', () => {
    expect(reason('/push', view({ full_wish: true }))).toBe('full_wish: is not a field of a "view" request');
    expect(reason('/push', view({ items: [{ id: 'a', amount: 1 }] }))).toBe('items[0].amount: is not a field of an item');
  });
});

describe('validateRequest: events', () => {
  it('view, remove_from_cart, wish, remove_wish: exactly one item', () => {
    for (const event of ['view', 'remove_from_cart', 'wish', 'remove_wish']) {
      expect(reason('/push', { ...view(), event, items: [{ id: 'a' }, { id: 'b' }] })).toBe(`items: a "${event}" request takes exactly one item (got 2)`);
      expect(reason('/push', { ...view(), event, items: [] })).toBe(`items: a "${event}" request takes exactly one item (got 0)`);
    }
    expect(reason('/push', view({ items: { id: 'a' } }))).toBe('items: must be an array of item objects (got an object)');
    expect(reason('/push', view({ items: undefined }))).toBe('items: must be an array of item objects (got nothing)');
  });

  it('item ids: strings without a backslash, at most 255 chars, or integers', () => {
    expect(validateRequest('/push', view({ items: [{ id: 5 }] }))).toEqual({ ok: true });
    expect(reason('/push', view({ items: [{ id: 'a\\b' }] }))).toMatch(/^items\[0\]\.id: must be .* without a backslash/);
    expect(reason('/push', view({ items: [{ id: 'x'.repeat(256) }] }))).toMatch(/^items\[0\]\.id: must be/);
    expect(reason('/push', view({ items: [{ id: 1.5 }] }))).toMatch(/^items\[0\]\.id: must be .*\(got 1\.5\)$/);
    expect(reason('/push', view({ items: [{}] }))).toMatch(/^items\[0\]\.id: is required/);
  });

  it('cart: amount a whole number from 1 to 1000', () => {
    const cart = (amount: unknown) => ({ event: 'cart', ...env, items: [{ id: 'a', amount }] });
    expect(validateRequest('/push', cart(1000))).toEqual({ ok: true });
    expect(reason('/push', cart(1001))).toBe('items[0].amount: must be a whole number from 1 to 1000 (got 1001)');
    expect(reason('/push', cart('2'))).toBe('items[0].amount: must be a whole number from 1 to 1000 (got "2")');
    expect(reason('/push', cart(2.5))).toBe('items[0].amount: must be a whole number from 1 to 1000 (got 2.5)');
  });

  it('category: category_id required, number or string', () => {
    expect(validateRequest('/push', { event: 'category', ...env, category_id: 'shoes' })).toEqual({ ok: true });
    expect(reason('/push', { event: 'category', ...env })).toBe('category_id: is required and must be a number or a non-empty string');
    expect(reason('/push', { event: 'category', ...env, category_id: null })).toBe('category_id: is required and must be a number or a non-empty string');
  });

  it('search: search_query required', () => {
    expect(reason('/push', { event: 'search', ...env, search_query: '' })).toBe('search_query: is required and must be a non-empty string');
    expect(reason('/push', { event: 'search', ...env, search_query: 'a', recommended_by: 'x' })).toBe('recommended_by: is not a field of a "search" request');
  });

  it('full cart: items optional but never empty, quantity 1..1000', () => {
    expect(reason('/push', { event: 'cart', ...env, full_cart: true, items: [] })).toBe('items: must hold at least one item (omit items to clear the cart)');
    expect(reason('/push', { event: 'cart', ...env, full_cart: true, items: [{ id: 'a', quantity: 0 }] })).toBe(
      'items[0].quantity: must be a whole number from 1 to 1000 (got 0)',
    );
    expect(reason('/push', { event: 'cart', ...env, full_cart: true, items: null })).toBe('items: must be an array of item objects (got null)');
  });
});

describe('validateRequest: purchase', () => {
  it('needs order_id and at least one item', () => {
    const { order_id: _omit, ...noOrder } = purchase();
    expect(reason('/push', noOrder)).toBe('order_id: is required and must be a non-empty string of at most 255 characters');
    expect(validateRequest('/push', purchase({ order_id: 100500 }))).toEqual({ ok: true });
    expect(reason('/push', purchase({ items: [] }))).toBe('items: must hold at least one item (an order needs at least one line)');
  });

  it.each(['order_price', 'order_cash', 'order_bonuses', 'order_delivery', 'order_discount'])('wants %s as a JSON number', (key) => {
    expect(validateRequest('/push', purchase({ [key]: 0 }))).toEqual({ ok: true });
    expect(reason('/push', purchase({ [key]: '750' }))).toBe(`${key}: must be a non-negative finite number (got "750")`);
    expect(reason('/push', purchase({ [key]: -5 }))).toBe(`${key}: must be a non-negative finite number (got -5)`);
    expect(reason('/push', purchase({ [key]: 2e12 }))).toBe(`${key}: must be at most 1e12 (got 2000000000000)`);
    expect(reason('/push', purchase({ [key]: null }))).toBe(`${key}: must be a non-negative finite number (got null)`);
  });

  it('checks item amount and price', () => {
    expect(reason('/push', purchase({ items: [{ id: 'a', amount: 0 }] }))).toBe('items[0].amount: must be a whole number from 1 to 1000 (got 0)');
    expect(reason('/push', purchase({ items: [{ id: 'a', amount: 1, price: '1' }] }))).toBe('items[0].price: must be a non-negative finite number (got "1")');
    expect(reason('/push', purchase({ items: [{ id: 'a', amount: 1, color: 'red' }] }))).toBe('items[0].color: is not a field of a purchase item');
    expect(validateRequest('/push', purchase({ items: [{ id: 'a', amount: 1, price: 0, line_id: 'L', fashion_size: 'M' }] }))).toEqual({ ok: true });
  });

  it('takes tax_free as a boolean, true or false', () => {
    expect(validateRequest('/push', purchase({ tax_free: true }))).toEqual({ ok: true });
    expect(validateRequest('/push', purchase({ tax_free: false }))).toEqual({ ok: true });
    expect(reason('/push', purchase({ tax_free: 'true' }))).toBe('tax_free: must be true or false (got "true")');
  });

  it('accepts email, phone, external_id and loyalty_id strings', () => {
    expect(validateRequest('/push', purchase({ email: 'a@b', phone: '1', external_id: 'e', loyalty_id: 'l' }))).toEqual({ ok: true });
    expect(reason('/push', purchase({ email: '' }))).toBe('email: must be a non-empty string (got "")');
  });

  it('checks custom', () => {
    expect(reason('/push', purchase({ custom: {} }))).toBe('custom: must have at least one property (omit it otherwise)');
    expect(reason('/push', purchase({ custom: [] }))).toBe('custom: must be a JSON object (got an array)');
    expect(reason('/push', purchase({ custom: { boxes: 1.5 } }))).toBe('custom.boxes: must be a string, an integer or a YYYY-MM-DD date (got 1.5)');
    expect(reason('/push', purchase({ custom: { boxes: {} } }))).toBe('custom.boxes: must be a string, an integer or a YYYY-MM-DD date (got an object)');
    expect(reason('/push', purchase({ custom: { boxes: null } }))).toBe('custom.boxes: must be a string, an integer or a YYYY-MM-DD date (got null)');
    expect(validateRequest('/push', purchase({ custom: { at: '2021-09-21 10:00:00', on: '2024-01-31T10:00:00' } }))).toEqual({ ok: true });
    expect(reason('/push', purchase({ custom: { at: '2021-02-30' } }))).toBe('custom.at: must be a real calendar date (YYYY-MM-DD) (got "2021-02-30")');
    expect(reason('/push', purchase({ custom: { order_id: 'x' } }))).toBe('custom.order_id: is a reserved name and cannot be a custom order property');
  });
});

describe('validateRequest: /push/custom and /track', () => {
  const custom = (extra: Record<string, unknown>) => ({ event: 'my_event', ...env, ...extra });

  it('checks the custom event key and value', () => {
    expect(validateRequest('/push/custom', custom({ event: 'a.b-c_d' }))).toEqual({ ok: true });
    expect(validateRequest('/push/custom', custom({ event: 'a b!' }))).toEqual({ ok: true });
    expect(reason('/push/custom', custom({ event: ' ' }))).toBe('event: is required and must be a non-empty string (a custom event key)');
    expect(reason('/push/custom', custom({ value: 1.5 }))).toBe('value: must be an integer (got 1.5)');
    expect(reason('/push/custom', custom({ value: '5' }))).toBe('value: must be an integer (got "5")');
    expect(reason('/push/custom', custom({ label: null }))).toBe('label: must be a non-empty string (got null)');
    expect(reason('/push/custom', custom({ items: [] }))).toBe('items: is not a field of a /push/custom request');
  });

  it('accepts only shop_id, code, type and stream on /track', () => {
    const track = { shop_id: SHOP, code: 'c', type: 'chain', stream: 'android' };
    expect(reason('/track/clicked', { ...track, did: 'D' })).toBe('did: is not a field of a /track request');
    expect(reason('/track/closed', { ...track, code: '' })).toBe('code: is required and must be a non-empty string');
    expect(reason('/track/received', { ...track, stream: '' })).toBe('stream: is required and must be 1 to 16 letters or digits');
  });

  it('counts the further problems in one line', () => {
    expect(reason('/track/received', {})).toBe('shop_id: is required and must be a non-empty string (and 3 more problems)');
  });
});
