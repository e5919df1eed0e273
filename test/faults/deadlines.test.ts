/**
 * Issue 20 §3: a deadline on every call to the outside. A Pushgateway, a webhook and a state database that accept the
 * connection and never answer (a silent TCP server), or a webhook that trickles its answer, end the run within a
 * stated bound; SIGTERM ends the process within shutdownDeadlineMs + SHUTDOWN_GRACE_MS even while a statement waits
 * behind a lock another session holds.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, startCli, writeConfig } from '../support/cli.js';
import { createMigratedDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { SHOP_ID } from '../support/harness.js';
import { report } from './support/figures.js';
import { waitUntil } from '../support/wait.js';

/** Accepts every connection and never writes a byte. */
async function startSilent(): Promise<{ port: number; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    s.on('error', () => undefined);
    sockets.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers 200 at once, then its body one byte a second, for ever. */
async function startTrickle(): Promise<{ url: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const server: HttpServer = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    const t = setInterval(() => res.write('.'), 1000);
    timers.add(t);
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let sandbox: Sandbox;
let db: TestDatabase;
let silent: Awaited<ReturnType<typeof startSilent>>;
let trickle: Awaited<ReturnType<typeof startTrickle>>;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  sandbox = await startSandbox({ recordBodies: false });
  db = await createMigratedDatabase('pcs_deadlines');
  await createShop(db);
  await insertOrders(db, 1, 20);
  silent = await startSilent();
  trickle = await startTrickle();
});
afterAll(async () => {
  report('deadlines', figures);
  await silent.close();
  await trickle.close();
  await sandbox.close();
  await db.drop();
});

function config(o: { state?: string; metrics?: Record<string, unknown>; notify?: Record<string, unknown>; shutdownDeadlineMs?: number } = {}): string {
  return writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 2, retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, shutdownDeadlineMs: o.shutdownDeadlineMs ?? 2000 },
    source: { url: db.url },
    ...(o.state === undefined ? {} : { state: { url: o.state } }),
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.notify ? { notify: o.notify } : {}),
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

async function timed(args: string[], path: string, killAfterMs: number): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = Date.now();
  const result = await runCli([...args, '--config', path], { timeoutMs: killAfterMs });
  return { code: result.code, ms: Date.now() - started, stderr: result.stderr };
}

describe('deadlines on every call to the outside', () => {
  it('a Pushgateway that never answers, or trickles its answer: the run ends within the push deadline (10 s) and says so', async () => {
    sandbox.setFaults({});
    for (const [what, url] of [
      ['silentPushgatewayMs', `http://127.0.0.1:${silent.port}`],
      ['tricklingPushgatewayMs', trickle.url],
    ] as const) {
      const r = await timed(['sync', 'orders'], config({ metrics: { pushgateway: url } }), 60_000);
      figures[what] = r.ms;
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
      expect(r.stderr).toContain('could not push to the Pushgateway');
      expect(r.ms, what).toBeLessThan(10_000 + 8_000);
    }
  }, 130_000);

  it('a state database that accepts the connection and never answers: the run ends within the connect deadline (10 s)', async () => {
    const r = await timed(['sync', 'orders'], config({ state: `postgres://postgres@127.0.0.1:${silent.port}/nothing` }), 60_000);
    figures.silentStateDbMs = r.ms;
    expect(r.code, r.stderr.slice(-1500)).toBe(1);
    expect(r.ms).toBeLessThan(10_000 + 8_000);
  }, 70_000);

  it('a webhook that trickles its answer for ever: each post ends at its own deadline (5 s), three posts at most', async () => {
    sandbox.setFaults({ forbidden: true }); // a change of state: the webhook is told
    await insertOrders(db, 101, 5);
    const r = await timed(['sync', 'orders'], config({ notify: { webhook: `${trickle.url}/services/T/B/x` } }), 90_000);
    sandbox.setFaults({});
    figures.tricklingWebhookMs = r.ms;
    expect(r.code, r.stderr.slice(-1500)).toBe(3);
    expect(r.stderr).toContain('no complete answer within 5 s'); // the post's own deadline, not the monitoring step's 20 s
    expect(r.ms).toBeLessThan(3 * 5_000 + 1_500 + 8_000);
  }, 100_000);

  it('SIGTERM while a statement waits behind a lock: the process ends within shutdownDeadlineMs + 5 s', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE personaclick_sync.runs IN ACCESS EXCLUSIVE MODE');
      const running = startCli(['sync', 'orders', '--config', config({ shutdownDeadlineMs: 2000 })], { timeoutMs: 90_000 });
      // The run's first write (its runs row) waits behind the lock.
      await waitUntil(
        'the run waiting on the lock',
        async () =>
          (await db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`, [db.name]))[0]?.n !==
          '0',
        20_000,
      );
      const sent = Date.now();
      running.child.kill('SIGTERM');
      const result = await running.done;
      const ms = Date.now() - sent;
      figures.sigtermBehindLockMs = ms;
      expect(result.code).toBe(143);
      expect(ms).toBeLessThan(2000 + 5000 + 2000);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }, 100_000);
});
