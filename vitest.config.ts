import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that judge timing against the sandbox's capacity model (throughput, where the limit settles, the share of
 * 429s): on two cores, the other files' workers starve the sandbox's timers and the connector's child process, and a
 * starved second turns into a burst of 429s. They run as a group of their own, after the rest, with no other file
 * beside them; their bounds stay as they are.
 */
const TIMED = ['test/delivery.adaptive.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { LOG_LEVEL: 'silent' },
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...TIMED] } },
      { extends: true, test: { name: 'timed', include: TIMED, sequence: { groupOrder: 1 } } },
    ],
  },
});
