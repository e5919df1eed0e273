import { describe, expect, it } from 'vitest';
import {
  buildClearCart,
  buildClearWish,
  listEnvelopeOf,
  buildFullCart,
  buildFullWish,
  listContentHash,
  deriveSeance,
  type Row,
} from '../src/payloads/index.js';
import { body, ctx, derivedEnvelope, freezeDate, HOUR, NOW, reason } from './support/payloads.js';

freezeDate();

/** The request that clears device D1's cart: full_cart true and no items. */
const CLEARED_D1 = { event: 'cart', ...derivedEnvelope('D1', 'D1'), full_cart: true };

describe('buildFullCart', () => {
  it('sends the whole cart, sorted by id, with full_cart true', () => {
    const lines: Row[] = [
      { did: 'D1', id: '100500', quantity: 3 },
      { did: 'D1', id: '100123', quantity: '1' },
    ];
    const b = body(buildFullCart('D1', lines, lines[0] ?? {}, ctx));
    expect(b).toEqual({
      event: 'cart',
      ...derivedEnvelope('D1', 'D1'),
      items: [
        { id: '100123', quantity: 1 },
        { id: '100500', quantity: 3 },
      ],
      full_cart: true,
    });
    expect(Object.keys(b)).toEqual(['event', 'shop_id', 'did', 'seance', 'sid', 'stream', 'items', 'full_cart']);
  });

  it('gives the same body whatever the line order', () => {
    const a = buildFullCart(
      'D1',
      [
        { id: 'b', quantity: 1 },
        { id: 'a', quantity: 2 },
      ],
      {},
      ctx,
    );
    const b = buildFullCart(
      'D1',
      [
        { id: 'a', quantity: 2 },
        { id: 'b', quantity: 1 },
      ],
      {},
      ctx,
    );
    expect(a).toEqual(b);
  });

  it('merges lines with the same id, adding quantities', () => {
    const b = body(
      buildFullCart(
        'D1',
        [
          { id: 'a', quantity: 2 },
          { id: 7, quantity: 1 },
          { id: 'a', quantity: '3' },
          { id: '7', quantity: 1 },
        ],
        {},
        ctx,
      ),
    );
    expect(b.items).toEqual([
      { id: '7', quantity: 2 },
      { id: 'a', quantity: 5 },
    ]);
  });

  it('rejects a merged quantity over 1000', () => {
    expect(
      body(
        buildFullCart(
          'D1',
          [
            { id: 'a', quantity: 999 },
            { id: 'a', quantity: 1 },
          ],
          {},
          ctx,
        ),
      ).items,
    ).toEqual([{ id: 'a', quantity: 1000 }]);
    expect(
      reason(
        buildFullCart(
          'D1',
          [
            { id: 'a', quantity: 999 },
            { id: 'a', quantity: 2 },
          ],
          {},
          ctx,
        ),
      ),
    ).toBe('items[1].quantity: must be a whole number from 1 to 1000 once lines with the same id are added up (got 1001)');
  });

  it.each([
    [0, '0'],
    [1001, '1001'],
    [2.5, '2.5'],
    ['2.5', '"2.5"'],
    [-1, '-1'],
    ['x', '"x"'],
  ])('rejects quantity %j', (quantity, shown) => {
    expect(
      reason(
        buildFullCart(
          'D1',
          [
            { id: 'a', quantity: 1 },
            { id: 'b', quantity },
          ],
          {},
          ctx,
        ),
      ),
    ).toBe(`items[1].quantity: must be a whole number from 1 to 1000 (got ${shown})`);
  });

  it('requires a quantity', () => {
    expect(reason(buildFullCart('D1', [{ id: 'a' }], {}, ctx))).toBe('items[0].quantity: is required and must be a whole number from 1 to 1000');
  });

  it('checks ids like a purchase does', () => {
    expect(reason(buildFullCart('D1', [{ id: '', quantity: 1 }], {}, ctx))).toMatch(/^items\[0\]\.id: is required/);
    expect(reason(buildFullCart('D1', [{ id: 'a\\b', quantity: 1 }], {}, ctx))).toMatch(/^items\[0\]\.id: must be .* without a backslash/);
    expect(reason(buildFullCart('D1', [{ id: 'x'.repeat(256), quantity: 1 }], {}, ctx))).toMatch(/^items\[0\]\.id: must be/);
  });

  it('with no lines clears the cart: full_cart true and no items key', () => {
    const b = body(buildFullCart('D1', [], {}, ctx));
    expect(b).toEqual(CLEARED_D1);
    expect('items' in b).toBe(false);
  });

  it('takes seance, stream, segment and referer from the envelope row', () => {
    const envelope: Row = { did: 'D1', id: 'a', quantity: 1, seance: 'S1', stream: 'ios', segment: 'B', referer: 'https://s/cart' };
    const b = body(buildFullCart('D1', [envelope], envelope, ctx));
    expect(b).toMatchObject({ seance: 'S1', sid: 'S1', stream: 'ios', segment: 'B', referer: 'https://s/cart' });
  });

  it('omits empty envelope values', () => {
    const envelope: Row = { seance: '', stream: null, segment: '  ', referer: null, source_from: '', source_code: null };
    const b = body(buildFullCart('D1', [{ id: 'a', quantity: 1 }], envelope, ctx));
    expect(Object.keys(b)).toEqual(['event', 'shop_id', 'did', 'seance', 'sid', 'stream', 'items', 'full_cart']);
  });

  it('leaves out bad envelope values with a warning: the segment, and the stream for the configured one', () => {
    const result = buildFullCart('D1', [], { segment: 'Z', stream: 'bad_stream' }, ctx);
    if (!result.ok) throw new Error(result.reason);
    expect(result.request.body).toMatchObject({ stream: 'web' });
    expect(result.request.body).not.toHaveProperty('segment');
    expect(result.warnings.map((w) => [w.field, w.value])).toEqual([
      ['stream', '"bad_stream"'],
      ['segment', '"Z"'],
    ]);
  });

  it('rejects a bad configured stream when the row has none', () => {
    expect(reason(buildFullCart('D1', [], {}, { ...ctx, defaultStream: 'no-no' }))).toMatch(
      /^stream: must be 1 to 16 letters or digits \(the configured default stream\)/,
    );
  });

  it('sends source while the click is at most 48 hours before now', () => {
    const src = (at: Date): Row => ({ source_from: 'bulk', source_code: 'B7', source_at: at });
    const fresh = body(buildFullCart('D1', [], src(new Date(NOW.getTime() - 48 * HOUR)), ctx));
    expect(fresh.source).toBe('{"from":"bulk","code":"B7"}');
    expect(Object.keys(fresh).at(-1)).toBe('source');
    expect(body(buildFullCart('D1', [], src(new Date(NOW.getTime() - 48 * HOUR - 1)), ctx)).source).toBeUndefined();
    expect(body(buildFullCart('D1', [], src(new Date(NOW.getTime() + 60_000)), ctx)).source).toBeUndefined();
  });

  it.each([undefined, null, '', '  '])('rejects a missing did (%j)', (did) => {
    expect(reason(buildFullCart(did as unknown as string, [{ id: 'a', quantity: 1 }], {}, ctx))).toBe('did: is required and must be a non-empty string');
  });
});

