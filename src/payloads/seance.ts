/** Stable session ids for rows that bring none. */
import { hash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 10;

/**
 * A 10-character [A-Za-z0-9] id from the sha256 of the parts: the same parts always give the same id. The digits
 * are the 256-bit digest's lowest base-62 digits, found by long division over its 32-bit words (a BigInt built from the
 * hex text gave the same digits at several times the cost, on every order without a seance).
 */
export function deriveSeance(...parts: string[]): string {
  const digest = hash('sha256', JSON.stringify(parts), 'buffer'); // one-shot: no Hash object per call
  const words = [0, 4, 8, 12, 16, 20, 24, 28].map((at) => digest.readUInt32BE(at));
  let id = '';
  for (let i = 0; i < LENGTH; i++) {
    let rest = 0;
    for (let w = 0; w < words.length; w++) {
      const acc = rest * 0x1_0000_0000 + (words[w] ?? 0); // < 62 * 2^32: exact in a double
      words[w] = Math.floor(acc / 62);
      rest = acc % 62;
    }
    id += ALPHABET[rest];
  }
  return id;
}
