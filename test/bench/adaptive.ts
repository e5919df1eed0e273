/**
 * adaptive (issue 13): `delivery.concurrency: auto` against fixed concurrencies, in the same run.
 *
 * 1. The sandbox's capacity model: K requests served at once in L ms, the rest queued, 429 + Retry-After above R a
 *    second. A sweep of fixed concurrencies finds the best one; then auto runs on the same model. Figures: auto's
 *    throughput ÷ the best fixed one's, and the share of auto's requests answered 429.
 * 2. 50 ms per answer and no limit at all: auto ÷ concurrency 256.
 *
 * Throughput is orders accepted per second from the first request's arrival until 95% of the orders were accepted
 * (sampled in the sandbox's process every 20 ms): a run's start-up (slow start, the first rate-limit refusal) counts,
 * while the last few requests waiting out a Retry-After do not. The whole run's rate is in the details.
 * The machine's load drifts while the sweep runs (others share its two cores), so the fixed concurrency auto is
 * compared with runs again right after auto, and the reference is the mean of its two runs that bracket auto's.
 */
import type { CliRun } from './cli.js';
import { runConnector } from './cli.js';
import { atLeast, atMost, noTarget, type Figure } from './report.js';
import type { TimelinePoint } from './sandbox-child.js';
import { prepare, round, type Bench } from './scenarios.js';
import type { FaultConfig } from '../../src/sandbox/index.js';

/** The capacity model: the optimum is R × L = 30 in flight, between the sweep's 16 and 32. */
const K = 64;
const L_MS = 20;
const R = 1500;
const SWEEP = [4, 8, 16, 32, 64, 128, 256] as const;
const LATENCY_MS = 50;
const SAMPLE_EVERY_MS = 20;
const SHARE = 0.95;

interface Measured {
  label: string;
  orders: number;
  /** Orders accepted a second up to SHARE of them; 0 when the run did not deliver them all. */
  rate: number;
  share429: number;
  received: number;
  run: CliRun;
  limit?: { low: number; high: number; settled: number } | undefined;
}

/** One sync of the first `orders` orders with `delivery`, on the given faults; the throughput from the sandbox's timeline. */
async function measure(b: Bench, label: string, orders: number, delivery: Record<string, unknown>, faults: FaultConfig): Promise<Measured> {
  const config = await prepare(b, `adaptive_${label.replace(/\W+/g, '_')}`, delivery);
  await b.sandbox.setFaults(faults);
  await b.sandbox.reset();
  await b.sandbox.timeline(SAMPLE_EVERY_MS);
  let run: CliRun;
  try {
    run = await runConnector(['sync', 'orders', '--limit', String(orders), '--config', config]);
  } finally {
    await b.sandbox.setFaults({});
  }
  const points = await b.sandbox.timeline(0);
  const arrivals = await b.sandbox.arrivals();
  const stats = await b.sandbox.stats();
  const refused = stats.byStatus['429'] ?? 0;
  const rate = run.code === 0 && run.run?.sent === orders ? rateUpTo(points, arrivals[0], Math.ceil(orders * SHARE)) : 0;
  const line = run.run as (typeof run.run & { concurrencyLimit?: Measured['limit'] }) | undefined;
  const m: Measured = {
    label,
    orders,
    rate,
    share429: stats.received > 0 ? refused / stats.received : 0,
    received: stats.received,
    run,
    limit: line?.concurrencyLimit,
  };
  b.log(
    `  ${label}: ${orders} orders, ${rate.toFixed(0)}/s to ${SHARE * 100}%, whole run ${(run.run?.rate ?? 0).toFixed(0)}/s, 429s ${refused} (${(m.share429 * 100).toFixed(2)}%)` +
      `${m.limit ? `, limit ${m.limit.low}..${m.limit.high}, settled ${m.limit.settled}` : ''}${run.code === 0 ? '' : `, EXIT ${String(run.code)}`}`,
  );
  return m;
}

/** Accepted a second from the first arrival until `target` were accepted (interpolated between samples). */
function rateUpTo(points: readonly TimelinePoint[], firstArrival: number | undefined, target: number): number {
  if (firstArrival === undefined) return 0;
  let previous: TimelinePoint | undefined;
  for (const p of points) {
    if (p[1] >= target) {
      const [t0, a0] = previous ?? p;
      const at = p[1] === a0 ? p[0] : t0 + ((target - a0) / (p[1] - a0)) * (p[0] - t0);
      return at > firstArrival ? (target / (at - firstArrival)) * 1000 : 0;
    }
    previous = p;
  }
  return 0;
}

