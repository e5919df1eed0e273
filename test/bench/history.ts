/**
 * history, the figure issue 10 asks for: a backfill of the bench's orders through the order-sync API (batches of the
 * default 1000, each order with its real date, status and customer), against a sandbox whose pace is raised on both
 * sides (the connector's `orderSyncPerMinute` and the sandbox's limit) so that a million orders take minutes, not the
 * 25 the documented 40 a minute would. Figures: orders a second, orders a request, peak memory, CPU time per order,
 * how close the connector keeps to the configured pace, and every order held exactly once. The sandbox runs in this
 * process (the harness is otherwise idle), its pace checked by its own 429s.
 */
import { writeConfig } from '../support/cli.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { maxInWindow } from '../faults/support/figures.js';
import { mustRun, SHOP_ID } from './cli.js';
import { ITEMS_QUERY, ORDERS_QUERY } from './data.js';
import { atMost, noTarget, type Figure } from './report.js';
import { connector, round, type Bench } from './scenarios.js';

const SECRET = 'bench-shop-secret';
/** The raised pace: ten a second. */
const PER_MINUTE = 600;
/** The documented pace, for the time a shop should expect. */
const DOCUMENTED_PER_MINUTE = 40;
const BATCH = 1000;
const HISTORY_MODEL = `SELECT q.*, 'completed' AS status, 'c' || q.order_id || '@example.com' AS email FROM (${ORDERS_QUERY}) q`;

export async function history(b: Bench): Promise<Figure[]> {
  const n = b.sizes.bigOrders;
  const sandbox = await startSandbox({ recordBodies: false, shopSecret: SECRET, syncOrdersPerMinute: PER_MINUTE });
  try {
    const config = writeConfig({
      personaclick: { url: sandbox.url, shopId: SHOP_ID, shopSecret: SECRET },
      delivery: { orderSyncPerMinute: PER_MINUTE },
      source: { url: b.db.url },
      state: { schema: 'bench_history' },
      jobs: { orders: { query: HISTORY_MODEL, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01', batchSize: BATCH } },
    });
    await mustRun(['migrate', '--config', config]);
    const run = await connector(b, 'history backfill (order-sync API)', [
      'backfill',
      'orders',
      '--from',
      '2000-01-01',
      '--to',
      '2100-01-01',
      '--limit',
      String(n),
      '--yes',
      '--config',
      config,
    ]);
    const arrivals = sandbox.syncArrivals().sort((x, y) => x - y);
    const held = sandbox.syncOrders.size;
    const once = [...sandbox.syncOrders.values()].filter((o) => o.received === 1).length;
    const stats = sandbox.stats();
    const span = arrivals.length > 1 ? (arrivals[arrivals.length - 1] ?? 0) - (arrivals[0] ?? 0) : 0;
    const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t));
    const paced = gaps.length > 0 ? gaps.reduce((a, g) => a + g, 0) / gaps.length : 0;
    const perMinuteAchieved = span > 0 ? ((arrivals.length - 1) / span) * 60_000 : 0;
    const scenario = `history: backfill of ${n.toLocaleString('en-US')} orders through the order-sync API, pace ${PER_MINUTE}/min on both sides, batches of ${BATCH}`;
    const requests = arrivals.length;
    b.log(
      `  ${requests} requests, ${held} orders held (${once} once), max ${maxInWindow(arrivals, 60_000)} in a minute, ${stats.byStatus['429'] ?? 0} answered 429`,
    );
    return [
      { scenario, figure: 'orders per second', value: round((n / run.wallMs) * 1000, 0), unit: '/s', ...noTarget, details: { wallMs: round(run.wallMs, 0) } },
      { scenario, figure: 'orders per request', value: round(n / Math.max(1, requests), 0), unit: '', ...noTarget, details: { requests } },
      { scenario, figure: 'peak RSS of the connector', value: round(run.peakRssMb, 0), unit: 'MB', ...noTarget },
      {
        scenario,
        figure: 'CPU time per order (connector)',
        value: round((run.cpuMs * 1000) / n, 1),
        unit: 'µs',
        ...noTarget,
        details: { cpuMs: round(run.cpuMs, 0) },
      },
      {
        scenario,
        figure: `requests in any 60 s window (configured ${PER_MINUTE})`,
        value: maxInWindow(arrivals, 60_000),
        unit: '',
        ...atMost(maxInWindow(arrivals, 60_000), PER_MINUTE),
        details: { answered429: stats.byStatus['429'] ?? 0 },
      },
      {
        scenario,
        figure: `pace achieved ÷ configured (mean gap ${round(paced, 0)} ms, configured ${round(60_000 / PER_MINUTE, 0)} ms)`,
        value: round(perMinuteAchieved / PER_MINUTE, 3),
        unit: 'x',
        ...noTarget,
      },
      { scenario, figure: 'orders held by the sandbox exactly once', value: once, unit: '', target: `= ${n}`, met: once === n && held === n },
      {
        scenario,
        figure: `time to expect for ${n.toLocaleString('en-US')} orders at the documented ${DOCUMENTED_PER_MINUTE} requests a minute (batches of ${BATCH})`,
        value: round(Math.ceil(n / BATCH) / DOCUMENTED_PER_MINUTE, 1),
        unit: 'min',
        ...noTarget,
      },
    ];
  } finally {
    await sandbox.close();
  }
}
