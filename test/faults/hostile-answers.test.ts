/**
 * Answers the real API never gives but a proxy, a captive portal, a moved host or a broken deployment in front of it
 * does, from a hostile stand-in over real HTTP (support/hostile-server.ts), through the real `sync orders` (and
 * `events`) as a child process: what the connector makes of each, how long it takes to get there, and how much
 * memory it needs meanwhile.
 *
 * What a user relies on: an answer that is not the endpoint's documented success never marks a row sent (it is
 * transient: retried, then exit 4 with the watermark before it); no answer is read past a small cap, and no answer
 * takes longer than personaclick.timeoutMs; a redirect stops the run at once (exit 3) naming where it points; an API
 * message the state database cannot store never wedges the books.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { PersonaClickClient } from '../../src/delivery/client.js';
import { DeliveryQueue, type DeliveryOptions, type Outcome } from '../../src/delivery/queue.js';
import { ApiError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { runSync, SHOP_ID, testConfig } from '../support/harness.js';
import { startCli, writeConfig, type CliResult } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders } from '../support/shop.js';
import { failureRows, ledgerKeys, runStatuses, watermarkKey } from './support/books.js';
import { cliConfig, pgUrl, plainLines } from './support/config.js';
import { report } from './support/figures.js';
import { startHostileServer, type HostileAnswer, type HostileServer } from './support/hostile-server.js';
import { rssProbe } from './support/peak-rss.js';

let hostile: HostileServer;
let db: TestDatabase;

beforeAll(async () => {
  hostile = await startHostileServer();
});
afterAll(async () => {
  await hostile.close();
});
beforeEach(() => {
  hostile.reset();
});
afterEach(async () => {
  // Each test that needs a database makes one (db); the file's last one is dropped here, once.
  await dropDatabase();
});

let dropped = true;
async function newDatabase(prefix: string, opts: { latin1?: boolean } = {}): Promise<TestDatabase> {
  await dropDatabase();
  db = await createMigratedDatabase(prefix, opts);
  dropped = false;
  return db;
}
async function dropDatabase(): Promise<void> {
  if (dropped) return;
  dropped = true;
  await db.drop();
}

const RETRIES = 2;
const TIMEOUT_MS = 1500;
/** A connector past this much memory is killed by the watchdog (and the test fails). */
const RSS_LIMIT_MIB = 1024;

const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The proxy could not reach the upstream server.</p></body></html>';
const html200: HostileAnswer = { kind: 'fixed', status: 200, body: HTML_PAGE, headers: { 'content-type': 'text/html' } };
const jsonSuccess: HostileAnswer = { kind: 'fixed', status: 200, body: '{"status":"success"}', headers: { 'content-type': 'application/json' } };

interface Measured {
  result: CliResult;
  /** From the first request the stand-in saw to the connector's exit. */
  outcomeMs: number;
  /** From spawning the connector to its exit. */
  wallMs: number;
  peakRssMiB: number;
  requests: number;
}

/** Run the built CLI against the stand-in, with the peak-RSS probe and watchdog. */
async function measure(args: string[], config: string, killAfterMs = 60_000): Promise<Measured> {
  const probe = rssProbe();
  const before = hostile.requests().length;
  const started = Date.now();
  const cli = startCli([...args, '--config', config], { env: probe.env, timeoutMs: killAfterMs });
  probe.watch(cli.child, RSS_LIMIT_MIB);
  const result = await cli.done;
  const ended = Date.now();
  const seen = hostile.requests().slice(before);
  expect(probe.killed(), `the connector grew past ${RSS_LIMIT_MIB} MiB and was killed`).toBe(false);
  return { result, outcomeMs: seen[0] ? ended - seen[0].at : Number.NaN, wallMs: ended - started, peakRssMiB: probe.peakMiB(), requests: seen.length };
}

async function ordersDatabase(orders: number): Promise<void> {
  await newDatabase('pcs_hostile');
  await createShop(db);
  await insertOrders(db, 1, orders);
}

