/**
 * storefront, the figure issue 13 asks for: a shop shaped unlike the project's own (test/support/storefront.ts: uuid
 * orders with a number, ids written 'N' || number, numeric money, jsonb), in a scratch database of its own, with the
 * models an operator first writes. `check --json` estimates the run and gives its advice; the sync runs; the advice
 * is followed to the letter (its CREATE INDEX statements run as printed, its rewrite put into the items query); then
 * `check` and the sync again. Figures: orders/s before and after, and check's estimates (reading time per page, for
 * the whole table, and the rate reading alone allows) beside what the syncs measured.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckFinding } from '../../src/check/command.js';
import { writeConfig } from '../support/cli.js';
import { createStorefront, rewriteItemsQuery, STOREFRONT_ITEMS_QUERY, STOREFRONT_ORDERS_QUERY } from '../support/storefront.js';
import { mustRun, SHOP_ID, type CliRun } from './cli.js';
import { createScratch } from './data.js';
import { noTarget, type Figure } from './report.js';
import { connector, round, type Bench } from './scenarios.js';

const PAGE_SIZE = 1000;

interface Pass {
  label: string;
  findings: CheckFinding[];
  sync: CliRun;
  sent: number;
}

export async function storefront(b: Bench): Promise<Figure[]> {
  const n = b.sizes.storefrontOrders;
  const db = await createScratch();
  const dir = mkdtempSync(join(tmpdir(), 'pcs-storefront-'));
  try {
    await createStorefront(db, n);
    const [sizes] = await db.query<{ orders: string; lines: string; model: string }>(
      `SELECT (SELECT count(*) FROM store.orders) AS orders, (SELECT count(*) FROM store.order_lines) AS lines, (SELECT count(*) FROM (${STOREFRONT_ORDERS_QUERY}) q) AS model`,
    );
    const expected = Number(sizes?.model);
    b.log(
      `  storefront: ${Number(sizes?.orders).toLocaleString('en-US')} orders (${expected.toLocaleString('en-US')} in the model), ${Number(sizes?.lines).toLocaleString('en-US')} lines`,
    );

    const pass = async (label: string, itemsQuery: string, schema: string): Promise<Pass> => {
      const config = writeConfig({
        personaclick: { url: b.sandbox.url, shopId: SHOP_ID },
        source: { url: db.url },
        state: { schema },
        jobs: { orders: { query: STOREFRONT_ORDERS_QUERY, itemsQuery, pageSize: PAGE_SIZE, settleSeconds: 0, startFrom: '2000-01-01' } },
      });
      await mustRun(['migrate', '--config', config]);
      const out = join(dir, `${schema}-check.json`);
      const check = await mustRun(['check', '--json', '--config', config], { stdoutFile: out });
      const findings = (JSON.parse(readFileSync(out, 'utf8')) as { findings: CheckFinding[] }).findings.filter((f) => f.subject.startsWith('jobs.orders'));
      b.log(
        `  check (${label}), ${(check.wallMs / 1000).toFixed(1)} s:\n${findings.map((f) => `      ${f.level.padEnd(5)} ${f.subject}: ${f.message}`).join('\n')}`,
      );
      await b.sandbox.reset();
      const sync = await connector(b, `storefront sync, ${label}`, ['sync', 'orders', '--config', config]);
      const stats = await b.sandbox.stats();
      if (sync.run?.sent !== expected || stats.accepted !== expected) {
        throw new Error(
          `storefront (${label}): expected ${expected} purchases sent and accepted; the run says sent ${sync.run?.sent}, the sandbox accepted ${stats.accepted} (${JSON.stringify(stats.byStatus)})`,
        );
      }
      return { label, findings, sync, sent: expected };
    };

    const naive = await pass('naive models', STOREFRONT_ITEMS_QUERY, 'bench_storefront_naive');
    // Follow the advice: every statement check printed, and its rewrite of the items query's condition.
    const fixes = naive.findings.flatMap((f) => (f.fix ? [f.fix] : []));
    const statements = fixes.flatMap((f) => f.sql);
    for (const sql of statements) {
      b.log(`  applying: ${sql}`);
      await db.query(sql);
    }
    const rewrite = fixes.find((f) => f.rewrite)?.rewrite;
    const itemsQuery = rewrite ? rewriteItemsQuery(rewrite.replacement) : STOREFRONT_ITEMS_QUERY;
    if (rewrite) b.log(`  rewriting the items query: ${rewrite.condition}  →  ${rewrite.replacement}`);
    const advised = await pass("after check's advice", itemsQuery, 'bench_storefront_advised');

    const label = n.toLocaleString('en-US');
    const scenario = (p: Pass) => `storefront: sync of ${p.sent.toLocaleString('en-US')} orders (${label} in the shop, 1.8 lines each), ${p.label}`;
    const figures = (p: Pass): Figure[] => {
      const reading = p.findings.find((f) => f.subject === 'jobs.orders' && f.cost)?.cost;
      const perSecond = p.sync.run ? (p.sent / p.sync.run.durationMs) * 1000 : Number.NaN;
      const pages = Math.ceil(p.sent / PAGE_SIZE);
      const measuredPageMs = (p.sync.run?.durationMs ?? Number.NaN) / pages;
      const warnings = p.findings.filter((f) => f.level === 'warn').map((f) => f.message);
      const runMs = p.sync.run?.durationMs ?? Number.NaN;
      const row = (figure: string, value: number, unit: string, details?: Record<string, unknown>): Figure => ({
        scenario: scenario(p),
        figure,
        value,
        unit,
        ...noTarget,
        ...(details ? { details } : {}),
      });
      return [
        row('orders per second (the run’s own time)', round(perSecond, 0), '/s', {
          runMs,
          wallMs: round(p.sync.wallMs, 0),
          cpuMs: round(p.sync.cpuMs, 0),
          warnings,
        }),
        row(`check's estimate: reading one page of ${PAGE_SIZE} (orders + lines)`, round(reading?.pageMs ?? Number.NaN, 1), 'ms', {
          check: p.findings.filter((f) => f.cost).map((f) => ({ subject: f.subject, ...f.cost })),
        }),
        row('measured: sync time per page (run time ÷ pages; reading overlaps sending)', round(measuredPageMs, 1), 'ms'),
        row("check's estimate: reading the whole table", round((reading?.totalMs ?? Number.NaN) / 1000, 1), 's'),
        row('measured: the sync of the whole table (run time)', round(runMs / 1000, 1), 's'),
        row(
          "check's estimate: the most orders/s reading allows",
          round(reading && reading.pageMs > 0 ? (reading.pageRows / reading.pageMs) * 1000 : Number.NaN, 0),
          '/s',
        ),
      ];
    };
    const before = naive.sync.run ? (naive.sent / naive.sync.run.durationMs) * 1000 : Number.NaN;
    const after = advised.sync.run ? (advised.sent / advised.sync.run.durationMs) * 1000 : Number.NaN;
    return [
      ...figures(naive),
      ...figures(advised),
      {
        scenario: `storefront: check's advice followed (${statements.length} statement(s)${rewrite ? ', the items condition rewritten' : ''})`,
        figure: 'orders/s after ÷ before',
        value: round(after / before, 2),
        unit: 'x',
        target: '> 1',
        met: after > before,
        details: { statements, rewrite, warningsAfter: advised.findings.filter((f) => f.level !== 'ok').length },
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}
