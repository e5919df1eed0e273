/**
 * `report --html FILE`: one self-contained page (no script, no stylesheet, font or image from anywhere else; it
 * opens offline) with a chart of the days (delivered / failed / missing / pending, stacked, drawn as inline SVG)
 * above the same table as the terminal's, and carts and wishlists below it.
 */
import { addsUp, catalogueAddsUp, failed, mirrorAddsUp, totalOf, type DayRow, type ReportData } from './model.js';
import { COLUMN_LABELS, DAY_COLUMNS } from './table.js';

export const COLORS = { delivered: '#2e7d32', failed: '#c62828', missing: '#ef6c00', pending: '#9e9e9e' } as const;

const n = (x: number): string => x.toLocaleString('en-US');

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A round upper bound for the axis, and its step: 0–1–2–5 × 10^k. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const rounded = Math.max(1, step >= 1 ? Math.round(step) : step);
  return { top: Math.ceil(max / rounded) * rounded, step: rounded };
}

/** The stacked bar chart of the days as an SVG element. */
export function chartSvg(days: readonly DayRow[]): string {
  const height = 300;
  const margin = { top: 16, right: 16, bottom: 56, left: 64 };
  // Between 480 and 960 px of plot (at most 60 a day), wider only when even 3 px a day would not fit.
  const count = Math.max(1, days.length);
  const slot = Math.max(3, Math.floor(Math.max(480, Math.min(960, count * 60)) / count));
  const plotW = slot * count;
  const width = margin.left + plotW + margin.right;
  const plotH = height - margin.top - margin.bottom;
  const { top, step } = niceScale(Math.max(0, ...days.map((d) => d.shop)));
  const y = (v: number) => margin.top + plotH - (v / top) * plotH;
  const barW = Math.max(2, slot - Math.max(1, Math.round(slot * 0.2)));
  const parts: string[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#555">${n(v)}</text>`);
  }
  const every = Math.max(1, Math.ceil(days.length / 12));
  days.forEach((d, i) => {
    const x = margin.left + i * slot + (slot - barW) / 2;
    let base = 0;
    const segments: [keyof typeof COLORS, number][] = [
      ['delivered', d.delivered],
      ['failed', failed(d)],
      ['missing', d.missing],
      ['pending', d.pending],
    ];
    for (const [kind, value] of segments) {
      if (value <= 0) continue;
      const y1 = y(base + value);
      const h = y(base) - y1;
      parts.push(
        `<rect class="bar ${kind}" x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${barW}" height="${Math.max(0.5, h).toFixed(1)}" fill="${COLORS[kind]}"><title>${d.day}: ${n(value)} ${kind}</title></rect>`,
      );
      base += value;
    }
    if (i % every === 0) {
      const cx = (x + barW / 2).toFixed(1);
      parts.push(
        `<text x="${cx}" y="${margin.top + plotH + 14}" text-anchor="end" font-size="11" fill="#555" transform="rotate(-40 ${cx} ${margin.top + plotH + 14})">${d.day}</text>`,
      );
    }
  });
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="#757575"/>`);
  return `<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Orders per day: delivered, failed, missing, pending">${parts.join('')}</svg>`;
}

