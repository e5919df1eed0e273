/**
 * `schedule`'s /metrics and /healthz, served by the built CLI as a long-running process: the live counts of a run in
 * progress, the totals after it, its health, and SIGTERM ending it.
 */
import { describe, expect, it } from 'vitest';
import { useFrame } from '../support/frame.js';
import { startCli, writeConfig } from '../support/cli.js';
import { SHOP_ID } from '../support/harness.js';
import { parseMetrics, sampleValue } from '../support/prom.js';
import { insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { waitUntil } from '../support/wait.js';

const env = useFrame({ sandbox: { recordBodies: false }, prefix: 'pcs_metrics_srv' });

const P = 'personaclick_sync_';
const ORDERS = { job_name: 'orders', mode: 'sync', shard: '' };

function config(extra: { metrics?: Record<string, unknown>; orders?: Record<string, unknown>; delivery?: Record<string, unknown> }): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, ...extra.delivery },
    source: { url: env.db.url },
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01', ...extra.orders } },
  });
}

/** Orders first..first+count-1, one a minute from 2024-01-01 00:00 UTC. */
const minuteApart = (first: number, count: number) => insertOrders(env.db, first, count, `'2024-01-01 00:00:00+00'::timestamptz + i * interval '1 minute'`);

async function get(url: string, status: number): Promise<string> {
  const res = await fetch(url);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return text;
}

describe('schedule: /metrics and /healthz', () => {
  it('serves the live counts of a run in progress, the totals after it, and its health; 404 elsewhere', async () => {
    await minuteApart(1, 120);
    env.sandbox.setFaults({ latencyMs: 25 });
    const path = config({ metrics: { port: 0 }, orders: { schedule: '*/2 * * * * *' }, delivery: { concurrency: 1 } });
    const running = startCli(['schedule', '--config', path]);
    try {
      const line = await running.waitFor(/"msg":"serving \/metrics and \/healthz"/);
      const url = (JSON.parse(line) as { url: string }).url;
      // Mid-run: the counters so far, one request on the wire.
      await waitUntil('20 purchases accepted', () => env.sandbox.stats().accepted >= 20);
      let m = parseMetrics(await get(`${url}/metrics`, 200));
      const midway = sampleValue(m, `${P}rows_sent_total`, ORDERS);
      expect(midway).toBeGreaterThanOrEqual(15);
      expect(midway).toBeLessThan(120);
      expect(sampleValue(m, `${P}requests_in_flight`, ORDERS)).toBeLessThanOrEqual(1);
      expect(sampleValue(m, `${P}rows_read_total`, ORDERS)).toBeGreaterThanOrEqual(midway);

      await running.waitFor(/"msg":"scheduled run finished"/, 30_000);
      m = parseMetrics(await get(`${url}/metrics`, 200));
      expect(sampleValue(m, `${P}rows_sent_total`, ORDERS)).toBe(120);
      expect(sampleValue(m, `${P}runs_total`, { ...ORDERS, status: 'done' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(m, `${P}request_duration_seconds_count`, ORDERS)).toBeGreaterThanOrEqual(120);
      const mean = sampleValue(m, `${P}request_duration_seconds_sum`, ORDERS) / sampleValue(m, `${P}request_duration_seconds_count`, ORDERS);
      expect(mean).toBeGreaterThanOrEqual(0.02); // the sandbox's 25 ms
      expect(sampleValue(m, `${P}watermark_lag_seconds`, ORDERS)).toBe(0);
      const health = JSON.parse(await get(`${url}/healthz`, 200)) as { ok: boolean; jobs: Record<string, { status: string }> };
      expect(health.ok).toBe(true);
      expect(health.jobs.orders?.status).toBe('done');
      await get(`${url}/nothing`, 404);
    } finally {
      running.child.kill('SIGTERM');
    }
    const result = await running.done;
    expect(result.code).toBe(143);
  });
});
