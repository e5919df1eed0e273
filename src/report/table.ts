/** `report` in a terminal: one line a day, the days that do not add up marked, then carts and wishlists. */
import { addsUp, catalogueAddsUp, failed, mirrorAddsUp, totalOf, type DayRow, type ReportData } from './model.js';

const n = (x: number): string => x.toLocaleString('en-US');

export const DAY_COLUMNS = ['shop', 'delivered', 'push', 'sync', 'warned', 'invalid', 'rejected', 'held', 'pending', 'missing'] as const;

/** Column headers: `push` and `sync` are the roads a delivered order took. */
export const COLUMN_LABELS: Record<(typeof DAY_COLUMNS)[number], string> = {
  shop: 'shop',
  delivered: 'delivered',
  push: 'purchase',
  sync: 'order-sync',
  warned: 'warned',
  invalid: 'invalid',
  rejected: 'rejected',
  held: 'held',
  pending: 'pending',
  missing: 'missing',
};

export function formatReport(data: ReportData): string {
  const out: string[] = [];
  if (data.orders) {
    const mark = data.watermark ? `incremental watermark ${data.watermark.ts}` : 'the incremental sync has not run yet';
    out.push(`Orders by day of updated_at (UTC), ${data.from} to ${data.to} (exclusive); ${mark}`);
    const rows: string[][] = [['day', ...DAY_COLUMNS.map((c) => COLUMN_LABELS[c]), '']];
    for (const r of data.days) rows.push(dayCells(r, addsUp(r) ? (r.shop === 0 ? '' : '✓') : `✗ ${n(r.missing)} missing`));
    const total = totalOf(data.days);
    rows.push(dayCells(total, ''));
    out.push(...align(rows, rows.length - 1));
    const bad = data.days.filter((r) => !addsUp(r));
    out.push(
      '',
      bad.length === 0
        ? `Every day adds up: each order is delivered, kept as a failure with its reason (${n(failed(total))}), or waiting for the next sync (${n(total.pending)}).`
        : `${n(bad.length)} day(s) do not add up: ${n(total.missing)} orders are neither delivered nor failed, behind the watermark. Send them with \`personaclick-sync backfill orders --from DAY --to NEXT_DAY\`.`,
    );
  }
  if (data.mirrors.length > 0) {
    if (out.length > 0) out.push('');
    out.push(`Carts and wishlists now: devices in the shop against those the ledger says PersonaClick holds`);
    const rows: string[][] = [['job', 'shop', 'PersonaClick', 'both', 'shop only', 'PersonaClick only', '']];
    for (const m of data.mirrors) {
      rows.push([
        m.job,
        n(m.shop),
        n(m.ledger),
        n(m.both),
        n(m.shopOnly),
        n(m.ledgerOnly),
        mirrorAddsUp(m) ? '✓' : '✗ the next reconcile sends or clears the difference',
      ]);
    }
    out.push(...align(rows));
  }
  if (data.catalogue.length > 0) {
    if (out.length > 0) out.push('');
    out.push(`The catalogue now: the shop's models against what PersonaClick was told`);
    const rows: string[][] = [['job', 'shop', 'told', 'not told', 'to remove', 'out of stock', 'failed', '']];
    for (const c of data.catalogue) {
      rows.push([
        c.job,
        n(c.shop),
        n(c.told),
        n(c.notTold),
        n(c.toRemove),
        n(c.outOfStock),
        n(c.failed),
        catalogueAddsUp(c) ? '✓' : '✗ the next reconcile sends or removes the difference',
      ]);
    }
    out.push(...align(rows));
  }
  if (out.length === 0) out.push('Nothing to report: the configuration has no orders, carts, wishlists or catalogue job.');
  return out.join('\n');
}

function dayCells(r: DayRow, mark: string): string[] {
  return [r.day, ...DAY_COLUMNS.map((c) => n(r[c])), mark];
}

/** Columns padded to their widest cell: the first left-aligned, numbers right-aligned; a rule above row `ruleAt`. */
function align(rows: string[][], ruleAt?: number): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const lines: string[] = [];
  rows.forEach((row, index) => {
    if (index === ruleAt)
      lines.push(
        `  ${widths
          .slice(0, -1)
          .map((w) => '─'.repeat(w))
          .join('  ')}`,
      );
    const cells = row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : i === row.length - 1 ? cell : cell.padStart(widths[i] ?? 0)));
    lines.push(`  ${cells.join('  ')}`.trimEnd());
  });
  return lines;
}
