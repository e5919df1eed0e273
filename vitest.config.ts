import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The suite in tiers, one vitest project each (`scripts/test-tiers.mjs` runs them one after another and times each):
 *
 * - fast: unit tests and in-process integration (the sandbox over real HTTP, a real Postgres, the command line
 *   in-process through `main`). `npm test`. Never spawns the built CLI (test/support/cli.ts refuses in this tier).
 * - cli: the built CLI as real child processes: exit codes, signals, locks, the long-running `schedule`.
 * - faults: fault injection (hostile answers, outages, database faults, secrets, signals).
 * - crash: the crash loop (SIGKILL at random moments, restarted each time).
 * - browser: the report's HTML page in headless Chromium.
 * - install: the production install (no devDependencies).
 * - demo: the embedded demo.
 *
 * Every tier but fast runs the built CLI, so each of those first makes sure dist/ is as new as the sources
 * (test/support/fresh-build.ts builds it when it is not).
 */
const CLI = 'test/cli/**/*.test.ts';
const FAULTS = 'test/faults/**/*.test.ts';
const CRASH = 'test/faults/crash-loop.test.ts';
const BROWSER = 'test/report.browser.test.ts';
const INSTALL = 'test/production-install.test.ts';
const DEMO = 'test/demo.test.ts';
/**
 * Tests that judge timing against the sandbox's capacity model: on two cores, other files' workers starve the
 * sandbox's timers and the connector's child process. They run after the rest of their tier, with no other file beside them.
 */
const TIMED = ['test/cli/delivery.adaptive.test.ts'];
/** The rate-limit windows of the API faults: judged to the request, so they too run after the rest of the faults, alone. */
const FAULTS_TIMED = ['test/faults/api-faults.test.ts'];

const BUILT = { globalSetup: ['test/support/fresh-build.ts'] };

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { LOG_LEVEL: 'silent' },
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, CLI, FAULTS, BROWSER, INSTALL, DEMO],
          env: { PCS_TIER: 'fast' },
        },
      },
      { extends: true, test: { name: 'cli', include: [CLI], exclude: [...configDefaults.exclude, ...TIMED], ...BUILT } },
      { extends: true, test: { name: 'cli-timed', include: TIMED, sequence: { groupOrder: 1 }, ...BUILT } },
      { extends: true, test: { name: 'faults', include: [FAULTS], exclude: [...configDefaults.exclude, CRASH, ...FAULTS_TIMED], ...BUILT } },
      { extends: true, test: { name: 'faults-timed', include: FAULTS_TIMED, sequence: { groupOrder: 1 }, ...BUILT } },
      { extends: true, test: { name: 'crash', include: [CRASH], ...BUILT } },
      { extends: true, test: { name: 'browser', include: [BROWSER], ...BUILT } },
      { extends: true, test: { name: 'install', include: [INSTALL], ...BUILT } },
      { extends: true, test: { name: 'demo', include: [DEMO] } },
    ],
  },
});
