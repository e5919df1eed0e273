/** One-off migrations: every request kind of the API reference, sent once, resumable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { openSource } from '../src/source/db.js';
import { eventsByKeys } from '../src/source/events.js';
import { openStateDb } from '../src/state/db.js';
import { migrate } from '../src/state/migrate.js';
import { createDatabase, type TestDatabase } from './support/pg.js';
import { runEvents, testConfig } from './support/harness.js';

let db: TestDatabase;
let sandbox: Sandbox;

const EVENTS_QUERY = `SELECT * FROM shop.migration_events`;

beforeAll(async () => {
  sandbox = await startSandbox();
  db = await createDatabase('pcs_events');
  await db.query(`CREATE SCHEMA shop;
    CREATE TABLE shop.migration_events (
      event_key text PRIMARY KEY, endpoint text, event text, did text, seance text, items jsonb, category_id text,
      search_query text, recommended_by text, recommended_code text, full_cart boolean, full_wish boolean, order_id text,
      order_price numeric, category text, label text, value int, code text, type text, stream text)`);
  await db.query(`INSERT INTO shop.migration_events (event_key, endpoint, event, did, items, category_id, search_query, recommended_by, recommended_code, full_cart, full_wish, order_id, order_price, category, label, value, code, type, stream) VALUES
    ('e01', NULL, 'view', 'dev1', '[{"id":"100500"}]', NULL, NULL, 'dynamic', '3d045e1b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e02', 'push', 'category', 'dev1', NULL, '146', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e03', 'push', 'cart', 'dev1', '[{"id":"100500","amount":2}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e04', 'push', 'remove_from_cart', 'dev1', '[{"id":"100500"}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e05', 'push', 'purchase', 'dev1', '[{"id":"100500","amount":3,"price":100}]', NULL, NULL, NULL, NULL, NULL, NULL, 'N100500', 300, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e06', 'push', 'search', 'dev1', NULL, NULL, 'apple', NULL, 'apple', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e07', 'push', 'wish', 'dev1', '[{"id":"100500"}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e08', 'push', 'remove_wish', 'dev1', '[{"id":"100500"}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e09', 'push', 'cart', 'dev2', '[{"id":"100500","quantity":3},{"id":"100123","quantity":1}]', NULL, NULL, NULL, NULL, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e10', 'push', 'cart', 'dev3', NULL, NULL, NULL, NULL, NULL, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e11', 'push', 'wish', 'dev2', '[{"id":"100500"},{"id":"100123"}]', NULL, NULL, NULL, NULL, NULL, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e12', 'push', 'wish', 'dev3', NULL, NULL, NULL, NULL, NULL, NULL, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e13', 'custom', 'my_event', 'dev1', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'my_category', 'my_label', 100500, NULL, NULL, NULL),
    ('e14', 'track/received', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '731d5e0c-e3b1', 'chain', 'android'),
    ('e15', 'track/clicked', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '731d5e0c-e3b1', 'chain', 'android'),
    ('e16', 'track/closed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '731d5e0c-e3b1', 'chain', 'ios'),
    ('e17', 'push', 'view', 'dev1', '[{"id":"1"},{"id":"2"}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('e18', 'bogus', 'view', 'dev1', '[{"id":"1"}]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  await db.query(
    `INSERT INTO shop.migration_events (event_key, event, did, items) SELECT 'bulk' || lpad(g::text, 4, '0'), 'view', 'dev' || g, jsonb_build_array(jsonb_build_object('id', 'P' || g)) FROM generate_series(1, 400) g`,
  );
  const state = openStateDb(db.url, 'personaclick_sync');
  await migrate(state);
  await state.close();
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

const config = () => testConfig(db.url, sandbox.url, { jobs: { events: { query: EVENTS_QUERY, pageSize: 50 } } });

describe('events (one-off migrations)', () => {
  it('sends every request kind of the reference once, refuses the invalid rows, resumes after an interruption and repeats nothing', async () => {
    // An interrupted first run: the signal stops it after some requests went out.
    sandbox.setFaults({ latencyMs: 5 });
    const stop = new AbortController();
    const timer = setInterval(() => {
      if (sandbox.stats().accepted >= 100) stop.abort();
    }, 5);
    const interrupted = await runEvents(config(), { signal: stop.signal });
    clearInterval(timer);
    expect(interrupted.summary.status).toBe('interrupted');
    expect(interrupted.summary.sent).toBeGreaterThanOrEqual(100);
    expect(interrupted.summary.sent).toBeLessThan(416);

    sandbox.setFaults({});
    const resumed = await runEvents(config());
    expect(resumed.summary.status).toBe('done');
    expect(interrupted.summary.sent + resumed.summary.sent).toBe(416);
    expect(sandbox.stats().accepted).toBe(416);
    expect(resumed.summary.invalid).toBe(2);

    const kinds = Object.fromEntries(sandbox.events);
    expect(kinds).toMatchObject({
      '/push view': 401,
      '/push category': 1,
      '/push cart': 3,
      '/push remove_from_cart': 1,
      '/push purchase': 1,
      '/push search': 1,
      '/push wish': 3,
      '/push remove_wish': 1,
      '/push/custom my_event': 1,
      '/track/received': 1,
      '/track/clicked': 1,
      '/track/closed': 1,
    });
    expect(sandbox.carts.get('dev2')).toEqual(
      new Map([
        ['100500', 3],
        ['100123', 1],
      ]),
    );
    expect(sandbox.wishlists.get('dev2')).toEqual(new Set(['100500', '100123']));

    const failures = await db.query<{ key: string; reason: string }>(`SELECT key, reason FROM personaclick_sync.failures WHERE class = 'invalid' ORDER BY key`);
    expect(failures.map((f) => f.key)).toEqual(['e17', 'e18']);
    expect(failures[0]?.reason).toMatch(/items/);
    expect(failures[1]?.reason).toMatch(/endpoint/);

    const again = await runEvents(config());
    expect(again.summary.sent).toBe(0);
    expect(again.summary.skipped).toBe(416);
    expect(sandbox.stats().accepted).toBe(416);
  });

  it('replay reads the failed events within source.pageBytes a read, every one once, in key order', async () => {
    // 40 events of about 8 KB each; a budget of 64 KiB holds about eight of them.
    await db.query(`CREATE TABLE shop.wide_events AS
      SELECT 'w' || lpad(i::text, 3, '0') AS event_key, 'view' AS event, 'dev1' AS did, repeat(md5(i::text), 256) AS note FROM generate_series(1, 40) i`);
    const query = 'SELECT event_key, event, did, note FROM shop.wide_events';
    const source = openSource({ url: db.url, poolSize: 1, statementTimeoutMs: 0, applicationName: 'test', pageBytes: 65_536 });
    try {
      // Asked for in any order, with one key the model lacks.
      const keys = ['w040', 'w001', 'gone', ...Array.from({ length: 38 }, (_, i) => `w${String(i + 2).padStart(3, '0')}`)];
      const pages: string[][] = [];
      for await (const page of eventsByKeys(source, query, keys)) {
        const bytes = page.reduce((n, e) => n + String(e.row.note).length, 0);
        // A read stops at the row that fills the budget: what came before it is within it.
        expect(bytes - String(page[page.length - 1]?.row.note).length).toBeLessThan(65_536);
        pages.push(page.map((e) => e.key));
      }
      expect(pages.flat()).toEqual(Array.from({ length: 40 }, (_, i) => `w${String(i + 1).padStart(3, '0')}`));
      expect(pages.length).toBeGreaterThanOrEqual(4);
      // A budget the events fit in: one read.
      const one: number[] = [];
      const roomy = openSource({ url: db.url, poolSize: 1, statementTimeoutMs: 0, applicationName: 'test' });
      try {
        for await (const page of eventsByKeys(roomy, query, keys)) one.push(page.length);
      } finally {
        await roomy.close();
      }
      expect(one).toEqual([40]);
    } finally {
      await source.close();
    }
  });
});