function ordersConfig(opts: { concurrency?: number; timeoutMs?: number } = {}): string {
  return cliConfig({
    database: db.name,
    apiUrl: hostile.url,
    personaclick: { timeoutMs: opts.timeoutMs ?? TIMEOUT_MS },
    delivery: { concurrency: opts.concurrency ?? 2, retries: RETRIES, retryMinMs: 10, retryMaxMs: 20 },
  });
}

/** The most attempts any one key got. */
function mostAttempts(): number {
  const byKey = new Map<string, number>();
  for (const r of hostile.requests()) if (r.key !== undefined) byKey.set(r.key, (byKey.get(r.key) ?? 0) + 1);
  return Math.max(0, ...byKey.values());
}

/** The books after a run that must have halted before its first order: nothing sent, nothing failed, no watermark. */
async function expectHaltedBeforeTheFirstOrder(m: Measured, cause: RegExp): Promise<void> {
  expect(m.result.code, m.result.stderr).toBe(4);
  const message = plainLines(m.result.stderr);
  expect(message).toHaveLength(1);
  expect(message[0]).toMatch(/^personaclick-sync: PersonaClick stayed unavailable after every retry: /);
  expect(message[0]).toMatch(cause);
  expect(await ledgerKeys(db)).toEqual(new Set());
  expect(await failureRows(db)).toEqual([]);
  expect(await watermarkKey(db)).toBeNull();
  expect((await runStatuses(db)).map((r) => r.status)).toEqual(['halted']);
  // Retried as transient: the order that ran out of retries was tried 1 + retries times, none more.
  expect(mostAttempts()).toBe(RETRIES + 1);
}

function figures(name: string, answer: string, m: Measured, extra: Record<string, unknown> = {}): void {
  report(`hostile answers: ${name}`, {
    answer,
    exitCode: m.result.code,
    requests: m.requests,
    outcomeMs: m.outcomeMs,
    wallMs: m.wallMs,
    peakRssMiB: m.peakRssMiB,
    ...extra,
  });
}

describe('a 2xx that is not the documented success', () => {
  it('the documented success on /push (the baseline): every order delivered', async () => {
    await ordersDatabase(5);
    const m = await measure(['sync', 'orders'], ordersConfig());
    expect(m.result.code, m.result.stderr).toBe(0);
    expect(await ledgerKeys(db)).toEqual(new Set(['1', '2', '3', '4', '5']));
    figures('documented success', '200 {"status":"success"} on /push', m);
  });

  for (const [name, answer, cause] of [
    ['HTML page with 200', html200, /HTTP 200 .*not the documented success.*<!DOCTYPE html>/],
    [
      'null with 200',
      { kind: 'fixed', status: 200, body: 'null', headers: { 'content-type': 'application/json' } },
      /HTTP 200 .*not the documented success.*null/,
    ],
    ['empty 200', { kind: 'fixed', status: 200 }, /HTTP 200 .*not the documented success.*empty/],
  ] as const) {
    it(`${name} on /push: transient, retried, exit 4; nothing marked sent, the watermark stays before the first order`, async () => {
      await ordersDatabase(5);
      hostile.on('/push', answer);
      const m = await measure(['sync', 'orders'], ordersConfig());
      await expectHaltedBeforeTheFirstOrder(m, cause);
      figures(name, `${name} on /push`, m);
    });
  }

  /** Five custom events through the events job (the /push/custom road). */
  async function customEventsConfig(): Promise<string> {
    await newDatabase('pcs_hostile');
    await db.query(
      `CREATE SCHEMA shop; CREATE TABLE shop.ev AS SELECT 'c' || g AS event_key, 'custom' AS endpoint, 'signed_up' AS event, 'dev' || g AS did FROM generate_series(1, 5) g`,
    );
    return writeConfig({
      personaclick: { url: hostile.url, shopId: SHOP_ID, timeoutMs: TIMEOUT_MS },
      delivery: { concurrency: 2, retries: RETRIES, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200 },
      source: { url: pgUrl(db.name) },
      jobs: { events: { query: 'SELECT event_key, endpoint, event, did FROM shop.ev' } },
    });
  }

  it('{"status":"success"} with 200 on /push/custom (documented besides 204): delivered', async () => {
    const config = await customEventsConfig();
    hostile.on('/push/custom', jsonSuccess);
    const m = await measure(['events'], config);
    expect(m.result.code, m.result.stderr).toBe(0);
    expect(await ledgerKeys(db, 'events')).toEqual(new Set(['c1', 'c2', 'c3', 'c4', 'c5']));
    figures('json success on /push/custom', '200 {"status":"success"} on /push/custom', m);
  });

  it('an HTML page with 200 on /push/custom: transient, exit 4, nothing marked sent', async () => {
    const config = await customEventsConfig();
    hostile.on('/push/custom', html200);
    const m = await measure(['events'], config);
    expect(m.result.code, m.result.stderr).toBe(4);
    expect(plainLines(m.result.stderr)[0]).toMatch(/stayed unavailable after every retry: HTTP 200 .*not the documented success/);
    expect(await ledgerKeys(db, 'events')).toEqual(new Set());
    expect(await failureRows(db)).toEqual([]);
    expect(mostAttempts()).toBe(RETRIES + 1);
    figures('HTML 200 on /push/custom', 'HTML page with 200 on /push/custom', m);
  });
});

