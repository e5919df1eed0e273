import { describe, expect, it } from 'vitest';
import { count, isTrue, money, optionalText, requiredId, toNumber } from '../src/payloads/fields.js';
import { buildPurchase, validateRequest, type BuildContext } from '../src/payloads/index.js';
import { describeValue, isAbsent } from '../src/payloads/reason.js';
import { isCalendarDate } from '../src/payloads/rules.js';
import { toEpochMs } from '../src/dates.js';
import { sourceParam } from '../src/payloads/source.js';

const ctx: BuildContext = { shopId: 'shop', defaultStream: 'web' };

describe('toEpochMs', () => {
  it.each([
    [new Date('2024-05-10T12:00:00Z'), Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10T12:00:00Z', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10 12:00:00', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10 15:00:00+03', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10 17:30:00+05:30', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10 07:00:00-0500', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10 12:00:00.123456+00', Date.UTC(2024, 4, 10, 12, 0, 0, 123.456)],
    ['2024-05-10 12:00', Date.UTC(2024, 4, 10, 12)],
    ['2024-05-10', Date.UTC(2024, 4, 10)],
  ])('reads %j', (value, expected) => {
    expect(toEpochMs(value)).toBeCloseTo(expected, 0);
  });

  it.each([null, undefined, '', 'yesterday', '2024-02-30 10:00:00', '2024-05-10 25:00:00', new Date('x'), 1715342400000, {}])(
    'gives undefined for %j',
    (value) => {
      expect(toEpochMs(value)).toBeUndefined();
    },
  );
});

describe('sourceParam', () => {
  const ref = Date.UTC(2024, 4, 10, 12);
  it('is a JSON string of from and code; numbers become strings', () => {
    expect(sourceParam({ source_from: 'chain', source_code: 77, source_at: new Date(ref) }, ref)).toBe('{"from":"chain","code":"77"}');
  });
  it('escapes what needs escaping', () => {
    const text = sourceParam({ source_from: 'a"b', source_code: 'c\\d', source_at: new Date(ref) }, ref);
    expect(JSON.parse(text ?? '')).toEqual({ from: 'a"b', code: 'c\\d' });
  });
  it('is undefined without a reference time or with a non-text part', () => {
    expect(sourceParam({ source_from: 'a', source_code: 'b', source_at: new Date(ref) }, undefined)).toBeUndefined();
    expect(sourceParam({ source_from: { a: 1 }, source_code: 'b', source_at: new Date(ref) }, ref)).toBeUndefined();
  });
});

describe('coercers', () => {
  it('toNumber reads plain decimals only', () => {
    expect(toNumber('12.50')).toBe(12.5);
    expect(toNumber('-0')).toBe(0);
    expect(toNumber('5.')).toBe(5);
    expect(toNumber(7n)).toBe(7);
    expect(toNumber('1e3')).toBeUndefined();
    expect(toNumber(' 1')).toBeUndefined();
    expect(toNumber('0x10')).toBeUndefined();
    expect(toNumber('')).toBeUndefined();
  });

  it('money, count, requiredId and optionalText answer checks naming the field', () => {
    expect(money('3.10', 'order_cash')).toEqual({ ok: true, value: 3.1 });
    expect(money(null, 'order_cash')).toEqual({ ok: true, value: undefined });
    expect(count('4', 'items[0].amount')).toEqual({ ok: true, value: 4 });
    expect(requiredId(12n, 'order_id')).toEqual({ ok: true, value: '12' });
    expect(requiredId(Number.MAX_SAFE_INTEGER + 2, 'order_id')).toMatchObject({ ok: false });
    expect(optionalText(true, 'email')).toEqual({ ok: false, reason: 'email: must be a string (got true)' });
  });

  it('isTrue knows the Postgres spellings of true', () => {
    expect([true, 't', 'true', ' True '].map(isTrue)).toEqual([true, true, true, true]);
    expect([false, 'f', 'false', 'yes', 1, null, undefined].map(isTrue)).toEqual([false, false, false, false, false, false, false]);
  });

  it('isAbsent covers undefined, null and blank strings only', () => {
    expect([undefined, null, '', ' \t'].every(isAbsent)).toBe(true);
    expect([0, false, 'x', [], {}].some(isAbsent)).toBe(false);
  });

  it('isCalendarDate checks real dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2024-04-31')).toBe(false);
    expect(isCalendarDate('2024-4-1')).toBe(false);
  });
});

describe('describeValue', () => {
  it.each([
    ['"abc"', 'abc'],
    [`"${'x'.repeat(40)}…"`, 'x'.repeat(41)],
    ['1.5', 1.5],
    ['0', -0],
    ['NaN', Number.NaN],
    ['10', 10n],
    ['false', false],
    ['null', null],
    ['nothing', undefined],
    ['2024-01-01T00:00:00.000Z', new Date('2024-01-01T00:00:00Z')],
    ['an invalid date', new Date('x')],
    ['an array', [1]],
    ['an object', { a: 1 }],
    ['a function', () => 1],
  ])('shows %s', (shown, value) => {
    expect(describeValue(value)).toBe(shown);
  });
});

describe('did and seance length', () => {
  const order = { order_id: 'N1', updated_at: new Date() };
  const lines = [{ id: 'a', amount: 1 }];

  it('accepts 255 characters and rejects 256', () => {
    expect(buildPurchase({ ...order, did: 'd'.repeat(255) }, lines, ctx).ok).toBe(true);
    expect(buildPurchase({ ...order, did: 'd'.repeat(256) }, lines, ctx)).toEqual({
      ok: false,
      reason: `did: must be at most 255 characters (got "${'d'.repeat(40)}…")`,
    });
    // A seance is the model's to give or not: a bad one is left out (a derived one goes instead) with a warning.
    expect(buildPurchase({ ...order, did: 'D', seance: 's'.repeat(256) }, lines, ctx)).toMatchObject({
      ok: true,
      warnings: [
        { field: 'seance', reason: expect.stringMatching(/^seance: must be at most 255 characters .*; left out, a derived seance sent instead$/) as unknown },
      ],
    });
  });

  it('is checked by validateRequest too', () => {
    const body = { event: 'view', shop_id: 'shop', did: 'd'.repeat(256), seance: 'S', stream: 'web', items: [{ id: 'a' }] };
    expect(validateRequest('/push', body)).toEqual({ ok: false, reason: `did: must be at most 255 characters (got "${'d'.repeat(40)}…")` });
  });
});
