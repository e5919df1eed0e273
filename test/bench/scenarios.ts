/**
 * The scenarios. Each runs the built CLI against the sandbox child over HTTP (or against /dev/null for dry runs) and
 * turns what it measured into figures: ratios against a baseline measured here, in the same run, or memory peaks.
 */
import { join } from 'node:path';
import type { TestDatabase } from '../support/pg.js';
import { bareSender, psqlCopy, readCartsOnly, readOrdersOnly } from './baseline.js';
import { mustRun, writeBenchConfig, type CliRun } from './cli.js';
import { CARTS_QUERY, ORDERS_QUERY, changeCarts, seedCartsLedger } from './data.js';
import { atLeast, atMost, noTarget, type Figure } from './report.js';
import type { BenchSandbox } from './sandbox.js';

export interface Sizes {
  ceilingOrders: number;
  ceilingConcurrency: number;
  latencyOrders: number;
  bigOrders: number;
  smallOrders: number;
  carts: number;
  rateOrders: number;
  /** reconcile200k (reconcile.ts). */
  reconcileCarts: number;
  /** shards (shards.ts). */
  shardOrders: number;
  /** storefront (storefront.ts). */
  storefrontOrders: number;
  /** adaptive (adaptive.ts): each run on the capacity model, and each 50 ms run. */
  adaptiveOrders: number;
  adaptiveLatencyOrders: number;
  /** The catalogue scenario's products (issue 18: 1,000,000; it runs a tenth of it too). */
  catalogueProducts: number;
}

export interface Bench {
  db: TestDatabase;
  sandbox: BenchSandbox;
  sizes: Sizes;
  /** Scratch directory for NDJSON files. */
  work: string;
  /** When set, every connector run writes a CPU profile here (node --cpu-prof). */
  profileDir: string | undefined;
  log(message: string): void;
}

export const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;
const mb = (n: number): number => round(n, 1);

/** A fresh state schema for the scenario (so every sync starts at the beginning), migrated; returns the config path. */
export async function prepare(
  b: Bench,
  name: string,
  delivery: Record<string, unknown> = {},
  apiUrl = b.sandbox.url,
  job: 'orders' | 'carts' = 'orders',
): Promise<string> {
  const config = writeBenchConfig({ dbUrl: b.db.url, apiUrl, schema: `bench_${name}`, delivery, job });
  await mustRun(['migrate', '--config', config]);
  return config;
}

export async function connector(b: Bench, label: string, args: string[], stdoutFile?: string): Promise<CliRun> {
  const result = await mustRun(args, { stdoutFile, cpuProfDir: b.profileDir ? join(b.profileDir, label.replace(/\W+/g, '-')) : undefined });
  b.log(
    `  ${label}: ${(result.wallMs / 1000).toFixed(1)} s, CPU ${(result.cpuMs / 1000).toFixed(1)} s, peak RSS ${result.peakRssMb.toFixed(0)} MB, sent ${result.run?.sent ?? '?'}`,
  );
  return result;
}

/** CPU time (ms) the sandbox process has used so far. */
async function sandboxCpu(b: Bench): Promise<number> {
  const { cpu } = await b.sandbox.usage();
  return (cpu.user + cpu.system) / 1000;
}

/** All sent, all accepted: a figure from a run that lost requests would mean nothing. */
async function expectAccepted(b: Bench, run: CliRun, expected: number): Promise<void> {
  const stats = await b.sandbox.stats();
  if (run.run?.sent !== expected || stats.accepted !== expected) {
    throw new Error(
      `expected ${expected} requests sent and accepted; the run says sent ${run.run?.sent}, the sandbox accepted ${stats.accepted} (${JSON.stringify(stats.byStatus)})`,
    );
  }
}