describe('buildClearCart', () => {
  it('goes out on the stream and segment of the last full cart, as listEnvelopeOf read them from it', () => {
    const full = buildFullCart('D1', [{ id: 'a', quantity: 1 }], { stream: 'app', segment: 'B' }, ctx);
    if (!full.ok) throw new Error(full.reason);
    const last = listEnvelopeOf(full.request);
    expect(last).toEqual({ stream: 'app', segment: 'B' });
    expect(body(buildClearCart('D1', ctx, last))).toMatchObject({ stream: 'app', segment: 'B', seance: full.request.body.seance });
    expect(body(buildClearWish('D1', ctx, { stream: 'ios', segment: null }))).toMatchObject({ stream: 'ios' });
    expect(body(buildClearWish('D1', ctx, { stream: 'ios', segment: null }))).not.toHaveProperty('segment');
    expect(body(buildClearCart('D1', ctx, { stream: null, segment: null })).stream).toBe('web');
  });

  it('sends full_cart true and no items', () => {
    const b = body(buildClearCart('D1', ctx));
    expect(b).toEqual(CLEARED_D1);
  });

  it('rejects an empty did', () => {
    expect(reason(buildClearCart('', ctx))).toBe('did: is required and must be a non-empty string');
  });
});

describe('buildFullWish / buildClearWish', () => {
  it('sends the whole wishlist, sorted, duplicates merged, with full_wish true', () => {
    const b = body(buildFullWish('D2', [{ id: 'b' }, { id: 'a' }, { id: 'b' }, { id: 3 }], { segment: 'A' }, ctx));
    expect(b).toEqual({
      event: 'wish',
      ...derivedEnvelope('D2', 'D2'),
      segment: 'A',
      items: [{ id: '3' }, { id: 'a' }, { id: 'b' }],
      full_wish: true,
    });
  });

  it('ignores extra line columns (quantity) on wishlist lines', () => {
    expect(body(buildFullWish('D2', [{ id: 'a', quantity: 5, did: 'D2' }], {}, ctx)).items).toEqual([{ id: 'a' }]);
  });

  it('rejects a bad id', () => {
    expect(reason(buildFullWish('D2', [{ id: 'a' }, { id: null }], {}, ctx))).toBe(
      'items[1].id: is required and must be a non-empty string of at most 255 characters without a backslash',
    );
  });

  it('with no lines clears the wishlist', () => {
    const b = body(buildFullWish('D2', [], {}, ctx));
    expect(b.full_wish).toBe(true);
    expect('items' in b).toBe(false);
    expect(buildClearWish('D2', ctx)).toEqual(buildFullWish('D2', [], {}, ctx));
  });

  it('rejects an empty did', () => {
    expect(reason(buildClearWish('  ', ctx))).toBe('did: is required and must be a non-empty string');
  });
});

