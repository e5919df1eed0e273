/**
 * The connector's Prometheus metrics (prom-client), on a registry of their own. Every series is labelled by the
 * job (`job_name`: `job` is the label Prometheus gives each scrape target), the mode and the shard.
 *
 * The row, retry, answer and run counters are the runs table's totals: a group (job, mode, shard) is seeded once
 * per process from the finished runs it finds there, then counts on. So a counter keeps rising across the separate
 * processes cron starts, and reads the same in the textfile, on the Pushgateway and under `schedule`. The latency
 * histogram and the in-flight gauge cover the requests of this process only.
 *
 * Values are read when the registry is collected: a scrape mid-run sees the run's counts so far.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunStatus } from '../state/runs.js';
import type { RunTotals } from '../state/monitor.js';
import { answerClass, VOLUME_REASONS, type GroupLabels, type LiveRun, type RowCounts, type VolumeReason } from './labels.js';

export { answerClass, groupLabels, VOLUME_REASONS, type GroupLabels, type LiveRun, type RowCounts, type VolumeReason } from './labels.js';

export const METRIC_PREFIX = 'personaclick_sync_';

/** What the runs table says a group has done before this process looked. */
export type GroupTotals = RunTotals;

export const ROW_NAMES = ['read', 'sent', 'skipped', 'invalid', 'rejected', 'warned'] as const satisfies readonly (keyof RunTotals['rows'])[];
export type RowName = (typeof ROW_NAMES)[number];

export const ANSWER_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'network'] as const;

interface Group {
  labels: GroupLabels;
  totals: GroupTotals;
  live: Set<LiveRun>;
  inFlight: number;
  lagSeconds: number | undefined;
  expectedRows: number | undefined;
  volume: ReadonlySet<VolumeReason>;
}

export function emptyTotals(): GroupTotals {
  return {
    rows: { read: 0, sent: 0, skipped: 0, invalid: 0, rejected: 0, warned: 0 },
    retries: 0,
    answers: {},
    runs: {},
    lastSuccess: undefined,
    lastRun: undefined,
    lastDurationSeconds: undefined,
  };
}

export function rowCount(counts: RowCounts, name: RowName): number {
  return name === 'warned' ? counts.warnings : counts[name];
}

const LABELS = ['job_name', 'mode', 'shard'] as const;

