/** The command line: parse, load the config once, run one command, return its exit code. */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { loadConfig, redactUrl, secretsOf, type Config } from '../config/index.js';
import { ConfigError, ExitCode, toError } from '../errors.js';
import { createLogger, scrub, type Logger } from '../log.js';
import { openServices, type Services } from '../run/services.js';
import type { RunSummary } from '../run/summary.js';
import { openStateDb } from '../state/db.js';
import { migrate } from '../state/migrate.js';
import { syncOrders } from '../../jobs/orders.js';
import { reconcile } from '../../jobs/mirror.js';
import { migrateEvents } from '../../jobs/events.js';
import { startSandbox } from '../sandbox/index.js';
import { parseCli, type CliArgs } from './args.js';
import { exitCodeForError, exitCodeForRun } from './exit.js';
import { HELP } from './help.js';
import { formatStatus, statusReport } from './status.js';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

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
    switch (args.command) {
      case 'sandbox':
        return await sandboxCommand(args, io);
      case 'demo': {
        const { runDemo } = await import('../demo/run.js');
        return await runDemo({ out: io.stdout });
      }
      case 'migrate':
      case 'status':
      case 'sync':
      case 'reconcile':
      case 'events': {
        const config = loadConfig({ path: args.config, env: io.env });
        secrets = secretsOf(config);
        const log = createLogger({ secrets, destination: io.stderr });
        if (args.command === 'migrate') return await migrateCommand(config, log, io);
        if (args.command === 'status') return await statusCommand(config, args, io);
        return await jobCommand(config, args, log, io);
      }
      default:
        throw new ConfigError(`unknown command "${args.command}" (see personaclick-sync --help)`);
    }
  } catch (caught) {
    const error = toError(caught);
    const code = exitCodeForError(error);
    const text = code === ExitCode.usage ? error.message : `${error.name}: ${error.message}`;
    io.stderr.write(`personaclick-sync: ${scrub(text, secrets)}\n`);
    return code;
  }
}

async function migrateCommand(config: Config, log: Logger, io: CliIo): Promise<number> {
  const db = openStateDb(config.state.url, config.state.schema, config.source.applicationName);
  try {
    const { applied } = await migrate(db);
    log.info({ schema: config.state.schema, applied, database: redactUrl(config.state.url) }, applied.length > 0 ? 'migrations applied' : 'state schema already up to date');
    io.stdout.write(applied.length > 0 ? `Applied ${applied.join(', ')} in schema ${config.state.schema}\n` : `Schema ${config.state.schema} is up to date\n`);
    return ExitCode.ok;
  } finally {
    await db.close();
  }
}

async function statusCommand(config: Config, args: CliArgs, io: CliIo): Promise<number> {
  const db = openStateDb(config.state.url, config.state.schema, config.source.applicationName);
  try {
    const report = await statusReport(db);
    io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
    return ExitCode.ok;
  } finally {
    await db.close();
  }
}

/** The jobs that run through the delivery pipeline, by command. */
async function jobCommand(config: Config, args: CliArgs, log: Logger, io: CliIo): Promise<number> {
  const common = { dryRun: args.dryRun, limit: args.limit, out: io.stdout, log };
  let run: (services: Services, signal: AbortSignal) => Promise<RunSummary>;
  if (args.command === 'sync') {
    if (args.target !== 'orders') throw new ConfigError(`sync: unknown job "${args.target ?? ''}"; the job to sync is: orders`);
    run = (services, signal) => syncOrders(services, { ...common, signal });
  } else if (args.command === 'reconcile') {
    const kind = args.target;
    if (kind !== 'carts' && kind !== 'wishlists') throw new ConfigError(`reconcile: unknown job "${kind ?? ''}"; choose carts or wishlists`);
    run = (services, signal) => reconcile(services, kind, { ...common, full: args.full, signal });
  } else {
    if (args.target !== undefined) throw new ConfigError(`events: takes no job name (got "${args.target}")`);
    run = (services, signal) => migrateEvents(services, { ...common, signal });
  }
  if (args.full && args.command !== 'reconcile') throw new ConfigError('--full: only reconcile takes it');

  const services = openServices(config, { dryRun: args.dryRun });
  const stop = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal) process.exit(sig === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm); // second signal: leave now
    signal = sig;
    log.warn({ signal: sig, deadlineMs: config.delivery.shutdownDeadlineMs }, 'stopping: finishing in-flight requests');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const summary = await run(services, stop.signal);
    if (summary.error && summary.status === 'failed') io.stderr.write(`personaclick-sync: ${scrub(summary.error.message, secretsOf(config))}\n`);
    if (summary.error && (summary.status === 'fatal' || summary.status === 'halted')) io.stderr.write(`personaclick-sync: ${summary.error.message}\n`);
    return exitCodeForRun(summary, signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await services.close();
  }
}

async function sandboxCommand(args: CliArgs, io: CliIo): Promise<number> {
  const sandbox = await startSandbox({ port: args.port ?? 8080, ...(args.shop ? { shopIds: [args.shop] } : {}) });
  io.stdout.write(`PersonaClick sandbox listening on ${sandbox.url} (control: ${sandbox.url}/__sandbox/stats). Ctrl-C to stop.\n`);
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