const details = (m: Measured) => ({
  orders: m.orders,
  ratePerSecond: round(m.rate, 0),
  wholeRunRate: m.run.run?.rate,
  wholeRunMs: m.run.run?.durationMs,
  received: m.received,
  share429: round(m.share429, 4),
  exit: m.run.code,
  ...(m.limit ? { limit: m.limit } : {}),
});

export async function adaptive(b: Bench): Promise<Figure[]> {
  const n = b.sizes.adaptiveOrders;
  const capacity: FaultConfig = { capacity: { slots: K, serviceMs: L_MS, ratePerSecond: R } };
  const sweep: Array<{ concurrency: number; m: Measured }> = [];
  for (const concurrency of SWEEP) {
    // Small concurrencies are slow: enough orders for about 4 s at their best.
    const orders = Math.min(n, Math.max(500, Math.round(((concurrency * 1000) / L_MS) * 4)));
    sweep.push({ concurrency, m: await measure(b, `fixed ${concurrency}`, orders, { concurrency }, capacity) });
  }
  const top = sweep.reduce((a, c) => (c.m.rate > a.m.rate ? c : a));
  const best = top.m;
  const auto = await measure(b, 'auto', n, { concurrency: 'auto' }, capacity);
  const bestAgain = await measure(b, `${best.label} again`, best.orders, { concurrency: top.concurrency }, capacity);
  const reference = (best.rate + bestAgain.rate) / 2;
  const ratio = reference > 0 ? auto.rate / reference : 0;
  const scenario = `adaptive: capacity model (K ${K} at ${L_MS} ms, R ${R}/s; optimum ${(R * L_MS) / 1000} in flight), ${n.toLocaleString('en-US')} orders`;

  const ln = b.sizes.adaptiveLatencyOrders;
  const latency: FaultConfig = { latencyMs: LATENCY_MS };
  const fixed256 = await measure(b, 'fixed 256, 50 ms', ln, { concurrency: 256 }, latency);
  const auto50 = await measure(b, 'auto, 50 ms', ln, { concurrency: 'auto' }, latency);
  const fixed256Again = await measure(b, 'fixed 256, 50 ms, again', ln, { concurrency: 256 }, latency);
  const reference50 = (fixed256.rate + fixed256Again.rate) / 2;
  const ratio50 = reference50 > 0 ? auto50.rate / reference50 : 0;
  const scenario50 = `adaptive: ${LATENCY_MS} ms latency, no limit, ${ln.toLocaleString('en-US')} orders`;

  return [
    {
      scenario,
      figure: `(info) best fixed concurrency of ${SWEEP.join(', ')}: orders/s to ${SHARE * 100}%`,
      value: round(best.rate, 0),
      unit: '/s',
      ...noTarget,
      details: { best: best.label, sweep: Object.fromEntries(sweep.map(({ m }) => [m.label, details(m)])) },
    },
    {
      scenario,
      figure: `auto ÷ best fixed (${best.label}, mean of its runs before and after auto)`,
      value: round(ratio),
      unit: '',
      ...atLeast(ratio, 0.9),
      details: { auto: details(auto), [`${best.label} again`]: details(bestAgain), reference: round(reference, 0) },
    },
    { scenario, figure: 'auto: requests answered 429', value: round(auto.share429 * 100, 2), unit: '%', ...atMost(round(auto.share429 * 100, 2), 1, '%') },
    {
      scenario,
      figure: '(info) auto: limit where it settled (range in details)',
      value: auto.limit?.settled ?? 0,
      unit: '',
      ...noTarget,
      details: { limit: auto.limit },
    },
    {
      scenario: scenario50,
      figure: 'auto ÷ concurrency 256 (mean of its runs before and after auto)',
      value: round(ratio50),
      unit: '',
      ...atLeast(ratio50, 0.9),
      details: { auto: details(auto50), fixed256: details(fixed256), fixed256Again: details(fixed256Again), reference: round(reference50, 0) },
    },
  ];
}