describe('listContentHash', () => {
  it('does not depend on item order', () => {
    expect(
      listContentHash([
        { id: 'a', quantity: 1 },
        { id: 'b', quantity: 2 },
      ]),
    ).toBe(
      listContentHash([
        { id: 'b', quantity: 2 },
        { id: 'a', quantity: 1 },
      ]),
    );
  });

  it('treats split lines as their merged item', () => {
    expect(
      listContentHash([
        { id: 'a', quantity: 1 },
        { id: 'a', quantity: 2 },
      ]),
    ).toBe(listContentHash([{ id: 'a', quantity: 3 }]));
    expect(listContentHash([{ id: 'a' }, { id: 'a' }])).toBe(listContentHash([{ id: 'a' }]));
  });

  it('changes when the content changes', () => {
    const base = listContentHash([{ id: 'a', quantity: 1 }]);
    expect(listContentHash([{ id: 'a', quantity: 2 }])).not.toBe(base);
    expect(listContentHash([{ id: 'b', quantity: 1 }])).not.toBe(base);
    expect(
      listContentHash([
        { id: 'a', quantity: 1 },
        { id: 'b', quantity: 1 },
      ]),
    ).not.toBe(base);
    expect(listContentHash([{ id: 'a' }])).not.toBe(base);
    expect(listContentHash([])).not.toBe(base);
  });

  it('is a stable sha256 hex digest', () => {
    const h = listContentHash([{ id: 'a' }, { id: 'b' }]);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(listContentHash([{ id: 'b' }, { id: 'a' }])).toBe(h);
  });

  it('does not confuse ids that join the same way', () => {
    expect(listContentHash([{ id: 'a,b' }])).not.toBe(listContentHash([{ id: 'a' }, { id: 'b' }]));
  });
});

describe('deriveSeance', () => {
  it('is stable, 10 chars of [A-Za-z0-9]', () => {
    const s = deriveSeance('did', 'N1');
    expect(s).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(deriveSeance('did', 'N1')).toBe(s);
  });

  it('differs for different parts, including how they are split', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(deriveSeance('did', String(i)));
    expect(seen.size).toBe(500);
    expect(deriveSeance('ab', 'c')).not.toBe(deriveSeance('a', 'bc'));
    expect(deriveSeance('a')).not.toBe(deriveSeance('a', ''));
  });
});
