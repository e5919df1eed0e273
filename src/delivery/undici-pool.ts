/**
 * undici's Pool, loaded alone. The package's index loads every API undici has (fetch, WebSocket, the caches, the mock
 * agents, …) whatever one takes from it: alone it takes 50 ms and 8-9 MB, where the Pool takes 20 ms; in the
 * connector's start, with everything else it loads, 30 ms and 3-4 MB less. Alone, the Pool has `dispatch` but not the
 * methods the index adds to every dispatcher (`request`, `stream`, …): the sender (http.ts) dispatches only. The index
 * itself takes its Pool from this path; should a later undici move it, the whole package is loaded instead (slower to
 * start, the same otherwise), and a test (test/undici-pool.test.ts) says so.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/** Where undici 6 and 7 keep the Pool class (the file its index requires). */
export const POOL_MODULE = 'undici/lib/dispatcher/pool.js';

const require = createRequire(import.meta.url);

function isPoolClass(value: unknown): value is typeof Undici.Pool {
  return typeof value === 'function' && typeof (value as { prototype?: { dispatch?: unknown } }).prototype?.dispatch === 'function';
}

/** The Pool class from its own module, or from the package's index when that module is not where it was. */
export function loadPool(): { Pool: typeof Undici.Pool; alone: boolean } {
  try {
    const alone: unknown = require(POOL_MODULE);
    if (isPoolClass(alone)) return { Pool: alone, alone: true };
  } catch {
    // Moved or gone in this undici: the index has it (below).
  }
  return { Pool: (require('undici') as typeof Undici).Pool, alone: false };
}

export const { Pool } = loadPool();
export type Pool = Undici.Pool;
