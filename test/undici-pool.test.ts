import { describe, expect, it } from 'vitest';
import * as undici from 'undici';
import { loadPool, Pool } from '../src/delivery/undici-pool.js';

describe("undici's Pool, loaded alone", () => {
  it("is undici's own Pool class, from its own module (an undici that moved it would load the whole package: 50 ms and 8 MB more a start)", () => {
    const loaded = loadPool();
    expect(loaded.alone).toBe(true);
    expect(loaded.Pool).toBe(undici.Pool);
    expect(Pool).toBe(undici.Pool);
  });
});