/** 1. The full pipeline's throughput against a bare keep-alive client sending the same bodies at the same concurrency. */
export async function ceiling(b: Bench): Promise<Figure[]> {
  const n = b.sizes.ceilingOrders;
  const concurrency = b.sizes.ceilingConcurrency;
  const config = await prepare(b, 'ceiling', { concurrency });
  const bodies = join(b.work, 'ceiling.ndjson');
  await connector(b, 'ceiling dry run (request bodies)', ['sync', 'orders', '--dry-run', '--limit', String(n), '--config', config], bodies);

  // The bare client runs just before and just after the connector. Noise on this machine (other people's work)
  // comes and goes, so the mean of the two runs that bracket the connector's is the ceiling it is compared with.
  const bare = async (label: string) => {
    await b.sandbox.reset();
    const sandboxCpuMs = await sandboxCpu(b);
    const result = await bareSender(bodies, b.sandbox.url, concurrency);
    if (result.requests !== n || result.failed !== 0) throw new Error(`bare sender: ${JSON.stringify(result)}`);
    const rate = (n / result.ms) * 1000;
    b.log(`  ${label}: ${(result.ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), CPU ${(result.cpuMs / 1000).toFixed(1)} s`);
    return { rate, cpuMs: result.cpuMs, sandboxCpuMs: (await sandboxCpu(b)) - sandboxCpuMs };
  };
  const before = await bare('bare undici');
  await b.sandbox.reset();
  const sandboxBefore = await sandboxCpu(b);
  const sync = await connector(b, 'ceiling sync', ['sync', 'orders', '--limit', String(n), '--config', config]);
  const sandboxCpuMs = (await sandboxCpu(b)) - sandboxBefore;
  await expectAccepted(b, sync, n);
  const after = await bare('bare undici again');

  const connectorRate = (n / sync.wallMs) * 1000;
  const ratio = connectorRate / ((before.rate + after.rate) / 2);
  const scenario = `1. ceiling (${n.toLocaleString('en-US')} orders, concurrency ${concurrency}, no latency)`;
  const bareCpuUs = ((before.cpuMs + after.cpuMs) / 2 / n) * 1000;
  const connectorCpuUs = (sync.cpuMs / n) * 1000;
  return [
    {
      scenario,
      figure: 'connector req/s ÷ bare undici req/s',
      value: round(ratio),
      unit: '',
      ...atLeast(ratio, 0.75),
      details: {
        connectorRate: round(connectorRate, 0),
        bareRates: [round(before.rate, 0), round(after.rate, 0)],
        connectorWallMs: round(sync.wallMs, 0),
        connectorRunMs: sync.run?.durationMs,
      },
    },
    {
      scenario,
      figure: `(info) CPU per request: connector process (bare client: ${round(bareCpuUs, 0)} µs)`,
      value: round(connectorCpuUs, 0),
      unit: 'µs',
      ...noTarget,
      details: {
        sandboxCpuUsPerRequest: {
          duringConnector: round((sandboxCpuMs / n) * 1000, 0),
          duringBare: round(((before.sandboxCpuMs + after.sandboxCpuMs) / 2 / n) * 1000, 0),
        },
      },
    },
  ];
}

/** Requests per second between the first arrival + `skipMs` and the last arrival - `skipMs`. */
function steadyRate(arrivals: readonly number[], skipMs: number): { rate: number; windowMs: number; overall: number } {
  const first = arrivals[0] ?? 0;
  const last = arrivals[arrivals.length - 1] ?? 0;
  const from = first + skipMs;
  const to = last - skipMs;
  const inside = arrivals.filter((t) => t >= from && t < to).length;
  return { rate: to > from ? (inside / (to - from)) * 1000 : 0, windowMs: to - from, overall: (arrivals.length / Math.max(1, last - first)) * 1000 };
}

