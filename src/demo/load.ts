/**
 * Loads the demo only when `personaclick-sync demo` runs. Its embedded Postgres (@electric-sql/pglite, knex-pglite) is
 * a development dependency: a production install (`npm ci --omit=dev`, the container) leaves it out, and nothing else
 * imports it, so every other command runs without it; `demo` there ends with one line saying why (exit 2).
 */
import { ConfigError } from '../errors.js';
import type { runDemo } from './run.js';

/** The packages only the demo needs; package.json keeps them in devDependencies. */
export const DEMO_ONLY_PACKAGES = ['@electric-sql/pglite', 'knex-pglite'] as const;

export async function loadDemo(): Promise<typeof runDemo> {
  try {
    return (await import('./run.js')).runDemo;
  } catch (caught) {
    if (!isMissingDemoPackage(caught)) throw caught;
    throw new ConfigError(
      `the demo needs its embedded Postgres (${DEMO_ONLY_PACKAGES.join(', ')}), development dependencies that this ` +
        'install leaves out: run it from a checkout with npm install && npm run demo',
    );
  }
}

/** Whether the import failed because a demo-only package is not installed (any other failure is thrown as it is). */
function isMissingDemoPackage(caught: unknown): boolean {
  if (!(caught instanceof Error) || (caught as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') return false;
  return DEMO_ONLY_PACKAGES.some((name) => caught.message.includes(`'${name}'`));
}
