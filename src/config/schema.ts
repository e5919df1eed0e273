/**
 * The configuration schema: every key, its rule, its default. `loadConfig` (load.ts) feeds it the YAML
 * after `${VAR}` interpolation and turns its issues into one readable line per problem.
 *
 * Values may arrive from the environment as strings, so numeric fields accept numeric-looking strings
 * ("16") and id-like string fields accept plain numbers (`shopId: 12345`). Rule messages are written
 * to be read after `<dotted.key>: `, e.g. `delivery.concurrency: must be an integer from 1 to 1024`.
 */
import { validateDetailed } from 'node-cron';
import { ConfigError } from '../errors.js';
import { z } from 'zod';
import { isTimeZone, parseInstant } from '../dates.js';

export { isTimeZone };
import { usesOrderIds } from '../source/sql-text.js';
import { DEFAULT_PAGE_BYTES } from '../source/byte-budget.js';

export const DEFAULTS = {
  personaclick: { url: 'https://api.personaclick.com', stream: 'web', timeoutMs: 10_000 },
  delivery: {
    concurrency: 16,
    maxConcurrency: 256,
    maxRequestsPerSecond: 0,
    retries: 6,
    retryMinMs: 500,
    retryMaxMs: 30_000,
    checkpointMs: 2_000,
    shutdownDeadlineMs: 25_000,
    orderSyncPerMinute: 40,
  },
  source: { statementTimeoutMs: 60_000, poolSize: 2, applicationName: 'personaclick-sync', pageBytes: DEFAULT_PAGE_BYTES },
  state: { schema: 'personaclick_sync' },
  schedule: { timezone: 'UTC' },
  metrics: { host: '127.0.0.1' },
  notify: { lowVolumeRatio: 0.2, rejectedShareJump: 0.1, openFailures: 100 },
  orders: {
    pageSize: 1_000,
    settleSeconds: 5,
    startFrom: 'now',
    batchSize: 1_000,
    newPurchaseHours: 48,
    historyAfterDays: 60,
    closedStatuses: ['cancelled', 'canceled', 'refunded', 'returned'],
  },
  carts: { pageSize: 5_000 },
  wishlists: { pageSize: 5_000 },
  events: { pageSize: 1_000 },
  categories: { pageSize: 5_000, batchSize: 5_000 },
  products: { pageSize: 5_000, batchSize: 1_000, settleSeconds: 5 },
} as const;

// ───────────────────────────── field builders ─────────────────────────────

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** "16" → 16 (values from the environment are strings); anything else unchanged for the schema to judge. */
export function coerceNumber(value: unknown): unknown {
  if (typeof value === 'string' && NUMERIC.test(value.trim())) return Number(value.trim());
  return value;
}

/** "true"/"false" (any case) → boolean; anything else unchanged. */
export function coerceBoolean(value: unknown): unknown {
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return value;
}

