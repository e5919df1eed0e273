/**
 * Metrics as an operator collects them: the textfile a cron run writes, the Pushgateway push, `schedule`'s
 * /metrics and /healthz. The command line in-process (its `schedule` server: `test/cli/metrics-server.test.ts`), a real Postgres, the sandbox over HTTP; every output is parsed as
 * Prometheus text format and compared with the runs table and the sandbox.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SyncMetrics } from '../src/metrics/metrics.js';
import { writeTextfile } from '../src/metrics/textfile.js';
import { base64url, groupPath } from '../src/metrics/pushgateway.js';
import { useFrame } from './support/frame.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { PG_HOST, PG_PORT } from './support/pg.js';
import { insertOrders, ITEMS_QUERY, ORDERS_QUERY } from './support/shop.js';
import { SHOP_ID } from './support/harness.js';
import { parseMetrics, sampleValue, samples } from './support/prom.js';

const env = useFrame({ sandbox: { recordBodies: false }, prefix: 'pcs_metrics' });

const P = 'personaclick_sync_';
const ORDERS = { job_name: 'orders', mode: 'sync', shard: '' };

function config(extra: { metrics?: Record<string, unknown>; orders?: Record<string, unknown>; delivery?: Record<string, unknown> } = {}): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, ...extra.delivery },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${env.db.name}` },
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01', ...extra.orders } },
  });
}

/** Orders first..first+count-1, one a minute from 2024-01-01 00:00 UTC (order i at minute i). */
const minuteApart = (first: number, count: number) => insertOrders(env.db, first, count, `'2024-01-01 00:00:00+00'::timestamptz + i * interval '1 minute'`);

interface RunTotalsRow {
  read: string;
  sent: string;
  invalid: string;
  rejected: string;
  runs: string;
}

const runsTable = async (): Promise<RunTotalsRow> =>
  (
    await env.db.query<RunTotalsRow>(
      `SELECT sum(read)::text AS read, sum(sent)::text AS sent, sum(invalid)::text AS invalid, sum(rejected)::text AS rejected, count(*)::text AS runs FROM personaclick_sync.runs`,
    )
  )[0] as RunTotalsRow;

