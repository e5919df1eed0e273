/**
 * reconcile200k, the figure issue 3 asks for: the nightly reconcile of 200,000 carts (scaled), in a scratch database
 * of its own so the diff scenario's million carts stay apart. The first run finds every cart new; then 1% of the carts
 * change (quantities, emptied, deleted, new devices) and the second run must send exactly those. Each run: wall time,
 * requests the sandbox received, peak RSS of the connector.
 */
import type { CliRun } from './cli.js';
import { analyzeCarts, changeCartsMix, createScratch, fillCarts } from './data.js';
import { noTarget, type Figure } from './report.js';
import { connector, prepare, round, type Bench } from './scenarios.js';

export async function reconcile200k(b: Bench): Promise<Figure[]> {
  const n = b.sizes.reconcileCarts;
  const db = await createScratch();
  try {
    await fillCarts(db, n);
    await analyzeCarts(db);
    const own: Bench = { ...b, db };
    const config = await prepare(own, 'reconcile', {}, b.sandbox.url, 'carts');
    const reconcile = async (label: string) => {
      await b.sandbox.reset();
      const run = await connector(own, label, ['reconcile', 'carts', '--config', config]);
      return { run, received: (await b.sandbox.stats()).received };
    };

    const first = await reconcile('reconcile carts, first run');
    const changes = await changeCartsMix(db, 100);
    b.log(`  changed ${changes.total} carts: ${JSON.stringify(changes)}`);
    const second = await reconcile('reconcile carts, 1% changed');

    const label = n.toLocaleString('en-US');
    const figures = (scenario: string, r: { run: CliRun; received: number }, expected: number): Figure[] => [
      {
        scenario,
        figure: 'wall time',
        value: round(r.run.wallMs / 1000, 1),
        unit: 's',
        ...noTarget,
        details: { runMs: r.run.run?.durationMs, cpuMs: round(r.run.cpuMs, 0) },
      },
      {
        scenario,
        figure: 'requests received',
        value: r.received,
        unit: '',
        target: `= ${expected}`,
        met: r.received === expected && r.run.run?.sent === expected,
        details: { sent: r.run.run?.sent, skipped: r.run.run?.skipped, rejected: r.run.run?.rejected },
      },
      { scenario, figure: 'peak RSS', value: round(r.run.peakRssMb, 1), unit: 'MB', ...noTarget },
    ];
    const mix = `${changes.quantity} quantities, ${changes.emptied} emptied, ${changes.deleted} deleted, ${changes.added} new`;
    return [
      ...figures(`reconcile200k: ${label} carts, first run (all new)`, first, n),
      ...figures(`reconcile200k: ${label} carts, second run, ${changes.total} changed (${mix})`, second, changes.total),
    ];
  } finally {
    await db.drop();
  }
}
