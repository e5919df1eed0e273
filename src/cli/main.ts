/** The command line: parse, load the config once, run one command, return its exit code. */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { loadConfig, redactUrl, secretsOf, type Config } from '../config/index.js';
import { ConfigError, DatabaseUnreachableError, ExitCode, toError } from '../errors.js';
import { whereOf } from '../db-unreachable.js';
import { createLogger, type Logger } from '../log.js';
import { outwardText, terminalSafeJson } from '../outward.js';
import { commandsTaking, findCommand, scheduledJobs, type CommandOption, type JobCommand } from '../../jobs/index.js';
import { launchJob, lockName, type Launchable } from '../run/launch.js';
import type { MetricsServer } from '../metrics/server.js';
import { createMonitor } from '../monitor/monitor.js';
import { parseShard, type Shard } from '../shard.js';
import { parseCli, type CliArgs } from './args.js';
import { exitCodeForError, exitCodeForRun } from './exit.js';
import { HELP } from './help.js';

// Each command loads what only it needs when it runs (the sandbox, the demo's embedded Postgres, check, status,
// report, the scheduler and its /metrics server, prom-client): `sync orders` from cron starts without them.

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Where a question is answered (a first backfill's yes); asked only when it is a terminal. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

const defaultIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin };

/** Ask on the terminal: the text, then a typed `yes` (anything else is a no); undefined without a terminal to ask on. */
function askOn(io: CliIo): (text: string) => Promise<boolean | undefined> {
  return async (text) => {
    const input = io.stdin;
    if (input?.isTTY !== true) return undefined;
    const { createInterface } = await import('node:readline/promises');
    const prompt = createInterface({ input, output: io.stderr, terminal: true });
    try {
      const answer = await prompt.question(`${text}\nType yes to go on: `);
      return answer.trim().toLowerCase() === 'yes';
    } finally {
      prompt.close();
    }
  };
}

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let secrets: string[] = [];
  try {
    const args = parseCli(argv);
    if (args.version) {
      io.stdout.write(`${readVersion()}\n`);
      return ExitCode.ok;
    }
    if (args.help || args.command === 'help') {
      io.stdout.write(HELP);
      return ExitCode.ok;
    }
    if (args.html !== undefined && args.command !== 'report') throw new ConfigError('--html: only report takes it');
    if (args.verify !== undefined && args.command !== 'report') throw new ConfigError('--verify: only report takes it');
    switch (args.command) {
      case 'sandbox':
        return await sandboxCommand(args, io);
      case 'demo': {
        const runDemo = await (await import('../demo/load.js')).loadDemo();
        return await runDemo({ out: io.stdout });
      }
      case 'migrate':
      case 'status':
      case 'check':
      case 'schedule':
      case 'report': {
        if (args.metricsFile !== undefined) throw new ConfigError(`--metrics-file: only the job commands take it (sync, backfill, reconcile, events, replay)`);
        const config = loadConfig({ path: args.config, env: io.env });
        secrets = secretsOf(config);
        const log = createLogger({ secrets, destination: io.stderr, env: io.env });
        if (args.command === 'migrate') return await migrateCommand(config, log, io);
        if (args.command === 'status') return await statusCommand(config, args, io);
        if (args.command === 'check') return await (await import('../check/command.js')).checkCommand(config, io, args.json);
        if (args.command === 'report') return await (await import('./report.js')).reportCommand(config, args, io);
        return await scheduleCommand(config, log, io);
      }
      default: {
        // Usage first (no config needed to say a command or option is wrong), then the config.
        const launchable = prepareJobCommand(args);
        if (!launchable) throw new ConfigError(`unknown command "${args.command}" (see personaclick-sync --help)`);
        const shard = parseShard(args.shard, args.shards, io.env);
        const config = loadConfig({ path: args.config, env: io.env });
        secrets = secretsOf(config);
        const log = createLogger({ secrets, destination: io.stderr, env: io.env });
        return await jobCommand(config, launchable, { ...args, shard }, log, io);
      }
    }
  } catch (caught) {
    const error = toError(caught);
    const code = exitCodeForError(error);
    const text = code === ExitCode.usage || error instanceof DatabaseUnreachableError ? error.message : `${error.name}: ${error.message}`;
    // A config error's lines stay lines (each rule on its own); each is outward text (outward.ts).
    io.stderr.write(
      `personaclick-sync: ${text
        .split('\n')
        .map((line) => outwardText(line, secrets))
        .join('\n')}\n`,
    );
    return code;
  }
}

/**
 * A migration the state database refused for want of rights (a read-only role, a standby, a role without CREATE):
 * one line naming state.url, the role it needs, and that the shop's read-only role belongs in source.url.
 */