describe('--metrics-file (node_exporter textfile)', () => {
  it('writes every metric when a run ends; the counters carry on from the runs table in the next process', async () => {
    await minuteApart(1, 40);
    await env.db.query(`DELETE FROM shop.order_lines WHERE order_id = 3`); // invalid: an order without lines
    await env.db.query(`UPDATE shop.orders SET discount = -1 WHERE id = 6`); // sent without order_discount: a warning
    env.sandbox.setFaults({ reject: [{ field: 'order_id', equals: '9', status: 422, message: 'Unknown device' }] });
    const dir = mkdtempSync(join(tmpdir(), 'pcs-textfile-'));
    const file = join(dir, 'personaclick_orders.prom');
    const path = config();

    const first = await runMain(['sync', 'orders', '--limit', '20', '--metrics-file', file, '--config', path]);
    expect(first.code, first.stderr).toBe(0);
    const before = Date.now() / 1000;
    let m = parseMetrics(readFileSync(file, 'utf8'));
    expect(sampleValue(m, `${P}rows_read_total`, ORDERS)).toBe(20);
    expect(sampleValue(m, `${P}rows_sent_total`, ORDERS)).toBe(18);
    expect(sampleValue(m, `${P}rows_invalid_total`, ORDERS)).toBe(1);
    expect(sampleValue(m, `${P}rows_rejected_total`, ORDERS)).toBe(1);
    expect(sampleValue(m, `${P}rows_skipped_total`, ORDERS)).toBe(0);
    expect(sampleValue(m, `${P}rows_warned_total`, ORDERS)).toBe(1);
    expect(sampleValue(m, `${P}retries_total`, ORDERS)).toBe(0);
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '2xx' })).toBe(18);
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '4xx' })).toBe(1);
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '5xx' })).toBe(0);
    expect(sampleValue(m, `${P}request_duration_seconds_count`, ORDERS)).toBe(19); // one per attempt
    expect(sampleValue(m, `${P}requests_in_flight`, ORDERS)).toBe(0);
    expect(sampleValue(m, `${P}runs_total`, { ...ORDERS, status: 'done' })).toBe(1);
    expect(sampleValue(m, `${P}last_success_timestamp_seconds`, ORDERS)).toBeGreaterThan(before - 60);
    expect(sampleValue(m, `${P}last_success_timestamp_seconds`, ORDERS)).toBeLessThanOrEqual(before + 1);
    expect(sampleValue(m, `${P}last_run_duration_seconds`, ORDERS)).toBeGreaterThan(0);
    // The watermark stands at order 20; the shop's newest is order 40, twenty minutes later.
    expect(sampleValue(m, `${P}watermark_lag_seconds`, ORDERS)).toBe(20 * 60);
    expect(sampleValue(m, `${P}open_failures`, { job_name: 'orders', class: 'invalid' })).toBe(1);
    expect(sampleValue(m, `${P}open_failures`, { job_name: 'orders', class: 'rejected' })).toBe(1);
    expect(sampleValue(m, `${P}open_failures`, { job_name: 'orders', class: 'warning' })).toBe(1);
    expect(samples(m, `${P}volume_alert`, ORDERS).map((s) => Number(s.value))).toEqual([0, 0, 0]);
    expect(m.get(`${P}rows_read_total`)?.type).toBe('counter');
    expect(m.get(`${P}request_duration_seconds`)?.type).toBe('histogram');
    expect(m.get(`${P}watermark_lag_seconds`)?.type).toBe('gauge');

    // A new process, a new run: the counters go on from the runs table, the gauges are this run's.
    env.sandbox.setFaults({});
    await minuteApart(41, 10);
    const second = await runMain(['sync', 'orders', '--metrics-file', file, '--config', path]);
    expect(second.code, second.stderr).toBe(0);
    m = parseMetrics(readFileSync(file, 'utf8'));
    const books = await runsTable();
    expect(sampleValue(m, `${P}rows_read_total`, ORDERS)).toBe(Number(books.read));
    expect(sampleValue(m, `${P}rows_read_total`, ORDERS)).toBe(50);
    expect(sampleValue(m, `${P}rows_sent_total`, ORDERS)).toBe(Number(books.sent));
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '2xx' })).toBe(18 + 30);
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '4xx' })).toBe(1);
    expect(sampleValue(m, `${P}request_duration_seconds_count`, ORDERS)).toBe(30); // latency: this process's requests
    expect(sampleValue(m, `${P}runs_total`, { ...ORDERS, status: 'done' })).toBe(2);
    expect(sampleValue(m, `${P}watermark_lag_seconds`, ORDERS)).toBe(0);
    expect(env.sandbox.purchases.size).toBe(48);
    // Nothing but the target is left in the directory (the temporary file was renamed over it).
    expect(readdirSync(dir)).toEqual(['personaclick_orders.prom']);
  });

  it('a run that halts still writes its file: runs_total by status, 5xx answers, and the last success of the run before', async () => {
    await minuteApart(1, 10);
    const dir = mkdtempSync(join(tmpdir(), 'pcs-textfile-'));
    const file = join(dir, 'orders.prom');
    const path = config();
    expect((await runMain(['sync', 'orders', '--metrics-file', file, '--config', path])).code).toBe(0);
    const success = sampleValue(parseMetrics(readFileSync(file, 'utf8')), `${P}last_success_timestamp_seconds`, ORDERS);

    await minuteApart(11, 5);
    env.sandbox.setFaults({ down: true });
    const halted = await runMain(['sync', 'orders', '--metrics-file', file, '--config', path]);
    expect(halted.code).toBe(4);
    const m = parseMetrics(readFileSync(file, 'utf8'));
    expect(sampleValue(m, `${P}runs_total`, { ...ORDERS, status: 'done' })).toBe(1);
    expect(sampleValue(m, `${P}runs_total`, { ...ORDERS, status: 'halted' })).toBe(1);
    // The run before's end, as this process read it from the runs table (the first process took its own clock).
    expect(sampleValue(m, `${P}last_success_timestamp_seconds`, ORDERS)).toBeCloseTo(success, 0);
    expect(sampleValue(m, `${P}last_run_timestamp_seconds`, ORDERS)).toBeGreaterThan(success);
    expect(sampleValue(m, `${P}responses_total`, { ...ORDERS, class: '5xx' })).toBeGreaterThanOrEqual(3); // first try + 2 retries
    expect(sampleValue(m, `${P}retries_total`, ORDERS)).toBeGreaterThanOrEqual(2);
  });

  it('refuses a directory it cannot write into before running anything (exit 2), and a dry run writes nothing', async () => {
    await minuteApart(1, 5);
    const path = config();
    const missing = await runMain(['sync', 'orders', '--metrics-file', '/nonexistent-dir/x.prom', '--config', path]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--metrics-file: cannot write into \/nonexistent-dir/);
    const dir = mkdtempSync(join(tmpdir(), 'pcs-textfile-'));
    const wrongName = await runMain(['sync', 'orders', '--metrics-file', join(dir, 'x.txt'), '--config', path]);
    expect(wrongName.code).toBe(2);
    expect(env.sandbox.stats().received).toBe(0);
    const dry = await runMain(['sync', 'orders', '--dry-run', '--metrics-file', join(dir, 'x.prom'), '--config', path]);
    expect(dry.code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect((await runMain(['status', '--metrics-file', join(dir, 'x.prom'), '--config', path])).code).toBe(2);
  });
});

