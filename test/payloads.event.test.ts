import { describe, expect, it } from 'vitest';
import { buildEventRequest, deriveSeance, type ApiPath, type Row } from '../src/payloads/index.js';
import { body as request, ctx, derivedEnvelope, freezeDate, HOUR, NOW, reason, sent as warned } from './support/payloads.js';

freezeDate();

const row = (extra: Row): Row => ({ event_key: 'K1', did: 'D1', ...extra });
const envelope = (seanceKey = 'K1') => derivedEnvelope('D1', seanceKey);

describe('buildEventRequest: /push events', () => {
  it('view: exactly one item {id}, with recommended_by / recommended_code', () => {
    const b = request(buildEventRequest(row({ event: 'view', items: [{ id: 100500 }], recommended_by: 'dynamic', recommended_code: 'abc' }), ctx));
    expect(b).toEqual({ event: 'view', ...envelope(), items: [{ id: '100500' }], recommended_by: 'dynamic', recommended_code: 'abc' });
  });

  it('view: rejects zero or two items', () => {
    expect(reason(buildEventRequest(row({ event: 'view', items: [] }), ctx))).toBe('items: a "view" event needs exactly one item (got 0)');
    expect(reason(buildEventRequest(row({ event: 'view' }), ctx))).toBe('items: a "view" event needs exactly one item (got 0)');
    expect(reason(buildEventRequest(row({ event: 'view', items: [{ id: 'a' }, { id: 'b' }] }), ctx))).toBe(
      'items: a "view" event needs exactly one item (got 2)',
    );
  });

  it('reads items given as JSON text', () => {
    expect(request(buildEventRequest(row({ event: 'wish', items: '[{"id":"w1"}]' }), ctx)).items).toEqual([{ id: 'w1' }]);
  });

  it('rejects items that are not an array of objects', () => {
    expect(reason(buildEventRequest(row({ event: 'view', items: { id: 'a' } }), ctx))).toBe('items: must be a JSON array of item objects (got an object)');
    expect(reason(buildEventRequest(row({ event: 'view', items: 'oops' }), ctx))).toBe('items: must be a JSON array of item objects (got "oops")');
    expect(reason(buildEventRequest(row({ event: 'view', items: ['a'] }), ctx))).toBe('items[0]: must be an object (got "a")');
    expect(reason(buildEventRequest(row({ event: 'view', items: [{ id: '' }] }), ctx))).toMatch(/^items\[0\]\.id: is required/);
  });

  it('category: category_id as a number or a string', () => {
    expect(request(buildEventRequest(row({ event: 'category', category_id: 146 }), ctx))).toEqual({
      event: 'category',
      ...envelope(),
      category_id: 146,
    });
    expect(request(buildEventRequest(row({ event: 'category', category_id: 'shoes' }), ctx)).category_id).toBe('shoes');
    expect(reason(buildEventRequest(row({ event: 'category' }), ctx))).toBe('category_id: is required and must be a number or a non-empty string');
    expect(reason(buildEventRequest(row({ event: 'category', category_id: [1] }), ctx))).toBe(
      'category_id: must be a number or a non-empty string (got an array)',
    );
  });

  it('cart: one item {id, amount}', () => {
    const b = request(buildEventRequest(row({ event: 'cart', items: [{ id: 'a', amount: '2' }], recommended_by: 'r' }), ctx));
    expect(b).toEqual({ event: 'cart', ...envelope(), items: [{ id: 'a', amount: 2 }], recommended_by: 'r' });
    expect(reason(buildEventRequest(row({ event: 'cart', items: [{ id: 'a' }] }), ctx))).toBe(
      'items[0].amount: is required and must be a whole number from 1 to 1000',
    );
    expect(reason(buildEventRequest(row({ event: 'cart', items: [{ id: 'a', amount: 0 }] }), ctx))).toBe(
      'items[0].amount: must be a whole number from 1 to 1000 (got 0)',
    );
  });

  it('remove_from_cart, wish, remove_wish: one item {id}', () => {
    for (const event of ['remove_from_cart', 'wish', 'remove_wish']) {
      const b = request(buildEventRequest(row({ event, items: [{ id: 'x', amount: 3 }] }), ctx));
      expect(b).toEqual({ event, ...envelope(), items: [{ id: 'x' }] });
      expect(reason(buildEventRequest(row({ event, items: [] }), ctx))).toBe(`items: a "${event}" event needs exactly one item (got 0)`);
    }
  });

  it('search: search_query required, recommended_code optional', () => {
    expect(request(buildEventRequest(row({ event: 'search', search_query: 'apple', recommended_code: 'apple' }), ctx))).toEqual({
      event: 'search',
      ...envelope(),
      search_query: 'apple',
      recommended_code: 'apple',
    });
    expect(reason(buildEventRequest(row({ event: 'search', search_query: ' ' }), ctx))).toBe('search_query: is required and must be a non-empty string');
  });

  it('purchase: order columns and items, seance from the event_key', () => {
    const b = request(
      buildEventRequest(
        row({
          event: 'purchase',
          order_id: 'N1',
          order_price: '10.5',
          tax_free: 't',
          items: [{ id: 'a', amount: 1, price: '10.5' }],
          custom: { gift: 'yes' },
        }),
        ctx,
      ),
    );
    expect(b).toEqual({
      event: 'purchase',
      ...envelope(),
      order_id: 'N1',
      order_price: 10.5,
      tax_free: true,
      items: [{ id: 'a', amount: 1, price: 10.5 }],
      custom: { gift: 'yes' },
    });
  });

  it('purchase: the same rules as buildPurchase', () => {
    expect(reason(buildEventRequest(row({ event: 'purchase', order_id: 'N1' }), ctx))).toBe('items: an order needs at least one line');
    expect(reason(buildEventRequest(row({ event: 'purchase', items: [{ id: 'a', amount: 1 }] }), ctx))).toMatch(/^order_id: is required/);
    expect(reason(buildEventRequest(row({ event: 'purchase', order_id: 'N1', items: [{ id: 'a', amount: 'x' }] }), ctx))).toMatch(/^items\[0\]\.amount: /);
    expect(reason(buildEventRequest(row({ event: 'purchase', order_id: 'N1', items: [{ id: 'a', amount: 0 }] }), ctx))).toMatch(/^items: no line is bought/);
    const cash = warned(
      buildEventRequest(row({ event: 'purchase', order_id: 'N1', order_cash: 'NaN', custom: { did: 'x', gift: 1 }, items: [{ id: 'a', amount: 1 }] }), ctx),
    );
    expect(cash.body).not.toHaveProperty('order_cash');
    expect(cash.body.custom).toEqual({ gift: 1 });
    expect(cash.warnings.map((w) => w.reason)).toEqual([
      'order_cash: must be a non-negative finite number (got "NaN"); left out',
      'custom.did: is a reserved name and cannot be a custom order property; left out',
    ]);
  });

  it('purchase: sends tax_free false as false', () => {
    expect(request(buildEventRequest(row({ event: 'purchase', order_id: 'N1', tax_free: false, items: [{ id: 'a', amount: 1 }] }), ctx)).tax_free).toBe(false);
  });

  it('a bad recommended_by is invalid: "required in some cases", so never silently left out', () => {
    expect(reason(buildEventRequest(row({ event: 'view', items: [{ id: 'a' }], recommended_by: { a: 1 } }), ctx))).toBe(
      'recommended_by: must be a string (got an object)',
    );
  });

  it('a bad segment is left out with a warning', () => {
    const { body, warnings } = warned(buildEventRequest(row({ event: 'view', items: [{ id: 'a' }], segment: 'Q' }), ctx));
    expect(body).toEqual({ event: 'view', ...envelope(), items: [{ id: 'a' }] });
    expect(warnings).toEqual([{ field: 'segment', value: '"Q"', reason: 'segment: must be "A" or "B" (got "Q"); left out' }]);
  });

  it('full cart: event cart + full_cart true, items {id, quantity} merged and sorted', () => {
    const b = request(
      buildEventRequest(
        row({
          event: 'cart',
          full_cart: true,
          items: [
            { id: 'b', quantity: 1 },
            { id: 'a', quantity: 1 },
            { id: 'b', quantity: 2 },
          ],
        }),
        ctx,
      ),
    );
    expect(b).toEqual({
      event: 'cart',
      ...envelope(),
      items: [
        { id: 'a', quantity: 1 },
        { id: 'b', quantity: 3 },
      ],
      full_cart: true,
    });
  });

  it('full cart with no items clears (no items key); full_cart may be text', () => {
    for (const items of [null, [], '[]']) {
      const b = request(buildEventRequest(row({ event: 'cart', full_cart: 't', items }), ctx));
      expect(b).toEqual({ event: 'cart', ...envelope(), full_cart: true });
    }
  });

  it('full wish: event wish + full_wish true', () => {
    expect(request(buildEventRequest(row({ event: 'wish', full_wish: 'true', items: [{ id: 'b' }, { id: 'a' }] }), ctx))).toEqual({
      event: 'wish',
      ...envelope(),
      items: [{ id: 'a' }, { id: 'b' }],
      full_wish: true,
    });
    expect(request(buildEventRequest(row({ event: 'wish', full_wish: true }), ctx))).toEqual({ event: 'wish', ...envelope(), full_wish: true });
  });

  it('full_cart false is a plain cart event', () => {
    expect(request(buildEventRequest(row({ event: 'cart', full_cart: false, items: [{ id: 'a', amount: 1 }] }), ctx)).full_cart).toBeUndefined();
  });

  it('rejects full_cart / full_wish on the wrong event', () => {
    expect(reason(buildEventRequest(row({ event: 'view', full_cart: true, items: [{ id: 'a' }] }), ctx))).toBe(
      'full_cart: is only for the "cart" event (the event is "view")',
    );
    expect(reason(buildEventRequest(row({ event: 'cart', full_wish: true }), ctx))).toBe('full_wish: is only for the "wish" event (the event is "cart")');
  });

  it('rejects an unknown or missing event', () => {
    expect(reason(buildEventRequest(row({ event: 'page_view' }), ctx))).toBe(
      'event: must be one of view, category, cart, remove_from_cart, purchase, search, wish, remove_wish for /push (got "page_view")',
    );
    expect(reason(buildEventRequest(row({}), ctx))).toMatch(/^event: is required and must be one of view/);
  });

  it('ignores columns that belong to other events', () => {
    const b = request(buildEventRequest(row({ event: 'category', category_id: 1, search_query: 'x', order_id: 'N1', items: [{ id: 'a' }], label: 'l' }), ctx));
    expect(b).toEqual({ event: 'category', ...envelope(), category_id: 1 });
  });
});