/** 2. With 50 ms per answer and 64 in flight, the ideal is 1280 requests/s: how close does the sync come? */
export async function latencyBound(b: Bench): Promise<Figure[]> {
  const n = b.sizes.latencyOrders;
  const concurrency = 64;
  const latencyMs = 50;
  const ideal = (concurrency * 1000) / latencyMs;
  const config = await prepare(b, 'latency', { concurrency });
  await b.sandbox.setFaults({ latencyMs });
  await b.sandbox.reset();
  try {
    const sync = await connector(b, 'latency-bound sync', ['sync', 'orders', '--limit', String(n), '--config', config]);
    await expectAccepted(b, sync, n);
  } finally {
    await b.sandbox.setFaults({});
  }
  const steady = steadyRate(await b.sandbox.arrivals(), 1000);

  // The same requests from the bare client: what this sandbox and machine allow at 50 ms and 64 in flight.
  const bodies = join(b.work, 'latency.ndjson');
  await connector(b, 'latency dry run (request bodies)', ['sync', 'orders', '--dry-run', '--limit', String(n), '--config', config], bodies);
  await b.sandbox.setFaults({ latencyMs });
  await b.sandbox.reset();
  try {
    await bareSender(bodies, b.sandbox.url, concurrency);
  } finally {
    await b.sandbox.setFaults({});
  }
  const bare = steadyRate(await b.sandbox.arrivals(), 1000);
  b.log(`  steady: connector ${steady.rate.toFixed(0)}/s, bare undici ${bare.rate.toFixed(0)}/s`);

  const ratio = steady.rate / ideal;
  const scenario = `2. latency-bound (${n.toLocaleString('en-US')} orders, 50 ms, concurrency 64)`;
  return [
    {
      scenario,
      figure: `steady req/s ÷ ${ideal} (steady window ${(steady.windowMs / 1000).toFixed(1)} s)`,
      value: round(ratio),
      unit: '',
      ...atLeast(ratio, 0.95),
      details: {
        steadyRate: round(steady.rate, 1),
        overallRate: round(steady.overall, 1),
        windowMs: steady.windowMs,
        steadyWindowTarget: '≥ 15000 ms',
        steadyWindowMet: steady.windowMs >= 15_000,
      },
    },
    {
      scenario,
      figure: `(info) bare undici, same latency: steady req/s ÷ ${ideal}`,
      value: round(bare.rate / ideal),
      unit: '',
      ...noTarget,
      details: { steadyRate: round(bare.rate, 1), windowMs: bare.windowMs },
    },
  ];
}

/** What the orders extract streams: the model joined to its lines in the sync's page order. */
const ORDERS_WITH_LINES = `SELECT q.*, l.product_id AS id, l.qty AS amount, l.unit_price AS price
  FROM (${ORDERS_QUERY}) q JOIN shop.order_lines l ON l.order_id = q.order_id ORDER BY q.updated_at, q.order_id`;

export interface ExtractResult {
  figures: Figure[];
  dryRunPeakMb: number;
}

/** 3. The dry run of every order (NDJSON to /dev/null) against psql streaming the same orders with their lines. */
export async function extract(b: Bench): Promise<ExtractResult> {
  const n = b.sizes.bigOrders;
  const config = await prepare(b, 'extract');
  await psqlCopy(b.db.url, ORDERS_WITH_LINES); // warm the cache for both
  const psqlMs = await psqlCopy(b.db.url, ORDERS_WITH_LINES);
  b.log(`  psql \\copy orders ⋈ lines: ${(psqlMs / 1000).toFixed(1)} s`);
  const dry = await connector(b, 'extract dry run', ['sync', 'orders', '--dry-run', '--config', config], '/dev/null');
  if (dry.run?.sent !== n) throw new Error(`dry run printed ${dry.run?.sent} requests, expected ${n}`);
  const readMs = await readOrdersOnly(b.db.url);
  b.log(`  reading alone (the connector's page queries, nothing built): ${(readMs / 1000).toFixed(1)} s`);
  const ratio = dry.wallMs / psqlMs;
  const scenario = `3. extract (${n.toLocaleString('en-US')} orders, --dry-run > /dev/null)`;
  return {
    dryRunPeakMb: dry.peakRssMb,
    figures: [
      {
        scenario,
        figure: 'dry run time ÷ psql \\copy time',
        value: round(ratio, 2),
        unit: 'x',
        ...atMost(ratio, 2, 'x'),
        details: { dryRunMs: round(dry.wallMs, 0), dryRunCpuMs: round(dry.cpuMs, 0), psqlMs: round(psqlMs, 0), psqlQuery: ORDERS_WITH_LINES },
      },
      {
        scenario,
        figure: "(info) reading alone (the sync's page queries in node-postgres, nothing built) ÷ psql",
        value: round(readMs / psqlMs, 2),
        unit: 'x',
        ...noTarget,
        details: { readMs: round(readMs, 0) },
      },
    ],
  };
}

