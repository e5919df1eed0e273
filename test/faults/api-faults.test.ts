/**
 * The API misbehaving the ways real ones do, all at once: 5xx, 429 with Retry-After, connection resets and hangs
 * past the request timeout, seeded so a failure can be replayed. Every order must still arrive exactly once and
 * exactly as the database says; the run's own figures (retries, time waited) must agree with what the sandbox saw;
 * the rate limit must hold over every attempt, retries included; and no Retry-After may be cut short.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptRecord, SandboxStats } from '../../src/sandbox/index.js';
import type { RunSummary } from '../../src/run/summary.js';
import { insertOrders } from '../support/shop.js';
import { runSync, testConfig } from '../support/harness.js';
import { attemptsByKey, faultCounts, isSuccess, maxInWindow, report } from './support/figures.js';
import { useFrame } from '../support/frame.js';

const env = useFrame({ sandbox: { recordAttempts: true }, prefix: 'pcs_apifaults' });

interface Line {
  id: string;
  amount: number;
  price: number;
}

/** What the database says each order must look like at PersonaClick, read with SQL of its own (not the connector's). */
interface ExpectedOrder {
  did: string;
  orderPrice: number;
  discount: number | undefined;
  promocode: string | undefined;
  payment: string | undefined;
  items: Line[];
}

async function expectedOrders(): Promise<Map<string, ExpectedOrder>> {
  const orders = await env.db.query<{ id: string; device_id: string; total: string; discount: string | null; promo: string | null; payment: string | null }>(
    `SELECT id::text, device_id, total::text, discount::text, promo, payment FROM shop.orders`,
  );
  const lines = await env.db.query<{ order_id: string; product_id: string; qty: number; unit_price: string }>(
    `SELECT order_id::text, product_id, qty, unit_price::text FROM shop.order_lines`,
  );
  const byOrder = new Map<string, Line[]>();
  for (const l of lines) {
    const list = byOrder.get(l.order_id) ?? [];
    list.push({ id: l.product_id, amount: l.qty, price: Number(l.unit_price) });
    byOrder.set(l.order_id, list);
  }
  const out = new Map<string, ExpectedOrder>();
  for (const o of orders) {
    out.set(o.id, {
      did: o.device_id,
      orderPrice: Number(o.total),
      discount: o.discount === null ? undefined : Number(o.discount),
      promocode: o.promo ?? undefined,
      payment: o.payment ?? undefined,
      items: sortLines(byOrder.get(o.id) ?? []),
    });
  }
  return out;
}

const sortLines = (items: readonly Line[]): Line[] => [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.price - b.price));

/** For each attempt that failed, the gap to the next attempt of the same key (what the client waited, plus the wire). */
function retryGaps(attempts: readonly AttemptRecord[]): { failed: AttemptRecord; next: AttemptRecord | undefined; gapMs: number }[] {
  const out: { failed: AttemptRecord; next: AttemptRecord | undefined; gapMs: number }[] = [];
  for (const list of attemptsByKey(attempts).values()) {
    list.forEach((a, i) => {
      if (isSuccess(a)) return;
      const next = list[i + 1];
      out.push({ failed: a, next, gapMs: next === undefined ? Number.NaN : next.at - a.at });
    });
  }
  return out;
}

const ORDERS = 400;
const LIMIT = 100;
const TIMEOUT_MS = 300;
const RETRY_AFTER_S = 1;

interface FaultRun {
  summary: RunSummary;
  stats: SandboxStats;
  attempts: AttemptRecord[];
  wallMs: number;
}

/** Orders through the seeded fault mix, with a rate limit; what the run reported and what the env.sandbox saw. */
async function faultMixRun(opts: { orders: number; concurrency: number; limit: number } = { orders: ORDERS, concurrency: 8, limit: LIMIT }): Promise<FaultRun> {
  await insertOrders(env.db, 1, opts.orders);
  // 5xx as 500 (the env.sandbox adds the configured Retry-After to 503s too; here only the 429s carry one).
  env.sandbox.setFaults({
    seed: 20240611,
    error5xxRate: 0.2,
    status5xx: 500,
    rate429: 0.05,
    retryAfterSeconds: RETRY_AFTER_S,
    resetRate: 0.02,
    hangRate: 0.01,
  });
  const started = Date.now();
  const { summary } = await runSync(
    testConfig(env.db.url, env.sandbox.url, {
      personaclick: { timeoutMs: TIMEOUT_MS },
      delivery: { concurrency: opts.concurrency, retries: 10, retryMinMs: 10, retryMaxMs: 100, maxRequestsPerSecond: opts.limit },
    }),
  );
  return { summary, stats: env.sandbox.stats(), attempts: env.sandbox.attempts(), wallMs: Date.now() - started };
}