function refusedMigration(caught: unknown, config: Config): Error {
  const error = toError(caught);
  const code = (error as { code?: unknown }).code;
  if (code !== '42501' && code !== '25006') return error;
  // knex puts the statement before the server's message: "CREATE SCHEMA … - permission denied for database x".
  const first = error.message.split('\n')[0] ?? '';
  const said = first.includes(' - ') ? first.slice(first.lastIndexOf(' - ') + 3) : first;
  return new ConfigError(
    `migrate: the state database refused to create the connector's tables (state.url: ${whereOf(config.state.url)}): ${said}; ` +
      `state.url must name a role that may create schema ${config.state.schema} and write to it (a read-only role belongs in source.url only)`,
  );
}

async function migrateCommand(config: Config, log: Logger, io: CliIo): Promise<number> {
  const [{ openStateDb }, { migrate }] = await Promise.all([import('../state/db.js'), import('../state/migrate.js')]);
  // Migrations may build an index over a large ledger: no statement deadline (connect and lock deadlines stand).
  const db = openStateDb(config.state.url, config.state.schema, { applicationName: config.source.applicationName, statementTimeoutMs: 0 });
  try {
    const { applied } = await migrate(db).catch((caught: unknown) => {
      throw refusedMigration(caught, config);
    });
    log.info(
      { schema: config.state.schema, applied, database: redactUrl(config.state.url) },
      applied.length > 0 ? 'migrations applied' : 'state schema already up to date',
    );
    io.stdout.write(applied.length > 0 ? `Applied ${applied.join(', ')} in schema ${config.state.schema}\n` : `Schema ${config.state.schema} is up to date\n`);
    return ExitCode.ok;
  } finally {
    await db.close();
  }
}

async function statusCommand(config: Config, args: CliArgs, io: CliIo): Promise<number> {
  const [{ openStateDb }, { formatStatus, statusReport }] = await Promise.all([import('../state/db.js'), import('./status.js')]);
  const db = openStateDb(config.state.url, config.state.schema, { applicationName: config.source.applicationName });
  try {
    const report = await statusReport(db, secretsOf(config));
    io.stdout.write(args.json ? `${terminalSafeJson(JSON.stringify(report, null, 2))}\n` : `${formatStatus(report)}\n`);
    return ExitCode.ok;
  } finally {
    await db.close();
  }
}

/** The options a job command was given that it does not take, as "--full: only reconcile carts, reconcile wishlists take it". */
function checkCommandOptions(command: JobCommand, args: CliArgs): void {
  const given: [CommandOption, boolean][] = [
    ['full', args.full],
    ['from', args.from !== undefined],
    ['to', args.to !== undefined],
    ['job', args.job !== undefined],
    ['class', args.failureClass !== undefined],
    ['since', args.since !== undefined],
    ['via', args.via !== undefined],
    ['old-orders-as-new', args.oldOrdersAsNew],
    ['yes', args.yes],
  ];
  for (const [option, set] of given) {
    if (!set || command.options.includes(option)) continue;
    const takers = [...new Set(commandsTaking(option).map((c) => (c.target ? `${c.verb} ${c.target}` : c.verb)))];
    throw new ConfigError(`--${option}: only ${takers.join(', ')} ${takers.length === 1 ? 'takes' : 'take'} it`);
  }
}

/** A job command of the table, its options checked, ready to launch. */
export function prepareJobCommand(args: CliArgs): Launchable | undefined {
  const command = findCommand(args.command, args.target);
  if (!command) return undefined;
  checkCommandOptions(command, args);
  return command.prepare(args);
}

/** SIGTERM / SIGINT → abort `stop` (a second signal leaves at once); `received()` names the first signal. */
/** Past the shutdown deadline, what a signalled process is given before it leaves whatever still holds it. */
export const SHUTDOWN_GRACE_MS = 5_000;

