/** `status`: where every job stands, for a person (a table) or a machine (--json). */
import { JOBS } from '../../jobs/index.js';
import { countOpenFailures, listOpenFailures } from '../state/failures.js';
import { ledgerCounts } from '../state/ledger.js';
import { lastRuns, type RunCounts } from '../state/runs.js';
import { listWatermarks } from '../state/watermarks.js';
import { pendingMigrations } from '../state/migrate.js';
import type { StateDb } from '../state/db.js';
import { listNotifiedStates, runNotices } from '../state/monitor.js';
import { outwardText } from '../outward.js';
import { storableText } from '../storable-text.js';

/** Characters of one line of `status`'s text form, at most. */
const LINE_MAX = 2000;

export interface StatusReport {
  schema: string;
  pendingMigrations: string[];
  watermarks: { name: string; ts: string; key: string | null; updatedAt: string }[];
  runs: (RunCounts & {
    id: string;
    job: string;
    mode: string;
    shard: string | null;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    error: string | null;
    notice: string | null;
  })[];
  /**
   * By job and class; class `warning`: delivered without optional fields whose values were bad (replay resends them
   * once fixed); class `unconfirmed`: delivered orders report --verify found missing or different at PersonaClick.
   */
  /** What PersonaClick holds by the ledger: by job, and for orders by road (`push`: live purchases; `sync`: the order-sync API). */
  delivered: { job: string; road: string | null; count: number }[];
  openFailures: { job: string; class: string; count: number }[];
  recentFailures: { job: string; key: string; class: string; reason: string; status: number | null }[];
  /** The state the webhook was last told of, per job (only with notify.webhook set). */
  notified: { key: string; state: string; since: string; detail: string | null }[];
}

/**
 * Where every job stands. Every text kept from outside (a run's error and notice, a failure's reason, the webhook's
 * detail) is shown as outward text (outward.ts): books written before it existed, or by hand, show no secret either.
 */
export async function statusReport(db: StateDb, secrets: readonly string[] = []): Promise<StatusReport> {
  const shown = (text: string): string => outwardText(text, secrets, 500);
  const maybe = (text: string | null): string | null => (text === null ? null : shown(text));
  const pending = await pendingMigrations(db);
  if (pending.length > 0)
    return { schema: db.schema, pendingMigrations: pending, watermarks: [], runs: [], delivered: [], openFailures: [], recentFailures: [], notified: [] };
  const [watermarks, runs, delivered, open, recent, notified] = await Promise.all([
    listWatermarks(db),
    lastRuns(db, 10),
    ledgerCounts(db),
    countOpenFailures(db),
    listOpenFailures(db, { limit: 5 }),
    listNotifiedStates(db),
  ]);
  const notices = await runNotices(
    db,
    runs.map((r) => r.id),
  );
  return {
    schema: db.schema,
    pendingMigrations: [],
    watermarks: watermarks.map((w) => ({ name: w.name, ts: w.cursor.ts, key: w.cursor.key, updatedAt: w.updatedAt.toISOString() })),
    runs: runs.map((r) => ({
      id: r.id,
      job: r.job,
      mode: r.mode,
      shard: r.shard,
      status: r.status,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      read: r.read,
      sent: r.sent,
      skipped: r.skipped,
      invalid: r.invalid,
      rejected: r.rejected,
      retries: r.retries,
      warnings: r.warnings,
      error: maybe(r.error),
      notice: maybe(notices.get(r.id) ?? null),
    })),
    delivered,
    openFailures: open,
    recentFailures: recent.map((f) => ({ job: f.job, key: f.key, class: f.class, reason: shown(f.reason), status: f.status })),
    notified: notified.map((n) => ({ key: n.key, state: n.state, since: n.since.toISOString(), detail: maybe(n.detail) })),
  };
}

/** What the open failures of a class ask of the operator, after their count. */
const CLASS_NOTE: Partial<Record<string, string>> = {
  warning: '   (sent without a bad optional field; fix the row, then: replay --class warning)',
  unconfirmed: '   (report --verify found them missing or different at PersonaClick; replay --class unconfirmed sends them again)',
  held: '   (only the order-sync API can carry them: set personaclick.shopSecret, then replay --class held)',
};

export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  if (report.pendingMigrations.length > 0) {
    out.push(`State schema "${report.schema}" needs migrations: ${report.pendingMigrations.join(', ')}. Run: personaclick-sync migrate`);
    return out.join('\n');
  }
  out.push('Watermarks');
  if (report.watermarks.length === 0) out.push('  (none yet)');
  for (const w of report.watermarks) out.push(`  ${w.name.padEnd(28)} ${w.ts}${w.key === null ? '' : `  after ${w.key}`}   (written ${w.updatedAt})`);
  out.push('', 'Last runs');
  if (report.runs.length === 0) out.push('  (none yet)');
  for (const r of report.runs) {
    out.push(
      `  ${r.startedAt}  ${(r.job + (r.shard ? `#${r.shard}` : '')).padEnd(14)} ${r.mode.padEnd(9)} ${r.status.padEnd(11)} read ${r.read}, sent ${r.sent}${r.warnings > 0 ? ` (${r.warnings} with warnings)` : ''}, skipped ${r.skipped}, invalid ${r.invalid}, rejected ${r.rejected}, retries ${r.retries}${r.error ? `  (${r.error})` : ''}`,
    );
    if (r.notice) out.push(`      volume alert: ${r.notice}`);
  }
  out.push('', 'Delivered (the ledger)');
  if (report.delivered.length === 0) out.push('  nothing yet');
  for (const d of report.delivered) out.push(`  ${d.job.padEnd(12)} ${deliveredAs(d.job, d.road).padEnd(10)} ${d.count}`);
  out.push('', 'Open failures');
  if (report.openFailures.length === 0) out.push('  none');
  for (const f of report.openFailures) out.push(`  ${f.job.padEnd(12)} ${f.class.padEnd(11)} ${f.count}${CLASS_NOTE[f.class] ?? ''}`);
  if (report.recentFailures.length > 0) {
    out.push('', 'Most recent');
    for (const f of report.recentFailures) out.push(`  ${f.job} ${f.key} [${f.class}${f.status ? ` ${f.status}` : ''}] ${f.reason}`);
  }
  if (report.notified.length > 0) {
    out.push('', 'Webhook: the state last told');
    for (const n of report.notified) out.push(`  ${n.key.padEnd(24)} ${n.state.padEnd(9)} since ${n.since}${n.detail ? `  (${n.detail})` : ''}`);
  }
  // Keys come from the shop's data (a watermark's, a failure's): each line one printable, bounded line, whatever they hold.
  return out.map((line) => storableText(line, LINE_MAX)).join('\n');
}

/** What the ledger's rows of a job stand for, as its job says (the job table): purchase, order-sync, full_cart, full_wish. */
function deliveredAs(job: string, road: string | null): string {
  const delivers = JOBS.find((j) => j.name === job)?.delivers;
  return (road === 'push' || road === 'sync' ? delivers?.[road] : undefined) ?? '';
}