/** 4 and the spine: peak RSS of 100k and 1M dry runs and syncs; the 100k sync's wall time and rate. */
export async function memory(b: Bench, bigDryRunPeakMb: number | undefined): Promise<Figure[]> {
  const small = b.sizes.smallOrders;
  const big = b.sizes.bigOrders;
  const config = await prepare(b, 'memory_small');
  const smallDry = await connector(b, `dry run ${small}`, ['sync', 'orders', '--dry-run', '--limit', String(small), '--config', config], '/dev/null');
  await b.sandbox.reset();
  const smallSync = await connector(b, `sync ${small}`, ['sync', 'orders', '--limit', String(small), '--config', config]);
  await expectAccepted(b, smallSync, small);

  let bigDryMb = bigDryRunPeakMb;
  if (bigDryMb === undefined) {
    bigDryMb = (await connector(b, `dry run ${big}`, ['sync', 'orders', '--dry-run', '--limit', String(big), '--config', config], '/dev/null')).peakRssMb;
  }
  const bigConfig = await prepare(b, 'memory_big');
  await b.sandbox.reset();
  const bigSync = await connector(b, `sync ${big}`, ['sync', 'orders', '--limit', String(big), '--config', bigConfig]);
  await expectAccepted(b, bigSync, big);

  const label = (k: number) => `${(k / 1000).toLocaleString('en-US')}k`;
  const peak = (what: string, bigMb: number, smallMb: number): Figure[] => [
    { scenario: `4. flat memory: ${what} ${label(big)} orders`, figure: 'peak RSS', value: mb(bigMb), unit: 'MB', ...atMost(bigMb, 200, ' MB') },
    {
      scenario: `4. flat memory: ${what} ${label(big)} vs ${label(small)}`,
      figure: `peak RSS ÷ ${label(small)} peak (${mb(smallMb)} MB)`,
      value: round(bigMb / smallMb),
      unit: '',
      ...atMost(bigMb / smallMb, 1.2),
    },
  ];
  const rate = (small / smallSync.wallMs) * 1000;
  return [
    ...peak('dry run', bigDryMb, smallDry.peakRssMb),
    ...peak('sync', bigSync.peakRssMb, smallSync.peakRssMb),
    { scenario: `the spine: sync of ${label(small)} orders`, figure: 'wall time', value: round(smallSync.wallMs / 1000, 1), unit: 's', ...noTarget },
    { scenario: `the spine: sync of ${label(small)} orders`, figure: 'orders per second', value: round(rate, 0), unit: '/s', ...noTarget },
    { scenario: `the spine: sync of ${label(small)} orders`, figure: 'peak RSS', value: mb(smallSync.peakRssMb), unit: 'MB', ...noTarget },
    { scenario: `(info) sync of ${label(big)} orders`, figure: 'orders per second', value: round((big / bigSync.wallMs) * 1000, 0), unit: '/s', ...noTarget },
  ];
}

