/**
 * Where the sandbox runs. The bench runs it in a process of its own, beside the connector's and the bare client's.
 * This scenario measures the alternative too: the sandbox inside the sending process (the bare client in-process,
 * and the connector through launchJob in-process), the way a single-process harness would run it.
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { ordersJob } from '../../jobs/orders.js';
import { launchJob } from '../../src/run/launch.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { bareSender } from './baseline.js';
import { noTarget, type Figure } from './report.js';
import { connector, prepare, round, type Bench } from './scenarios.js';
import { loadBodies, sendAll } from './sender.js';

export async function placement(b: Bench): Promise<Figure[]> {
  const n = Math.max(1000, Math.round(b.sizes.ceilingOrders / 4));
  const concurrency = b.sizes.ceilingConcurrency;
  const bodies = join(b.work, 'placement.ndjson');
  const childConfig = await prepare(b, 'placement_child', { concurrency });
  await connector(b, 'placement dry run', ['sync', 'orders', '--dry-run', '--limit', String(n), '--config', childConfig], bodies);

  await b.sandbox.reset();
  const bareChild = await bareSender(bodies, b.sandbox.url, concurrency);
  await b.sandbox.reset();
  const syncChild = await connector(b, 'placement sync, sandbox in its own process', ['sync', 'orders', '--limit', String(n), '--config', childConfig]);

  const local = await startSandbox({ recordBodies: false });
  let bareLocal;
  let syncLocalMs: number;
  try {
    bareLocal = await sendAll(loadBodies(bodies, local.url), concurrency);
    local.reset();
    const config = loadConfig({ path: await prepare(b, 'placement_inproc', { concurrency }, local.url), env: {} });
    const [summary] = await launchJob(config, ordersJob.scheduled, { dryRun: false, limit: n, out: new PassThrough(), log: silentLogger() });
    if (summary?.sent !== n || local.stats().accepted !== n)
      throw new Error(`in-process sync: sent ${summary?.sent}, accepted ${local.stats().accepted}, expected ${n}`);
    syncLocalMs = summary.durationMs;
  } finally {
    await local.close();
  }
  b.log(`  in one process: bare ${(bareLocal.ms / 1000).toFixed(1)} s, connector ${(syncLocalMs / 1000).toFixed(1)} s`);

  // Both ratios use the run's own duration (summary line), so that process start-up is out of both.
  const rate = (count: number, ms: number) => (count / ms) * 1000;
  const child = { bare: rate(n, bareChild.ms), connector: rate(n, syncChild.run?.durationMs ?? syncChild.wallMs) };
  const inProcess = { bare: rate(n, bareLocal.ms), connector: rate(n, syncLocalMs) };
  const rounded = (r: { bare: number; connector: number }) => ({ bare: round(r.bare, 0), connector: round(r.connector, 0) });
  const scenario = `(info) sandbox placement, ${n.toLocaleString('en-US')} orders`;
  return [
    {
      scenario,
      figure: 'ceiling ratio, sandbox in its own process (chosen)',
      value: round(child.connector / child.bare),
      unit: '',
      ...noTarget,
      details: { rates: rounded(child) },
    },
    {
      scenario,
      figure: 'ceiling ratio, sandbox in the sending process',
      value: round(inProcess.connector / inProcess.bare),
      unit: '',
      ...noTarget,
      details: { rates: rounded(inProcess) },
    },
  ];
}
