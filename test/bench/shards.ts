/**
 * shards, the figure issue 4 asks for: a backfill of the first N orders run as one process, then as four shard
 * processes at once (`--shard i/4`), each with the same config and a fresh state schema, against the sandbox answering
 * after 5 ms. Wall time of each (for four: from the first spawn to the last exit), their ratio, and whether the
 * sandbox received every order exactly once. Four processes share this machine's cores with the sandbox and Postgres,
 * so the ratio is what the machine allows, not the shard count.
 */
import { ORDERS_EPOCH, orderUpdatedAt } from './data.js';
import type { CliRun } from './cli.js';
import { noTarget, type Figure } from './report.js';
import { connector, prepare, round, type Bench } from './scenarios.js';

const LATENCY_MS = 5;
const SHARDS = 4;

interface Backfill {
  wallMs: number;
  runs: CliRun[];
  /** Orders 1..n accepted exactly once; and what else was seen. */
  exactlyOnce: number;
  missing: number;
  repeated: number;
  unexpected: number;
}

export async function shards(b: Bench): Promise<Figure[]> {
  const n = b.sizes.shardOrders;
  const concurrency = b.sizes.ceilingConcurrency;
  await b.sandbox.setFaults({ latencyMs: LATENCY_MS });
  let one: Backfill;
  let four: Backfill;
  try {
    one = await backfill(b, n, 1, concurrency);
    four = await backfill(b, n, SHARDS, concurrency);
  } finally {
    await b.sandbox.setFaults({});
  }
  const ratio = one.wallMs / four.wallMs;
  b.log(`  1 process ${(one.wallMs / 1000).toFixed(1)} s, ${SHARDS} shards ${(four.wallMs / 1000).toFixed(1)} s: ${ratio.toFixed(2)}x`);

  const scenario = `shards: backfill of ${n.toLocaleString('en-US')} orders, ${LATENCY_MS} ms latency, concurrency ${concurrency} per process`;
  const perRun = (r: Backfill) => ({
    wallMs: r.runs.map((run) => round(run.wallMs, 0)),
    cpuMs: r.runs.map((run) => round(run.cpuMs, 0)),
    peakRssMb: r.runs.map((run) => round(run.peakRssMb, 1)),
    sent: r.runs.map((run) => run.run?.sent),
  });
  const once = (label: string, r: Backfill): Figure => ({
    scenario,
    figure: `orders received exactly once, ${label}`,
    value: r.exactlyOnce,
    unit: '',
    target: `= ${n}`,
    met: r.exactlyOnce === n && r.missing === 0 && r.repeated === 0 && r.unexpected === 0,
    details: { missing: r.missing, repeated: r.repeated, unexpected: r.unexpected },
  });
  return [
    { scenario, figure: 'wall time, 1 process', value: round(one.wallMs / 1000, 1), unit: 's', ...noTarget, details: perRun(one) },
    {
      scenario,
      figure: `wall time, ${SHARDS} shard processes (first start to last exit)`,
      value: round(four.wallMs / 1000, 1),
      unit: 's',
      ...noTarget,
      details: perRun(four),
    },
    { scenario, figure: `1-process time ÷ ${SHARDS}-shard time (2 cores here)`, value: round(ratio, 2), unit: 'x', ...noTarget },
    once('1 process', one),
    once(`${SHARDS} shards`, four),
  ];
}

/** Orders 1..n: their updated_at is ORDERS_EPOCH plus id × ORDER_SPACING_MS (data.ts), so this range holds exactly them. */
function range(n: number): string[] {
  return ['--from', ORDERS_EPOCH.toISOString(), '--to', orderUpdatedAt(n + 1).toISOString()];
}

async function backfill(b: Bench, n: number, count: number, concurrency: number): Promise<Backfill> {
  const config = await prepare(b, `shards_${count}`, { concurrency });
  await b.sandbox.reset();
  // The live road (purchases), as this figure has always measured it (--old-orders-as-new: whatever the orders' age).
  const args = (i: number) => [
    'backfill',
    'orders',
    ...range(n),
    '--via',
    'push',
    '--old-orders-as-new',
    '--yes',
    ...(count > 1 ? ['--shard', `${i}/${count}`] : []),
    '--config',
    config,
  ];
  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: count }, (_, i) => connector(b, count > 1 ? `backfill, shard ${i}/${count}` : 'backfill, 1 process', args(i))),
  );
  const wallMs = performance.now() - started;

  const purchases = await b.sandbox.purchases();
  let exactlyOnce = 0;
  let missing = 0;
  let repeated = 0;
  for (let id = 1; id <= n; id += 1) {
    const times = purchases[String(id)];
    if (times === undefined) missing += 1;
    else if (times === 1) exactlyOnce += 1;
    else repeated += 1;
  }
  const unexpected = Object.keys(purchases).length - exactlyOnce - repeated;
  return { wallMs, runs, exactlyOnce, missing, repeated, unexpected };
}
