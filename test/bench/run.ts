/**
 * `npm run bench`: build a scratch database, start the sandbox child, run the scenarios, write results.json and
 * results.md, print the table, drop the database.
 *
 * Environment: BENCH_SCALE (default 1; 0.1 for a quick run) scales every size; BENCH_ONLY=ceiling,placement,latency,
 * extract,memory,diff,rate,storefront,adaptive picks scenarios (these nine are the default); BENCH_PROFILE=<dir> writes
 * a CPU profile of every connector run there. Opt-in, as they would take the full run past 15 minutes (about 4 more at
 * scale 1): reconcile200k (issue 3's figure), shards (issue 4's), history (issue 10's: a million orders through the
 * order-sync API at a raised pace, about 2 more minutes), report (issue 14's: `report` over the big orders) and
 * catalogue (issue 18's: a million products reconciled, then 1% changed, and the same at a tenth);
 * BENCH_ONLY=all runs all thirteen. BENCH_LAUNCH=image runs the connector as the image does (node's flags and the
 * environment from the Dockerfile; default plain: `node dist/src/cli.js`). The connector runs on the Node that runs
 * the bench: `npm exec --package=node@26 -- node dist/test/bench/run.js` (after `npm run bench` or `tsc -p
 * tsconfig.bench.json`) measures it on the LTS line the image runs. Every run rewrites results.json and results.md with
 * just the scenarios it ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { analyze, counts, createScratch, fillCarts, fillOrders } from './data.js';
import { machine, writeResults, type Figure } from './report.js';
import { adaptive } from './adaptive.js';
import { placement } from './placement.js';
import { startSandboxChild } from './sandbox.js';
import { reconcile200k } from './reconcile.js';
import { ceiling, diff, extract, latencyBound, memory, rateLimit, type Bench, type Sizes } from './scenarios.js';
import { shards } from './shards.js';
import { history } from './history.js';
import { storefront } from './storefront.js';
import { reportMillion } from './monitor.js';
import { catalogue } from './catalogue.js';
import { LAUNCH } from './cli.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number (got ${process.env.BENCH_SCALE})`);
const scaled = (n: number, min: number) => Math.max(min, Math.round(n * scale));
const sizes: Sizes = {
  ceilingOrders: scaled(200_000, 1000),
  ceilingConcurrency: Number(process.env.BENCH_CONCURRENCY ?? '16'),
  latencyOrders: scaled(30_000, 1000),
  bigOrders: scaled(1_000_000, 1000),
  smallOrders: scaled(100_000, 100),
  carts: scaled(1_000_000, 1000),
  rateOrders: scaled(3_000, 400),
  reconcileCarts: scaled(200_000, 1000),
  shardOrders: scaled(200_000, 1000),
  storefrontOrders: scaled(100_000, 5000),
  adaptiveOrders: scaled(8_000, 2000),
  adaptiveLatencyOrders: scaled(20_000, 4000),
  catalogueProducts: scaled(1_000_000, 10_000),
};
const DEFAULT = ['ceiling', 'placement', 'latency', 'extract', 'memory', 'diff', 'rate', 'storefront', 'adaptive'] as const;
const SCENARIOS = [...DEFAULT, 'reconcile200k', 'shards', 'history', 'report', 'catalogue'] as const;
const picked = process.env.BENCH_ONLY?.trim() === 'all' ? SCENARIOS.join(',') : (process.env.BENCH_ONLY ?? DEFAULT.join(','));
const only = new Set(picked.split(',').map((s) => s.trim()));
const unknown = [...only].filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
const wants = (name: (typeof SCENARIOS)[number]) => only.has(name);

const started = Date.now();
const startLoad = loadavg().map((l) => Number(l.toFixed(2)));
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const work = mkdtempSync(join(tmpdir(), 'pcs-bench-'));
const orders = Math.max(
  wants('ceiling') || wants('placement') ? sizes.ceilingOrders : 0,
  wants('latency') ? sizes.latencyOrders : 0,
  wants('extract') || wants('memory') || wants('history') || wants('report') ? sizes.bigOrders : 0,
  wants('rate') ? sizes.rateOrders : 0,
  wants('shards') ? sizes.shardOrders : 0,
  wants('adaptive') ? Math.max(sizes.adaptiveOrders, sizes.adaptiveLatencyOrders) : 0,
);

log(`scale ${scale}: ${JSON.stringify(sizes)}`);
const db = await createScratch();
let dropped = false;
const drop = async () => {
  if (dropped) return;
  dropped = true;
  await db.drop();
  rmSync(work, { recursive: true, force: true });
};
process.once('SIGINT', () => void drop().finally(() => process.exit(130)));

const figures: Figure[] = [];
try {
  log(`scratch database ${db.name}: ${orders.toLocaleString('en-US')} orders${wants('diff') ? `, ${sizes.carts.toLocaleString('en-US')} carts` : ''}`);
  await fillOrders(db, orders);
  await fillCarts(db, wants('diff') ? sizes.carts : 0);
  await analyze(db);
  log(`data ready: ${JSON.stringify(await counts(db))}`);

  const sandbox = await startSandboxChild();
  const profileDir = process.env.BENCH_PROFILE ? resolve(process.env.BENCH_PROFILE) : undefined;
  const bench: Bench = { db, sandbox, sizes, work, profileDir, log };
  try {
    let bigDryRunPeakMb: number | undefined;
    if (wants('ceiling')) figures.push(...(await step('1. ceiling', () => ceiling(bench))));
    if (wants('placement')) figures.push(...(await step('(info) sandbox placement', () => placement(bench))));
    if (wants('latency')) figures.push(...(await step('2. latency-bound', () => latencyBound(bench))));
    if (wants('extract')) {
      const result = await step('3. extract', () => extract(bench));
      figures.push(...result.figures);
      bigDryRunPeakMb = result.dryRunPeakMb;
    }
    if (wants('memory')) figures.push(...(await step('4. memory and the spine', () => memory(bench, bigDryRunPeakMb))));
    if (wants('diff')) figures.push(...(await step('5. diff', () => diff(bench))));
    if (wants('rate')) figures.push(...(await step('6. rate limit', () => rateLimit(bench))));
    if (wants('adaptive')) figures.push(...(await step('adaptive: concurrency auto against fixed concurrencies', () => adaptive(bench))));
    if (wants('reconcile200k'))
      figures.push(...(await step(`reconcile200k (own database, ${sizes.reconcileCarts.toLocaleString('en-US')} carts)`, () => reconcile200k(bench))));
    if (wants('shards')) figures.push(...(await step('shards: backfill as 1 process, then as 4', () => shards(bench))));
    if (wants('history'))
      figures.push(...(await step(`history (${sizes.bigOrders.toLocaleString('en-US')} orders through the order-sync API)`, () => history(bench))));
    if (wants('storefront'))
      figures.push(
        ...(await step(`storefront (own database, ${sizes.storefrontOrders.toLocaleString('en-US')} orders): check, sync, check's advice, check, sync`, () =>
          storefront(bench),
        )),
      );
    if (wants('report')) figures.push(...(await step('report over the big orders', () => reportMillion(bench))));
    if (wants('catalogue'))
      figures.push(
        ...(await step(`catalogue (own databases, ${sizes.catalogueProducts.toLocaleString('en-US')} products and a tenth of it)`, () =>
          catalogue(bench, sizes.catalogueProducts),
        )),
      );
  } finally {
    await sandbox.close();
  }
} finally {
  await drop();
}

const meta = {
  date: new Date(started).toISOString(),
  machine: machine(),
  scale,
  sizes,
  sandbox: 'separate child process (node fork), bodies not recorded; the connector is the built CLI in a child process',
  connector: `${LAUNCH.name}: node ${[...LAUNCH.nodeFlags, 'dist/src/cli.js'].join(' ')}${Object.entries(LAUNCH.env)
    .map(([k, v]) => ` ${k}=${v}`)
    .join('')}`,
  wallSeconds: Math.round((Date.now() - started) / 1000),
  loadAverageAtStart: startLoad,
  loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
};
const md = writeResults(figures, meta);
console.log(`\n${md}`);
const missed = figures.filter((f) => f.met === false).length;
log(`done in ${meta.wallSeconds} s; ${missed} target(s) not met`);

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  log(`${name} (load average ${loadavg()[0]?.toFixed(2)})`);
  return body();
}
