/**
 * The frame every job runs in: the runs row, the dispatch (a queue per road, or the dry-run writer), in-order tracking,
 * checkpoints, progress lines, shutdown, and the summary. A job only reads its source and hands requests in.
 */
import { ApiUnavailableError, FatalApiError, toError } from '../errors.js';
import type { Logger } from '../log.js';
import { makeOutward, outwardText } from '../outward.js';
import { secretsOf } from '../config/index.js';
import { warningsText, type ApiRequest, type BuildResult, type JsonValue } from '../payloads/index.js';
import { claimImportSlot } from '../state/budget.js';
import { analyzeLedger } from '../state/ledger.js';
import { Dispatch, importGapMs, type BatchEntry, type DispatchOptions, type Road, type RowHandle } from './dispatch.js';
import { emptyCounts, finishRun, newRunId, startRun, type RunCounts, type RunStatus } from '../state/runs.js';
import type { Cursor } from '../cursor.js';
import { Checkpointer } from './checkpoint.js';
import type { Services } from './services.js';
import { summarize, type RunSummary } from './summary.js';
import { PrefixTracker } from './tracker.js';
import { Progress } from './progress.js';
import type { RunOptions } from './options.js';
import { shardLabel } from '../shard.js';
import { observedSender, type RunWatch } from './run-observer.js';
import { requireReadOnlyRole } from './source-role.js';

/** Rows sent in a run after which the ledger's statistics are refreshed (see analyzeLedger). */
const ANALYZE_AFTER_SENT = 10_000;

/** What a job tells the runner about this run; the rest comes from the run's options. */
export interface RunSpec {
  /** Name shown in logs and the runs table, e.g. "orders". */
  job: string;
  mode: RunMode;
  /** Ledger / failures namespace. */
  ledgerJob: string;
  /** Watermark this run moves, if any. */
  watermark?: string | undefined;
  upperBound?: string | undefined;
  /** Given when the caller already chose one (it appears in the caller's log lines). */
  runId?: string;
  /** Rows expected in all, when known: progress shows a percentage and an ETA. */
  total?: number | undefined;
}

export type RunMode = 'sync' | 'backfill' | 'reconcile' | 'events' | 'replay' | 'buyers';

export type { BatchEntry, DispatchOptions, RowHandle };

export interface JobRun {
  readonly runId: string;
  readonly log: Logger;
  readonly counts: RunCounts;
  /** Register the next row in read order. */
  track(key: string, cursor: Cursor | undefined): RowHandle;
  skip(row: RowHandle): void;
  /**
   * Keys that need nothing, in a run that moves no watermark (the catalogue's unchanged ids): counted as read and
   * skipped but never tracked, so that the unchanged keys read while a batch is open are not held until it is sent.
   */
  pass(count?: number): void;
  /**
   * The row is what PersonaClick already has, but the ledger's digest of it must become `hash` (the catalogue: a
   * column that is not sent changed): nothing is sent, the row counts as skipped.
   */
  retag(row: RowHandle, hash: string): void;
  /** The row cannot make a request; `road` (orders) is the road the request was for, so replay takes it again. */
  invalid(row: RowHandle, reason: string, road?: Road): void;
  /**
   * The row can go only by a road that is closed for want of configuration (an order only the order-sync API can carry,
   * without `personaclick.shopSecret`): kept as a `held` failure with the reason, counted as skipped, nothing told.
   */
  hold(row: RowHandle, reason: string): void;
  /** Send (or in a dry run, print) the request; resolves once it is queued. */
  dispatch(row: RowHandle, req: ApiRequest, opts?: DispatchOptions): Promise<void>;
  /**
   * One request for several rows on the order-sync API (`request` makes it from the rows' items); a batch rejected
   * for its data is split down to the guilty rows. Resolves once it is queued.
   */
  dispatchBatch(entries: readonly BatchEntry[], request: (items: JsonValue[]) => ApiRequest): Promise<void>;
  /** A built row: invalid when the build failed, else dispatched with the build's warnings. */
  submit(row: RowHandle, built: BuildResult, opts?: DispatchOptions): Promise<void>;
  /** True once the run must stop reading: a signal, a fatal or halting answer, or a failed checkpoint. */
  shouldStop(): boolean;
}

