/** `report` over real books: made by real runs, checked against SQL that joins the shop's tables with the state's. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import type { ReportData } from '../src/report/model.js';
import { after, DayTally, fateOf } from '../src/report/model.js';
import { niceScale } from '../src/report/html.js';
import { reportRange } from '../src/cli/report.js';
import { runCli } from './support/cli.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { CARTS_QUERY, expectedDays, expectedMirror, ORDERS_QUERY, reportShop, WISHLISTS_QUERY } from './support/report.js';

let db: TestDatabase;
let sandbox: Sandbox;
let config: string;

beforeAll(async () => {
  sandbox = await startSandbox({ recordBodies: false });
  db = await createMigratedDatabase('pcs_report');
  config = await reportShop(db, sandbox);
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

describe('report', () => {
  it('--json: each day of the range equals what the tables say, and carts and wishlists equal the shop against the ledger', async () => {
    const result = await runCli(['report', '--from', '2024-02-28', '--to', '2024-03-07', '--json', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(result.stdout) as ReportData;
    expect(data.days.map((d) => d.day)).toEqual(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06']);
    const expected = await expectedDays(db, ORDERS_QUERY, '2024-02-28', '2024-03-07');
    for (const day of data.days) {
      const want = expected.find((e) => e.day === day.day) ?? { day: day.day, shop: 0, delivered: 0, push: 0, sync: 0, warned: 0, invalid: 0, rejected: 0, pending: 0, missing: 0 };
      expect(day).toEqual(want);
    }
    // The story the fixture tells, in numbers (so the SQL above is not the only judge).
    const byDay = Object.fromEntries(data.days.map((d) => [d.day, d]));
    expect(byDay['2024-03-01']).toMatchObject({ shop: 10, delivered: 8, push: 8, sync: 0, warned: 1, invalid: 1, rejected: 1, pending: 0, missing: 0 });
    expect(byDay['2024-03-02']).toMatchObject({ shop: 10, delivered: 5, push: 0, sync: 5, missing: 5 });
    expect(byDay['2024-03-04']).toMatchObject({ shop: 10, delivered: 5, pending: 5, missing: 0 });
    expect(byDay['2024-03-05']).toMatchObject({ shop: 10, pending: 10 });
    expect(data.watermark?.key).toBe('35');

    const carts = data.mirrors.find((m) => m.job === 'carts');
    const wantCarts = await expectedMirror(db, 'carts', CARTS_QUERY);
    expect(carts).toEqual({ job: 'carts', ...wantCarts, shopOnly: wantCarts.shop - wantCarts.both, ledgerOnly: wantCarts.ledger - wantCarts.both });
    expect(carts).toMatchObject({ shop: 20, ledger: 20, both: 19, shopOnly: 1, ledgerOnly: 1 });
    const wishlists = data.mirrors.find((m) => m.job === 'wishlists');
    const wantWishlists = await expectedMirror(db, 'wishlists', WISHLISTS_QUERY);
    expect(wishlists).toMatchObject({ shop: wantWishlists.shop, ledger: 0, both: 0, shopOnly: wantWishlists.shop, ledgerOnly: 0 });
  });

  it('in the terminal: one line a day, the day that does not add up marked, then carts and wishlists', async () => {
    const result = await runCli(['report', '--from', '2024-03-01', '--to', '2024-03-06', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('Orders by day of updated_at (UTC), 2024-03-01 to 2024-03-06 (exclusive); incremental watermark 2024-03-04T04:00:00.000000Z');
    expect(lines[1]).toMatch(/^ {2}day +shop +delivered +purchase +order-sync +warned +invalid +rejected +pending +missing$/);
    expect(lines.find((l) => l.startsWith('  2024-03-01'))).toMatch(/^ {2}2024-03-01 +10 +8 +8 +0 +1 +1 +1 +0 +0 +✓$/);
    expect(lines.find((l) => l.startsWith('  2024-03-02'))).toMatch(/^ {2}2024-03-02 +10 +5 +0 +5 +0 +0 +0 +0 +5 +✗ 5 missing$/);
    expect(lines.find((l) => l.startsWith('  total'))).toMatch(/^ {2}total +50 +28 +23 +5 +1 +1 +1 +15 +5$/);
    expect(result.stdout).toContain('1 day(s) do not add up: 5 orders are neither delivered nor failed, behind the watermark.');
    expect(lines.find((l) => l.startsWith('  carts'))).toMatch(/^ {2}carts +20 +20 +19 +1 +1 +✗/);
  });

  it('refuses a bad range, and --html on another command, with exit 2', async () => {
    expect((await runCli(['report', '--from', '2024-03-05', '--to', '2024-03-01', '--config', config])).code).toBe(2);
    expect((await runCli(['report', '--from', '2024-02-30', '--config', config])).stderr).toMatch(/--from: must be a date, YYYY-MM-DD \(got "2024-02-30"\)/);
    expect((await runCli(['sync', 'orders', '--html', 'x.html', '--config', config])).code).toBe(2);
  });
});

describe('report model', () => {
  it('the default range is the last 30 days, today included; --to is exclusive', () => {
    expect(reportRange(undefined, undefined, new Date('2024-03-10T15:00:00Z'))).toEqual({ from: '2024-02-10', to: '2024-03-11' });
    expect(reportRange('2024-03-01', undefined, new Date('2024-03-10T15:00:00Z'))).toEqual({ from: '2024-03-01', to: '2024-03-11' });
  });

  it('an order is delivered, failed, pending (after the watermark) or missing (behind it, or no sync yet)', () => {
    const mark = { ts: '2024-03-04T04:00:00.000000Z', key: '35' };
    expect(fateOf({ key: '1', ts: '2024-03-01T00:00:00.000000Z' }, true, 'warning', mark)).toEqual({ fate: 'delivered', warned: true });
    expect(fateOf({ key: '2', ts: '2024-03-01T00:00:00.000000Z' }, false, 'invalid', mark).fate).toBe('invalid');
    expect(fateOf({ key: '3', ts: '2024-03-01T00:00:00.000000Z' }, false, undefined, mark).fate).toBe('missing');
    expect(fateOf({ key: '36', ts: '2024-03-04T05:00:00.000000Z' }, false, undefined, mark).fate).toBe('pending');
    expect(fateOf({ key: '36', ts: '2024-03-04T05:00:00.000000Z' }, false, undefined, undefined).fate).toBe('missing');
    // Same timestamp: the key decides, as numbers when both are (keyset order on a bigint id).
    expect(after({ key: '100', ts: mark.ts }, mark)).toBe(true);
    expect(after({ key: '4', ts: mark.ts }, mark)).toBe(false);
    const tally = new DayTally('2024-03-01', '2024-03-03');
    tally.add('2024-03-02', 'missing', false);
    expect(tally.result().map((d) => [d.day, d.shop, d.missing])).toEqual([
      ['2024-03-01', 0, 0],
      ['2024-03-02', 1, 1],
    ]);
    expect(niceScale(87)).toEqual({ top: 100, step: 20 });
    expect(niceScale(0)).toEqual({ top: 1, step: 1 });
  });
});
