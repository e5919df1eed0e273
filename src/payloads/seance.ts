/** Stable session ids for rows that bring none. */
import { createHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 10;

/** A 10-character [A-Za-z0-9] id from the sha256 of the parts: the same parts always give the same id. */
export function deriveSeance(...parts: string[]): string {
  let n = BigInt(`0x${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`);
  let id = '';
  for (let i = 0; i < LENGTH; i++) {
    id += ALPHABET[Number(n % 62n)];
    n /= 62n;
  }
  return id;
}
