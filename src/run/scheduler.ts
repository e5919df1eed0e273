/**
 * `personaclick-sync schedule`: one long-running process that runs the config's jobs on their cron expressions
 * (node-cron), instead of one crontab line per job.
 *
 * - One node-cron task per job with a `schedule`, read in `config.schedule.timezone`. The jobs and what each run
 *   launches come from the job table (jobs/index.ts, `scheduledJobs`), handed in by the command line; the config
 *   schema has already checked each expression with node-cron's own validator.
 * - A job never overlaps itself in this process: node-cron's `noOverlap` drops a tick that comes while the
 *   previous run is still going, and the dropped tick is logged. Across processes and hosts the job's advisory
 *   lock (taken by `launchJob`) still guards it; a run that finds it held is logged as skipped, not as an error.
 * - Different jobs run side by side. A run that throws is logged and the schedule goes on.
 * - On `signal`: no new runs; the running ones see the same signal (through `launchJob`) and shut down within
 *   their deadline; then the promise resolves 0.
 */
import type { Writable } from 'node:stream';
import { createTask, type Logger as CronLogger, type ScheduledTask, type TaskContext } from 'node-cron';
import type { Config } from '../config/index.js';
import { ConfigError, ExitCode, LockedError, toError } from '../errors.js';
import type { Logger } from '../log.js';
import { launchJob, type Launchable } from './launch.js';
import type { RunObserver } from './run-observer.js';

export interface SchedulerOptions {
  log: Logger;
  /** Handed to each run (it only writes there in a dry run, which the scheduler never does). */
  out: Writable;
  /** Stop: no new runs, the running ones shut down within their deadline, then `runSchedule` resolves. */
  signal: AbortSignal;
  /** Told of every run: metrics, volume alerts, the webhook (src/monitor). */
  observer?: RunObserver | undefined;
  /** Told when each job's run ends (for /healthz). */
  onRunEnd?: ((job: string, outcome: { status: string; at: Date; error?: string }) => void) | undefined;
}

export interface ScheduledJob {
  name: string;
  /** The cron expression as the config gives it (5 fields, or 6 with seconds first). */
  expression: string;
  /** What each run launches (the job table's scheduled form: the incremental or nightly run). */
  launchable: Launchable;
}

/** The reason logged when a tick comes while the job's previous run is still going. */
export const OVERLAP_REASON = 'previous run still going';

/**
 * Run every scheduled job on its cron expression until `opts.signal` aborts; resolves 0 once the running
 * jobs have finished. Throws ConfigError (exit 2) when no job has a schedule.
 */
