/**
 * Issue 20 §4: least privilege on the shop's database. `check` names every power the source role has beyond reading
 * (superuser, writes on the shop's tables, server programs and files, replication, dangerous extensions) as a
 * warning; runs refuse a superuser or a role that may write the shop's tables unless source.allowPrivilegedRole is
 * true; the read-only role of docs/security.md runs without it. Roles have random names and are dropped after.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { useFrame } from './support/frame.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { SHOP_ID } from './support/harness.js';
import { adminQuery, PG_HOST, PG_PORT } from './support/pg.js';
import { insertOrders, ITEMS_QUERY, ORDERS_QUERY } from './support/shop.js';

const env = useFrame({ prefix: 'pcs_privilege' });
const made: string[] = [];

afterEach(async () => {
  // The roles are the cluster's: their grants revoked (DROP OWNED, in the test's database), then the roles dropped.
  for (const role of made.splice(0)) {
    await env.db.query(`DROP OWNED BY ${role} CASCADE`);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
  }
});

/** A role of a random name; `grants` run in the test database. */
async function role(kind: string, attributes: string, grants: (r: string) => string[]): Promise<string> {
  const name = `pcs_${kind}_${randomBytes(4).toString('hex')}`;
  made.push(name);
  await adminQuery(`CREATE ROLE ${name} LOGIN ${attributes}`);
  for (const sql of grants(name)) await env.db.query(sql);
  return name;
}

/** The docs/security.md statements for the read-only role, on the sample shop's schema. */
const readOnly = (r: string) => [
  `GRANT CONNECT ON DATABASE ${env.db.name} TO ${r}`,
  `GRANT USAGE ON SCHEMA shop TO ${r}`,
  `GRANT SELECT ON ALL TABLES IN SCHEMA shop TO ${r}`,
];

function config(user: string, allow?: boolean): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200 },
    source: { url: `postgres://${user}@${PG_HOST}:${PG_PORT}/${env.db.name}`, allowPrivilegedRole: allow ?? false },
    // The state schema lives in the shop's database, owned by another role (here postgres).
    state: { url: env.db.url },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

function roleFindings(stdout: string): { level: string; message: string }[] {
  return (JSON.parse(stdout) as { findings: { level: string; subject: string; message: string }[] }).findings.filter((f) => f.subject === 'source.role');
}

describe('least privilege on the shop', () => {
  it('the read-only role: check finds nothing beyond reading, and runs go on without any opt-in', async () => {
    await insertOrders(env.db, 1, 10);
    const r = await role('ro', '', readOnly);
    const check = await runMain(['check', '--json', '--config', config(r)]);
    expect(roleFindings(check.stdout)).toEqual([expect.objectContaining({ level: 'ok' })]);
    const run = await runMain(['sync', 'orders', '--config', config(r)]);
    expect(run.code, run.stderr).toBe(0);
    expect(env.sandbox.stats().accepted).toBe(10);
  });

  it('a role that may write a shop table: a warning in check, refused by runs (exit 2) unless allowPrivilegedRole', async () => {
    await insertOrders(env.db, 1, 5);
    const r = await role('writer', '', (n) => [...readOnly(n), `GRANT UPDATE ON shop.orders TO ${n}`]);
    const check = await runMain(['check', '--json', '--config', config(r)]);
    const found = roleFindings(check.stdout);
    expect(found.map((f) => f.level)).toEqual(['warn']);
    expect(found[0]?.message).toContain("may write 1 of the shop's tables (shop.orders)");
    expect(found[0]?.message).toContain('runs refuse it');
    for (const args of [
      ['sync', 'orders'],
      ['sync', 'orders', '--dry-run'],
    ]) {
      const refused = await runMain([...args, '--config', config(r)]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('refused: the source role may do more than read');
      expect(refused.stderr).toContain('source.allowPrivilegedRole: true');
    }
    expect(env.sandbox.stats().accepted).toBe(0);
    const allowed = await runMain(['sync', 'orders', '--config', config(r, true)]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('source role: role');
  });

  it('a superuser is refused; server programs, server files and replication are warned of', async () => {
    const su = await role('su', 'SUPERUSER', () => []);
    const refused = await runMain(['sync', 'orders', '--config', config(su)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is a superuser');
    const powers = await role('powers', 'REPLICATION', (n) => [...readOnly(n), `GRANT pg_execute_server_program, pg_write_server_files TO ${n}`]);
    const found = roleFindings((await runMain(['check', '--json', '--config', config(powers)])).stdout).map((f) => f.message);
    expect(found.join('\n')).toMatch(/pg_execute_server_program/);
    expect(found.join('\n')).toMatch(/pg_write_server_files/);
    expect(found.join('\n')).toMatch(/REPLICATION/);
    const run = await runMain(['sync', 'orders', '--config', config(powers)]);
    expect(run.code, run.stderr).toBe(0); // warned of in each run's log, not refused
    expect(run.stderr).toContain('pg_execute_server_program');
  });
});