describe('API faults', () => {
  it('under 20% 5xx, 5% 429 + Retry-After, 2% resets and 1% hangs: every order once, as the database says; retries and time waited agree with the env.sandbox; no Retry-After cut short', async () => {
    const { summary, stats, attempts, wallMs } = await faultMixRun();
    const faults = faultCounts(stats);

    // Every order arrived exactly once, with exactly the database's did, total and lines.
    expect(summary.status, String(summary.error)).toBe('done');
    expect(summary.sent).toBe(ORDERS);
    const expected = await expectedOrders();
    expect([...env.sandbox.purchases.keys()].sort()).toEqual([...expected.keys()].sort());
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
    for (const { body } of env.sandbox.accepted) {
      const got: ExpectedOrder = {
        did: body.did as string,
        orderPrice: body.order_price as number,
        discount: body.order_discount as number | undefined,
        promocode: body.promocode as string | undefined,
        payment: body.payment_type as string | undefined,
        items: sortLines(body.items as Line[]),
      };
      expect(got, `order ${String(body.order_id)}`).toEqual(expected.get(String(body.order_id)));
    }
    const [mark] = await env.db.query<{ cursor_key: string }>(`SELECT cursor_key FROM personaclick_sync.watermarks WHERE name = 'orders'`);
    expect(mark?.cursor_key).toBe(String(ORDERS));

    // Every fault kind happened, and the run counted each faulted attempt as one retry: nothing more, nothing less.
    for (const kind of ['error5xx', 'rate429', 'reset', 'hang'] as const) expect(faults.byKind[kind], kind).toBeGreaterThan(0);
    expect(summary.retries).toBe(faults.total);
    expect(stats.received).toBe(summary.sent + summary.retries);
    expect(attempts).toHaveLength(stats.received);

    // Each failed attempt was tried again, and the time the run says it waited agrees with the gaps the env.sandbox saw:
    // a gap is the wait plus the failed answer's way back and the retry's way there (for a hang, the whole timeout).
    const gaps = retryGaps(attempts);
    expect(gaps).toHaveLength(faults.total);
    // A retry comes after the failed attempt; one never retried has no gap (NaN), which fails here.
    for (const g of gaps) expect(g.gapMs, `attempt of ${g.failed.key ?? '?'} at ${g.failed.at} was never retried`).toBeGreaterThanOrEqual(0);
    const gapSum = gaps.reduce((n, g) => n + g.gapMs, 0);
    const wireAllowance = faults.byKind.hang * TIMEOUT_MS + gaps.length * 100;
    expect(summary.waitedMs).toBeLessThanOrEqual(gapSum);
    expect(gapSum - summary.waitedMs).toBeLessThanOrEqual(wireAllowance);

    // Retry-After is never cut short: after a 429 with Retry-After N, the key's next attempt came N seconds later or more.
    const afterRetryAfter = gaps.filter((g) => g.failed.retryAfterSeconds !== undefined);
    expect(afterRetryAfter.length).toBe(faults.byKind.rate429);
    expect(afterRetryAfter.every((g) => g.failed.outcome === 429)).toBe(true);
    for (const g of afterRetryAfter) {
      const askedMs = (g.failed.retryAfterSeconds ?? 0) * 1000;
      expect(g.gapMs, `${g.failed.key ?? '?'}: retried ${g.gapMs} ms after a Retry-After of ${askedMs} ms`).toBeGreaterThanOrEqual(askedMs);
    }
    const slack = afterRetryAfter.map((g) => g.gapMs - (g.failed.retryAfterSeconds ?? 0) * 1000);
    expect(summary.waitedMs).toBeGreaterThanOrEqual(faults.byKind.rate429 * RETRY_AFTER_S * 1000);

    report('api-faults: fault mix', {
      orders: ORDERS,
      attempts: stats.received,
      faulted: faults.byKind,
      faultedTotal: faults.total,
      retries: summary.retries,
      waitedMs: summary.waitedMs,
      retryGapSumMs: gapSum,
      retryAfter: { answered: afterRetryAfter.length, seconds: RETRY_AFTER_S, minExtraWaitMs: Math.min(...slack), maxExtraWaitMs: Math.max(...slack) },
      maxPerSecond: maxInWindow(attempts.map((a) => a.at)),
      limitPerSecond: LIMIT,
      duplicates: [...env.sandbox.purchases.values()].filter((n) => n > 1).length,
      durationMs: summary.durationMs,
      wallMs,
    });
  });

  // Found by this suite, now fixed (src/delivery/rate-gate.ts, RateGate): the gate lets `limit` attempts start in a burst and the next
  // burst exactly 1 s after the first one's starts; the first burst reaches the API later than it left the gate
  // (new connections, a busy event loop), so one second of arrivals holds up to ~30% more than the limit.
  // The fix: starts spaced evenly, plus a sliding-window check on the real start times.
  it('with maxRequestsPerSecond set, no 1-second window of arrivals at the API (retries included) holds more than the limit', async () => {
    // The fault mix again (so retries are among the attempts), wider: 16 in flight against a limit of 50.
    const run = await faultMixRun({ orders: 200, concurrency: 16, limit: 50 });
    expect(run.summary.status).toBe('done');
    expect(run.summary.retries).toBeGreaterThan(0);
    const busiest = maxInWindow(run.attempts.map((a) => a.at));
    report('api-faults: rate limit', {
      limitPerSecond: 50,
      concurrency: 16,
      attempts: run.stats.received,
      retries: run.summary.retries,
      maxInAny1s: busiest,
      sandboxMaxPerSecond: run.stats.maxPerSecond,
    });
    expect(busiest).toBeLessThanOrEqual(50);
    expect(run.stats.maxPerSecond).toBeLessThanOrEqual(50);
  });
});
