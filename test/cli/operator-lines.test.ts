/**
 * What a new operator reads on stderr when a setting is wrong: one line naming the setting (source.url, state.url,
 * personaclick.shopSecret), never a raw stack trace outside the JSON log, never "HTTP 403" twice.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, writeConfig } from '../support/cli.js';
import { SHOP_ID } from '../support/harness.js';
import { createHistoryShop, HISTORY_ITEMS_QUERY, HISTORY_ORDERS_QUERY, insertHistory } from '../support/history-shop.js';
import { adminQuery, createMigratedDatabase, PG_HOST, PG_PORT, type TestDatabase } from '../support/pg.js';

let db: TestDatabase;
let sandbox: Sandbox;
const SECRET = 'right-secret-0b1c2d';
/** A port nothing listens on (the discard port). */
const CLOSED = `postgres://postgres@127.0.0.1:9/nowhere`;

beforeAll(async () => {
  db = await createMigratedDatabase('pcs_lines');
  await createHistoryShop(db);
  await insertHistory(db, 1, 5);
  sandbox = await startSandbox({ shopSecret: SECRET });
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

const dbUrl = () => `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}`;

function configFile(o: { source?: string; state?: string; secret?: string } = {}): string {
  return writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, shopSecret: o.secret ?? SECRET, timeoutMs: 2000 },
    source: { url: o.source ?? dbUrl() },
    ...(o.state === undefined ? {} : { state: { url: o.state } }),
    jobs: { orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

/** stderr without the JSON log lines: what the operator reads. */
const plainLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));

describe('one line naming the setting', () => {
  it('an unreachable shop database names source.url; an unreachable state database names state.url; no stack trace', async () => {
    const source = await runCli(['sync', 'orders', '--config', configFile({ source: CLOSED, state: dbUrl() })]);
    expect(source.code).toBe(1);
    expect(plainLines(source.stderr)).toEqual([
      expect.stringMatching(
        /^personaclick-sync: cannot reach the shop database \(source\.url: postgres@127\.0\.0\.1:9\/nowhere\): connect ECONNREFUSED/,
      ) as unknown,
    ]);

    const state = await runCli(['sync', 'orders', '--config', configFile({ state: CLOSED })]);
    expect(state.code).toBe(1);
    expect(plainLines(state.stderr)).toEqual([
      expect.stringMatching(
        /^personaclick-sync: cannot reach the state database \(state\.url: postgres@127\.0\.0\.1:9\/nowhere\): connect ECONNREFUSED/,
      ) as unknown,
    ]);

    for (const command of [['status'], ['migrate'], ['sync', 'orders', '--dry-run']]) {
      const r = await runCli([...command, '--config', configFile({ state: CLOSED })]);
      expect(plainLines(r.stderr), command.join(' ')).toEqual([expect.stringContaining('cannot reach the state database (state.url: ') as unknown]);
    }
    for (const r of [source, state]) expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 90_000);

  it('migrate with a read-only role on state.url names state.url', async () => {
    const role = `pcs_ro_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    try {
      await adminQuery(`GRANT CONNECT ON DATABASE "${db.name}" TO ${role}`);
      const url = `postgres://${role}@${PG_HOST}:${PG_PORT}/${db.name}`;
      const r = await runCli(['migrate', '--config', configFile({ state: url })]);
      expect(r.code).toBe(2);
      const [line, ...rest] = plainLines(r.stderr);
      expect(rest).toEqual([]);
      expect(line).toMatch(
        new RegExp(
          `^personaclick-sync: migrate: the state database refused to create the connector's tables \\(state\\.url: ${role}@[^)]+/${db.name}\\): permission denied .*; state\\.url must name a role that may create schema personaclick_sync`,
        ),
      );
    } finally {
      await adminQuery(`DROP OWNED BY ${role}`, [], db.name).catch(() => undefined);
      await adminQuery(`DROP ROLE ${role}`);
    }
  });

  it('a wrong shop secret: one line naming personaclick.shopSecret, the status said once, exit 3', async () => {
    const r = await runCli(['backfill', 'orders', '--from', '2000-01-01', '--to', '2100-01-01', '--yes', '--config', configFile({ secret: 'a-wrong-secret' })]);
    expect(r.code).toBe(3);
    const lines = plainLines(r.stderr);
    expect(lines).toEqual([
      'personaclick-sync: PersonaClick refused the shop secret (HTTP 403 on /sync/orders: Wrong shop secret): check personaclick.shopSecret',
    ]);
    expect(r.stderr).not.toContain('a-wrong-secret');
  });
});