describe('buildEventRequest: envelope', () => {
  it('needs event_key and derives the seance from (did, event_key)', () => {
    expect(reason(buildEventRequest({ did: 'D1', event: 'view', items: [{ id: 'a' }] }, ctx))).toBe('event_key: is required and must be a non-empty string');
    const a = request(buildEventRequest(row({ event_key: 'K2', event: 'view', items: [{ id: 'a' }] }), ctx));
    expect(a.seance).toBe(deriveSeance('D1', 'K2'));
    expect(request(buildEventRequest(row({ event_key: 42, event: 'view', items: [{ id: 'a' }] }), ctx)).seance).toBe(deriveSeance('D1', '42'));
  });

  it('uses the row seance, stream, segment and referer', () => {
    const b = request(buildEventRequest(row({ event: 'view', items: [{ id: 'a' }], seance: 'S', stream: 'android', segment: 'B', referer: 'https://r' }), ctx));
    expect(b).toMatchObject({ seance: 'S', sid: 'S', stream: 'android', segment: 'B', referer: 'https://r' });
  });

  it('needs a did', () => {
    expect(reason(buildEventRequest(row({ did: null, event: 'view', items: [{ id: 'a' }] }), ctx))).toBe('did: is required and must be a non-empty string');
  });

  it('sends source only while the click is at most 48 hours before now', () => {
    const base = row({ event: 'view', items: [{ id: 'a' }], source_from: 'chain', source_code: 'c1' });
    expect(request(buildEventRequest({ ...base, source_at: new Date(NOW.getTime() - 2 * HOUR) }, ctx)).source).toBe('{"from":"chain","code":"c1"}');
    expect(request(buildEventRequest({ ...base, source_at: new Date(NOW.getTime() - 49 * HOUR) }, ctx)).source).toBeUndefined();
    expect(request(buildEventRequest({ ...base, source_at: new Date(NOW.getTime() + HOUR) }, ctx)).source).toBeUndefined();
  });

  it('omits null and empty optional columns', () => {
    const b = request(
      buildEventRequest(row({ event: 'view', items: [{ id: 'a' }], segment: null, referer: '', recommended_by: ' ', recommended_code: null }), ctx),
    );
    expect(b).toEqual({ event: 'view', ...envelope(), items: [{ id: 'a' }] });
  });
});