describe('answers too slow or too big to read', () => {
  it('a body trickling 1 byte a second: the whole request times out at personaclick.timeoutMs, transient, exit 4', async () => {
    await ordersDatabase(2);
    hostile.on('/push', { kind: 'trickle', status: 200, body: '{"status":"success"}', everyMs: 1000 });
    const m = await measure(['sync', 'orders'], ordersConfig({ concurrency: 1 }), 90_000);
    await expectHaltedBeforeTheFirstOrder(m, /timed out after 1500 ms/);
    // Each of the 1 + retries attempts waited its timeout, and not much longer: the run did not wait for the 20 s body.
    expect(m.outcomeMs).toBeGreaterThanOrEqual((RETRIES + 1) * TIMEOUT_MS * 0.9);
    expect(m.outcomeMs).toBeLessThan((RETRIES + 1) * TIMEOUT_MS + 5_000);
    figures('trickle', '200, then the body at 1 byte/s (20 bytes)', m, { timeoutMs: TIMEOUT_MS, attempts: RETRIES + 1 });
  });

  it.each([
    { name: 'endless body', label: '200 with a body that never ends', answer: { kind: 'endless', status: 200 } as const, waitMs: 30_000 },
    {
      name: '300 MB body',
      label: '200 with a 300 MB body ({"status":"success", padding})',
      answer: { kind: 'huge', status: 200, bytes: 300 * 1024 * 1024 } as const,
      waitMs: 60_000,
    },
  ])('$name: at most 64 KiB read, the connection dropped, transient, exit 4 within seconds, memory flat', async ({ name, label, answer, waitMs }) => {
    await ordersDatabase(2);
    hostile.on('/push', answer);
    const sentBefore = hostile.bytesSent();
    const m = await measure(['sync', 'orders'], ordersConfig({ concurrency: 1 }), waitMs);
    await expectHaltedBeforeTheFirstOrder(m, /HTTP 200 .*not the documented success.*first 64 KiB/);
    expect(m.outcomeMs).toBeLessThan(5_000);
    expect(m.peakRssMiB).toBeLessThan(200);
    figures(name, label, m, { bytesWrittenByServer: hostile.bytesSent() - sentBefore });
  });

  it('after answers cut short, the keep-alive pool holds no half-read connection: the next requests go out and succeed', async () => {
    // One connection only: a socket left with an unread body in the pool would block every request after it.
    const client = new PersonaClickClient({ url: hostile.url, timeoutMs: 5_000, connections: 1 });
    let n = 0;
    hostile.on('/push', () => (++n % 2 === 1 ? { kind: 'huge', status: 200, bytes: 300 * 1024 * 1024 } : jsonSuccess));
    const openedBefore = hostile.connections().opened;
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const outcomes: string[] = [];
    try {
      for (let i = 1; i <= 6; i++) {
        try {
          await client.send({ path: '/push', body: { order_id: String(i) } });
          outcomes.push('ok');
        } catch (caught) {
          outcomes.push(caught instanceof ApiError ? caught.failureClass : 'error');
        }
      }
    } finally {
      await client.close();
    }
    const tookMs = Date.now() - started;
    const grewMiB = Math.round((process.memoryUsage().rss - rssBefore) / 1024 / 1024);
    const opened = hostile.connections().opened - openedBefore;
    const connections = hostile.requests().map((r) => r.connection);
    report('hostile answers: keep-alive pool after cut answers', { outcomes, connections, connectionsOpened: opened, tookMs, rssGrowthMiB: grewMiB });
    expect(outcomes).toEqual(['transient', 'ok', 'transient', 'ok', 'transient', 'ok']);
    // A cut answer's connection was dropped (the next request came on a new one); a whole answer's was kept and reused.
    const [a, b, c, d] = [connections[0], connections[1], connections[3], connections[5]];
    expect(connections).toEqual([a, b, b, c, c, d]);
    expect(new Set([a, b, c, d]).size).toBe(4);
    expect(opened).toBe(4);
    expect(tookMs).toBeLessThan(5_000);
    expect(grewMiB).toBeLessThan(100);
  });
});

