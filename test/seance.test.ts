/**
 * The derived session id (a row without `seance`): PersonaClick already holds the ids sent by earlier versions, so
 * the same parts must give the same id in every version. Known answers, computed apart from the code (Python:
 * sha256 of the parts' JSON array as an integer, its ten lowest base-62 digits, lowest first, over A–Z a–z 0–9).
 */
import { describe, expect, it } from 'vitest';
import { deriveSeance } from '../src/payloads/index.js';

describe('deriveSeance', () => {
  it.each([
    [['dev-e3e40651', '10082'], 'hmYVt0atEj'],
    [['D1', 'N1'], '7ce67auMjF'],
    [['did', 'N1'], '4oGu5dhUJ6'],
    [['a'], '4Btb5zCujF'],
    [['a', ''], 'aRyx6KUSmU'],
    [['Ünïcödé', '🛒'], 'mNsEHWbJFN'],
  ])('%j gives %s', (parts, id) => {
    expect(deriveSeance(...parts)).toBe(id);
  });

  it('is ten characters of [A-Za-z0-9], whatever the parts', () => {
    for (let i = 0; i < 200; i++) expect(deriveSeance(`d${i}`, String(i * 7919))).toMatch(/^[A-Za-z0-9]{10}$/);
  });
});