export async function executeRun(services: Services, opts: RunOptions, spec: RunSpec, body: (run: JobRun) => Promise<void>): Promise<RunSummary> {
  const { config } = services;
  const runId = spec.runId ?? newRunId();
  const shard = shardLabel(opts.shard);
  const log = opts.log.child({ job: spec.job, runId, ...(shard ? { shard } : {}) });
  const started = Date.now();
  const counts = emptyCounts();
  const tracker = new PrefixTracker<Cursor | undefined>();
  const state = opts.dryRun ? undefined : services.state;
  const checkpoint = new Checkpointer(
    state,
    { job: spec.ledgerJob, watermark: spec.watermark, upperBound: spec.upperBound, runId, intervalMs: config.delivery.checkpointMs },
    log,
  );
  const client = services.client;
  const secrets = secretsOf(config);
  let retries = () => 0;

  await requireReadOnlyRole(services, log);
  if (state) await startRun(state, { id: runId, job: spec.job, mode: spec.mode, shard });
  // Metrics, volume alerts, the webhook: real runs only. A watcher that cannot start is logged, and the run goes on.
  let watch: RunWatch | undefined;
  if (!opts.dryRun && opts.observer) {
    try {
      watch = await opts.observer.runStarted({
        job: spec.job,
        mode: spec.mode,
        shard,
        runId,
        startedAt: started,
        counts,
        retries: () => retries(),
        watermark: spec.watermark,
        services,
        log,
      });
    } catch (caught) {
      log.error({ err: toError(caught) }, 'monitoring could not start; the run goes on without it');
    }
  }
  // One budget for the shop's secret-bearing imports, shared through the state database by every job, shard and process.
  const gapMs = importGapMs(config);
  const importBudget = state ? () => claimImportSlot(state, config.personaclick.shopId, gapMs) : undefined;
  const dispatch = new Dispatch({
    config,
    client: client && watch ? observedSender(client, watch) : client,
    shard: opts.shard,
    counts,
    checkpoint,
    tracker,
    log,
    out: opts.out,
    secrets,
    importBudget,
  });
  retries = () => dispatch.stats.retries;
  log.info({ mode: spec.mode, dryRun: opts.dryRun, watermark: spec.watermark, upperBound: spec.upperBound }, 'run started');

  const prefix = () => tracker.prefixCursor;
  checkpoint.start(prefix);
  const progress = new Progress({
    log,
    counts,
    total: spec.total,
    label: `${spec.job} ${spec.mode}`,
    tty: opts.dryRun ? undefined : opts.progressTty,
    inFlight: () => tracker.open,
  });
  progress.start();

  const run: JobRun = {
    runId,
    log,
    counts,
    track(key, cursor) {
      counts.read += 1;
      return { seq: tracker.add(cursor), key };
    },
    skip(row) {
      counts.skipped += 1;
      tracker.finish(row.seq);
    },
    pass(count = 1) {
      counts.read += count;
      counts.skipped += count;
    },
    retag(row, hash) {
      counts.skipped += 1;
      if (!opts.dryRun) checkpoint.markDelivered({ key: row.key, hash });
      tracker.finish(row.seq);
    },
    invalid(row, why, road) {
      counts.invalid += 1;
      const reason = outwardText(why, secrets);
      checkpoint.markFailed({ key: row.key, class: 'invalid', reason, ...(road === undefined ? {} : { road }) });
      // A dry run is how an operator tries a model: what would not be sent, and why, is shown at the default level.
      if (opts.dryRun) log.warn({ key: row.key, reason }, 'invalid row: would not be sent');
      else log.debug({ key: row.key, reason }, 'invalid row');
      tracker.finish(row.seq);
    },
    hold(row, why) {
      counts.skipped += 1;
      const reason = outwardText(why, secrets);
      checkpoint.markFailed({ key: row.key, class: 'held', reason, road: 'sync' });
      log.debug({ key: row.key, reason }, 'held row');
      tracker.finish(row.seq);
    },
    dispatch: (row, req, dispatchOptions) => dispatch.dispatch(row, req, dispatchOptions),
    dispatchBatch: (entries, request) => dispatch.dispatchBatch(entries, request),
    async submit(row, built, dispatchOptions = {}) {
      if (!built.ok) return run.invalid(row, built.reason);
      const known = dispatchOptions.deliveredWithWarnings;
      if (known !== undefined && built.warnings.length > 0 && warningsText(built.warnings) === known) return run.skip(row);
      await run.dispatch(row, built.request, { ...dispatchOptions, warnings: built.warnings });
    },
    shouldStop() {
      return opts.signal?.aborted === true || opts.lockLost?.aborted === true || dispatch.stopped !== undefined || checkpoint.error !== undefined;
    },
  };

  // Shutdown (a signal, or the lock lost): what is on the wire may finish within the deadline, counted from the
  // moment the stop came (the body may still be waiting for room in the queue); then the rest is dropped unsent.
  let deadline: NodeJS.Timeout | undefined;
  const onStop = () => {
    deadline ??= setTimeout(() => {
      log.warn(
        { deadlineMs: config.delivery.shutdownDeadlineMs, inFlight: dispatch.inFlight },
        'shutdown deadline passed: dropping the requests still in flight (they stay unsent)',
      );
      dispatch.halt(new Error('shutdown deadline passed'));
      void client?.destroy().catch((caught: unknown) => log.debug({ err: toError(caught) }, 'closing the API connections'));
    }, config.delivery.shutdownDeadlineMs);
  };
  const stopSignals = [opts.signal, opts.lockLost].filter((s): s is AbortSignal => s !== undefined);
  for (const s of stopSignals) {
    if (s.aborted) onStop();
    else s.addEventListener('abort', onStop, { once: true });
  }

  let error: Error | undefined;
  try {
    await body(run);
  } catch (caught) {
    error = toError(caught);
    dispatch.halt(error);
  }

  try {
    await dispatch.drain();
  } catch (caught) {
    error ??= toError(caught);
  }
  if (deadline) clearTimeout(deadline);
  for (const s of stopSignals) s.removeEventListener('abort', onStop);
  checkpoint.stop();
  progress.stop();
  try {
    await checkpoint.flush(() => tracker.prefixCursor);
  } catch (caught) {
    error ??= toError(caught);
  }
  error ??= checkpoint.error;
  // A run that booked many rows leaves the ledger's statistics stale: refresh them, so the next run reads it by index.
  if (state && counts.sent >= ANALYZE_AFTER_SENT) {
    await analyzeLedger(state, counts.sent).catch((caught: unknown) =>
      log.warn({ err: toError(caught) }, 'could not refresh the ledger statistics (ANALYZE); the next run may read it slowly'),
    );
  }
  if (opts.lockLost?.aborted && !opts.signal?.aborted) {
    const cause = opts.lockLost.reason instanceof Error ? `: ${opts.lockLost.reason.message}` : '';
    error ??= new Error(
      `lost the job lock (state database connection dropped${cause}); stopped so that no second runner overlaps this one; the next run resumes from the last checkpoint`,
    );
  }

  const stopped = dispatch.stopped;
  let status: RunStatus = 'done';
  if (stopped instanceof FatalApiError) {
    status = 'fatal';
    error = stopped;
  } else if (stopped instanceof ApiUnavailableError) {
    status = 'halted';
    error = stopped;
  } else if (error) status = 'failed';
  else if (opts.signal?.aborted) status = 'interrupted';
  // Made for the world once, here: the books, the log, the CLI's line, the webhook, notify_state and /healthz all take this text.
  if (error) makeOutward(error, secrets);
  counts.retries = dispatch.stats.retries;
  const range = dispatch.concurrencyRange;
  const concurrencyLimit = range ? { low: range.low, high: range.high, settled: range.current } : undefined;

  const summary = summarize({
    job: spec.job,
    runId,
    status,
    dryRun: opts.dryRun,
    durationMs: Date.now() - started,
    waitedMs: dispatch.stats.waitedMs,
    concurrencyLimit,
    ...counts,
    error,
  });
  if (state) {
    try {
      await finishRun(state, runId, status, counts, error?.message);
    } catch (caught) {
      log.error({ err: toError(caught) }, 'could not record the end of the run');
    }
  }
  const line = {
    status,
    read: counts.read,
    sent: counts.sent,
    skipped: counts.skipped,
    invalid: counts.invalid,
    rejected: counts.rejected,
    warnings: counts.warnings,
    retries: counts.retries,
    waitedMs: summary.waitedMs,
    durationMs: summary.durationMs,
    rate: summary.rate,
    dryRun: opts.dryRun,
    ...(concurrencyLimit ? { concurrencyLimit } : {}),
  };
  if (status === 'done' || status === 'interrupted') log.info(line, 'run finished');
  else log.error({ ...line, err: error }, 'run stopped');
  await watch?.finished(summary).catch((caught: unknown) => log.error({ err: toError(caught) }, 'monitoring failed at the end of the run; its outcome stands'));
  return summary;
}
