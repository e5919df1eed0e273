/**
 * The state's array parameters (src/state/db.ts, pgArray), read back by a real Postgres as `text[]`: every value comes
 * back as it was, nulls as nulls, whatever quotes, backslashes, braces, commas, spaces or words it holds.
 */
import { describe, expect, it } from 'vitest';
import { pgArray } from '../src/state/db.js';
import { adminQuery } from './support/pg.js';

async function readBack(values: readonly (string | number | null)[]): Promise<unknown> {
  const literal = pgArray(values);
  expect(typeof literal).toBe('string');
  const rows = (await adminQuery('SELECT $1::text[] AS a', [literal])).rows as { a: unknown }[];
  return rows[0]?.a;
}

describe('pgArray', () => {
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
});
