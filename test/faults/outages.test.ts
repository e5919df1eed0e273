/**
 * The API going away mid-run, as an operator's cron sees it (the built CLI in a child process, the sandbox here):
 * down for longer than the retry budget (exit 4, books before the first undelivered order, the next run finishes the
 * job), and refusing the shop with 403 (exit 3 at once, no flood of requests or failure rows).
 */
import { describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../src/sandbox/index.js';
import { runCli, startCli, type CliResult } from '../support/cli.js';
import { insertOrders } from '../support/shop.js';
import { failureRows, ledgerKeys, repeats, runStatuses, undelivered, watermarkKey } from './support/books.js';
import { cliConfig, plainLines } from './support/config.js';
import { report } from './support/figures.js';
import { waitUntil } from '../support/wait.js';
import { useFrame } from '../support/frame.js';

const env = useFrame({ sandbox: { recordAttempts: true, recordBodies: false }, prefix: 'pcs_outage' });

const ORDERS = 300;
const CONCURRENCY = 4;

/** Books after a stopped run: all that is at or before the watermark reached PersonaClick, and the ledger holds nothing else. */
async function expectBooksBeforeFirstUndelivered(): Promise<{ watermark: string | null; firstUndelivered: number | undefined }> {
  const missing = undelivered(ORDERS, env.sandbox.purchases);
  expect(missing.length, 'the outage came too late: everything was delivered').toBeGreaterThan(0);
  const firstUndelivered = missing[0];
  const watermark = await watermarkKey(env.db);
  // The watermark stands exactly on the last order before the first undelivered one (null: none yet).
  expect(watermark).toBe(firstUndelivered === undefined || firstUndelivered === 1 ? null : String(firstUndelivered - 1));
  for (const key of await ledgerKeys(env.db)) expect(env.sandbox.purchases.has(key), `ledger has ${key}, PersonaClick does not`).toBe(true);
  return { watermark, firstUndelivered };
}

/**
 * A sync of ORDERS orders by the CLI, broken mid-run: once `after` orders are accepted the sandbox gets `faults`. Answers
 * the exit and the milliseconds from the break to it; with `killAfterMs`, a run still going that long after the break
 * is killed (the result then shows SIGKILL).
 */
async function breakMidRun(opts: {
  faults: FaultConfig;
  after: number;
  delivery: Record<string, unknown>;
  latencyMs?: number;
  killAfterMs?: number;
}): Promise<{ config: string; result: CliResult; ms: number }> {
  await insertOrders(env.db, 1, ORDERS);
  if (opts.latencyMs !== undefined) env.sandbox.setFaults({ latencyMs: opts.latencyMs });
  const config = cliConfig({ database: env.db.name, apiUrl: env.sandbox.url, delivery: opts.delivery });
  const run = startCli(['sync', 'orders', '--config', config]);
  await waitUntil(`${opts.after} orders accepted`, () => env.sandbox.stats().accepted >= opts.after, 20_000);
  const brokenAt = Date.now();
  env.sandbox.setFaults({ ...opts.faults, ...(opts.latencyMs === undefined ? {} : { latencyMs: opts.latencyMs }) });
  const deadline = opts.killAfterMs === undefined ? undefined : setTimeout(() => run.child.kill('SIGKILL'), opts.killAfterMs);
  const result = await run.done;
  clearTimeout(deadline);
  return { config, result, ms: Date.now() - brokenAt };
}

async function finishAfterRecovery(config: string): Promise<{ result: CliResult; repeated: number }> {
  const before = new Map(env.sandbox.purchases);
  const result = await runCli(['sync', 'orders', '--config', config]);
  expect(result.code, result.stderr).toBe(0);
  expect(undelivered(ORDERS, env.sandbox.purchases)).toEqual([]);
  // Repeats: orders PersonaClick already had that the recovery run sent again.
  const repeated = [...env.sandbox.purchases].filter(([key, n]) => before.has(key) && n > (before.get(key) ?? 0)).length;
  return { result, repeated };
}

describe('API outages mid-run', () => {
  it('down longer than the retry budget after some orders went through: exit 4, watermark before the first undelivered order, and the next run delivers the rest without repeats beyond the in-flight bound', async () => {
    const {
      config,
      result: halted,
      ms: haltMs,
    } = await breakMidRun({ faults: { down: true }, after: 100, delivery: { concurrency: CONCURRENCY }, latencyMs: 10 });
    const deliveredBefore = env.sandbox.purchases.size;
    const downAnswers = env.sandbox.stats().faults.down;

    expect(halted.code, halted.stderr).toBe(4);
    // One plain line for the operator, naming the cause.
    const message = plainLines(halted.stderr);
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/^personaclick-sync: PersonaClick stayed unavailable after every retry: HTTP 503/);
    expect(await runStatuses(env.db)).toEqual([{ status: 'halted', error: expect.stringContaining('503') as unknown }]);
    const { watermark, firstUndelivered } = await expectBooksBeforeFirstUndelivered();
    expect(await failureRows(env.db)).toEqual([]); // transient trouble is not the rows' fault

    // The API is back: the next run resumes from the watermark and finishes.
    env.sandbox.setFaults({});
    const { repeated } = await finishAfterRecovery(config);
    expect(repeated).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(repeats(env.sandbox.purchases).repeated).toBe(repeated);

    report('outages: API down', {
      orders: ORDERS,
      deliveredBeforeOutage: deliveredBefore,
      answeredDownWith503: downAnswers,
      exitCode: halted.code,
      haltedAfterMs: haltMs,
      watermark,
      firstUndelivered,
      repeatedByNextRun: repeated,
      inFlightBound: 2 * CONCURRENCY,
    });
  });

  it('403 mid-run: exit 3 at once, few requests after the first 403, no failure rows, and the next run after the account is fixed finishes', async () => {
    const {
      config,
      result: stopped,
      ms: stopMs,
    } = await breakMidRun({ faults: { forbidden: true }, after: 100, delivery: { concurrency: CONCURRENCY }, latencyMs: 10 });

    expect(stopped.code, stopped.stderr).toBe(3);
    expect(stopMs).toBeLessThan(2_000);
    const message = plainLines(stopped.stderr);
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/^personaclick-sync: PersonaClick refused the shop \(HTTP 403\)/);
    const attempts = env.sandbox.attempts();
    const first403 = attempts.findIndex((a) => a.outcome === 403);
    expect(first403).toBeGreaterThanOrEqual(0);
    const afterFirst403 = attempts.length - first403 - 1;
    // What was already on its way when the first 403 came back; nothing new is started, nothing is retried.
    expect(afterFirst403).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(await failureRows(env.db)).toEqual([]);
    expect((await runStatuses(env.db)).map((r) => r.status)).toEqual(['fatal']);
    const { watermark, firstUndelivered } = await expectBooksBeforeFirstUndelivered();

    env.sandbox.setFaults({});
    const { repeated } = await finishAfterRecovery(config);
    expect(repeated).toBeLessThanOrEqual(2 * CONCURRENCY);

    report('outages: 403', {
      orders: ORDERS,
      exitCode: stopped.code,
      exitedAfterMs: stopMs,
      requestsAfterFirst403: afterFirst403,
      answered403: env.sandbox.stats().faults.forbidden,
      failureRows: 0,
      watermark,
      firstUndelivered,
      repeatedByNextRun: repeated,
    });
  });

  // Found by this suite, now fixed (src/delivery/queue.ts halt() + src/delivery/rate-gate.ts clear()): with maxRequestsPerSecond set, the
  // requests waiting at the rate gate when the run halts (403, or retries exhausted) are dropped by p-queue's clear(),
  // whose promises never settle; deliver() waits on them forever, queue.drain() never resolves, and the process never
  // exits (the lock's connection keeps it alive). The fix: let clear() settle the waiting passes (add them
  // with an AbortSignal that clear() aborts); deliver() already checks stopError right after gate.pass().
  it('403 mid-run with maxRequestsPerSecond set: still exit 3 at once', async () => {
    const { result: stopped, ms: stopMs } = await breakMidRun({
      faults: { forbidden: true },
      after: 40,
      delivery: { concurrency: 8, maxRequestsPerSecond: 40 },
      killAfterMs: 5_000,
    });
    report('outages: 403 with a rate limit', {
      exitCode: stopped.code,
      signal: stopped.signal,
      exitedAfterMs: stopMs,
      killedAfterMs: stopped.signal === 'SIGKILL' ? 5_000 : null,
    });
    expect(stopped.signal).toBeNull();
    expect(stopped.code).toBe(3);
    expect(stopMs).toBeLessThan(2_000);
  });
});
