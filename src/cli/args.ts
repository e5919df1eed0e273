/** Command-line parsing: one place that turns argv into a command and checked options. */
import { parseArgs } from 'node:util';
import { INSTANT_RULE, parseInstant } from '../dates.js';
import { ConfigError, REPLAY_CLASSES, type ReplayClass } from '../errors.js';

export interface CliArgs {
  command: string;
  target: string | undefined;
  config: string | undefined;
  dryRun: boolean;
  full: boolean;
  limit: number | undefined;
  json: boolean;
  port: number | undefined;
  from: string | undefined;
  to: string | undefined;
  job: string | undefined;
  failureClass: ReplayClass | undefined;
  since: Date | undefined;
  shard: string | undefined;
  shards: string | undefined;
  shop: string | undefined;
  /** report: write the HTML page here. */
  html: string | undefined;
  /** report: read this many delivered orders back from PersonaClick. */
  verify: number | undefined;
  /** Job commands: write node_exporter's textfile here when the run ends. */
  metricsFile: string | undefined;
  via: 'push' | 'sync' | undefined;
  oldOrdersAsNew: boolean;
  /** backfill: the explicit yes to tell customers' history (the order-sync API starts status-change trigger chains). */
  yes: boolean;
  help: boolean;
  version: boolean;
}

export function parseCli(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        'dry-run': { type: 'boolean', default: false },
        full: { type: 'boolean', default: false },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        port: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        job: { type: 'string' },
        class: { type: 'string' },
        since: { type: 'string' },
        shard: { type: 'string' },
        shards: { type: 'string' },
        shop: { type: 'string' },
        html: { type: 'string' },
        verify: { type: 'string' },
        'metrics-file': { type: 'string' },
        via: { type: 'string' },
        'old-orders-as-new': { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (caught) {
    throw new ConfigError(`${(caught as Error).message} (see personaclick-sync --help)`);
  }
  const { values, positionals } = parsed;
  return {
    command: positionals[0] ?? 'help',
    target: positionals[1],
    config: values.config,
    dryRun: values['dry-run'] ?? false,
    full: values.full ?? false,
    limit: values.limit === undefined ? undefined : positiveInt('--limit', values.limit),
    json: values.json ?? false,
    port: values.port === undefined ? undefined : portNumber(values.port),
    from: values.from,
    to: values.to,
    job: values.job,
    failureClass: values.class === undefined ? undefined : failureClass(values.class),
    since: values.since === undefined ? undefined : instant('--since', values.since),
    shard: values.shard,
    shards: values.shards,
    shop: values.shop,
    html: values.html,
    verify: values.verify === undefined ? undefined : verifyCount(values.verify),
    metricsFile: values['metrics-file'],
    via: values.via === undefined ? undefined : road(values.via),
    oldOrdersAsNew: values['old-orders-as-new'] ?? false,
    yes: values.yes ?? false,
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${name}: must be a whole number of at least 1 (got "${raw}")`);
  return Number(raw);
}

/** At most this many orders are read back at once. */
export const MAX_VERIFY = 10_000;

function verifyCount(raw: string): number {
  const count = positiveInt('--verify', raw);
  if (count > MAX_VERIFY) throw new ConfigError(`--verify: at most ${MAX_VERIFY} orders at once (got ${raw})`);
  return count;
}

function portNumber(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(`--port: must be a port number from 0 to 65535 (got "${raw}")`);
  return Number(raw);
}

function failureClass(raw: string): ReplayClass {
  const known = REPLAY_CLASSES.find((c) => c === raw);
  if (known === undefined) throw new ConfigError(`--class: must be ${REPLAY_CLASSES.slice(0, -1).join(', ')} or ${REPLAY_CLASSES.at(-1) ?? ''} (got "${raw}")`);
  return known;
}

function instant(name: string, raw: string): Date {
  const ms = parseInstant(raw);
  if (ms === undefined) throw new ConfigError(`${name}: ${INSTANT_RULE} (got "${raw}")`);
  return new Date(ms);
}

function road(raw: string): 'push' | 'sync' {
  if (raw !== 'push' && raw !== 'sync')
    throw new ConfigError(`--via: must be push (live purchases, dated when they arrive) or sync (the order-sync API, real dates) (got "${raw}")`);
  return raw;
}