describe('an API message the state database cannot store', () => {
  /** Sync orders 1–5 with order 3 refused: the one failure row is stored, the books move past it, and the next run sends nothing. */
  async function syncWithOrder3Refused() {
    const config = ordersConfig();
    const m = await measure(['sync', 'orders'], config);
    expect(m.result.code, m.result.stderr).toBe(0);
    const [failure, ...others] = await failureRows(db);
    expect(others).toEqual([]);
    expect(failure).toMatchObject({ key: '3', class: 'rejected', status: 400 });
    expect(await ledgerKeys(db)).toEqual(new Set(['1', '2', '4', '5']));
    expect(await watermarkKey(db)).toBe('5');
    const again = await measure(['sync', 'orders'], config);
    expect(again.result.code, again.result.stderr).toBe(0);
    expect(again.requests).toBe(0);
    return { m, failure, again };
  }

  it('a NUL byte and a lone surrogate in the message of a 400: the failure row is stored, the checkpoint moves, the next run sends nothing again', async () => {
    await ordersDatabase(5);
    hostile.on('/push', (req) =>
      req.key === '3'
        ? {
            kind: 'fixed',
            status: 400,
            body: '{"status":"error","message":"Unknown product \\u0000P7\\u0000 in line 2 \\ud800\\u001b[31m"}',
            headers: { 'content-type': 'application/json' },
          }
        : jsonSuccess,
    );
    const { m, failure, again } = await syncWithOrder3Refused();
    expect(failure?.reason).toContain('Unknown product');
    expect(failure?.reason).toContain('in line 2');
    // No control character (NUL among them) and no lone surrogate is left.
    expect(failure?.reason).not.toMatch(/[\p{Cc}\p{Cs}]/u);
    figures('NUL in a 400 message', '400 {"status":"error","message":"…\\u0000…\\ud800…"} for one order of 5', m, {
      nextRunRequests: again.requests,
      storedReason: failure?.reason,
    });
  });

  it('a message in an alphabet a LATIN1 state database cannot hold: stored escaped, the books move, the next run sends nothing again', async () => {
    await newDatabase('pcs_hostile_latin1', { latin1: true });
    await createShop(db);
    await insertOrders(db, 1, 5);
    hostile.on('/push', (req) =>
      req.key === '3'
        ? { kind: 'fixed', status: 400, body: '{"status":"error","message":"Товар не найден"}', headers: { 'content-type': 'application/json; charset=utf-8' } }
        : jsonSuccess,
    );
    const { m, failure, again } = await syncWithOrder3Refused();
    // The message survives, escaped to ASCII, with a note why.
    expect(failure?.reason).toMatch(/^[\x20-\x7e]+$/);
    expect(failure?.reason).toContain('\\u0422\\u043e\\u0432\\u0430\\u0440');
    figures('message a LATIN1 state database cannot hold', '400 with a Cyrillic message, state database in LATIN1', m, {
      nextRunRequests: again.requests,
      storedReason: failure?.reason,
    });
  });
});