/** '' → undefined: an optional key set from an empty variable (`${X:-}`) counts as not set. */
function emptyAsUnset(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/** 12345 → "12345" for id-like strings that YAML may have read as a number. */
function numberToString(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

function int(min: number, max?: number, note = '') {
  const rule = (max === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`) + note;
  return z.preprocess(
    coerceNumber,
    z.number({ error: rule }).refine((n) => Number.isInteger(n) && n >= min && (max === undefined || n <= max), { error: rule }),
  );
}

/** A number above 0 and at most `max`. */
function positiveNumber(max: number) {
  const rule = `must be a number above 0 and at most ${max}`;
  return z.preprocess(
    coerceNumber,
    z.number({ error: rule }).refine((n) => Number.isFinite(n) && n > 0 && n <= max, { error: rule }),
  );
}

/** delivery.concurrency: an integer, or 'auto' (any case) for the adaptive limit. */
function intOrAuto(min: number, max: number, note: string) {
  const rule = `must be an integer from ${min} to ${max}, or auto${note}`;
  const isValid = (v: unknown): v is number | 'auto' => v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim().toLowerCase() === 'auto' ? 'auto' : coerceNumber(v)),
    z.union([z.literal('auto'), z.number()], { error: rule }).refine(isValid, { error: rule }),
  );
}

function nonNegativeNumber() {
  const rule = 'must be a number of at least 0';
  return z.preprocess(
    coerceNumber,
    z.number({ error: rule }).refine((n) => Number.isFinite(n) && n >= 0, { error: rule }),
  );
}

function fraction() {
  const rule = 'must be a number from 0 to 1';
  return z.preprocess(
    coerceNumber,
    z.number({ error: rule }).refine((n) => Number.isFinite(n) && n >= 0 && n <= 1, { error: rule }),
  );
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  } catch {
    return false;
  }
}

const postgresUrl = z.string({ error: 'must be a postgres:// or postgresql:// URL' }).refine(isPostgresUrl, {
  error: 'must be a postgres:// or postgresql:// URL',
});

/** 'now', or an ISO date or datetime with real calendar values. */
export function isStartFrom(value: string): boolean {
  return value === 'now' || parseInstant(value) !== undefined;
}

/**
 * The instant a `startFrom` value stands for: `now` for 'now'; a date or a datetime without an offset is
 * read as UTC (the file says nothing else, and the host's zone must not matter).
 */
export function resolveStartFrom(value: string, now: Date = new Date()): Date {
  if (value === 'now') return now;
  const ms = parseInstant(value);
  if (ms === undefined) throw new RangeError(`not a startFrom value: ${value}`);
  return new Date(ms);
}

/**
 * Why a cron expression is not one node-cron runs (5 fields, or 6 with seconds first), or undefined: node-cron's own
 * validator decides, so the config never accepts what the scheduler would refuse (e.g. "0 0 31 2 *").
 */
export function cronProblem(expression: string): string | undefined {
  const check = validateDetailed(expression.trim());
  if (check.valid) return undefined;
  return `must be a cron expression node-cron runs (5 fields: minute hour day-of-month month day-of-week, or 6 with seconds first): ${check.errors.map((e) => e.message).join('; ')}`;
}

function sql(extra?: { test: (sql: string) => boolean; rule: string }) {
  let schema = z
    .string({ error: 'must be an SQL SELECT statement (a string)' })
    .refine((s) => s.trim() !== '', { error: 'must not be empty' })
    .refine((s) => !s.trim().endsWith(';'), { error: 'must not end with ";" (the connector wraps the query)' });
  if (extra) schema = schema.refine((s) => s.trim() === '' || extra.test(s), { error: extra.rule });
  return schema.transform((s) => s.trim());
}

const cron = z
  .preprocess(
    emptyAsUnset,
    z
      .string({ error: 'must be a cron expression (a string)' })
      .superRefine((value, ctx) => {
        const problem = cronProblem(value);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .transform((value) => value.trim().replace(/\s+/g, ' '))
      .optional(),
  )
  .optional();

// ───────────────────────────── sections ─────────────────────────────

/** Text of an identifier: no NUL, no control character (they break logs, SQL names and terminals). */
const NO_CONTROL = /^[^\p{Cc}]*$/u;

const personaclickShape = {
  url: z
    .string({ error: 'must be an http(s) URL' })
    .refine(isHttpUrl, { error: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .default(DEFAULTS.personaclick.url),
  shopId: z.preprocess(
    numberToString,
    z
      .string({ error: 'must be a non-empty string' })
      .trim()
      .min(1, { error: 'must be a non-empty string' })
      .regex(NO_CONTROL, { error: 'must not hold NUL or other control characters' }),
  ),
  shopSecret: z.preprocess((v) => numberToString(emptyAsUnset(v)), z.string({ error: 'must be a string' }).optional()).optional(),
  stream: z
    .preprocess(
      numberToString,
      z.string({ error: 'must be 1 to 16 letters or digits' }).regex(/^[A-Za-z0-9]{1,16}$/, { error: 'must be 1 to 16 letters or digits' }),
    )
    .default(DEFAULTS.personaclick.stream),
  timeoutMs: int(100, 120_000).default(DEFAULTS.personaclick.timeoutMs),
  /** With a shopSecret, an http:// URL to another machine is refused (the secret would travel in clear) unless this is true. */
  allowInsecureUrl: z.preprocess(coerceBoolean, z.boolean({ error: 'must be true or false' })).default(false),
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** An http:// URL to another machine, which a shop secret must not travel to in clear. */
function isInsecureRemote(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && !LOOPBACK.has(u.hostname) && !u.hostname.startsWith('127.');
  } catch {
    return false;
  }
}

const deliveryShape = {
  concurrency: intOrAuto(1, 1024, ' (adaptive, up to maxConcurrency)').default(DEFAULTS.delivery.concurrency),
  maxConcurrency: int(1, 1024, ' (the ceiling of concurrency: auto; unused otherwise)').default(DEFAULTS.delivery.maxConcurrency),
  maxRequestsPerSecond: nonNegativeNumber().default(DEFAULTS.delivery.maxRequestsPerSecond),
  retries: int(0, 20).default(DEFAULTS.delivery.retries),
  retryMinMs: int(1, 60_000).default(DEFAULTS.delivery.retryMinMs),
  retryMaxMs: int(1, 600_000).default(DEFAULTS.delivery.retryMaxMs),
  checkpointMs: int(100, 60_000).default(DEFAULTS.delivery.checkpointMs),
  shutdownDeadlineMs: int(1_000, 600_000).default(DEFAULTS.delivery.shutdownDeadlineMs),
  orderSyncPerMinute: positiveNumber(60_000).default(DEFAULTS.delivery.orderSyncPerMinute),
};

const sourceShape = {
  url: postgresUrl,
  statementTimeoutMs: int(0, 86_400_000).default(DEFAULTS.source.statementTimeoutMs),
  poolSize: int(1, 20).default(DEFAULTS.source.poolSize),
  /** The most row text one read of a model may bring (a page stops there; an order with its lines or a cart larger is filed, never read). */
  pageBytes: int(65_536, 1_073_741_824, ' (bytes)').default(DEFAULTS.source.pageBytes),
  applicationName: z
    .preprocess(numberToString, z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }))
    .default(DEFAULTS.source.applicationName)
    .refine((name) => NO_CONTROL.test(name), { error: 'must not hold NUL or other control characters' }),
  timezone: z
    .preprocess(
      emptyAsUnset,
      z
        .string({ error: 'must be an IANA time zone name such as Europe/Berlin' })
        .refine(isTimeZone, { error: 'must be an IANA time zone name such as Europe/Berlin' })
        .optional(),
    )
    .optional(),
  /**
   * Runs refuse a source role that is a superuser or may write the shop's tables (docs/security.md gives the
   * statements for a read-only role); true lets them run anyway, with a warning each time.
   */
  allowPrivilegedRole: z.preprocess(coerceBoolean, z.boolean({ error: 'must be true or false' })).default(false),
};

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** Schemas of the system: pg_catalog, pg_toast, … (Postgres reserves every pg_ name) and information_schema. */
const isSystemSchema = (name: string): boolean => name.startsWith('pg_') || name === 'information_schema';
const stateShape = {
  url: z.preprocess(emptyAsUnset, postgresUrl.optional()).optional(),
  schema: z
    .string({ error: 'must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)' })
    .regex(IDENTIFIER, { error: 'must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)' })
    .refine((name) => !isSystemSchema(name), { error: 'must not be a system schema (pg_*, information_schema): the connector creates its own tables there' })
    .default(DEFAULTS.state.schema),
};

const scheduleShape = {
  timezone: z
    .string({ error: 'must be an IANA time zone name such as Europe/Berlin' })
    .refine(isTimeZone, { error: 'must be an IANA time zone name such as Europe/Berlin' })
    .default(DEFAULTS.schedule.timezone),
};

const optionalHttpUrl = z
  .preprocess(emptyAsUnset, z.string({ error: 'must be an http(s) URL' }).refine(isHttpUrl, { error: 'must be an http(s) URL' }).optional())
  .optional();

const metricsShape = {
  /** A Pushgateway: each run from the command line pushes its metrics there when it ends. Not set: no push. */
  pushgateway: optionalHttpUrl,
  /** Port on which `schedule` serves /metrics and /healthz (0: any free port, logged). Not set: not served. */
  port: z.preprocess(emptyAsUnset, int(0, 65_535).optional()).optional(),
  /**
   * The address `schedule`'s /metrics and /healthz listen on: 127.0.0.1 by default (this machine only); 0.0.0.0 or
   * :: for every interface (a Prometheus on another host), or one interface's address.
   */
  host: z
    .string({ error: 'must be an IP address or a host name (127.0.0.1, 0.0.0.0, ::, localhost)' })
    .regex(/^[A-Za-z0-9.:_-]{1,253}$/, { error: 'must be an IP address or a host name (127.0.0.1, 0.0.0.0, ::, localhost)' })
    .default(DEFAULTS.metrics.host),
};

const notifyShape = {
  /** Slack-compatible incoming webhook: one message per change of a job's state. Not set: no messages. */
  webhook: optionalHttpUrl,
  /** Volume alert when a run reads less than this share of what the same weekday's runs usually read. */
  lowVolumeRatio: fraction().default(DEFAULTS.notify.lowVolumeRatio),
  /** Volume alert when the share of rejected requests is this much above the usual share. */
  rejectedShareJump: fraction().default(DEFAULTS.notify.rejectedShareJump),
  /** A job with at least this many open failures crosses the failure threshold; 0 = no such threshold. */
  openFailures: int(0).default(DEFAULTS.notify.openFailures),
};

const pageSize = (def: number) => int(1, 50_000).default(def);

/** A list of the shop's own status names. */
const statusList = (example: string) =>
  z.array(
    z.preprocess(numberToString, z.string({ error: 'must be a list of status names (strings)' }).min(1, { error: 'must be a list of status names (strings)' })),
    {
      error: `must be a list of status names (strings), ${example}`,
    },
  );

const ordersShape = {
  query: sql(),
  itemsQuery: sql({ test: usesOrderIds, rule: 'must use the named parameter :order_ids (the page of order ids), outside string literals and comments' }),
  schedule: cron,
  pageSize: pageSize(DEFAULTS.orders.pageSize),
  settleSeconds: int(0, 604_800).default(DEFAULTS.orders.settleSeconds),
  startFrom: z
    .string({ error: "must be 'now' or an ISO date or datetime (2024-01-31, 2024-01-31T00:00:00Z)" })
    .refine(isStartFrom, { error: "must be 'now' or an ISO date or datetime (2024-01-31, 2024-01-31T00:00:00Z)" })
    .default(DEFAULTS.orders.startFrom),
  batchSize: int(1, 5_000).default(DEFAULTS.orders.batchSize),
  skipStatuses: statusList('e.g. [draft, cancelled_unpaid]').default([]),
  /**
   * An order placed within this many hours is a new purchase: sent live (`/push`) when it has a did and a status that
   * makes an order. Older ones found for the first time go through the order-sync API with their real date, and
   * `backfill --via push` refuses them without --old-orders-as-new.
   */
  newPurchaseHours: int(1, 8_760).default(DEFAULTS.orders.newPurchaseHours),
  /** Orders placed more than this many days ago are history: the live sync tells neither them nor their status changes. */
  historyAfterDays: int(1, 36_500).default(DEFAULTS.orders.historyAfterDays),
  /** Statuses that mean the order was cancelled or refunded as a whole: never a live purchase. */
  closedStatuses: statusList('e.g. [cancelled, refunded]').default([...DEFAULTS.orders.closedStatuses]),
};

const snapshotShape = (def: number) => ({ query: sql(), schedule: cron, pageSize: pageSize(def) });

const flag = (def: boolean) => z.preprocess(coerceBoolean, z.boolean({ error: 'must be true or false' })).default(def);

/** The catalogue's categories model: rows of id, name, parent (null at the top), optional url, alias. */
const categoriesShape = {
  ...snapshotShape(DEFAULTS.categories.pageSize),
  /** Categories a request (the docs recommend at most 5000 items a request). */
  batchSize: int(1, 5_000).default(DEFAULTS.categories.batchSize),
  /** Send the whole tree with the tree-replacing POST (every category not in it is removed) instead of add/update + delete. */
  replaceTree: flag(false),
};

/** The catalogue's products model: one row per product with the documented fields and updated_at. */
const productsShape = {
  ...snapshotShape(DEFAULTS.products.pageSize),
  /** Products a request (the docs recommend at most 5000). */
  batchSize: int(1, 5_000).default(DEFAULTS.products.batchSize),
  /** The shop has zero prices enabled (an administrator's setting on PersonaClick's side): price 0 is then allowed. */
  zeroPrices: flag(false),
  /** The currency of a product whose row has no currency column (e.g. RUB, USD). */
  currency: z.preprocess(
    emptyAsUnset,
    z.string({ error: 'must be a currency code such as USD' }).min(1, { error: 'must be a currency code such as USD' }).optional(),
  ),
  /** sync products: rows changed up to this many seconds ago are left for the next run (commits in flight). */
  settleSeconds: int(0, 604_800).default(DEFAULTS.products.settleSeconds),
};

const jobsShape = {
  orders: z.strictObject(ordersShape).optional(),
  carts: z.strictObject(snapshotShape(DEFAULTS.carts.pageSize)).optional(),
  wishlists: z.strictObject(snapshotShape(DEFAULTS.wishlists.pageSize)).optional(),
  events: z.strictObject(snapshotShape(DEFAULTS.events.pageSize)).optional(),
  categories: z.strictObject(categoriesShape).optional(),
  products: z.strictObject(productsShape).optional(),
};

const rootShape = {
  personaclick: z.strictObject(personaclickShape).superRefine((p, ctx) => {
    if (p.shopSecret !== undefined && p.shopSecret !== '' && !p.allowInsecureUrl && isInsecureRemote(p.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'must be https:// when shopSecret is set (the secret travels in the requests); http:// only to this machine, or with allowInsecureUrl: true',
      });
    }
  }),
  delivery: z
    .strictObject(deliveryShape)
    .refine((d) => d.retryMaxMs >= d.retryMinMs, {
      path: ['retryMaxMs'],
      error: (issue) => {
        const min = isRecord(issue.input) ? issue.input.retryMinMs : undefined;
        return `must be an integer of at least retryMinMs${typeof min === 'number' ? ` (${min})` : ''}`;
      },
      // Checked even when other delivery keys are wrong, as long as both retry bounds are valid.
      when: (payload) =>
        isRecord(payload.value) &&
        typeof payload.value.retryMinMs === 'number' &&
        typeof payload.value.retryMaxMs === 'number' &&
        !payload.issues.some((i) => i.path?.[0] === 'retryMinMs' || i.path?.[0] === 'retryMaxMs'),
    })
    .prefault({}),
  source: z.strictObject(sourceShape),
  state: z.strictObject(stateShape).prefault({}),
  schedule: z.strictObject(scheduleShape).prefault({}),
  metrics: z.strictObject(metricsShape).prefault({}),
  notify: z.strictObject(notifyShape).prefault({}),
  jobs: z.strictObject(jobsShape).refine((j) => Object.values(j).some((job) => job !== undefined), {
    error: `must define at least one job: ${Object.keys(jobsShape).join(', ')}`,
  }),
};

/** The whole file. Output is the resolved `Config` (defaults applied, state.url filled in). */
export const configSchema = z.strictObject(rootShape).transform((c) => ({ ...c, state: { url: c.state.url ?? c.source.url, schema: c.state.schema } }));

// ───────────────────────────── resolved types (what the schema gives) ─────────────────────────────

export type Config = z.output<typeof configSchema>;
export type PersonaClickConfig = Config['personaclick'];
export type DeliveryConfig = Config['delivery'];
export type SourceConfig = Config['source'];
export type StateConfig = Config['state'];
export type ScheduleConfig = Config['schedule'];
export type MetricsConfig = Config['metrics'];
export type NotifyConfig = Config['notify'];
export type JobsConfig = Config['jobs'];
export type JobName = keyof JobsConfig;
export type OrdersJobConfig = NonNullable<JobsConfig['orders']>;
export type SnapshotJobConfig = NonNullable<JobsConfig['carts']>;
export type EventsJobConfig = NonNullable<JobsConfig['events']>;
export type JobConfigBase = SnapshotJobConfig;
export type CategoriesJobConfig = NonNullable<JobsConfig['categories']>;
export type ProductsJobConfig = NonNullable<JobsConfig['products']>;

/** The keys each mapping accepts, by dotted path ('' is the top level): for "did you mean" hints. */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(rootShape),
  personaclick: Object.keys(personaclickShape),
  delivery: Object.keys(deliveryShape),
  source: Object.keys(sourceShape),
  state: Object.keys(stateShape),
  schedule: Object.keys(scheduleShape),
  metrics: Object.keys(metricsShape),
  notify: Object.keys(notifyShape),
  jobs: Object.keys(jobsShape),
  'jobs.orders': Object.keys(ordersShape),
  'jobs.carts': Object.keys(snapshotShape(0)),
  'jobs.wishlists': Object.keys(snapshotShape(0)),
  'jobs.events': Object.keys(snapshotShape(0)),
  'jobs.categories': Object.keys(categoriesShape),
  'jobs.products': Object.keys(productsShape),
};

/** A job's section, or ConfigError (exit 2) naming it when the config has none. */
export function requireJob<N extends JobName>(config: Config, name: N): NonNullable<JobsConfig[N]> {
  const job = config.jobs[name];
  if (job === undefined) throw new ConfigError(`No ${name} job in the configuration (jobs.${name})`);
  return job;
}
