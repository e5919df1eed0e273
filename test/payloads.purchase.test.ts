import { describe, expect, it } from 'vitest';
import { buildPurchase, deriveSeance, onBadValue, type BuildResult, type Row } from '../src/payloads/index.js';
import { body, ctx, freezeDate, HOUR, NOW as ORDERED, reason, sent, without } from './support/payloads.js';

const order = (extra: Row = {}): Row => ({ order_id: 'N100500', did: '7rjVGhMykT', updated_at: ORDERED, ...extra });
const line = (extra: Row = {}): Row => ({ order_id: 'N100500', id: '100500', amount: 1, ...extra });
const purchase = (extra: Row = {}, lines: Row[] = [line()]): BuildResult => buildPurchase(order(extra), lines, ctx);

describe('buildPurchase: a complete order', () => {
  /** Columns of the reference example that go out exactly as the row gives them. */
  const VERBATIM = {
    promocode: 'BIRTHDAY',
    delivery_address: 'Main st 1',
    delivery_type: 'delivery',
    payment_type: 'card',
    email: 'a@b.c',
    phone: '+100200300',
    tax_free: true,
  };

  it('builds the reference example from node-postgres values', () => {
    const b = body(
      buildPurchase(
        {
          order_id: 'N100500',
          did: '7rjVGhMykT',
          seance: 'R5eQXkrKCf',
          stream: 'ios',
          segment: 'A',
          referer: 'https://mystore.com/order/success',
          order_price: '750.00',
          order_cash: '650',
          order_bonuses: '100',
          order_delivery: '0',
          order_discount: '50.5',
          ...VERBATIM,
          custom: { order_comment: 'Delivery after 15:00', boxes: 2, refund_date: '2021-09-21' },
          source_from: 'chain',
          source_code: 'abcdef-0123',
          source_at: new Date(ORDERED.getTime() - HOUR),
          ordered_at: ORDERED,
          updated_at: new Date(ORDERED.getTime() + HOUR),
        },
        [
          { order_id: 'N100500', id: '100500', amount: '3', price: '100.00' },
          { order_id: 'N100500', id: 100123, amount: 1, price: 500 },
        ],
        ctx,
      ),
    );
    expect(b).toEqual({
      event: 'purchase',
      shop_id: ctx.shopId,
      did: '7rjVGhMykT',
      seance: 'R5eQXkrKCf',
      sid: 'R5eQXkrKCf',
      stream: 'ios',
      segment: 'A',
      referer: 'https://mystore.com/order/success',
      order_id: 'N100500',
      order_price: 750,
      order_cash: 650,
      order_bonuses: 100,
      order_delivery: 0,
      order_discount: 50.5,
      ...VERBATIM,
      items: [
        { id: '100123', amount: 1, price: 500 },
        { id: '100500', amount: 3, price: 100 },
      ],
      custom: { order_comment: 'Delivery after 15:00', boxes: 2, refund_date: '2021-09-21' },
      source: '{"from":"chain","code":"abcdef-0123"}',
    });
    expect(Object.keys(b)[0]).toBe('event');
    expect(Object.keys(b).at(-1)).toBe('source');
  });

  it('builds a minimal order with a derived seance, sid = seance and the default stream', () => {
    const b = body(purchase());
    expect(b).toEqual({
      event: 'purchase',
      shop_id: ctx.shopId,
      did: '7rjVGhMykT',
      seance: deriveSeance('7rjVGhMykT', 'N100500'),
      sid: deriveSeance('7rjVGhMykT', 'N100500'),
      stream: 'web',
      order_id: 'N100500',
      items: [{ id: '100500', amount: 1 }],
    });
  });

  it('is deterministic: the same row gives the same body', () => {
    expect(purchase({ promocode: 'X' })).toEqual(purchase({ promocode: 'X' }));
  });

  it('ignores unknown columns and never sends ordered_at / updated_at', () => {
    const b = body(purchase({ ordered_at: ORDERED, shard: 3, note: { a: 1 } }, [line({ sku_name: 'x' })]));
    expect(Object.keys(b)).not.toContain('ordered_at');
    expect(Object.keys(b)).not.toContain('updated_at');
    expect(Object.keys(b)).not.toContain('shard');
    expect(Object.keys(b)).not.toContain('note');
    expect(b.items).toEqual([{ id: '100500', amount: 1 }]);
  });

  it('carries the customer identifiers, channel and recommended_source the model gives (documented purchase fields)', () => {
    const b = body(
      purchase({ external_id: 'E1', loyalty_id: 'L-77', telegram_id: 12345, channel: 'app', recommended_source: { source: 'dynamic', code: 'REC1' } }),
    );
    expect(b).toMatchObject({
      external_id: 'E1',
      loyalty_id: 'L-77',
      telegram_id: '12345',
      channel: 'app',
      recommended_source: { source: 'dynamic', code: 'REC1' },
    });
    const bad = purchase({ recommended_source: { source: '' } });
    expect(bad.ok && bad.request.body).not.toHaveProperty('recommended_source');
    expect(bad.ok && bad.warnings.map((w) => [w.field, w.reason])).toEqual([
      ['recommended_source', 'recommended_source.source: must be non-empty text or a number (got ""); left out'],
    ]);
  });
});

