/**
 * The run observer the command line and the scheduler hand to every real run: it feeds the metrics (when there
 * are any to export), decides volume alerts (a warning line, a metric, the run's notice in `status`), and tells the
 * webhook of a change of the job's state. Each step after the run stands alone: one that fails is logged, and the
 * others still happen; none of them changes the run's outcome.
 */
import { secretsOf, type Config } from '../config/index.js';
import { outwardText } from '../outward.js';
import { chatSafe } from './chat-text.js';
import { toError } from '../errors.js';
import { answerClass, groupLabels, type GroupLabels, type LiveRun } from '../metrics/labels.js';
import type { SyncMetrics } from '../metrics/metrics.js';
import type { ObservedRun, RunObserver, RunWatch } from '../run/run-observer.js';
import type { RunSummary } from '../run/summary.js';
import { newestOrderTs } from '../source/order-keys.js';
import { countOpenFailures } from '../state/failures.js';
import { readNotifiedState, recordRunNotes, runTotals, sameWeekdayRuns, writeNotifiedState } from '../state/monitor.js';
import { readWatermark } from '../state/watermarks.js';
import { isNotifyState, messageFor, stateAfter, type RunOutcome } from './notify.js';
import { assessVolume, type VolumeVerdict } from './volume.js';

/** Weeks of history a volume alert looks back on, and how near the time of day a run must have started. */
export const HISTORY_WEEKS = 4;
export const HISTORY_WINDOW_MINUTES = 60;

export interface MonitorOptions {
  config: Config;
  /** Given when the metrics are exported (textfile, Pushgateway, `schedule`'s /metrics). */
  metrics?: SyncMetrics | undefined;
  /** Post a message to the webhook (tests may hand in their own; default: config.notify.webhook, if set). */
  notify?: ((text: string) => Promise<void>) | undefined;
}

/** The webhook key of a run: "orders sync", "carts reconcile", "orders backfill 0/4". */
export function notifyKey(run: { job: string; mode: string; shard: string | undefined }): string {
  return `${run.job} ${run.mode}${run.shard ? ` ${run.shard}` : ''}`;
}

