/** The command line as an operator uses it: real child processes, a real Postgres, the sandbox over HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, startCli, writeConfig } from '../support/cli.js';
import { createDatabase, PG_HOST, PG_PORT, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { SHOP_ID } from '../support/harness.js';

let db: TestDatabase;
let sandbox: Sandbox;
const PASSWORD = 'Sup3rSecretPw';

beforeAll(async () => {
  db = await createDatabase();
  await createShop(db);
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

function configFile(extra: { delivery?: Record<string, unknown>; orders?: Record<string, unknown> } = {}): string {
  return writeConfig({
    personaclick: { url: '${API_URL}', shopId: '${SHOP_ID}', timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, ...extra.delivery },
    // trust auth ignores the password; it is here to prove it is never printed
    source: { url: `postgres://postgres:\${DB_PASSWORD}@${PG_HOST}:${PG_PORT}/${db.name}` },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01', ...extra.orders } },
  });
}

const env = () => ({ API_URL: sandbox.url, SHOP_ID, DB_PASSWORD: PASSWORD });

describe('personaclick-sync command line', () => {
  it('--help lists the commands, options, environment, exit codes and examples', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const word of [
      'migrate',
      'sync orders',
      'status',
      'sandbox',
      'demo',
      '--config',
      '--dry-run',
      '--limit',
      'PERSONACLICK_SYNC_CONFIG',
      'LOG_LEVEL',
      'Exit codes',
      'Examples',
    ]) {
      expect(result.stdout).toContain(word);
    }
  });

  it('exits 2 naming every broken key of a bad config', async () => {
    const path = writeConfig({
      personaclick: { shopId: '' },
      delivery: { concurrency: 'lots' },
      source: { url: 'mysql://x' },
      jobs: { orders: { query: 'SELECT 1' } },
    });
    const result = await runCli(['sync', 'orders', '--config', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('delivery.concurrency');
    expect(result.stderr).toContain('source.url');
    expect(result.stderr).toContain('jobs.orders.itemsQuery');
    expect(result.stderr).toContain('personaclick.shopId');
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['sync', 'orders', '--bogus'])).code).toBe(2);
    expect((await runCli(['sync', 'orders', '--limit', 'zero'])).code).toBe(2);
  });

  it('migrates, syncs, reports status, and exits 3 on 403 and 4 on an API that stays down; no secret is ever printed', async () => {
    const config = configFile();
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const r = await runCli([...args, '--config', config], { env: env() });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    // Before migrate: one line saying what to do, exit 2, nothing sent.
    const early = await run(['sync', 'orders']);
    expect(early.code).toBe(2);
    expect(early.stderr.trim()).toBe(
      'personaclick-sync: the state schema "personaclick_sync" has no connector tables (never migrated, or dropped): run personaclick-sync migrate',
    );
    expect((await run(['migrate'])).code).toBe(0);
    expect((await run(['migrate'])).code).toBe(0);

    await insertOrders(db, 1, 40);
    const dry = await run(['sync', 'orders', '--dry-run', '--limit', '5']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toHaveLength(5);
    expect(sandbox.stats().received).toBe(0);

    const sync = await run(['sync', 'orders']);
    expect(sync.code).toBe(0);
    expect(sandbox.purchases.size).toBe(40);
    // One summary line per run (README, Logs).
    const summaryLines = sync.stderr.split('\n').filter((l) => l.includes('"run finished"'));
    expect(summaryLines).toHaveLength(1);
    expect(JSON.parse(summaryLines[0] ?? '{}')).toMatchObject({ job: 'orders', status: 'done', read: 40, sent: 40, skipped: 0, invalid: 0, rejected: 0 });

    const status = await run(['status', '--json']);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as { watermarks: { name: string; key: string }[]; runs: { status: string; sent: number }[] };
    expect(report.watermarks[0]).toMatchObject({ name: 'orders', key: '40' });
    expect(report.runs[0]).toMatchObject({ status: 'done', sent: 40 });
    expect((await run(['status'])).stdout).toContain('Watermarks');

    await insertOrders(db, 41, 10);
    sandbox.setFaults({ forbidden: true });
    const forbidden = await run(['sync', 'orders']);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('403');

    sandbox.setFaults({ down: true });
    const down = await run(['sync', 'orders']);
    expect(down.code).toBe(4);

    sandbox.setFaults({});
    expect((await run(['sync', 'orders'])).code).toBe(0);
    expect(sandbox.purchases.size).toBe(50);

    for (const text of outputs) expect(text).not.toContain(PASSWORD);
  });

  it('check: exits 0 on a good setup and 1 naming the broken model, without printing the password', async () => {
    await runCli(['migrate', '--config', configFile()], { env: env() });
    const good = await runCli(['check', '--json', '--config', configFile()], { env: env() });
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, errors: 0 });

    const broken = configFile({ orders: { query: 'SELECT id AS order_id FROM shop.orders' } });
    const bad = await runCli(['check', '--config', broken], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^error +jobs\.orders\.query: .*updated_at/m);
    for (const text of [good.stdout, good.stderr, bad.stdout, bad.stderr]) expect(text).not.toContain(PASSWORD);
  });

  it('schedule: runs the orders job on its cron expression, logs the next due time, and exits 143 on SIGTERM', async () => {
    const config = configFile({ orders: { schedule: '* * * * * *' } });
    await runCli(['migrate', '--config', config], { env: env() });
    const before = sandbox.purchases.size;
    await insertOrders(db, 1000, 5);
    const running = startCli(['schedule', '--config', config], { env: { ...env(), LOG_LEVEL: 'info' } });
    await running.waitFor(/"msg":"next run due"/);
    await running.waitFor(/"msg":"scheduled run finished"/);
    running.child.kill('SIGTERM');
    const result = await running.done;
    expect(result.code).toBe(143);
    expect(sandbox.purchases.size).toBeGreaterThanOrEqual(before + 5);
    expect(result.stderr).toContain('"msg":"scheduler stopped"');
    expect(result.stderr).not.toContain(PASSWORD);
  });
});
