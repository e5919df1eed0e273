/**
 * Array parameters written as their literal (src/array-literal.ts), read back by a real Postgres as `text[]`: every
 * value comes back as it was, nulls as nulls, whatever quotes, backslashes, braces, commas, spaces or words it holds;
 * through the state's binding (pgArray) and through the source's driver, which writes every such array of a statement.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayLiteral, isLiteralArray, type LiteralArray } from '../src/array-literal.js';
import { openSource, type Source } from '../src/source/db.js';
import { pgArray } from '../src/state/db.js';
import { adminQuery, urlFor } from './support/pg.js';

let source: Source;

beforeAll(() => {
  source = openSource({ url: urlFor('postgres'), poolSize: 1, statementTimeoutMs: 0, applicationName: 'test' });
});
afterAll(async () => {
  await source.close();
});

async function readBack(values: LiteralArray): Promise<unknown> {
  const literal = arrayLiteral(values);
  expect(pgArray(values)).toBe(literal);
  const rows = (await adminQuery('SELECT $1::text[] AS a', [literal])).rows as { a: unknown }[];
  // The source's driver writes the array itself: the same values come back.
  const [viaSource] = await source.query<{ a: unknown }>({ text: 'SELECT $1::text[] AS a', values: [values] });
  expect(viaSource?.a).toEqual(rows[0]?.a);
  return rows[0]?.a;
}

describe('arrayLiteral', () => {
  it('plain values: one join, read back as they were', async () => {
    const values = Array.from({ length: 5000 }, (_, i) => `p${String(i).padStart(8, '0')}`);
    expect(await readBack(values)).toEqual(values);
  });

  it('an empty array, and one empty string', async () => {
    expect(await readBack([])).toEqual([]);
    expect(await readBack([''])).toEqual(['']);
    expect(await readBack(['', 'a', ''])).toEqual(['', 'a', '']);
  });

  it('values a literal must quote or escape come back unchanged', async () => {
    const values = ['a"b', 'back\\slash', '\\"', '"', '\\', '{braces}', 'com,ma', ' spaced ', 'NULL', 'null', 'tab\there', 'line\nbreak', 'ünï©ødé', "it's"];
    expect(await readBack(values)).toEqual(values);
  });

  it('nulls are nulls, among plain and escaped values', async () => {
    expect(await readBack([null, 'x', null])).toEqual([null, 'x', null]);
    expect(await readBack([null, null])).toEqual([null, null]);
    expect(await readBack(['a"', null, 'NULL'])).toEqual(['a"', null, 'NULL']);
  });

  it('numbers are written as their text', async () => {
    expect(await readBack([1, 2.5, -3])).toEqual(['1', '2.5', '-3']);
    expect(await readBack([7, null])).toEqual(['7', null]);
  });

  it('only arrays of texts, numbers and nulls are written here; anything else is left to node-postgres', () => {
    expect(isLiteralArray(['a', 1, null])).toBe(true);
    expect(isLiteralArray([])).toBe(true);
    expect(isLiteralArray('a')).toBe(false);
    expect(isLiteralArray([undefined])).toBe(false);
    expect(isLiteralArray([['nested']])).toBe(false);
    expect(isLiteralArray([new Date(0)])).toBe(false);
  });
});