describe('writeTextfile', () => {
  it('replaces the file whole: a reader racing the writer sees the old content or the new, never a part', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcs-atomic-'));
    const file = join(dir, 'm.prom');
    const a = `${'a'.repeat(200_000)}\n`;
    const b = `${'b'.repeat(300_000)}\n`;
    await writeFile(file, a);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 150; i++) await writeTextfile(file, i % 2 === 0 ? b : a);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const text = await readFile(file, 'utf8');
      expect(text === a || text === b).toBe(true);
      reads += 1;
    }
    await writer;
    expect(reads).toBeGreaterThan(10);
    expect(readdirSync(dir)).toEqual(['m.prom']);
  });
});

describe('metrics.pushgateway', () => {
  it("PUTs the run's metrics to its group (job personaclick-sync, instance = the job's lock name); a failed push is reported and changes no exit code", async () => {
    const pushes: { method: string; url: string; type: string; body: string }[] = [];
    let answer = 200;
    const gateway = await listen((req, body) => {
      pushes.push({ method: req.method ?? '', url: req.url ?? '', type: String(req.headers['content-type']), body });
      return answer;
    });
    try {
      await minuteApart(1, 30);
      const path = config({ metrics: { pushgateway: `${gateway.url}/` } });
      const run = await runMain(['sync', 'orders', '--shard', '1/2', '--config', path]);
      expect(run.code, run.stderr).toBe(0);
      expect(pushes).toHaveLength(1);
      const push = pushes[0];
      expect(push?.method).toBe('PUT');
      expect(push?.url).toBe(`/metrics/job/personaclick-sync/instance@base64/${Buffer.from('orders#1/2').toString('base64url')}`);
      expect(push?.url).toBe(groupPath('orders#1/2'));
      expect(push?.type).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parseMetrics(push?.body ?? '');
      const shard = { job_name: 'orders', mode: 'sync', shard: '1/2' };
      const sent = sampleValue(m, `${P}rows_sent_total`, shard);
      expect(sent).toBe(env.sandbox.purchases.size);
      expect(sent).toBeGreaterThan(5);
      expect(sent).toBeLessThan(30);

      answer = 500;
      const failed = await runMain(['sync', 'orders', '--config', path]);
      expect(failed.code).toBe(0);
      expect(failed.stderr).toMatch(/personaclick-sync: metrics: could not push to the Pushgateway: .*HTTP 500/);
      expect(pushes[1]?.url).toBe(groupPath('orders'));
      expect(base64url('')).toBe('=');
    } finally {
      await gateway.close();
    }
  });
});

/** A throwaway HTTP receiver: `answer` sees each request with its body and returns the status to answer. */
async function listen(answer: (req: IncomingMessage, body: string) => number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const status = answer(req, body);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? '' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('SyncMetrics', () => {
  /** A gauge's value for these labels, from prom-client's own JSON of the registry. */
  async function gauge(metrics: SyncMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
    const family = (await metrics.registry.getMetricsAsJSON()).find((f) => f.name === name);
    const values = (family as { values?: { labels: Record<string, string | number>; value: number }[] } | undefined)?.values ?? [];
    return values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))?.value;
  }

  it('an open-failure class that empties reads 0, not its old count', async () => {
    const metrics = new SyncMetrics();
    metrics.setOpenFailures([{ job: 'orders', class: 'rejected', count: 3 }], ['orders']);
    expect(await gauge(metrics, `${P}open_failures`, { job_name: 'orders', class: 'rejected' })).toBe(3);
    metrics.setOpenFailures([], ['carts']);
    expect(await gauge(metrics, `${P}open_failures`, { job_name: 'orders', class: 'rejected' })).toBe(0);
    expect(await gauge(metrics, `${P}open_failures`, { job_name: 'carts', class: 'invalid' })).toBe(0);
  });
});