export function createMonitor(opts: MonitorOptions): RunObserver {
  const { config, metrics } = opts;
  const webhook = config.notify.webhook;
  const notify =
    opts.notify ??
    (webhook === undefined ? undefined : async (text: string) => (await import('./webhook.js')).postWebhook({ url: webhook, timeoutMs: 5_000 }, text));

  return {
    async runStarted(run: ObservedRun): Promise<RunWatch> {
      const labels = groupLabels(run);
      const live: LiveRun = { counts: run.counts, retries: run.retries };
      if (metrics && !metrics.has(labels)) await seed(metrics, labels, run);
      metrics?.runStarted(labels, live);
      const answers: Record<string, number> = {};
      return {
        requestStarted() {
          metrics?.requestStarted(labels);
        },
        requestEnded(status, seconds) {
          const cls = answerClass(status);
          answers[cls] = (answers[cls] ?? 0) + 1;
          metrics?.requestEnded(labels, status, seconds);
        },
        async finished(summary: RunSummary) {
          metrics?.runFinished(labels, live, { status: summary.status, durationSeconds: summary.durationMs / 1000, at: Date.now() / 1000 });
          const verdict = await step(run, 'volume alerts', () => volume(run, summary));
          await step(run, 'the run notes', () =>
            recordRunNotes(run.services.state, run.runId, {
              answers,
              notice: verdict && verdict.alerts.length > 0 ? verdict.alerts.map((a) => a.message).join('; ') : null,
            }),
          );
          if (metrics && verdict)
            metrics.setVolume(
              labels,
              verdict.expectedRows,
              verdict.alerts.map((a) => a.reason),
            );
          const open = metrics || notify ? await step(run, 'open failures', () => countOpenFailures(run.services.state)) : undefined;
          if (metrics && open) metrics.setOpenFailures(open, [run.job]);
          if (metrics) await step(run, "the watermark's lag", async () => metrics.setLag(labels, await watermarkLag(run)));
          if (notify) {
            const outcome: RunOutcome = {
              status: summary.status,
              error: summary.error?.message,
              read: summary.read,
              sent: summary.sent,
              rejected: summary.rejected,
              invalid: summary.invalid,
              alerts: verdict?.alerts ?? [],
              // Warnings were delivered (without a bad optional field): not failures for the threshold.
              openFailures: open?.filter((o) => o.job === run.job && o.class !== 'warning').reduce((n, o) => n + o.count, 0),
            };
            await step(run, 'the webhook', () => tell(run, outcome, notify));
          }
        },
      };
    },
  };

  async function seed(m: SyncMetrics, labels: GroupLabels, run: ObservedRun): Promise<void> {
    try {
      m.seed(labels, await runTotals(run.services.state, { job: run.job, mode: run.mode, shard: run.shard }, run.runId));
    } catch (caught) {
      run.log.warn(
        { err: toError(caught) },
        'metrics: could not read the totals of earlier runs; the counters start from this run (run `personaclick-sync migrate`?)',
      );
    }
  }

  async function volume(run: ObservedRun, summary: RunSummary): Promise<VolumeVerdict | undefined> {
    if (summary.status !== 'done') return undefined;
    const history = await sameWeekdayRuns(run.services.state, { job: run.job, mode: run.mode, shard: run.shard }, new Date(run.startedAt), {
      timezone: config.schedule.timezone,
      weeks: HISTORY_WEEKS,
      windowMinutes: HISTORY_WINDOW_MINUTES,
      exceptRunId: run.runId,
    });
    const verdict = assessVolume(summary, history, config.notify, { mirror: run.mode === 'reconcile' });
    if (verdict.alerts.length > 0) {
      run.log.warn(
        {
          alerts: verdict.alerts.map((a) => a.reason),
          read: summary.read,
          expectedRows: verdict.expectedRows,
          rejectedShare: round(verdict.rejectedShare),
          usualRejectedShare: round(verdict.usualRejectedShare),
        },
        `volume alert: ${verdict.alerts.map((a) => a.message).join('; ')}`,
      );
    }
    return verdict;
  }

  /** Seconds the watermark is behind the shop's newest order (incremental orders sync only). */
  async function watermarkLag(run: ObservedRun): Promise<number | undefined> {
    const query = config.jobs.orders?.query;
    if (run.job !== 'orders' || run.mode !== 'sync' || run.watermark === undefined || query === undefined) return undefined;
    const [newest, mark] = await Promise.all([newestOrderTs(run.services.source, query), readWatermark(run.services.state, run.watermark)]);
    if (newest === undefined || mark === undefined) return 0;
    return Math.max(0, (Date.parse(newest) - Date.parse(mark.ts)) / 1000);
  }

  async function tell(run: ObservedRun, outcome: RunOutcome, send: (text: string) => Promise<void>): Promise<void> {
    const next = stateAfter(outcome, config.notify.openFailures);
    if (next === undefined) return;
    const key = notifyKey(run);
    const stored = await readNotifiedState(run.services.state, key);
    const previous = stored && isNotifyState(stored.state) ? { state: stored.state, since: stored.since } : undefined;
    const message = messageFor(key, previous, next, outcome);
    if (message === undefined) return;
    // Both ways out (the chat and notify_state, shown by `status`) take outward text; the chat's markup neutralised.
    const secrets = secretsOf(config);
    // Told first, kept after: a message that does not get through leaves the old state, so the next run tries again.
    await send(chatSafe(outwardText(message, secrets)));
    await writeNotifiedState(run.services.state, key, next.state, outwardText(next.detail, secrets), run.runId);
    run.log.info({ state: next.state, was: previous?.state ?? 'ok' }, 'webhook told of the change of state');
  }
}

/** How long one monitoring step may hold up the end of a run (a state database that stopped answering). */
export const STEP_TIMEOUT_MS = 20_000;

async function step<T>(run: ObservedRun, what: string, body: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const work = body();
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } catch (caught) {
    run.log.error({ err: toError(caught) }, `monitoring: ${what} failed; the run's outcome stands`);
    // Given up on: should it still fail later (its connections closing with the run), say so, quietly.
    work.catch((later: unknown) => run.log.debug({ err: toError(later) }, `monitoring: ${what} ended after it was given up on`));
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
