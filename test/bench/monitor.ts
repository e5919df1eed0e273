/**
 * `report` over a million orders (issue 14's figure): the books of a shop whose sync and backfills have run are
 * written with SQL (98% delivered, 1% invalid or rejected, the last 1% after the incremental watermark), then the
 * built CLI's `report` covers every day of the orders, `--json` to a file, and its numbers are checked.
 */
import { ORDERS_EPOCH, orderUpdatedAt } from './data.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportData } from '../../src/report/model.js';
import { connector, prepare, round, type Bench } from './scenarios.js';
import { noTarget, type Figure } from './report.js';

export async function reportMillion(b: Bench): Promise<Figure[]> {
  const n = b.sizes.bigOrders;
  const schema = 'bench_report';
  const config = await prepare(b, 'report');
  // Orders i = 1..n were updated at ORDERS_EPOCH + i × ORDER_SPACING_MS (data.ts). Order k*100 failed (even k invalid, odd
  // rejected); of the others, those up to the watermark (order 0.99 n) are delivered, the rest are pending.
  const mark = Math.floor(n * 0.99);
  await b.db.query(`INSERT INTO ${schema}.ledger (job, key, run_id) SELECT 'orders', i::text, 'bench' FROM generate_series(1, $1::int) i WHERE i % 100 <> 0`, [
    mark,
  ]);
  await b.db.query(
    `INSERT INTO ${schema}.failures (job, key, class, reason, run_id)
     SELECT 'orders', i::text, CASE WHEN (i / 100) % 2 = 0 THEN 'invalid' ELSE 'rejected' END, 'bench', 'bench' FROM generate_series(100, $1::int, 100) i`,
    [n],
  );
  await b.db.query(
    `INSERT INTO ${schema}.watermarks (name, cursor_ts, cursor_key, run_id)
     VALUES ('orders', to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), $1::text, 'bench')`,
    [mark, orderUpdatedAt(mark).toISOString()],
  );
  await b.db.query(`VACUUM (ANALYZE) ${schema}.ledger, ${schema}.failures`);
  const from = ORDERS_EPOCH.toISOString().slice(0, 10);
  const to = new Date(orderUpdatedAt(n).getTime() + 86_400_000).toISOString().slice(0, 10);
  const days = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
  const out = join(b.work, 'report.json');
  const run = await connector(
    b,
    `report of ${n.toLocaleString('en-US')} orders over ${days} days`,
    ['report', '--from', from, '--to', to, '--json', '--config', config],
    out,
  );

  const data = JSON.parse(readFileSync(out, 'utf8')) as ReportData;
  const sum = (k: 'shop' | 'delivered' | 'invalid' | 'rejected' | 'pending' | 'missing') => data.days.reduce((s, d) => s + d[k], 0);
  const failed = Math.floor(n / 100);
  const want = { shop: n, delivered: mark - Math.floor(mark / 100), failed, pending: n - mark - (failed - Math.floor(mark / 100)), missing: 0 };
  const got = { shop: sum('shop'), delivered: sum('delivered'), failed: sum('invalid') + sum('rejected'), pending: sum('pending'), missing: sum('missing') };
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`report's numbers are off: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  const scenario = `report: ${n.toLocaleString('en-US')} orders over ${days} days (98% delivered, 1% failed, 1% pending)`;
  return [
    {
      scenario,
      figure: 'wall time of `report --json`',
      value: round(run.wallMs / 1000, 2),
      unit: 's',
      ...noTarget,
      details: { cpuMs: Math.round(run.cpuMs), got },
    },
    { scenario, figure: 'orders per second', value: Math.round(n / (run.wallMs / 1000)), unit: '/s', ...noTarget },
    { scenario, figure: 'peak RSS', value: Math.round(run.peakRssMb), unit: 'MB', ...noTarget },
  ];
}