/** Request latency buckets, seconds: from a local sandbox's milliseconds to a timeout's seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class SyncMetrics {
  readonly registry = new Registry();
  private readonly groups = new Map<string, Group>();
  /** Open failures by job and class, as the state tables last said. */
  private openFailures = new Map<string, Map<string, number>>();
  private readonly latency: Histogram<(typeof LABELS)[number]>;

  constructor() {
    const registers = [this.registry];
    const groups = () => [...this.groups.values()];
    for (const name of ROW_NAMES) {
      new Counter({
        name: `${METRIC_PREFIX}rows_${name}_total`,
        help: ROW_HELP[name],
        labelNames: LABELS,
        registers,
        collect() {
          this.reset();
          for (const g of groups()) {
            let value = g.totals.rows[name];
            for (const run of g.live) value += rowCount(run.counts, name);
            this.inc(g.labels, value);
          }
        },
      });
    }
    new Counter({
      name: `${METRIC_PREFIX}retries_total`,
      help: 'Retries of requests after a transient failure (network error, timeout, 429, 5xx).',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) {
          let value = g.totals.retries;
          for (const run of g.live) value += run.retries();
          this.inc(g.labels, value);
        }
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}responses_total`,
      help: 'API answers to request attempts by status class (2xx, 3xx, 4xx, 5xx; network: no answer).',
      labelNames: [...LABELS, 'class'],
      registers,
      collect() {
        this.reset();
        for (const g of groups()) {
          for (const cls of new Set([...ANSWER_CLASSES, ...Object.keys(g.totals.answers)])) this.inc({ ...g.labels, class: cls }, g.totals.answers[cls] ?? 0);
        }
      },
    });
    new Counter({
      name: `${METRIC_PREFIX}runs_total`,
      help: 'Finished runs by status (done, halted, fatal, failed, interrupted).',
      labelNames: [...LABELS, 'status'],
      registers,
      collect() {
        this.reset();
        for (const g of groups()) {
          for (const status of FINAL_STATUSES) this.inc({ ...g.labels, status }, g.totals.runs[status] ?? 0);
        }
      },
    });
    this.latency = new Histogram({
      name: `${METRIC_PREFIX}request_duration_seconds`,
      help: 'Time from sending a request attempt to its answer (or its failure), seconds; requests of this process.',
      labelNames: LABELS,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: `${METRIC_PREFIX}requests_in_flight`,
      help: 'Request attempts on the wire now.',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) this.set(g.labels, g.inFlight);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}last_run_duration_seconds`,
      help: 'How long the last finished run took, seconds.',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) if (g.totals.lastDurationSeconds !== undefined) this.set(g.labels, g.totals.lastDurationSeconds);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}last_run_timestamp_seconds`,
      help: 'When the last run finished, whatever its status (seconds since the epoch).',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) if (g.totals.lastRun !== undefined) this.set(g.labels, g.totals.lastRun);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}last_success_timestamp_seconds`,
      help: 'When the last run that finished done ended (seconds since the epoch).',
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) if (g.totals.lastSuccess !== undefined) this.set(g.labels, g.totals.lastSuccess);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}watermark_lag_seconds`,
      help: "How far the job's watermark is behind the newest row of the shop's model, seconds (orders sync), as of the last run's end.",
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) if (g.lagSeconds !== undefined) this.set(g.labels, g.lagSeconds);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}volume_alert`,
      help: "1 when the last run raised this volume alert: nothing_read, low_volume (far fewer rows than the same weekday's runs), rejected_share (the share of rejected requests jumped).",
      labelNames: [...LABELS, 'reason'],
      registers,
      collect() {
        this.reset();
        for (const g of groups()) for (const reason of VOLUME_REASONS) this.set({ ...g.labels, reason }, g.volume.has(reason) ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}volume_expected_rows`,
      help: "Rows a run of the job usually reads at this weekday and hour (the median of the last weeks' runs), when there is enough history.",
      labelNames: LABELS,
      registers,
      collect() {
        this.reset();
        for (const g of groups()) if (g.expectedRows !== undefined) this.set(g.labels, g.expectedRows);
      },
    });
    const openFailures = () => this.openFailures;
    new Gauge({
      name: `${METRIC_PREFIX}open_failures`,
      help: 'Failures not yet resolved (invalid, rejected; warning: delivered without a bad optional field), by job and class, as of the last run.',
      labelNames: ['job_name', 'class'],
      registers,
      collect() {
        this.reset();
        for (const [job, byClass] of openFailures()) for (const [cls, n] of byClass) this.set({ job_name: job, class: cls }, n);
      },
    });
  }

  /** True once the group has its totals from the runs table (or was started without them). */
  has(labels: GroupLabels): boolean {
    return this.groups.has(keyOf(labels));
  }

  /** Start counting a group from these totals (the runs table's); later calls for the same group change nothing. */
  seed(labels: GroupLabels, totals: GroupTotals): void {
    if (this.groups.has(keyOf(labels))) return;
    this.group(labels).totals = totals;
  }

  runStarted(labels: GroupLabels, run: LiveRun): void {
    this.group(labels).live.add(run);
  }

  requestStarted(labels: GroupLabels): void {
    this.group(labels).inFlight += 1;
  }

  requestEnded(labels: GroupLabels, status: number | 'network', seconds: number): void {
    const g = this.group(labels);
    g.inFlight = Math.max(0, g.inFlight - 1);
    const cls = answerClass(status);
    g.totals.answers[cls] = (g.totals.answers[cls] ?? 0) + 1;
    this.latency.observe(labels, seconds);
  }

  /** The run is over: its counts join the group's totals. */
  runFinished(labels: GroupLabels, run: LiveRun, end: { status: RunStatus; durationSeconds: number; at: number }): void {
    const g = this.group(labels);
    g.live.delete(run);
    for (const name of ROW_NAMES) g.totals.rows[name] += rowCount(run.counts, name);
    g.totals.retries += run.retries();
    g.totals.runs[end.status] = (g.totals.runs[end.status] ?? 0) + 1;
    g.totals.lastRun = end.at;
    g.totals.lastDurationSeconds = end.durationSeconds;
    if (end.status === 'done') g.totals.lastSuccess = end.at;
  }

  setLag(labels: GroupLabels, seconds: number | undefined): void {
    this.group(labels).lagSeconds = seconds;
  }

  setVolume(labels: GroupLabels, expectedRows: number | undefined, reasons: Iterable<VolumeReason>): void {
    const g = this.group(labels);
    g.expectedRows = expectedRows;
    g.volume = new Set(reasons);
  }

  /**
   * Open failures as the state tables say now: every job and class given, plus zeros for the classes of `jobs`
   * and for whatever was open before and is not any more (a gauge that drops to nothing must say 0, not stay).
   */
  setOpenFailures(counts: readonly { job: string; class: string; count: number }[], jobs: readonly string[] = []): void {
    const next = new Map<string, Map<string, number>>();
    const put = (job: string, cls: string, n: number) => {
      const byClass = next.get(job) ?? new Map<string, number>();
      byClass.set(cls, n);
      next.set(job, byClass);
    };
    for (const [job, byClass] of this.openFailures) for (const cls of byClass.keys()) put(job, cls, 0);
    // `unconfirmed` (report --verify) and `held` (waiting for the shop secret) are for orders only.
    for (const job of jobs)
      for (const cls of job === 'orders' ? ['invalid', 'rejected', 'warning', 'unconfirmed', 'held'] : ['invalid', 'rejected', 'warning']) put(job, cls, 0);
    for (const c of counts) put(c.job, c.class, c.count);
    this.openFailures = next;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private group(labels: GroupLabels): Group {
    const key = keyOf(labels);
    const found = this.groups.get(key);
    if (found) return found;
    const g: Group = {
      labels: { ...labels },
      totals: emptyTotals(),
      live: new Set(),
      inFlight: 0,
      lagSeconds: undefined,
      expectedRows: undefined,
      volume: new Set(),
    };
    this.groups.set(key, g);
    return g;
  }
}

const FINAL_STATUSES: readonly RunStatus[] = ['done', 'halted', 'fatal', 'failed', 'interrupted'];

const ROW_HELP: Record<RowName, string> = {
  read: 'Rows read from the shop (orders, devices, events).',
  sent: 'Rows whose request PersonaClick accepted.',
  skipped: 'Rows skipped: already delivered, or unchanged since the last reconcile.',
  invalid: 'Rows that could not make a valid request (kept as invalid failures, never sent).',
  rejected: 'Rows whose request PersonaClick rejected (400/404/422, or a 2xx without success).',
  warned: 'Rows sent without an optional field whose value was bad (kept as warnings).',
};

function keyOf(labels: GroupLabels): string {
  return `${labels.job_name}\u0000${labels.mode}\u0000${labels.shard}`;
}
