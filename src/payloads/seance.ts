/** Stable session ids for rows that bring none. */
import { hash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 62^5 (< 2^30): five base-62 digits at a time. */
const FIVE_DIGITS = 62 ** 5;

/** The digest as 16-bit words, most significant first (reused: one derivation at a time). */
const words = new Array<number>(16).fill(0);

/**
 * A 10-character [A-Za-z0-9] id from the sha256 of the parts: the same parts always give the same id. The digits
 * are the 256-bit digest's lowest base-62 digits, lowest first: two long divisions by 62^5 over its 16-bit words
 * (remainders below 2^30, every step exact in a double) give them five at a time. (Ten divisions by 62 over 32-bit
 * words gave the same digits at twice the cost; a BigInt built from the hex text at several times it.)
 */
export function deriveSeance(...parts: string[]): string {
  const digest = hash('sha256', JSON.stringify(parts), 'buffer'); // one-shot: no Hash object per call
  for (let w = 0; w < 16; w++) words[w] = digest.readUInt16BE(w * 2);
  let id = '';
  for (let pass = 0; pass < 2; pass++) {
    let rest = 0;
    for (let w = 0; w < 16; w++) {
      const acc = rest * 0x1_0000 + (words[w] ?? 0); // < 2^46
      const q = Math.floor(acc / FIVE_DIGITS);
      words[w] = q;
      rest = acc - q * FIVE_DIGITS;
    }
    for (let i = 0; i < 5; i++) {
      const q = Math.floor(rest / 62);
      id += ALPHABET[rest - q * 62];
      rest = q;
    }
  }
  return id;
}
