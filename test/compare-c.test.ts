/**
 * The order mirrors merge-join in: Postgres's "C" collation, the UTF-8 bytes of the text (`compareC`). Judged against
 * Buffer.compare of the UTF-8 encodings, the definition of that order, over strings where UTF-16 order differs.
 */
import { describe, expect, it } from 'vitest';
import { compareC } from '../src/source/snapshot.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const bytes = (a: string, b: string): number => sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

const WORDS = [
  '',
  'a',
  'A',
  'b',
  'B',
  'ab',
  'a b',
  'a-b',
  'a_b',
  'Z',
  'z',
  '10',
  '9',
  'é',
  'e',
  'ё',
  '\uffff',
  '\ue000',
  '\ud7ff',
  '😀',
  '😀a',
  '𝔸',
  'a😀',
  'a\uffff',
  'ß',
  'ss',
];

describe('compareC', () => {
  it('orders every pair as their UTF-8 bytes do, astral characters (surrogate pairs) after U+E000–U+FFFF', () => {
    for (const a of WORDS) for (const b of WORDS) expect(sign(compareC(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(bytes(a, b));
  });

  it('is not the UTF-16 order of JavaScript strings, where U+FFFF sorts after an emoji', () => {
    expect('\uffff' > '😀').toBe(true);
    expect(compareC('\uffff', '😀')).toBeLessThan(0);
  });

  it('sorts a shuffled list as Postgres COLLATE "C" would', () => {
    const sorted = [...WORDS].sort((a, b) => bytes(a, b));
    const shuffled = [...WORDS].reverse();
    expect(shuffled.sort(compareC)).toEqual(sorted);
  });
});
