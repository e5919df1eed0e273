/**
 * `report --html` opened the way a person opens it: in Chromium (Debian's, headless, driven by playwright-core;
 * no browser is downloaded), from a file, with the network out of reach. The chart must have drawn (its pixels,
 * each bar's colours in proportion to the day's numbers), and the numbers of the page must equal the database's.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it) or CHROMIUM_PATH; PCS_NO_BROWSER=1
 * skips this file (it shows as skipped).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { COLORS } from '../src/report/html.js';
import { runCli } from './support/cli.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { CARTS_QUERY, emptyDay, expectedDays, expectedMirror, ORDERS_QUERY, reportShop } from './support/report.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FROM = '2024-02-28';
const TO = '2024-03-07';

let db: TestDatabase;
let sandbox: Sandbox;
let browser: Browser;
let page: Page;
const requested: string[] = [];

describe.skipIf(process.env.PCS_NO_BROWSER === '1')('report --html in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (as .ci/run does), set CHROMIUM_PATH, or PCS_NO_BROWSER=1 to skip`);
    sandbox = await startSandbox({ recordBodies: false });
    db = await createMigratedDatabase('pcs_report_html');
    const config = await reportShop(db, sandbox);
    const html = join(mkdtempSync(join(tmpdir(), 'pcs-report-')), 'report.html');
    const result = await runCli(['report', '--from', FROM, '--to', TO, '--html', html, '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    page.on('request', (r) => requested.push(r.url()));
    // Anything but the file itself would be the network: refuse it (and the test below sees it was asked for).
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    if (process.env.REPORT_SCREENSHOT) await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
    await db?.drop();
  });

  it('needs nothing but the file: no request leaves the page', () => {
    expect(requested).toHaveLength(1);
    expect(requested[0]).toMatch(/^file:\/\/.*report\.html$/);
  });

  it('draws the chart: its pixels hold every kind of bar, each as tall as its number', async () => {
    const chart = page.locator('#chart');
    const box = await chart.boundingBox();
    expect(box).not.toBeNull();
    if (!box) return;
    expect(box.width).toBeGreaterThan(400);
    expect(box.height).toBeGreaterThan(200);
    const png = PNG.sync.read(await page.screenshot({ clip: box }));
    const at = (x: number, y: number): [number, number, number] => {
      const i = (png.width * y + x) * 4;
      return [png.data[i] ?? 0, png.data[i + 1] ?? 0, png.data[i + 2] ?? 0];
    };
    const near = (c: [number, number, number], hex: string) => {
      const want = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
      return c.every((v, k) => Math.abs(v - (want[k] ?? 0)) <= 6);
    };
    let inked = 0;
    const found: Record<string, number> = { delivered: 0, failed: 0, missing: 0, pending: 0 };
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const c = at(x, y);
        if (c.some((v) => v < 245)) inked += 1;
        for (const [kind, hex] of Object.entries(COLORS)) if (near(c, hex)) found[kind] = (found[kind] ?? 0) + 1;
      }
    }
    expect(inked / (png.width * png.height)).toBeGreaterThan(0.03);
    for (const kind of Object.keys(COLORS)) expect(found[kind], kind).toBeGreaterThan(50);

    // Down the middle of each day's bar, the pixels of each colour, divided by the day's number, are one scale.
    const bars = await page.$$eval('#chart rect.bar', (rects) =>
      rects.map((r) => ({
        kind: r.getAttribute('class')?.split(' ')[1] ?? '',
        x: Number(r.getAttribute('x')),
        width: Number(r.getAttribute('width')),
        day: r.querySelector('title')?.textContent?.slice(0, 10) ?? '',
      })),
    );
    const days = await expectedDays(db, ORDERS_QUERY, FROM, TO);
    const scales: number[] = [];
    for (const d of days) {
      const numbers: Record<string, number> = { delivered: d.delivered, failed: d.invalid + d.rejected, missing: d.missing, pending: d.pending };
      for (const [kind, value] of Object.entries(numbers)) {
        const bar = bars.find((b) => b.day === d.day && b.kind === kind);
        if (value === 0) {
          expect(bar, `${d.day} ${kind}`).toBeUndefined();
          continue;
        }
        expect(bar, `${d.day} ${kind}`).toBeDefined();
        if (!bar) continue;
        const x = Math.round(bar.x + bar.width / 2);
        let pixels = 0;
        for (let y = 0; y < png.height; y++) if (near(at(x, y), COLORS[kind as keyof typeof COLORS])) pixels += 1;
        scales.push(pixels / value);
      }
    }
    expect(scales.length).toBeGreaterThanOrEqual(6);
    const [lo, hi] = [Math.min(...scales), Math.max(...scales)];
    expect(lo).toBeGreaterThan(0);
    expect(hi - lo).toBeLessThan(1.01); // within a pixel's rounding of one scale (pixels per order)
  });

  it("shows in its tables the database's numbers: every day, the total, carts", async () => {
    const rows = await page.$$eval('#days tr[data-day]', (trs) =>
      trs.map((tr) => {
        const cells: Record<string, number> = {};
        tr.querySelectorAll<HTMLElement>('td[data-col]').forEach((td) => (cells[td.dataset.col ?? ''] = Number(td.innerText.replace(/,/g, ''))));
        return {
          day: (tr as HTMLElement).dataset.day ?? '',
          bad: tr.classList.contains('bad'),
          mark: tr.querySelector<HTMLElement>('td.mark')?.innerText ?? '',
          cells,
        };
      }),
    );
    const expected = await expectedDays(db, ORDERS_QUERY, FROM, TO);
    const dayRows = rows.filter((r) => r.day !== 'total');
    expect(dayRows).toHaveLength(8);
    for (const r of dayRows) {
      const want = expected.find((e) => e.day === r.day) ?? emptyDay(r.day);
      expect(r.cells, r.day).toEqual({
        shop: want.shop,
        delivered: want.delivered,
        push: want.push,
        sync: want.sync,
        warned: want.warned,
        invalid: want.invalid,
        rejected: want.rejected,
        held: want.held,
        pending: want.pending,
        missing: want.missing,
      });
      expect(r.bad, r.day).toBe(want.missing > 0);
    }
    expect(dayRows.filter((r) => r.bad).map((r) => [r.day, r.mark])).toEqual([['2024-03-02', '✗ 5 missing']]);
    const total = rows.find((r) => r.day === 'total');
    expect(total?.cells.shop).toBe(expected.reduce((n, e) => n + e.shop, 0));
    expect(total?.cells.delivered).toBe(expected.reduce((n, e) => n + e.delivered, 0));
    expect(total?.cells.warned).toBe(1);
    expect(total?.cells.sync).toBe(5);

    const carts = await page.$$eval('#mirrors tr[data-job="carts"] td[data-col]', (tds) => {
      const cells: Record<string, number> = {};
      for (const td of tds as HTMLElement[]) cells[td.dataset.col ?? ''] = Number(td.innerText.replace(/,/g, ''));
      return cells;
    });
    const want = await expectedMirror(db, 'carts', CARTS_QUERY);
    expect(carts).toEqual({ shop: want.shop, ledger: want.ledger, both: want.both, shopOnly: want.shop - want.both, ledgerOnly: want.ledger - want.both });
    expect(await page.locator('.summary').innerText()).toBe('1 day(s) do not add up: 5 orders are neither delivered nor failed.');
  });
});