export async function runSchedule(config: Config, jobs: readonly ScheduledJob[], opts: SchedulerOptions): Promise<number> {
  if (jobs.length === 0) {
    throw new ConfigError(
      `nothing to schedule: no job has a schedule (set jobs.<name>.schedule to a cron expression, e.g. "*/5 * * * *"; jobs: ${Object.keys(config.jobs).join(', ') || 'none'})`,
    );
  }
  const { log, signal } = opts;
  const timezone = config.schedule.timezone;
  if (signal.aborted) {
    log.info('scheduler stopped before it started');
    return ExitCode.ok;
  }
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

  /** Runs in progress, across jobs: awaited on stop. */
  const running = new Set<Promise<void>>();
  const tasks: ScheduledTask[] = [];

  const logNext = (task: ScheduledTask, jobLog: Logger): void => {
    // getNextRun() answers null for a stopped task but a date for a destroyed one: the signal decides.
    if (signal.aborted) return;
    try {
      const next = task.getNextRun();
      if (next !== null) jobLog.info({ next: next.toISOString() }, 'next run due');
    } catch (caught) {
      jobLog.warn({ err: toError(caught) }, 'could not work out when the job is next due');
    }
  };

  const runOnce = async (job: ScheduledJob, jobLog: Logger, task: ScheduledTask, ctx: TaskContext): Promise<void> => {
    // A tick can race the stop by a few microtasks: start nothing once the signal is in.
    if (signal.aborted) return;
    const due = ctx.date.toISOString();
    try {
      jobLog.info({ due, expression: job.expression, lock: job.launchable.lock }, 'scheduled run starting');
      const summaries = await launchJob(config, job.launchable, { dryRun: false, out: opts.out, log, signal, observer: opts.observer });
      for (const s of summaries) {
        opts.onRunEnd?.(job.name, { status: s.status, at: new Date(), ...(s.error ? { error: s.error.message } : {}) });
        jobLog.info(
          {
            due,
            runId: s.runId,
            status: s.status,
            read: s.read,
            sent: s.sent,
            skipped: s.skipped,
            invalid: s.invalid,
            rejected: s.rejected,
            warnings: s.warnings,
            retries: s.retries,
            durationMs: s.durationMs,
            ...(s.error ? { error: s.error.message } : {}),
          },
          'scheduled run finished',
        );
      }
    } catch (caught) {
      const err = toError(caught);
      if (err instanceof LockedError) jobLog.info({ due, reason: err.message }, 'scheduled run skipped');
      else {
        jobLog.error({ due, err }, 'scheduled run failed; the schedule goes on');
        opts.onRunEnd?.(job.name, { status: 'failed', at: new Date(), error: err.message });
      }
    }
    logNext(task, jobLog);
  };

  try {
    for (const job of jobs) {
      const jobLog = log.child({ job: job.name });
      const task: ScheduledTask = createTask(
        job.expression,
        (ctx: TaskContext): Promise<void> => {
          // runOnce catches and logs everything itself, so `run` never rejects (and neither does the finally).
          const run = runOnce(job, jobLog, task, ctx);
          running.add(run);
          void run.finally(() => running.delete(run));
          return run;
        },
        { name: `personaclick-sync:${job.name}`, timezone, noOverlap: true, logger: cronLogger(jobLog) },
      );
      tasks.push(task);
      task.on('execution:overlap', (ctx) => jobLog.warn({ due: ctx.date.toISOString(), reason: OVERLAP_REASON }, 'scheduled run skipped'));
      task.on('execution:missed', (ctx) => jobLog.warn({ due: ctx.date.toISOString() }, 'scheduled run missed: the process was too busy when it was due'));
    }
  } catch (caught) {
    await destroyAll(tasks, log);
    const err = toError(caught);
    throw new ConfigError(`could not schedule the jobs: ${err.message}`);
  }

  for (const [i, job] of jobs.entries()) {
    const task = tasks[i];
    if (task === undefined || signal.aborted) break;
    await task.start();
    const jobLog = log.child({ job: job.name });
    jobLog.info({ expression: job.expression, timezone, lock: job.launchable.lock }, 'job scheduled');
    logNext(task, jobLog);
  }

  await stopped;
  log.info({ running: running.size }, 'scheduler stopping: no new runs; waiting for the running ones to shut down');
  await destroyAll(tasks, log);
  await Promise.allSettled([...running]);
  log.info('scheduler stopped');
  return ExitCode.ok;
}

/** Stop the tasks and take them out of node-cron's process-wide registry (stop() alone leaves them there). */
async function destroyAll(tasks: readonly ScheduledTask[], log: Logger): Promise<void> {
  for (const task of tasks) {
    try {
      await task.destroy();
    } catch (caught) {
      log.warn({ err: toError(caught), task: task.name }, 'could not destroy a scheduled task');
    }
  }
}

/** node-cron's own overlap warning: already logged by the `execution:overlap` listener, with the job and reason. */
const CRON_OVERLAP_WARNING = 'task still running, new execution blocked by overlap prevention!';

/** node-cron logs to the console by default; send its lines through pino instead, with the job. */
function cronLogger(log: Logger): CronLogger {
  const errorOf = (message: string | Error, err: Error | undefined): { msg: string; err: Error | undefined } => {
    if (message instanceof Error) return { msg: message.message, err: message };
    return { msg: message, err: err === undefined ? undefined : toError(err) };
  };
  return {
    info: (message) => log.info({ source: 'node-cron' }, message),
    warn: (message) => (message === CRON_OVERLAP_WARNING ? log.debug({ source: 'node-cron' }, message) : log.warn({ source: 'node-cron' }, message)),
    error: (message, err) => {
      const e = errorOf(message, err);
      log.error({ source: 'node-cron', err: e.err }, `node-cron: ${e.msg}`);
    },
    debug: (message, err) => {
      const e = errorOf(message, err);
      log.debug({ source: 'node-cron', err: e.err }, `node-cron: ${e.msg}`);
    },
  };
}