describe('a redirect', () => {
  const REASONS: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };
  for (const status of [301, 302, 303, 307, 308]) {
    it(`HTTP ${status}: exit 3 at once, one line naming the Location; never followed; nothing marked sent or failed`, async () => {
      await ordersDatabase(20);
      const location = `${hostile.url}/moved/push`;
      hostile.on('/push', { kind: 'fixed', status, headers: { location }, body: '<html>moved</html>' });
      const m = await measure(['sync', 'orders'], ordersConfig({ concurrency: 4 }));
      expect(m.result.code, m.result.stderr).toBe(3);
      const message = plainLines(m.result.stderr);
      expect(message).toEqual([
        `personaclick-sync: PersonaClick answered HTTP ${status} ${REASONS[status] ?? ''} to ${location}: personaclick.url is wrong; set it to ${hostile.url}/moved`,
      ]);
      expect(hostile.requests().filter((r) => r.path.startsWith('/moved'))).toEqual([]);
      // What was on its way when the first redirect came back, and no retries.
      expect(m.requests).toBeLessThanOrEqual(2 * 4);
      expect(m.outcomeMs).toBeLessThan(3_000);
      expect(await ledgerKeys(db)).toEqual(new Set());
      expect(await failureRows(db)).toEqual([]);
      expect(await watermarkKey(db)).toBeNull();
      expect((await runStatuses(db)).map((r) => r.status)).toEqual(['fatal']);
      figures(`redirect ${status}`, `${status} with Location`, m);
    });
  }
});

describe('timers and listeners of the delivery', () => {
  it('a run with many retries at high concurrency emits no process warning (no MaxListenersExceededWarning on an AbortSignal)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const sandbox = await startSandbox({ recordBodies: false });
    await newDatabase('pcs_hostile');
    await createShop(db);
    await insertOrders(db, 1, 300);
    try {
      sandbox.setFaults({ seed: 7, error5xxRate: 0.4, status5xx: 503, latencyMs: [1, 5] });
      const { summary } = await runSync(testConfig(db.url, sandbox.url, { delivery: { concurrency: 48, retries: 12, retryMinMs: 20, retryMaxMs: 60 } }));
      await delay(50); // warnings are emitted on the next tick
      report('hostile answers: many retries', {
        orders: 300,
        concurrency: 48,
        retries: summary.retries,
        status: summary.status,
        warnings: warnings.map((w) => `${w.name}: ${w.message}`),
      });
      expect(summary.status, String(summary.error)).toBe('done');
      expect(summary.retries).toBeGreaterThan(100);
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await sandbox.close();
    }
  });

  it('a backoff or Retry-After past 2^31−1 ms waits (clamped) instead of firing at once, and halting ends the wait', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const client = new PersonaClickClient({ url: hostile.url, timeoutMs: 2_000, connections: 2 });
    const huge = 2 ** 31 + 1000;
    try {
      const cases: { name: string; answer: HostileAnswer; options: Partial<DeliveryOptions> }[] = [
        { name: 'backoff', answer: { kind: 'fixed', status: 503 }, options: { retryMinMs: huge, retryMaxMs: huge * 2 } },
        {
          name: 'Retry-After',
          answer: { kind: 'fixed', status: 503, headers: { 'retry-after': '99999999999' } },
          options: { maxRetryAfterMs: Number.MAX_SAFE_INTEGER },
        },
      ];
      for (const { name, answer, options } of cases) {
        hostile.reset();
        hostile.on('/push', answer);
        const queue = new DeliveryQueue(
          client,
          { concurrency: 1, maxRequestsPerSecond: 0, retries: 3, retryMinMs: 1, retryMaxMs: 1, ...options },
          silentLogger(),
        );
        const outcomes: Outcome[] = [];
        await queue.submit({ path: '/push', body: { order_id: name } }, (o) => outcomes.push(o));
        await delay(400);
        // One attempt, then waiting: a timer that overflowed would have fired at once and retried by now.
        expect(hostile.requests().length, name).toBe(1);
        const halted = Date.now();
        queue.halt(new Error('test over'));
        await queue.drain();
        expect(Date.now() - halted, name).toBeLessThan(1_000);
        expect(outcomes, name).toEqual([]);
      }
      await delay(20);
      expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await client.close();
    }
  });
});