/** 5. Nightly reconcile with 1% of the carts changed since the previous run, against psql streaming the snapshot. */
export async function diff(b: Bench): Promise<Figure[]> {
  const n = b.sizes.carts;
  const config = await prepare(b, 'carts', {}, b.sandbox.url, 'carts');
  await seedCartsLedger(b.db, 'bench_carts');
  const changed = await changeCarts(b.db, 100);
  const snapshot = `SELECT q.* FROM (${CARTS_QUERY}) q ORDER BY q.did COLLATE "C"`;
  await psqlCopy(b.db.url, snapshot); // warm
  const psqlMs = await psqlCopy(b.db.url, snapshot);
  b.log(`  psql \\copy carts snapshot: ${(psqlMs / 1000).toFixed(1)} s`);
  await b.sandbox.reset();
  const run = await connector(b, 'reconcile carts', ['reconcile', 'carts', '--config', config]);
  const stats = await b.sandbox.stats();
  const readMs = await readCartsOnly(b.db.url);
  b.log(`  reading alone (the reconcile's snapshot pages, nothing built): ${(readMs / 1000).toFixed(1)} s`);
  const ratio = run.wallMs / psqlMs;
  const scenario = `5. diff (${n.toLocaleString('en-US')} carts, ${changed.toLocaleString('en-US')} changed)`;
  return [
    {
      scenario,
      figure: 'reconcile time ÷ psql \\copy time',
      value: round(ratio, 2),
      unit: 'x',
      ...atMost(ratio, 2, 'x'),
      details: {
        reconcileMs: round(run.wallMs, 0),
        reconcileCpuMs: round(run.cpuMs, 0),
        peakRssMb: mb(run.peakRssMb),
        psqlMs: round(psqlMs, 0),
        psqlQuery: snapshot,
        skipped: run.run?.skipped,
      },
    },
    {
      scenario,
      figure: "(info) reading alone (the reconcile's snapshot pages in node-postgres, nothing built) ÷ psql",
      value: round(readMs / psqlMs, 2),
      unit: 'x',
      ...noTarget,
      details: { readMs: round(readMs, 0) },
    },
    {
      scenario,
      figure: `requests received (changed: ${changed})`,
      value: stats.received,
      unit: '',
      target: `= ${changed}`,
      met: stats.received === changed && run.run?.sent === changed,
    },
  ];
}

/** 6. `maxRequestsPerSecond: 200`: never more than 200 in any 1 s window at the sandbox, and close to 200 on average. */
export async function rateLimit(b: Bench): Promise<Figure[]> {
  const n = b.sizes.rateOrders;
  const config = await prepare(b, 'rate', { maxRequestsPerSecond: 200 });
  await b.sandbox.reset();
  const run = await connector(b, 'rate-limited sync', ['sync', 'orders', '--limit', String(n), '--config', config]);
  await expectAccepted(b, run, n);
  const { maxPerSecond } = await b.sandbox.stats();
  const arrivals = await b.sandbox.arrivals();
  // The average over whole 1 s windows from the first arrival (a trailing partial window would inflate it).
  const first = arrivals[0] ?? 0;
  const windows = Math.floor(((arrivals[arrivals.length - 1] ?? 0) - first) / 1000);
  const perSecond = Array.from({ length: windows + 1 }, (_, k) => arrivals.filter((t) => t >= first + k * 1000 && t < first + (k + 1) * 1000).length);
  const average = windows > 0 ? perSecond.slice(0, windows).reduce((a, c) => a + c, 0) / windows : 0;
  const scenario = `6. rate limit 200/s (${n.toLocaleString('en-US')} orders, ${windows} s)`;
  return [
    {
      scenario,
      figure: 'max requests in any 1 s window',
      value: maxPerSecond,
      unit: '',
      ...atMost(maxPerSecond, 200),
      details: { perSecondFromFirstArrival: perSecond },
    },
    {
      scenario,
      figure: `average per 1 s window over ${windows} s`,
      value: round(average, 1),
      unit: '/s',
      target: '≥ 190 over ≥ 10 s',
      met: average >= 190 && windows >= 10,
    },
  ];
}