describe('buildEventRequest: /push/custom', () => {
  it('sends the event key with category, label and an integer value', () => {
    const b = request(buildEventRequest(row({ endpoint: 'custom', event: 'my_event.v-2', category: 'c', label: 'l', value: '100500' }), ctx), '/push/custom');
    expect(b).toEqual({ event: 'my_event.v-2', ...envelope(), category: 'c', label: 'l', value: 100500 });
  });

  it('accepts "/push/custom" and "push/custom" as the endpoint', () => {
    request(buildEventRequest(row({ endpoint: '/push/custom', event: 'e' }), ctx), '/push/custom');
    request(buildEventRequest(row({ endpoint: 'push/custom', event: 'e' }), ctx), '/push/custom');
  });

  it.each(['my event', 'ev!', 'заказ_оплачен', 'a/b:c', 'Order Paid (web)'])('accepts the event key %j: the reference sets no character rule', (event) => {
    expect(request(buildEventRequest(row({ endpoint: 'custom', event }), ctx), '/push/custom').event).toBe(event);
  });

  it('writes a numeric event key as text', () => {
    expect(request(buildEventRequest(row({ endpoint: 'custom', event: 5 }), ctx), '/push/custom').event).toBe('5');
  });

  it.each(['', '   ', null, { a: 1 }])('rejects the event key %j', (event) => {
    expect(reason(buildEventRequest(row({ endpoint: 'custom', event }), ctx))).toMatch(/^event: (is required and )?must be a non-empty string/);
  });

  it('leaves out a category or label that is not text, with a warning', () => {
    const { body, warnings } = warned(buildEventRequest(row({ endpoint: 'custom', event: 'e', category: ['x'], label: 'l' }), ctx), '/push/custom');
    expect(body).toEqual({ event: 'e', ...envelope(), label: 'l' });
    expect(warnings.map((w) => w.field)).toEqual(['category']);
  });

  it('rejects a value that is not an integer ("required in some cases": never left out)', () => {
    expect(reason(buildEventRequest(row({ endpoint: 'custom', event: 'e', value: 1.5 }), ctx))).toBe('value: must be an integer (got 1.5)');
    expect(reason(buildEventRequest(row({ endpoint: 'custom', event: 'e', value: 'ten' }), ctx))).toBe('value: must be an integer (got "ten")');
  });

  it('accepts a negative value and omits an absent one', () => {
    expect(request(buildEventRequest(row({ endpoint: 'custom', event: 'e', value: -3 }), ctx), '/push/custom').value).toBe(-3);
    expect('value' in request(buildEventRequest(row({ endpoint: 'custom', event: 'e', value: null }), ctx), '/push/custom')).toBe(false);
  });
});

