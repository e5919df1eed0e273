/** Wiring for tests: a config pointing at a test database and a sandbox, and one-call runs of the orders sync. */
import { PassThrough, Writable } from 'node:stream';
import { parseConfig, type Config } from '../../src/config/index.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { secretsOf } from '../../src/config/index.js';
import { openServices, type Services } from '../../src/run/services.js';
import type { RunSummary } from '../../src/run/summary.js';
import { syncOrders } from '../../jobs/orders.js';
import { reconcile, type MirrorKind } from '../../jobs/mirror.js';
import { migrateEvents } from '../../jobs/events.js';
import { findCommand, JOBS, type CommandArgs } from '../../jobs/index.js';
import { replayFailures } from '../../jobs/replay.js';
import type { FailureFilter } from '../../src/state/failures.js';
import { ITEMS_QUERY, ORDERS_QUERY } from './shop.js';

export const SHOP_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5';

export interface ConfigOverrides {
  delivery?: Record<string, unknown>;
  orders?: Record<string, unknown>;
  personaclick?: Record<string, unknown>;
  state?: Record<string, unknown>;
  /** Other jobs (carts, wishlists, events), added beside orders. */
  jobs?: Record<string, unknown>;
}

export function testConfig(dbUrl: string, apiUrl: string, overrides: ConfigOverrides = {}): Config {
  return parseConfig(
    {
      personaclick: { url: apiUrl, shopId: SHOP_ID, timeoutMs: 2000, ...overrides.personaclick },
      delivery: { concurrency: 8, retries: 3, retryMinMs: 10, retryMaxMs: 50, checkpointMs: 200, shutdownDeadlineMs: 5000, ...overrides.delivery },
      // `postgres` is a superuser: runs refuse it unless told (issue 20 §4); the tests of the refusal build their own.
      source: { url: dbUrl, allowPrivilegedRole: true },
      state: { ...overrides.state },
      jobs: {
        orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 500, settleSeconds: 0, startFrom: '2000-01-01', ...overrides.orders },
        ...overrides.jobs,
      },
    },
    {},
    '<test>',
  );
}

export interface SyncResult {
  summary: RunSummary;
  stdout: string;
}

export interface RunOptions {
  dryRun?: boolean;
  limit?: number;
  signal?: AbortSignal;
  full?: boolean;
}

type JobFn = (
  services: Services,
  common: { dryRun: boolean; limit: number | undefined; out: Writable; log: Logger; signal: AbortSignal | undefined },
) => Promise<RunSummary>;

async function runJob(config: Config, opts: RunOptions, job: JobFn): Promise<SyncResult> {
  const dryRun = opts.dryRun ?? false;
  const services = openServices(config, { dryRun });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    const summary = await job(services, { dryRun, limit: opts.limit, out, log: silentLogger(), signal: opts.signal });
    return { summary, stdout: Buffer.concat(chunks).toString('utf8') };
  } finally {
    await services.close();
  }
}

export function runSync(config: Config, opts: RunOptions = {}): Promise<SyncResult> {
  return runJob(config, opts, (services, common) => syncOrders(services, common));
}

export function runReconcile(config: Config, kind: MirrorKind, opts: RunOptions = {}): Promise<SyncResult> {
  return runJob(config, opts, (services, common) => reconcile(services, kind, opts.full ?? false, common));
}

export function runEvents(config: Config, opts: RunOptions = {}): Promise<SyncResult> {
  return runJob(config, opts, (services, common) => migrateEvents(services, common));
}

/** `replay` in-process: one summary per job replayed, in job order. */
export async function runReplay(config: Config, filter: FailureFilter = {}): Promise<RunSummary[]> {
  const services = openServices(config, { dryRun: false });
  try {
    return await replayFailures(services, JOBS, filter, { dryRun: false, out: new PassThrough(), log: silentLogger() });
  } finally {
    await services.close();
  }
}

export interface CommandResult {
  summaries: RunSummary[];
  stdout: string;
  /** The run's log lines (JSON), for what an operator would read. */
  log: Record<string, unknown>[];
}

/**
 * A job command of the job table run in-process, as the command line runs it (`verb target`, its options checked by
 * the command's own `prepare`), on services opened from the config.
 */
export async function runCommand(config: Config, words: [string, string?], args: CommandArgs = {}, opts: RunOptions = {}): Promise<CommandResult> {
  const command = findCommand(words[0], words[1]);
  if (!command) throw new Error(`no job command ${words.join(' ')}`);
  const launchable = command.prepare(args);
  const dryRun = opts.dryRun ?? false;
  const services = openServices(config, { dryRun });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    secrets: secretsOf(config),
    destination: new Writable({
      write: (chunk: Buffer, _e, done) => (
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        ),
        done()
      ),
    }),
  });
  try {
    const summaries = await launchable.run(services, { dryRun, limit: opts.limit, out, log, signal: opts.signal });
    return { summaries, stdout: Buffer.concat(chunks).toString('utf8'), log: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    await services.close();
  }
}
