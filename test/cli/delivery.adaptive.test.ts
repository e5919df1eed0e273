/**
 * `delivery.concurrency: auto` over real HTTP against the sandbox's capacity model (K requests at once at L ms, the
 * rest queued, 429 + Retry-After above R a second): the limit settles near what the server can take, an API that goes
 * down halts the run, random errors do not collapse the limit, and every change of the limit is in the debug log.
 * Throughput and the share of 429s under a binding rate limit (its 1% bound) are measured by the benchmark
 * (`npm run bench`, scenario "adaptive"), not here: they are time-bound figures. This asserts behaviour, with margins
 * wide enough for a busy 2-core machine.
 */
import { describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../src/sandbox/index.js';
import { useFrame } from '../support/frame.js';
import { runCli, startCli } from '../support/cli.js';
import { insertOrders } from '../support/shop.js';
import { cliConfig, logLines, plainLines } from '../faults/support/config.js';

const env = useFrame({ sandbox: { recordBodies: false } });

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
  env.sandbox.setFaults(faults);
  const config = cliConfig({
    database: env.db.name,
    apiUrl: env.sandbox.url,
    delivery: { concurrency: 'auto', retries: 6, retryMinMs: 200, retryMaxMs: 2000, ...delivery },
    orders: { pageSize: 1000 },
  });
  const result = await runCli(['sync', 'orders', '--config', config], { env: { LOG_LEVEL: 'debug' } });
  expect(plainLines(result.stderr)).toEqual([]); // no warning of Node's (listeners, …), nothing but log lines
  const lines = logLines(result.stderr);
  const changes = lines.filter((l) => l.msg === 'concurrency limit changed') as unknown as LimitLine[];
  const run = lines.find((l) => l.msg === 'run finished' || l.msg === 'run stopped') as unknown as RunLine | undefined;
  return { code: result.code, run, changes, messages: lines.map((l) => String(l.msg)) };
}

function refused(): { received: number; refused: number; share: number } {
  const stats = env.sandbox.stats();
  const count = stats.byStatus['429'] ?? 0;
  return { received: stats.received, refused: count, share: stats.received > 0 ? count / stats.received : 0 };
}

/**
 * Every change of the limit is logged: each line starts where the one before ended, from the first limit to the
 * last; the summary's range is theirs (a probe's brief halving left out, and a run ending in one settles where the
 * probe would have gone back to).
 */
function expectEveryChangeLogged(run: AutoRun, first: number): void {
  expect(run.changes.length).toBeGreaterThan(0);
  let at = first;
  for (const change of run.changes) {
    expect(change.from).toBe(at);
    expect(change.limit).not.toBe(change.from);
    at = change.limit;
  }
  const last = run.changes[run.changes.length - 1];
  expect(run.run?.concurrencyLimit?.settled).toBe(last?.reason === 'probe' ? last.from : at);
  const all = [first, ...run.changes.filter((c) => c.reason !== 'probe').map((c) => c.limit)];
  expect(run.run?.concurrencyLimit?.low).toBe(Math.min(...all));
  expect(run.run?.concurrencyLimit?.high).toBe(Math.max(...all));
}

describe('concurrency auto on the capacity model', () => {
  it('climbs past the server capacity K and settles near it when more in flight only queues (K = 32 at 20 ms)', async () => {
    const k = 32;
    const orders = 4000;
    await insertOrders(env.db, 1, orders);
    const run = await autoSync({ capacity: { slots: k, serviceMs: 20 } });
    expect(run.code).toBe(0);
    expect(run.run?.sent).toBe(orders);
    expect(env.sandbox.purchases.size).toBe(orders);
    expect(refused().refused).toBe(0);
    const limit = run.run?.concurrencyLimit;
    expect(limit?.high).toBeGreaterThanOrEqual(k);
    // Past K, queueing at the server shows as latency and the limit comes back down from its peak; below K the
    // latency holds and the limit grows. How near K it settles is a timing figure on a busy 2-core machine (CI saw
    // 4 K under load): the benchmark measures it (`npm run bench`, scenario "adaptive"), this asserts the behaviour.
    expect(run.changes.some((c) => c.reason === 'latency rise')).toBe(true);
    expect(limit?.settled).toBeGreaterThanOrEqual(k * 0.5);
    expect(limit?.settled).toBeLessThan(limit?.high ?? 0);
    expectEveryChangeLogged(run, 16);
  });

  it('an API that goes down mid-run: the hold keeps requests back, the limit falls, and the run halts (exit 4) as with a fixed concurrency', async () => {
    const orders = 3000;
    await insertOrders(env.db, 1, orders);
    env.sandbox.setFaults({ latencyMs: 20 });
    const config = cliConfig({
      database: env.db.name,
      apiUrl: env.sandbox.url,
      delivery: { concurrency: 'auto', retries: 3, retryMinMs: 50, retryMaxMs: 400 },
      orders: { pageSize: 1000 },
    });
    const run = startCli(['sync', 'orders', '--config', config], { env: { LOG_LEVEL: 'debug' } });
    const deadline = Date.now() + 30_000;
    while (env.sandbox.stats().accepted < 500 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(env.sandbox.stats().accepted).toBeGreaterThanOrEqual(500);
    const before = env.sandbox.stats().received;
    const downAt = Date.now();
    env.sandbox.setFaults({ down: true, latencyMs: 20 });
    const halted = await run.done;
    const haltMs = Date.now() - downAt;
    const whileDown = env.sandbox.stats().received - before;
    expect(halted.code, halted.stderr.slice(-2000)).toBe(4);
    expect(plainLines(halted.stderr)).toEqual([expect.stringMatching(/^personaclick-sync: PersonaClick stayed unavailable after every retry: HTTP 503/)]);
    // The request that has tried most probes first: 4 attempts, backoffs of at most 400 ms, probes at most 500 ms
    // apart (not every waiting request taking its turn to fail once, which took a minute).
    expect(haltMs).toBeLessThan(10_000);
    const lines = logLines(halted.stderr);
    expect(lines.some((l) => l.msg === 'overload answers keep coming: holding every attempt until a probe gets through')).toBe(true);
    const stopped = lines.find((l) => l.msg === 'run stopped') as unknown as RunLine | undefined;
    const limit = stopped?.concurrencyLimit;
    expect(limit?.settled).toBeLessThan(limit?.high ?? 0);
    // What was on the wire when it went down, and then the probes: nowhere near every waiting request retrying.
    expect(whileDown).toBeLessThanOrEqual((limit?.high ?? 0) * 2 + 40);
  });

  it('random server errors (10% 503, 2% resets) are not overload: the limit does not collapse, every order goes once', async () => {
    const orders = 3000;
    await insertOrders(env.db, 1, orders);
    const run = await autoSync({ latencyMs: 20, error5xxRate: 0.1, resetRate: 0.02, seed: 7 }, { retries: 10, retryMinMs: 20, retryMaxMs: 200 });
    expect(run.code).toBe(0);
    expect(run.run?.sent).toBe(orders);
    expect(env.sandbox.purchases.size).toBe(orders);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
    // Not collapsed to 1 (as a cut on every failure did: it took a minute, not seconds).
    expect(run.run?.concurrencyLimit?.low).toBeGreaterThanOrEqual(4);
    expect(run.run?.concurrencyLimit?.settled).toBeGreaterThanOrEqual(8);
  });
});
