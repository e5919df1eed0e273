/**
 * The job table: every job the connector runs, each declaring its name (its config section and ledger), its commands
 * with their lock and options, what `schedule` runs, and how replay re-reads and rebuilds its rows. The command line,
 * `--help`, the scheduler and replay are driven by this table; adding a job is a file of its own and a line here.
 */
import type { Config } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import type { ScheduledJob } from '../src/run/scheduler.js';
import { categoriesJob, productsJob } from './catalogue.js';
import { eventsJob } from './events.js';
import { cartsJob, wishlistsJob } from './mirror.js';
import { ordersJob } from './orders.js';
import { replayCommand } from './replay.js';
import type { CommandOption, JobCommand, JobDefinition } from './types.js';

export type { CommandArgs, CommandOption, JobCommand, JobDefinition } from './types.js';

export const JOBS: readonly JobDefinition[] = [ordersJob, cartsJob, wishlistsJob, eventsJob, categoriesJob, productsJob];

/** Every job command of the command line, replay last. */
export const COMMANDS: readonly JobCommand[] = [...JOBS.flatMap((job) => job.commands), replayCommand(JOBS)];

/** The command named by these words, or undefined when the verb is not a job command. ConfigError for a bad target. */
export function findCommand(verb: string, target: string | undefined): JobCommand | undefined {
  const forVerb = COMMANDS.filter((c) => c.verb === verb);
  if (forVerb.length === 0) return undefined;
  const targets = forVerb.map((c) => c.target).filter((t): t is string => t !== undefined);
  const found = forVerb.find((c) => c.target === target);
  if (found) return found;
  if (targets.length === 0) throw new ConfigError(`${verb}: takes no job name (got "${target ?? ''}")`);
  const choices = targets.length === 1 ? `the job to ${verb} is: ${targets[0] ?? ''}` : `choose ${targets.join(' or ')}`;
  throw new ConfigError(`${verb}: unknown job "${target ?? ''}"; ${choices}`);
}

/** The job commands that take an option, for "--full: only reconcile takes it". */
export function commandsTaking(option: CommandOption): JobCommand[] {
  return COMMANDS.filter((c) => c.options.includes(option));
}

/** The jobs of the config that have a `schedule`, in the table's order, with what each scheduled run launches. */
export function scheduledJobs(config: Config): ScheduledJob[] {
  return JOBS.flatMap((job) => {
    const expression = config.jobs[job.name]?.schedule;
    return expression === undefined || expression.trim() === '' ? [] : [{ name: job.name, expression, launchable: job.scheduled }];
  });
}
