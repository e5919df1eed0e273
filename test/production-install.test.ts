/**
 * The built command line as a production install runs it: no devDependencies (test/support/production.ts). The
 * operator's commands never ask for one; `demo`, whose embedded Postgres (@electric-sql/pglite, knex-pglite) is a
 * devDependency, ends with one line naming what is missing and how to run it, exit 2. scripts/check-container.sh
 * checks the same with a real `npm ci --omit=dev`.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { runCli, writeConfig } from './support/cli.js';
import { SHOP_ID } from './support/harness.js';
import { createDatabase, type TestDatabase } from './support/pg.js';
import { devDependencies, withoutDevDependencies } from './support/production.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from './support/shop.js';

let db: TestDatabase;
let sandbox: Sandbox;
let config: string;

beforeAll(async () => {
  db = await createDatabase();
  await createShop(db);
  await insertOrders(db, 1, 12);
  sandbox = await startSandbox();
  config = writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    source: { url: db.url },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

/** Runs the CLI without devDependencies; answers its result and the packages it tried to import. */
async function production(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; asked: string[] }> {
  const log = join(mkdtempSync(join(tmpdir(), 'pcs-prod-')), 'imports.log');
  const result = await runCli(args, { env: withoutDevDependencies(log) });
  const asked = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, asked };
}

describe('a production install (no devDependencies)', () => {
  it('blocks the demo packages, which package.json keeps in devDependencies', () => {
    expect(devDependencies()).toEqual(expect.arrayContaining(['@electric-sql/pglite', 'knex-pglite']));
  });

  it('runs --help, migrate, check, sync orders and status without asking for a devDependency', async () => {
    const help = await production(['--help']);
    expect([help.code, help.asked]).toEqual([0, []]);
    expect(help.stdout).toContain('sync orders');

    for (const args of [['migrate'], ['check'], ['sync', 'orders'], ['status', '--json']]) {
      const result = await production([...args, '--config', config]);
      expect({ args, code: result.code, asked: result.asked, stderr: result.stderr.includes('ERR_MODULE_NOT_FOUND') }).toEqual({
        args,
        code: 0,
        asked: [],
        stderr: false,
      });
    }
    expect(sandbox.purchases.size).toBe(12);
  });

  it('demo exits 2 with one line naming the missing packages and how to run it', async () => {
    const demo = await production(['demo']);
    expect(demo.code).toBe(2);
    expect(demo.asked[0]).toBe('@electric-sql/pglite');
    expect(demo.stdout).toBe('');
    expect(demo.stderr).toBe(
      'personaclick-sync: the demo needs its embedded Postgres (@electric-sql/pglite, knex-pglite), development ' +
        'dependencies that this install leaves out: run it from a checkout with npm install && npm run demo\n',
    );
  });
});