function onShutdownSignals(config: Config, log: Logger): { stop: AbortSignal; received: () => NodeJS.Signals | undefined; dispose: () => void } {
  const controller = new AbortController();
  let signal: NodeJS.Signals | undefined;
  let backstop: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
    if (signal) process.exit(code); // second signal: leave now
    signal = sig;
    log.warn({ signal: sig, deadlineMs: config.delivery.shutdownDeadlineMs }, 'stopping: finishing in-flight requests');
    controller.abort();
    // Whatever still holds the process (a statement behind a lock, a server that never answers), it ends within the
    // shutdown deadline and SHUTDOWN_GRACE_MS: the next run resumes from the last checkpoint.
    backstop = setTimeout(() => {
      log.error(
        { signal: sig, deadlineMs: config.delivery.shutdownDeadlineMs, graceMs: SHUTDOWN_GRACE_MS },
        'stopping: the shutdown deadline passed with work still open; leaving now (the next run resumes from the last checkpoint)',
      );
      process.exit(code);
    }, config.delivery.shutdownDeadlineMs + SHUTDOWN_GRACE_MS);
    backstop.unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    stop: controller.signal,
    received: () => signal,
    dispose: () => {
      clearTimeout(backstop);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

async function scheduleCommand(config: Config, log: Logger, io: CliIo): Promise<number> {
  const signals = onShutdownSignals(config, log);
  // /metrics and /healthz on metrics.port, for as long as the scheduler runs.
  const metrics = config.metrics.port === undefined ? undefined : new (await import('../metrics/metrics.js')).SyncMetrics();
  const { runSchedule } = await import('../run/scheduler.js');
  // /healthz says what each job last did, never an error's text (that is in the log and `status`).
  const lastRuns: Record<string, { status: string; at: string; ok: boolean }> = {};
  let server: MetricsServer | undefined;
  try {
    if (metrics && config.metrics.port !== undefined) {
      const { startMetricsServer } = await import('../metrics/server.js');
      server = await startMetricsServer({
        port: config.metrics.port,
        host: config.metrics.host,
        metrics,
        log,
        health: () => ({ ok: !signals.stop.aborted, jobs: lastRuns }),
      });
      // Where it really listens (the address bound, not a guess).
      log.info({ url: server.url, host: server.host, port: server.port }, 'serving /metrics and /healthz');
    }
    const code = await runSchedule(config, scheduledJobs(config), {
      log,
      out: io.stdout,
      signal: signals.stop,
      observer: createMonitor({ config, metrics }),
      onRunEnd: (job, end) => (lastRuns[job] = { status: end.status, at: end.at.toISOString(), ok: end.status === 'done' || end.status === 'interrupted' }),
    });
    const sig = signals.received();
    return sig === undefined ? code : sig === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  } finally {
    await server?.close();
    signals.dispose();
  }
}

async function jobCommand(
  config: Config,
  launchable: Launchable,
  args: Pick<CliArgs, 'dryRun' | 'limit' | 'metricsFile'> & { shard: Shard | undefined },
  log: Logger,
  io: CliIo,
): Promise<number> {
  const { shard } = args;
  // Metrics of a run from cron: the textfile and the Pushgateway, written once the runs are over (not for dry runs).
  // (prom-client is loaded only when there is somewhere to export to.)
  const exporting = !args.dryRun && (args.metricsFile !== undefined || config.metrics.pushgateway !== undefined);
  const targets = { file: args.metricsFile, pushgateway: config.metrics.pushgateway, instance: lockName(launchable, { shard }) };
  const exporter = exporting ? await (await import('../metrics/export.js')).MetricsExport.open(targets) : undefined;
  const signals = onShutdownSignals(config, log);
  try {
    const tty = io.stderr === process.stderr && process.stderr.isTTY ? process.stderr : undefined;
    const observer = createMonitor({ config, metrics: exporter?.metrics });
    const summaries = await launchJob(config, launchable, {
      dryRun: args.dryRun,
      limit: args.limit,
      shard,
      out: io.stdout,
      log,
      signal: signals.stop,
      progressTty: tty,
      observer,
      confirm: askOn(io),
    });
    let code: number = ExitCode.ok;
    for (const summary of summaries) {
      if (summary.error && summary.status !== 'interrupted') io.stderr.write(`personaclick-sync: ${outwardText(summary.error.message, secretsOf(config))}\n`);
      const runCode = exitCodeForRun(summary, signals.received());
      if (code === ExitCode.ok) code = runCode;
    }
    for (const problem of (await exporter?.flush(log, summaries.length > 0)) ?? [])
      io.stderr.write(`personaclick-sync: ${outwardText(problem, secretsOf(config))}\n`);
    return code;
  } finally {
    signals.dispose();
  }
}

async function sandboxCommand(args: CliArgs, io: CliIo): Promise<number> {
  const { startSandbox, SANDBOX_SHOP_SECRET } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({ port: args.port ?? 8080, ...(args.shop ? { shopIds: [args.shop] } : {}) });
  io.stdout.write(
    `PersonaClick sandbox listening on ${sandbox.url} (control: ${sandbox.url}/__sandbox/stats; the order-sync API's shop secret: ${SANDBOX_SHOP_SECRET}). Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await sandbox.close();
  return ExitCode.ok;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