describe('buildPurchase: envelope', () => {
  it('takes shop_id from the context', () => {
    expect(body(purchase()).shop_id).toBe(ctx.shopId);
    expect(reason(buildPurchase(order(), [line()], { ...ctx, shopId: '' }))).toMatch(/^shop_id: is required/);
  });

  it('turns a numeric did into a string', () => {
    expect(body(purchase({ did: 42 })).did).toBe('42');
    expect(body(purchase({ did: '9007199254740993' })).did).toBe('9007199254740993');
  });

  it.each([undefined, null, '', '   '])('rejects a missing did (%j)', (did) => {
    expect(reason(purchase({ did }))).toBe('did: is required and must be a non-empty string');
  });

  it.each([{ a: 1 }, true, [1], 1.5])('rejects a did of the wrong type (%j)', (did) => {
    expect(reason(purchase({ did }))).toMatch(/^did: must be a non-empty string \(got /);
  });

  it('uses the row seance, and sends it as sid too', () => {
    const b = body(purchase({ seance: 'abcDEF1234' }));
    expect(b.seance).toBe('abcDEF1234');
    expect(b.sid).toBe('abcDEF1234');
  });

  it.each([null, '', '  '])('derives a seance from (did, order_id) when the row has %j', (seance) => {
    const b = body(purchase({ seance }));
    expect(b.seance).toBe(deriveSeance('7rjVGhMykT', 'N100500'));
    expect(b.sid).toBe(b.seance);
    expect(body(purchase({ seance, order_id: 'N2' })).seance).not.toBe(b.seance);
  });

  it('leaves out a seance of the wrong type with a warning, and derives one as for a row without', () => {
    const { body: b, warning } = without(purchase({ seance: { a: 1 } }), 'seance', 'an object');
    expect(warning.reason).toBe('seance: must be a non-empty string (got an object); left out, a derived seance sent instead');
    expect(b.seance).toBe(deriveSeance('7rjVGhMykT', 'N100500'));
    expect(b.sid).toBe(b.seance);
  });

  it('uses the row stream, else the default', () => {
    expect(body(purchase({ stream: 'android' })).stream).toBe('android');
    expect(body(purchase({ stream: null })).stream).toBe('web');
    expect(body(purchase({ stream: '' })).stream).toBe('web');
    expect(body(purchase({ stream: 'A1234567890abcde' })).stream).toBe('A1234567890abcde');
  });

  it.each(['web-1', 'my stream', 'A1234567890abcdef', 'strëam', 12])('sends the configured stream instead of the bad stream %j, with a warning', (stream) => {
    const { body: b, warning } = without(purchase({ stream }), 'stream', JSON.stringify(stream));
    expect(b.stream).toBe('web');
    expect(warning.reason).toMatch(/^stream: must be 1 to 16 letters or digits \(got .*\); left out, the configured stream sent instead$/);
  });

  it('rejects a bad default stream', () => {
    expect(reason(buildPurchase(order(), [line()], { ...ctx, defaultStream: 'w-b' }))).toBe(
      'stream: must be 1 to 16 letters or digits (the configured default stream) (got "w-b")',
    );
    expect(reason(buildPurchase(order(), [line()], { ...ctx, defaultStream: '' }))).toMatch(/^stream: is required/);
  });

  it('takes segment A or B only; another is left out with a warning', () => {
    expect(body(purchase({ segment: 'A' })).segment).toBe('A');
    expect(body(purchase({ segment: 'B' })).segment).toBe('B');
    for (const segment of ['C', 'a']) {
      const { body: b, warning } = without(purchase({ segment }), 'segment', `"${segment}"`);
      expect(b).not.toHaveProperty('segment');
      expect(warning.reason).toBe(`segment: must be "A" or "B" (got "${segment}"); left out`);
    }
  });

  it('sends referer as a string; a non-string is left out with a warning', () => {
    expect(body(purchase({ referer: 'https://x.y/z' })).referer).toBe('https://x.y/z');
    const { body: b, warning } = without(purchase({ referer: ['x'] }), 'referer', 'an array');
    expect(b).not.toHaveProperty('referer');
    expect(warning.reason).toBe('referer: must be a string (got an array); left out');
  });

  it.each([null, undefined, '', '   '])('omits every optional field that is %j', (empty) => {
    const columns = [
      'seance',
      'stream',
      'segment',
      'referer',
      'email',
      'phone',
      'promocode',
      'delivery_address',
      'delivery_type',
      'payment_type',
      'order_price',
      'order_cash',
      'order_bonuses',
      'order_delivery',
      'order_discount',
      'tax_free',
      'custom',
      'source_from',
      'source_code',
      'source_at',
      'ordered_at',
    ];
    const row = Object.fromEntries(columns.map((c) => [c, empty]));
    const b = body(purchase(row, [line({ price: empty, line_id: empty, fashion_size: empty })]));
    expect(Object.keys(b).sort()).toEqual(['did', 'event', 'items', 'order_id', 'seance', 'shop_id', 'sid', 'stream']);
    expect(b.items).toEqual([{ id: '100500', amount: 1 }]);
    expect(JSON.stringify(b)).not.toMatch(/null|""/);
  });
});

describe('buildPurchase: source', () => {
  const src = (at: unknown, extra: Row = {}): Row => ({ source_from: 'chain', source_code: 'c0de', source_at: at, ...extra });
  /** The source those rows give when it is sent. */
  const SOURCE = '{"from":"chain","code":"c0de"}';

  it('sends source as a JSON string when the click is within 48 hours before ordered_at', () => {
    const b = body(purchase(src(new Date(ORDERED.getTime() - 47 * HOUR), { ordered_at: ORDERED })));
    expect(typeof b.source).toBe('string');
    expect(JSON.parse(b.source as string)).toEqual({ from: 'chain', code: 'c0de' });
  });

  it('includes a click exactly 48 hours old and one at the same instant', () => {
    expect(body(purchase(src(new Date(ORDERED.getTime() - 48 * HOUR), { ordered_at: ORDERED }))).source).toBe(SOURCE);
    expect(body(purchase(src(ORDERED, { ordered_at: ORDERED }))).source).toBe(SOURCE);
  });

  it('omits a click older than 48 hours, or after the order', () => {
    expect(body(purchase(src(new Date(ORDERED.getTime() - 48 * HOUR - 1), { ordered_at: ORDERED }))).source).toBeUndefined();
    expect(body(purchase(src(new Date(ORDERED.getTime() + 1), { ordered_at: ORDERED }))).source).toBeUndefined();
  });

  it('measures from ordered_at, not updated_at, when both are there', () => {
    const late = new Date(ORDERED.getTime() + 100 * HOUR);
    expect(body(purchase(src(new Date(ORDERED.getTime() - HOUR), { ordered_at: ORDERED, updated_at: late }))).source).toBe(SOURCE);
    expect(body(purchase(src(new Date(late.getTime() - HOUR), { ordered_at: ORDERED, updated_at: late }))).source).toBeUndefined();
  });

  it('measures from updated_at when there is no ordered_at', () => {
    expect(body(purchase(src(new Date(ORDERED.getTime() - HOUR), { ordered_at: null }))).source).toBe(SOURCE);
    expect(body(purchase(src(new Date(ORDERED.getTime() - 49 * HOUR)))).source).toBeUndefined();
  });

  it('omits source when there is no reference time at all', () => {
    expect(body(purchase(src(ORDERED, { updated_at: null }))).source).toBeUndefined();
  });

  it('reads timestamps given as text, with or without a zone', () => {
    expect(body(purchase(src('2024-05-10 14:30:00+03', { ordered_at: '2024-05-10T12:00:00Z' }))).source).toBe(SOURCE);
    expect(body(purchase(src('2024-05-10 15:30:00+03', { ordered_at: '2024-05-10T12:00:00Z' }))).source).toBeUndefined();
    expect(body(purchase(src('2024-05-10 11:59:59.999999', { ordered_at: ORDERED }))).source).toBe(SOURCE);
  });

  it.each([
    ['no from', { source_from: null }],
    ['a blank code', { source_code: '  ' }],
    ['no time', { source_at: null }],
  ])('omits source with %s (not an error, no warning)', (_label, extra) => {
    expect(body(purchase({ ...src(ORDERED), ...extra, ordered_at: ORDERED })).source).toBeUndefined();
  });

  it.each([
    ['an unreadable time', { source_at: 'yesterday' }, 'source_at', '"yesterday"'],
    ['a from that is an object', { source_from: { a: 1 } }, 'source_from', 'an object'],
    ['a code that is an array', { source_code: ['x'] }, 'source_code', 'an array'],
  ])('sends the order without source when it has %s, with a warning', (_label, extra, field, shown) => {
    const { body: b, warning } = without(purchase({ ...src(ORDERED), ...extra, ordered_at: ORDERED }), field, shown);
    expect(b).not.toHaveProperty('source');
    expect(warning.reason).toMatch(/; source left out$/);
  });
});

describe('buildPurchase: order_id', () => {
  it('turns a numeric order_id into a string', () => {
    expect(body(purchase({ order_id: 100500 })).order_id).toBe('100500');
    expect(body(purchase({ order_id: '100500' })).order_id).toBe('100500');
  });

  it('accepts 255 characters and rejects 256', () => {
    expect(body(purchase({ order_id: 'x'.repeat(255) })).order_id).toHaveLength(255);
    expect(reason(purchase({ order_id: 'x'.repeat(256) }))).toBe(`order_id: must be a non-empty string of at most 255 characters (got "${'x'.repeat(40)}…")`);
  });

  it.each([undefined, null, ''])('rejects a missing order_id (%j)', (order_id) => {
    expect(reason(purchase({ order_id }))).toBe('order_id: is required and must be a non-empty string of at most 255 characters');
  });

  it('rejects an order_id of the wrong type', () => {
    expect(reason(purchase({ order_id: { id: 1 } }))).toMatch(/^order_id: .*\(got an object\)$/);
  });
});

describe('buildPurchase: items', () => {
  it('needs at least one line', () => {
    expect(reason(purchase({}, []))).toBe('items: an order needs at least one line');
  });

  it('turns numeric ids into strings and keeps line_id and fashion_size', () => {
    const b = body(purchase({}, [line({ id: 7, line_id: 55, fashion_size: 42 })]));
    expect(b.items).toEqual([{ id: '7', amount: 1, line_id: '55', fashion_size: '42' }]);
  });

  it.each([
    [{ id: '' }, 'items[0].id: is required and must be a non-empty string of at most 255 characters without a backslash'],
    [{ id: null }, 'items[0].id: is required and must be a non-empty string of at most 255 characters without a backslash'],
    [{ id: 'a\\b' }, 'items[0].id: must be a non-empty string of at most 255 characters without a backslash (got "a\\\\b")'],
    [{ id: { x: 1 } }, 'items[0].id: must be a non-empty string of at most 255 characters without a backslash (got an object)'],
  ])('rejects item %j', (extra, expected) => {
    expect(reason(purchase({}, [line(extra)]))).toBe(expected);
  });

  it('accepts a 255-char id and rejects 256', () => {
    expect(body(purchase({}, [line({ id: 'i'.repeat(255) })])).items).toHaveLength(1);
    expect(reason(purchase({}, [line({ id: 'i'.repeat(256) })]))).toMatch(/^items\[0\]\.id: must be/);
  });

  it.each([
    [2, 2],
    ['2', 2],
    ['2.000', 2],
    [1000, 1000],
    ['1', 1],
  ])('accepts amount %j', (amount, expected) => {
    expect(body(purchase({}, [line({ amount })])).items).toEqual([{ id: '100500', amount: expected }]);
  });

  it.each([
    [0, '0'],
    [-1, '-1'],
    ['-2', '-2'],
  ])('leaves a line of %j units out with a warning naming it, and sends the rest', (amount, shown) => {
    const built = purchase({}, [line({ id: 'a' }), line({ id: 'b' }), line({ id: 'c', amount })]);
    expect(built.ok && built.request.body.items).toEqual([
      { id: 'a', amount: 1 },
      { id: 'b', amount: 1 },
    ]);
    expect(built.ok && built.warnings).toEqual([
      {
        field: 'items[2].amount',
        value: shown,
        reason: `items[2].amount: ${shown} is not a quantity bought (a line of no units); the line is left out of the order`,
      },
    ]);
  });

  it('refuses an order whose every line is of no units', () => {
    expect(reason(purchase({}, [line({ amount: 0 })]))).toBe('items: no line is bought (every line is cancelled, refunded or of no units)');
  });

  it.each([
    [2.5, '10.00', 25],
    ['0.75', 4.99, 3.74],
    [1500.5, '0.01', 15.01],
  ])('sends a weighed line (amount %j at %j) as quantity 1 at its final price, as the docs say', (amount, price, total) => {
    expect(body(purchase({}, [line({ id: 'cheese', amount, price })])).items).toEqual([{ id: 'cheese', amount: 1, price: total }]);
  });

  it('refuses a weighed line without a price (its final price cannot be told)', () => {
    expect(reason(purchase({}, [line({ amount: 0.75 })]))).toMatch(/^items\[0\]\.price: is required and must be the unit price of a weighed line/);
  });

  it('leaves cancelled and refunded lines out of the purchase', () => {
    const lines = [line({ id: 'a' }), line({ id: 'b', status: 'refunded' }), line({ id: 'c', status: 'cancelled' }), line({ id: 'd', status: 'shipped' })];
    expect(body(purchase({}, lines)).items).toEqual([
      { id: 'a', amount: 1 },
      { id: 'd', amount: 1 },
    ]);
  });

  it.each([
    [1001, '1001'],
    ['NaN', '"NaN"'],
    [Number.NaN, 'NaN'],
    ['abc', '"abc"'],
    [true, 'true'],
  ])('rejects amount %j naming the line', (amount, shown) => {
    const lines = [line({ id: 'a' }), line({ id: 'b' }), line({ id: 'c', amount })];
    expect(reason(purchase({}, lines))).toBe(`items[2].amount: must be a whole number from 1 to 1000 (got ${shown})`);
  });

  it('requires an amount', () => {
    expect(reason(purchase({}, [line({ amount: null })]))).toBe('items[0].amount: is required and must be a whole number from 1 to 1000');
  });

  it('sends price as a JSON number, and omits it when absent', () => {
    expect(body(purchase({}, [line({ price: '100.50' })])).items).toEqual([{ id: '100500', amount: 1, price: 100.5 }]);
    expect(body(purchase({}, [line({ price: 0 })])).items).toEqual([{ id: '100500', amount: 1, price: 0 }]);
    expect(body(purchase({}, [line({ price: null })])).items).toEqual([{ id: '100500', amount: 1 }]);
  });

  it.each(['-1', -0.01, 'abc', 'NaN', 'Infinity', Number.POSITIVE_INFINITY, '1e400'])('rejects price %j', (price) => {
    expect(reason(purchase({}, [line({ price })]))).toMatch(/^items\[0\]\.price: must be a non-negative finite number \(got /);
  });

  it('merges lines with the same id, fashion_size, line_id and price', () => {
    const b = body(
      purchase({}, [
        line({ id: 'a', amount: 1, price: '10.00', fashion_size: 'M' }),
        line({ id: 'b', amount: 1 }),
        line({ id: 'a', amount: '2', price: 10, fashion_size: 'M' }),
        line({ id: 'a', amount: 1, price: 10, fashion_size: 'L' }),
        line({ id: 'a', amount: 1, price: 11, fashion_size: 'M' }),
        line({ id: 'a', amount: 1, price: 10, fashion_size: 'M', line_id: 'L1' }),
      ]),
    );
    expect(b.items).toEqual([
      { id: 'a', amount: 1, price: 10, fashion_size: 'L' },
      { id: 'a', amount: 1, price: 10, line_id: 'L1', fashion_size: 'M' },
      { id: 'a', amount: 3, price: 10, fashion_size: 'M' },
      { id: 'a', amount: 1, price: 11, fashion_size: 'M' },
      { id: 'b', amount: 1 },
    ]);
  });

  it('rejects lines whose merged amount passes 1000', () => {
    expect(body(purchase({}, [line({ amount: 600 }), line({ amount: 400 })])).items).toEqual([{ id: '100500', amount: 1000 }]);
    expect(reason(purchase({}, [line({ amount: 600 }), line({ amount: 401 })]))).toBe(
      'items[1].amount: must be a whole number from 1 to 1000 once lines with the same id, fashion_size, line_id and price are added up (got 1001)',
    );
  });

  it('sorts items by id whatever the line order', () => {
    const a = body(purchase({}, [line({ id: 'b' }), line({ id: 'a' }), line({ id: 'c' })]));
    const b = body(purchase({}, [line({ id: 'c' }), line({ id: 'b' }), line({ id: 'a' })]));
    expect(a.items).toEqual([
      { id: 'a', amount: 1 },
      { id: 'b', amount: 1 },
      { id: 'c', amount: 1 },
    ]);
    expect(a).toEqual(b);
  });

  it('rejects a line that is not an object', () => {
    expect(reason(buildPurchase(order(), ['x' as unknown as Row], ctx))).toBe('items[0]: must be an object (got "x")');
  });

  it('leaves out a too-long line_id and a bad fashion_size with a warning naming the line, and sends the line', () => {
    const long = without(purchase({}, [line({ id: 'a' }), line({ id: 'b', line_id: 'l'.repeat(256) })]), 'items[1].line_id', `"${'l'.repeat(40)}…"`);
    expect(long.warning.reason).toMatch(/^items\[1\]\.line_id: must be a non-empty string of at most 255 .*; left out$/);
    expect(long.body.items).toEqual([
      { id: 'a', amount: 1 },
      { id: 'b', amount: 1 },
    ]);
    const size = without(purchase({}, [line({ fashion_size: { eu: 42 } })]), 'items[0].fashion_size', 'an object');
    expect(size.body.items).toEqual([{ id: '100500', amount: 1 }]);
  });
});

describe('buildPurchase: money', () => {
  const MONEY = ['order_price', 'order_cash', 'order_bonuses', 'order_delivery', 'order_discount'];

  it.each(MONEY)('sends %s as a JSON number from a numeric string or a number', (column) => {
    expect(body(purchase({ [column]: '1234.56' }))[column]).toBe(1234.56);
    expect(body(purchase({ [column]: 99 }))[column]).toBe(99);
    expect(body(purchase({ [column]: '0' }))[column]).toBe(0);
    expect(body(purchase({ [column]: '.5' }))[column]).toBe(0.5);
    expect(body(purchase({ [column]: 1e12 }))[column]).toBe(1e12);
    expect(body(purchase({ [column]: 10n }))[column]).toBe(10);
  });

  it.each([
    ['NaN', '"NaN"'],
    ['Infinity', '"Infinity"'],
    ['-Infinity', '"-Infinity"'],
    ['1e400', '"1e400"'],
    ['1e5', '"1e5"'],
    [-5, '-5'],
    ['-5', '"-5"'],
    ['abc', '"abc"'],
    ['12,50', '"12,50"'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [true, 'true'],
    [{ v: 1 }, 'an object'],
  ])('sends the order without order_price %j, with a warning naming it and the value', (value, shown) => {
    const { body: b, warning } = without(purchase({ order_price: value, order_cash: '5' }), 'order_price', shown);
    expect(b).not.toHaveProperty('order_price');
    expect(b.order_cash).toBe(5);
    expect(b.items).toEqual([{ id: '100500', amount: 1 }]);
    expect(warning.reason).toBe(`order_price: must be a non-negative finite number (got ${shown}); left out`);
  });

  it.each(MONEY)('sends the order without a negative %s, with a warning', (column) => {
    const { body: b, warning } = without(purchase({ [column]: '-5' }), column, '"-5"');
    expect(b).not.toHaveProperty(column);
    expect(b.order_id).toBe('N100500');
    expect(warning.reason).toBe(`${column}: must be a non-negative finite number (got "-5"); left out`);
  });

  it.each(MONEY)('sends the order without %s above 1e12, with a warning', (column) => {
    expect(without(purchase({ [column]: '1000000000000.01' }), column, '"1000000000000.01"').warning.reason).toBe(
      `${column}: must be at most 1e12 (got "1000000000000.01"); left out`,
    );
    expect(without(purchase({ [column]: 1e13 }), column, '10000000000000').body).not.toHaveProperty(column);
  });

  it('gives one warning per bad field, in body order, and leaves out only those', () => {
    const { body: b, warnings } = sent(purchase({ order_cash: -1, promocode: { x: 1 }, segment: 'Z', order_price: 12 }));
    expect(warnings.map((w) => [w.field, w.value])).toEqual([
      ['order_cash', '-1'],
      ['promocode', 'an object'],
      ['segment', '"Z"'],
    ]);
    expect(b.order_price).toBe(12);
    for (const field of ['order_cash', 'promocode', 'segment']) expect(b).not.toHaveProperty(field);
  });
});

describe('buildPurchase: text fields and tax_free', () => {
  const TEXT = ['email', 'phone', 'promocode', 'delivery_address', 'delivery_type', 'payment_type'];

  it.each(TEXT)('sends %s as a string and omits it when empty', (column) => {
    expect(body(purchase({ [column]: 'value' }))[column]).toBe('value');
    expect(body(purchase({ [column]: '' }))[column]).toBeUndefined();
    expect(body(purchase({ [column]: null }))[column]).toBeUndefined();
  });

  it('turns a numeric phone into a string', () => {
    expect(body(purchase({ phone: 79001234567 })).phone).toBe('79001234567');
  });

  it.each(TEXT)('sends the order without %s when it is not text, with a warning', (column) => {
    const { body: b, warning } = without(purchase({ [column]: { a: 1 } }), column, 'an object');
    expect(b).not.toHaveProperty(column);
    expect(warning.reason).toBe(`${column}: must be a string (got an object); left out`);
  });

  it.each([true, 't', 'true', 'TRUE'])('sends tax_free: true for %j', (tax_free) => {
    expect(body(purchase({ tax_free })).tax_free).toBe(true);
  });

  it.each([false, 'f', 'false', 'FALSE'])('sends tax_free: false for %j, as the model says', (tax_free) => {
    expect(body(purchase({ tax_free })).tax_free).toBe(false);
  });

  it.each([null, undefined, '', '  '])('omits tax_free for %j', (tax_free) => {
    expect('tax_free' in body(purchase({ tax_free }))).toBe(false);
  });

  it.each([
    [1, '1'],
    ['yes', '"yes"'],
    [{ a: 1 }, 'an object'],
  ])('sends the order without a tax_free of %j, with a warning', (tax_free, shown) => {
    const { body: b, warning } = without(purchase({ tax_free }), 'tax_free', shown);
    expect(b).not.toHaveProperty('tax_free');
    expect(warning.reason).toBe(`tax_free: must be true or false (got ${shown}); left out`);
  });
});

describe('buildPurchase: custom', () => {
  const custom = (value: unknown): BuildResult => purchase({ custom: value });

  it('sends strings, integers and dates', () => {
    expect(body(custom({ comment: 'hi', boxes: 2, neg: -3, when: '2021-09-21' })).custom).toEqual({
      comment: 'hi',
      boxes: 2,
      neg: -3,
      when: '2021-09-21',
    });
  });

  it('keeps numeric strings as strings', () => {
    expect(body(custom({ ref: '5', price: '2.50' })).custom).toEqual({ ref: '5', price: '2.50' });
  });

  it('reads JSON text of an object', () => {
    expect(body(custom('{"boxes":2,"gift":"yes"}')).custom).toEqual({ boxes: 2, gift: 'yes' });
  });

  it('drops null and empty values, and omits an empty object', () => {
    expect(body(custom({ a: null, b: 'x', c: '', d: '  ' })).custom).toEqual({ b: 'x' });
    expect('custom' in body(custom({ a: null }))).toBe(false);
    expect('custom' in body(custom({}))).toBe(false);
    expect('custom' in body(custom('{}'))).toBe(false);
    expect('custom' in body(custom('null'))).toBe(false);
  });

  it('turns a Date at UTC midnight into YYYY-MM-DD', () => {
    expect(body(custom({ refund_date: new Date('2021-09-21T00:00:00Z') })).custom).toEqual({ refund_date: '2021-09-21' });
  });

  it('leaves out a Date with a time of day (a timestamp column), keeping the other keys, with a warning', () => {
    const { body: b, warning } = without(custom({ refund_date: new Date('2021-09-21T10:30:00Z'), boxes: 2 }), 'custom.refund_date', '2021-09-21T10:30:00.000Z');
    expect(b.custom).toEqual({ boxes: 2 });
    expect(warning.reason).toBe('custom.refund_date: has a time of day in UTC: give a date (or text) for it (got 2021-09-21T10:30:00.000Z); left out');
    expect(without(custom({ d: new Date('nope') }), 'custom.d', 'an invalid date').body).not.toHaveProperty('custom');
  });

  it('sends "2024-01-31" as a date and "2024-01-31T10:00:00" as the string it is', () => {
    expect(body(custom({ day: '2024-01-31' })).custom).toEqual({ day: '2024-01-31' });
    expect(body(custom({ at: '2024-01-31T10:00:00' })).custom).toEqual({ at: '2024-01-31T10:00:00' });
  });

  it.each(['2021-09-21T10:00:00Z', '2021-09-21 10:00', '2021-09-21T00:00:00.000Z', '2024-01-31 is the day', ' 2024-01-31'])(
    'sends text that is not exactly YYYY-MM-DD as a string: %j',
    (value) => {
      expect(body(custom({ at: value })).custom).toEqual({ at: value });
    },
  );

  it.each(['2021-02-30', '2021-13-01', '2023-02-29', '2021-00-10'])('leaves out the impossible date %j with a warning', (value) => {
    const { body: b, warning } = without(custom({ at: value, ok: 'x' }), 'custom.at', `"${value}"`);
    expect(b.custom).toEqual({ ok: 'x' });
    expect(warning.reason).toBe(`custom.at: must be a real calendar date (YYYY-MM-DD) (got "${value}"); left out`);
  });

  it('accepts a leap day', () => {
    expect(body(custom({ at: '2024-02-29' })).custom).toEqual({ at: '2024-02-29' });
  });

  it.each([
    [1.5, '1.5'],
    [true, 'true'],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
    [2 ** 53, '9007199254740992'],
  ])('leaves out the key whose value is %j, with a warning', (value, shown) => {
    const { body: b, warning } = without(custom({ boxes: value, gift: 'yes' }), 'custom.boxes', shown);
    expect(b.custom).toEqual({ gift: 'yes' });
    expect(warning.reason).toBe(`custom.boxes: must be a string, an integer or a YYYY-MM-DD date (got ${shown}); left out`);
  });

  it('leaves out custom when its only key is bad', () => {
    expect(without(custom({ boxes: 1.5 }), 'custom.boxes', '1.5').body).not.toHaveProperty('custom');
  });

  it.each(['order_id', 'did', 'source', 'items', 'category', 'value', 'recommended_by', 'tax_free', 'custom', 'sid'])(
    'leaves out the reserved key %s with a warning, keeping the others',
    (key) => {
      const { body: b, warning } = without(custom({ [key]: 'x', gift: 'yes' }), `custom.${key}`, '"x"');
      expect(b.custom).toEqual({ gift: 'yes' });
      expect(warning.reason).toBe(`custom.${key}: is a reserved name and cannot be a custom order property; left out`);
    },
  );

  it('leaves out an empty key with a warning', () => {
    expect(without(custom({ '': 'x', gift: 'yes' }), 'custom.""', '"x"').body.custom).toEqual({ gift: 'yes' });
  });

  it.each([
    [[1, 2], 'an array'],
    [5, '5'],
    ['not json', '"not json"'],
    ['[1]', '"[1]"'],
  ])('sends the order without a custom column that is not an object (%j), with a warning', (value, shown) => {
    const { body: b, warning } = without(custom(value), 'custom', shown);
    expect(b).not.toHaveProperty('custom');
    expect(warning.reason).toBe(`custom: must be a JSON object (got ${shown}); left out`);
  });
});

describe('reasons', () => {
  it('trim long values to about 40 characters', () => {
    const long = 'z'.repeat(500);
    expect(reason(purchase({}, [line({ price: long })]))).toBe(`items[0].price: must be a non-negative finite number (got "${'z'.repeat(40)}…")`);
    expect(without(purchase({ order_price: long }), 'order_price', `"${'z'.repeat(40)}…"`).warning.reason).toBe(
      `order_price: must be a non-negative finite number (got "${'z'.repeat(40)}…"); left out`,
    );
  });

  it('stay on one line when the value has newlines', () => {
    expect(reason(purchase({ did: { a: 1 }, segment: 'A\nB' }))).toBe('did: must be a non-empty string (got an object)');
    expect(without(purchase({ segment: 'A\nB' }), 'segment', '"A B"').warning.reason).toBe('segment: must be "A" or "B" (got "A B"); left out');
  });

  it('never come from a throw', () => {
    const weird: Row[] = [null as unknown as Row, undefined as unknown as Row];
    expect(reason(buildPurchase(order(), weird, ctx))).toBe('items[0]: must be an object (got null)');
    expect(reason(buildPurchase({}, [], ctx))).toBe('order_id: is required and must be a non-empty string of at most 255 characters');
  });
});

describe('source relative to the clock is not used for purchases', () => {
  freezeDate(new Date('2030-01-01T00:00:00Z'));

  it('keeps a historical order’s source even though it is years old now', () => {
    const b = body(purchase({ source_from: 'bulk', source_code: 'b1', source_at: new Date(ORDERED.getTime() - HOUR), ordered_at: ORDERED }));
    expect(b.source).toBe('{"from":"bulk","code":"b1"}');
  });
});

describe('the policy table decides, field by field, what a bad value costs a purchase', () => {
  const src = { source_from: 'chain', source_code: 'c0de', source_at: ORDERED, ordered_at: ORDERED };
  /** One bad value per column of the orders model (and its lines), as the builder names the field. */
  const CASES: [field: string, order: Row, lines?: Row[]][] = [
    ['did', { did: { a: 1 } }],
    ['order_id', { order_id: { a: 1 } }],
    ['seance', { seance: { a: 1 } }],
    ['stream', { stream: 'a-b' }],
    ['segment', { segment: 'C' }],
    ['referer', { referer: [1] }],
    ['source_from', { ...src, source_from: { a: 1 } }],
    ['source_code', { ...src, source_code: { a: 1 } }],
    ['source_at', { ...src, source_at: 'yesterday' }],
    ['order_price', { order_price: -1 }],
    ['order_cash', { order_cash: -1 }],
    ['order_bonuses', { order_bonuses: 'lots' }],
    ['order_delivery', { order_delivery: Number.NaN }],
    ['order_discount', { order_discount: 1e13 }],
    ['promocode', { promocode: { a: 1 } }],
    ['delivery_address', { delivery_address: [1] }],
    ['delivery_type', { delivery_type: true }],
    ['payment_type', { payment_type: { a: 1 } }],
    ['email', { email: { a: 1 } }],
    ['phone', { phone: [1] }],
    ['tax_free', { tax_free: 'yes' }],
    ['custom', { custom: [1] }],
    ['custom.boxes', { custom: { boxes: 1.5 } }],
    ['items', {}, []],
    ['items[0].id', {}, [line({ id: 'a\\b' })]],
    ['items[0].amount', {}, [line({ amount: 0 })]],
    ['items[0].price', {}, [line({ price: -1 })]],
    ['items[0].line_id', {}, [line({ line_id: 'l'.repeat(256) })]],
    ['items[0].fashion_size', {}, [line({ fashion_size: { eu: 42 } })]],
  ];

  it.each(CASES)('%s', (field, extra, lines) => {
    const result = purchase(extra, lines);
    if (onBadValue(field).drop) {
      const { warnings } = sent(result);
      expect(warnings.map((w) => w.field)).toEqual([field]);
    } else {
      expect(reason(result).startsWith(`${field}: `) || reason(result).startsWith('items: ')).toBe(true);
    }
  });

  it('drops the optional fields the reference allows and keeps what makes the request', () => {
    const dropped = CASES.map(([field]) => field).filter((field) => onBadValue(field).drop);
    expect(dropped).toEqual([
      'seance',
      'stream',
      'segment',
      'referer',
      'source_from',
      'source_code',
      'source_at',
      'order_price',
      'order_cash',
      'order_bonuses',
      'order_delivery',
      'order_discount',
      'promocode',
      'delivery_address',
      'delivery_type',
      'payment_type',
      'email',
      'phone',
      'tax_free',
      'custom',
      'custom.boxes',
      'items[0].line_id',
      'items[0].fashion_size',
    ]);
  });

  it('makes a row invalid for a field it does not know', () => {
    expect(onBadValue('no_such_field').drop).toBe(false);
  });
});
