/**
 * Issue 20 §2: `schedule`'s /metrics and /healthz listen only where they are told (metrics.host, default 127.0.0.1,
 * logged as bound) and hold up: a flood of idle connections (2 000, against a process limited to 1 024 file
 * descriptors), slow connections that never finish their headers, and malformed requests never stop a scheduled run;
 * the malformed are counted, not logged one line each; /healthz says ok or not and each job's state, no error text.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useFrame } from '../support/frame.js';
import { startCli, writeConfig } from '../support/cli.js';
import { SHOP_ID } from '../support/harness.js';
import { insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { report } from '../faults/support/figures.js';

const env = useFrame({ sandbox: { recordBodies: false }, prefix: 'pcs_metrics_lim' });

const FLOOD = 2_000;
const SLOW = 200;
const MALFORMED = 300;

function config(metrics: Record<string, unknown>): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200 },
    source: { url: env.db.url },
    metrics,
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01', schedule: '*/1 * * * * *' } },
  });
}

function open(port: number, sockets: Socket[], first?: string): void {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  if (first !== undefined) socket.on('connect', () => socket.write(first));
  sockets.push(socket);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedule: the metrics server under a flood', () => {
  it('listens on 127.0.0.1 by default, says so, and no flood of connections stops a scheduled run', async () => {
    await insertOrders(env.db, 1, 20);
    const running = startCli(['schedule', '--config', config({ port: 0 })], { fdLimit: 1024, timeoutMs: 120_000 });
    const sockets: Socket[] = [];
    try {
      const line = JSON.parse(await running.waitFor(/"msg":"serving \/metrics and \/healthz"/)) as { url: string; host: string; port: number };
      expect(line.host).toBe('127.0.0.1');
      expect(line.url).toBe(`http://127.0.0.1:${line.port}`);
      await running.waitFor(/"status":"done".*"msg":"scheduled run finished"/, 20_000);

      // The flood: idle connections, connections that start headers and never end them, malformed requests.
      for (let i = 0; i < FLOOD; i++) open(line.port, sockets);
      for (let i = 0; i < SLOW; i++) open(line.port, sockets, 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      for (let i = 0; i < MALFORMED; i++) open(line.port, sockets, '\u0000\u0001 not http at all\r\n\r\n');
      const before = running.stderrSoFar();
      await insertOrders(env.db, 101, 30);
      await sleep(4_000);
      const during = running.stderrSoFar().slice(before.length);
      const finished = during.split('\n').filter((l) => l.includes('"msg":"scheduled run finished"'));
      const failedRuns = finished.filter((l) => !l.includes('"status":"done"'));
      expect(finished.length, during.slice(-2000)).toBeGreaterThanOrEqual(2);
      expect(failedRuns, 'a scheduled run failed under the flood').toEqual([]);
      expect(during).not.toMatch(/EMFILE|scheduled run failed/);
      expect(env.sandbox.stats().accepted).toBeGreaterThanOrEqual(50);

      // Still answering, /healthz with each job's state and nothing else.
      for (const s of sockets) s.destroy();
      await sleep(200);
      const res = await fetch(`${line.url}/healthz`);
      expect(res.status).toBe(200);
      const health = (await res.json()) as { ok: boolean; jobs: Record<string, Record<string, unknown>> };
      expect(health.ok).toBe(true);
      expect(Object.keys(health.jobs.orders ?? {}).sort()).toEqual(['at', 'ok', 'status']);
      const logLines = during.split('\n').filter((l) => l.includes('metrics server'));
      report('metrics server flood', {
        idle: FLOOD,
        slow: SLOW,
        malformed: MALFORMED,
        scheduledRunsDuring: finished.length,
        failedRuns: failedRuns.length,
        logLinesAboutTheServer: logLines.length,
      });
      expect(logLines.length).toBeLessThanOrEqual(2); // counted, not one line per malformed request
    } finally {
      for (const s of sockets) s.destroy();
      running.child.kill('SIGTERM');
    }
    const result = await running.done;
    expect(result.code).toBe(143);
  }, 120_000);

  it('logs the address it really listens on when told another (metrics.host)', async () => {
    const running = startCli(['schedule', '--config', config({ port: 0, host: '0.0.0.0' })]);
    try {
      const line = JSON.parse(await running.waitFor(/"msg":"serving \/metrics and \/healthz"/)) as { url: string; host: string };
      expect(line.host).toBe('0.0.0.0');
      expect(line.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    } finally {
      running.child.kill('SIGTERM');
    }
    await running.done;
  });
});