describe('buildEventRequest: /track', () => {
  it.each(['track/received', 'track/clicked', 'track/closed', '/track/closed'] as const)('%s: only shop_id, code, type, stream', (endpoint) => {
    const result = buildEventRequest(row({ endpoint, code: '731d5e0c', type: 'chain', stream: 'android', seance: 'S', segment: 'A' }), ctx);
    const path = `/${endpoint.replace(/^\//, '')}` as ApiPath;
    expect(request(result, path)).toEqual({ shop_id: ctx.shopId, code: '731d5e0c', type: 'chain', stream: 'android' });
  });

  it('uses the default stream and needs no did', () => {
    expect(request(buildEventRequest({ event_key: 'K', endpoint: 'track/clicked', code: 'c', type: 'bulk' }, ctx), '/track/clicked')).toEqual({
      shop_id: ctx.shopId,
      code: 'c',
      type: 'bulk',
      stream: 'web',
    });
  });

  it('needs code and type', () => {
    expect(reason(buildEventRequest(row({ endpoint: 'track/received', type: 'chain' }), ctx))).toBe('code: is required and must be a non-empty string');
    expect(reason(buildEventRequest(row({ endpoint: 'track/received', code: 'c' }), ctx))).toBe('type: is required and must be a non-empty string');
  });

  it('rejects an unknown endpoint', () => {
    expect(reason(buildEventRequest(row({ endpoint: 'track/opened', code: 'c', type: 't' }), ctx))).toBe(
      'endpoint: must be one of push, custom, track/received, track/clicked, track/closed (got "track/opened")',
    );
  });

  it('treats an empty endpoint as push', () => {
    request(buildEventRequest(row({ endpoint: '', event: 'view', items: [{ id: 'a' }] }), ctx));
  });
});
