/**
 * The shop's database must stay untouched, whatever a model says: every source statement runs in a read-only
 * transaction it cannot leave, through the extended protocol (one statement), `check` included; `options` in the
 * source URL do not change that; a session found writable refuses to run models; `:order_ids` is a parameter only
 * outside string literals and comments. Real Postgres; the models are an attacker's best tries.
 */
import knexFactory from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/check/command.js';
import { ConfigError } from '../../src/errors.js';
import { NODE_POSTGRES, sourceOverKnex } from '../../src/source/db.js';
import { linesFor } from '../../src/source/orders.js';
import { runSync, testConfig } from '../support/harness.js';
import { createMigratedDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase();
  await createShop(db);
  await insertOrders(db, 1, 10);
  await db.query(`CREATE TABLE shop.victims (id int PRIMARY KEY);
    CREATE FUNCTION shop.wipe() RETURNS int LANGUAGE sql VOLATILE AS $$ DELETE FROM shop.victims RETURNING 1 $$;`);
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  await db.query(`TRUNCATE shop.victims; INSERT INTO shop.victims SELECT generate_series(1, 10)`);
});

const victims = async () => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM shop.victims`))[0]?.n);
const config = (query: string, sourceUrl = db.url) => testConfig(sourceUrl, 'http://127.0.0.1:9', { orders: { query } });

describe('a model cannot write to the shop', () => {
  const cases: [string, string, string?][] = [
    ['calls a function that deletes rows', `SELECT o.*, shop.wipe() AS w FROM (${ORDERS_QUERY}) o`],
    [
      'first switches its transaction to read-write with set_config',
      `SELECT o.*, set_config('transaction_read_only', 'off', true) AS rw, shop.wipe() AS w FROM (${ORDERS_QUERY}) o`,
    ],
    [
      'switches the session default off with set_config',
      `SELECT o.*, set_config('default_transaction_read_only', 'off', false) AS rw, shop.wipe() AS w FROM (${ORDERS_QUERY}) o`,
    ],
    [
      'runs with options=-c default_transaction_read_only=off in source.url',
      `SELECT o.*, shop.wipe() AS w FROM (${ORDERS_QUERY}) o`,
      '?options=-c%20default_transaction_read_only%3Doff',
    ],
  ];
  for (const [what, query, urlTail] of cases) {
    it(`${what}: the dry run fails and every row is still there`, async () => {
      const run = await runSync(config(query, `${db.url}${urlTail ?? ''}`), { dryRun: true });
      expect(run.summary.status).toBe('failed');
      expect(run.summary.error?.message).toMatch(/read-only transaction|transaction read-write mode must be set before any query/);
      expect(await victims()).toBe(10);
    });
  }

  it('check runs models through the extended protocol: a second statement after ";" is refused, not run', async () => {
    // The model closes the wrapper's parentheses itself, slips a DELETE in, and reopens them for the wrapper's tail:
    // through the simple query protocol that is three statements, and the DELETE runs.
    const crafted = `SELECT 1 AS order_id\n) AS q LIMIT 0) AS q ON true; DELETE FROM shop.victims; SELECT q.* FROM (SELECT 1) AS a LEFT JOIN (SELECT * FROM (SELECT 1 AS y`;
    const findings = await runChecks(testConfig(db.url, 'http://127.0.0.1:9', { orders: { query: crafted } }), { connectTimeoutMs: 5000 });
    const model = findings.find((f) => f.subject === 'jobs.orders.query');
    expect(model?.level).toBe('error');
    expect(model?.message).toMatch(/cannot insert multiple commands into a prepared statement/);
    expect(await victims()).toBe(10);
  });

  it('refuses a session where BEGIN READ ONLY does not take (a pooler that drops it), before any model runs', async () => {
    const knex = knexFactory({ client: 'pg', connection: { connectionString: db.url }, pool: { min: 0, max: 1 } });
    // A driver on the way that loses READ ONLY from our BEGIN, as a misbehaving pooler would.
    const lossy = { ...NODE_POSTGRES, exec: (c: unknown, sql: string) => NODE_POSTGRES.exec(c, sql.replace('BEGIN TRANSACTION READ ONLY', 'BEGIN')) };
    const source = sourceOverKnex(knex, lossy, { statementTimeoutMs: 0 });
    try {
      await expect(source.query({ text: 'SELECT shop.wipe() AS w', values: [] })).rejects.toBeInstanceOf(ConfigError);
      await expect(source.query({ text: 'SELECT shop.wipe() AS w', values: [] })).rejects.toThrow(/the shop database session is writable/);
      expect(await victims()).toBe(10);
    } finally {
      await source.close();
    }
  });
});

describe(':order_ids', () => {
  it('is replaced only outside string literals and comments', async () => {
    const itemsQuery = `SELECT l.order_id, l.product_id AS id, l.qty AS amount, ':order_ids' AS quoted, $q$:order_ids$q$ AS dollar
  FROM shop.order_lines l WHERE l.order_id = ANY(:order_ids) -- ANY(:order_ids) in a comment
  /* and :order_ids in /* a nested */ block */`;
    const knex = knexFactory({ client: 'pg', connection: { connectionString: db.url }, pool: { min: 0, max: 1 } });
    const source = sourceOverKnex(knex, NODE_POSTGRES, { statementTimeoutMs: 0 });
    try {
      const lines = await linesFor(source, itemsQuery, ['1', '2']);
      expect([...lines.keys()].sort()).toEqual(['1', '2']);
      for (const line of [...lines.values()].flat()) expect([line.quoted, line.dollar]).toEqual([':order_ids', ':order_ids']);
    } finally {
      await source.close();
    }
    // and the sync with the ordinary items query is unharmed
    const run = await runSync(testConfig(db.url, 'http://127.0.0.1:9', { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY } }), { dryRun: true });
    expect(run.summary).toMatchObject({ status: 'done', read: 10, sent: 10 });
  });
});
