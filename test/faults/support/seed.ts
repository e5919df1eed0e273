/** The seed of a fault run: FAULTS_SEED when set (to replay a failure), else a fresh one; always printed. */
import { mulberry32 } from '../../../src/sandbox/faults.js';

export { mulberry32 };

export const LONG = process.env.FAULTS_LONG === '1';

/** The seed this file runs with, read once. */
export function faultsSeed(): number {
  const given = process.env.FAULTS_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isSafeInteger(n)) throw new Error(`FAULTS_SEED must be an integer (got "${given}")`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

/** A PRNG of its own for each scenario, derived from the file's seed, so scenarios replay independently. */
export function scenarioRandom(seed: number, scenario: string): () => number {
  let h = seed >>> 0;
  for (let i = 0; i < scenario.length; i++) h = Math.imul(h ^ scenario.charCodeAt(i), 0x01000193) >>> 0;
  return mulberry32(h);
}

/** A uniform draw in [lo, hi]. */
export function between(random: () => number, lo: number, hi: number): number {
  return lo + random() * (hi - lo);
}
