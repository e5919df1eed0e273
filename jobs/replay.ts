/**
 * Replay: read the failed rows again from the source (fresh data, so a fixed row now passes) and send them again,
 * through each job's own `replay` entry of the job table. Delivered ones are resolved by the checkpoint; failing ones
 * stay open with their new reason; rows with nothing left to send are resolved.
 *
 * A *warning* (a row delivered without optional fields whose values were bad) is read again although the ledger has
 * it, rebuilt, and sent again as a whole request when the rebuild differs: without warnings it is resolved, with
 * other warnings it stays open with them. A purchase resent this way is the same order_id, which PersonaClick
 * dedupes: no second order. A rebuild with the very same warnings (nothing fixed yet) is not sent again.
 *
 * An *unconfirmed* order (`report --verify` found PersonaClick's copy missing or different) is sent again whole
 * through the order-sync API, which needs the shop secret: without it, a replay that would take one stops at once.
 */
import type { JobName } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import type { JobCommand, JobDefinition } from './types.js';
import type { RunOptions } from '../src/run/options.js';
import { executeRun } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { RunSummary } from '../src/run/summary.js';
import { hasOpenFailures, openFailurePage, resolveGone, type FailureFilter } from '../src/state/failures.js';

/** Failures read per page. */
const PAGE = 500;

/** One run per job that has open failures matching the filter; the summaries in the table's order. */
export async function replayFailures(services: Services, jobs: readonly JobDefinition[], filter: FailureFilter, opts: RunOptions): Promise<RunSummary[]> {
  const chosen = filter.job === undefined ? jobs.filter((j) => services.config.jobs[j.name] !== undefined) : jobs.filter((j) => j.name === filter.job);
  await needSecretForUnconfirmed(services, chosen, filter);
  const summaries: RunSummary[] = [];
  for (const job of chosen) {
    if (!services.config.jobs[job.name]) throw new ConfigError(`--job ${job.name}: there is no jobs.${job.name} in the configuration to read the rows from`);
    const summary = await replayJob(services, job, { ...filter, job: job.name }, opts);
    summaries.push(summary);
    if (summary.status !== 'done') break;
  }
  return summaries;
}

/** Where the shop secret comes from, for the line that stops a replay of unconfirmed orders without one. */
const NO_SECRET =
  'replay: unconfirmed orders go out again through the order-sync API, which needs the shop secret: set personaclick.shopSecret ' +
  '(the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET}), ' +
  'or replay the other classes alone (--class invalid, rejected, warning or held)';

/**
 * `unconfirmed` orders are sent again through the order-sync API only: without the shop secret, a replay that would
 * take any stops before sending anything (ConfigError, exit 2), as a backfill does.
 */
async function needSecretForUnconfirmed(services: Services, chosen: readonly JobDefinition[], filter: FailureFilter): Promise<void> {
  if (services.config.personaclick.shopSecret !== undefined) return;
  if (filter.class !== undefined && filter.class !== 'unconfirmed') return;
  if (!chosen.some((j) => j.name === 'orders') || services.config.jobs.orders === undefined) return;
  if (await hasOpenFailures(services.state, { ...filter, job: 'orders', class: 'unconfirmed' })) throw new ConfigError(NO_SECRET);
}

async function replayJob(services: Services, job: JobDefinition, filter: FailureFilter, opts: RunOptions): Promise<RunSummary> {
  return executeRun(services, opts, { job: job.name, mode: 'replay', ledgerJob: job.name }, async (run) => {
    let afterId = 0;
    let remaining = opts.limit ?? Number.POSITIVE_INFINITY;
    while (remaining > 0 && !run.shouldStop()) {
      const page = await openFailurePage(services.state, filter, afterId, Math.min(PAGE, remaining));
      if (page.length === 0) break;
      afterId = page[page.length - 1]?.id ?? afterId;
      remaining -= page.length;
      const gone = await job.replay.resend(services, run, page);
      if (gone.length > 0) {
        run.log.info({ keys: gone.slice(0, 20), count: gone.length }, 'failed rows gone from the source or delivered since: nothing to send, resolved');
        if (!opts.dryRun) await resolveGone(services.state, job.name, gone);
      }
      if (page.length < PAGE) break;
    }
  });
}

/** The `replay` command over the given jobs. */
export function replayCommand(jobs: readonly JobDefinition[]): JobCommand {
  const names: readonly JobName[] = jobs.map((j) => j.name);
  return {
    verb: 'replay',
    options: ['job', 'class', 'since'],
    usage: 'replay [--job J] [--class C] [--since D]',
    summary: 'read failed rows again from the source and send them; delivered ones are resolved',
    prepare(args) {
      if (args.job !== undefined && !names.includes(args.job as JobName))
        throw new ConfigError(`--job: must be one of ${names.join(', ')} (got "${args.job}")`);
      const filter: FailureFilter = { job: args.job, class: args.failureClass, since: args.since };
      return { job: 'replay', lock: 'replay', run: (services, opts) => replayFailures(services, jobs, filter, opts) };
    },
  };
}