export function reportHtml(data: ReportData): string {
  const total = totalOf(data.days);
  const bad = data.days.filter((r) => !addsUp(r));
  const legend = (Object.keys(COLORS) as (keyof typeof COLORS)[])
    .map((k) => `<span class="key"><span class="swatch" style="background:${COLORS[k]}"></span>${k}</span>`)
    .join('');
  const dayRows = data.days
    .map((r) => {
      const ok = addsUp(r);
      const cells = DAY_COLUMNS.map((c) => `<td data-col="${c}">${n(r[c])}</td>`).join('');
      return `<tr class="${ok ? 'ok' : 'bad'}" data-day="${r.day}"><th scope="row">${r.day}</th>${cells}<td class="mark">${ok ? (r.shop === 0 ? '' : '✓') : `✗ ${n(r.missing)} missing`}</td></tr>`;
    })
    .join('\n');
  const totalRow = `<tr class="total" data-day="total"><th scope="row">total</th>${DAY_COLUMNS.map((c) => `<td data-col="${c}">${n(total[c])}</td>`).join('')}<td></td></tr>`;
  const ordersSection = data.orders
    ? `<section>
<h2>Orders by day</h2>
<p>By the UTC day of <code>updated_at</code>, ${escapeHtml(data.from)} to ${escapeHtml(data.to)} (exclusive). ${
        data.watermark
          ? `Incremental watermark: <code>${escapeHtml(data.watermark.ts)}</code>; orders after it are <em>pending</em>.`
          : 'The incremental sync has not run yet.'
      }</p>
<p class="summary ${bad.length === 0 ? 'ok' : 'bad'}">${
        bad.length === 0 ? 'Every day adds up.' : `${n(bad.length)} day(s) do not add up: ${n(total.missing)} orders are neither delivered nor failed.`
      }</p>
<div class="legend">${legend}</div>
${chartSvg(data.days)}
<table id="days">
<thead><tr><th>day</th>${DAY_COLUMNS.map((c) => `<th>${COLUMN_LABELS[c]}</th>`).join('')}<th></th></tr></thead>
<tbody>
${dayRows}
</tbody>
<tfoot>${totalRow}</tfoot>
</table>
</section>`
    : '';
  const mirrorSection =
    data.mirrors.length > 0
      ? `<section>
<h2>Carts and wishlists</h2>
<p>Devices in the shop's snapshot now, against those the ledger says PersonaClick holds.</p>
<table id="mirrors">
<thead><tr><th>job</th><th>shop</th><th>PersonaClick</th><th>both</th><th>shop only</th><th>PersonaClick only</th><th></th></tr></thead>
<tbody>
${data.mirrors
  .map(
    (m) =>
      `<tr class="${mirrorAddsUp(m) ? 'ok' : 'bad'}" data-job="${m.job}"><th scope="row">${m.job}</th><td data-col="shop">${n(m.shop)}</td><td data-col="ledger">${n(m.ledger)}</td><td data-col="both">${n(m.both)}</td><td data-col="shopOnly">${n(m.shopOnly)}</td><td data-col="ledgerOnly">${n(m.ledgerOnly)}</td><td class="mark">${mirrorAddsUp(m) ? '✓' : '✗'}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>`
      : '';
  const catalogueSection =
    data.catalogue.length > 0
      ? `<section>
<h2>Catalogue</h2>
<p>Ids in the shop's catalogue models now, against what the ledger says PersonaClick was told.</p>
<table id="catalogue">
<thead><tr><th>job</th><th>shop</th><th>told</th><th>not told</th><th>to remove</th><th>out of stock</th><th>failed</th><th></th></tr></thead>
<tbody>
${data.catalogue
  .map(
    (c) =>
      `<tr class="${catalogueAddsUp(c) ? 'ok' : 'bad'}" data-job="${c.job}"><th scope="row">${c.job}</th><td data-col="shop">${n(c.shop)}</td><td data-col="told">${n(c.told)}</td><td data-col="notTold">${n(c.notTold)}</td><td data-col="toRemove">${n(c.toRemove)}</td><td data-col="outOfStock">${n(c.outOfStock)}</td><td data-col="failed">${n(c.failed)}</td><td class="mark">${catalogueAddsUp(c) ? '✓' : '✗'}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>personaclick-sync report ${escapeHtml(data.from)} to ${escapeHtml(data.to)}</title>
<style>
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #212121; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.meta { color: #616161; margin: 0 0 8px; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; background: #f5f5f5; padding: 1px 4px; }
.summary.ok { color: #2e7d32; } .summary.bad { color: #c62828; font-weight: 600; }
.legend { margin: 8px 0; } .key { margin-right: 16px; } .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
#chart { display: block; margin: 8px 0 16px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; } th[scope=row], thead th:first-child { text-align: left; }
thead th { border-bottom: 2px solid #bdbdbd; }
tr.bad { background: #fff3e0; } tr.bad td.mark { color: #c62828; font-weight: 600; } td.mark { text-align: left; color: #2e7d32; }
tfoot td, tfoot th { border-top: 2px solid #bdbdbd; font-weight: 600; }
</style>
</head>
<body>
<h1>personaclick-sync: the shop against PersonaClick</h1>
<p class="meta">Generated ${escapeHtml(data.generatedAt)}.</p>
${ordersSection}
${mirrorSection}
${catalogueSection}
</body>
</html>
`;
}
