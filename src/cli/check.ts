/**
 * `check`: before a first run, try everything a run needs without sending anything: the source database answers on a
 * read-only session and can see open transactions, the state schema is migrated, every configured SQL model runs and
 * has its columns, and indexes serve the orders the sync reads the models in. A failed check is a finding, never a
 * crash; no finding ever holds a password.
 */
import type { Writable } from 'node:stream';
import knexFactory from 'knex';
import { redactUrl, secretsOf, type Config } from '../config/index.js';
import { toError } from '../errors.js';
import { scrub } from '../log.js';
import { openSource, type Source } from '../source/db.js';
import { bindOrderIds } from '../source/orders.js';
import { fromKnex, type StateDb } from '../state/db.js';
import { pendingMigrations } from '../state/migrate.js';

export interface CheckFinding {
  level: 'ok' | 'warn' | 'error';
  /** What was checked: 'source', 'source.pg_stat_activity', 'state', 'jobs.orders.query', 'jobs.orders.itemsQuery', … */
  subject: string;
  message: string;
}

export interface CheckOptions {
  /** How long the first answer of each database may take (a host that drops packets would otherwise hang the check). */
  connectTimeoutMs?: number;
}

type Level = CheckFinding['level'];
type Add = (level: Level, subject: string, message: string) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
/** Below this many estimated rows the planner may sort even where an index exists: the index warning says so. */
const SMALL_TABLE_ROWS = 10_000;

// ───────────────────────────── the models' columns (DESIGN.md, "The operator's SQL models") ─────────────────────────────

interface ModelSpec {
  subject: string;
  /** What the rows are, for messages: "one row per order". */
  shape: string;
  /** Required column → why it is needed. */
  required: Readonly<Record<string, string>>;
  /** Recommended column → what is lost without it (a warn when absent). */
  recommended?: Readonly<Record<string, string>>;
  /** Further columns the connector reads. */
  optional: readonly string[];
}

const ENVELOPE = ['seance', 'stream', 'segment', 'referer', 'source_from', 'source_code', 'source_at'] as const;
const ORDER_FIELDS = [
  'order_price', 'order_cash', 'order_bonuses', 'order_delivery', 'order_discount', 'promocode', 'delivery_address',
  'delivery_type', 'payment_type', 'email', 'phone', 'tax_free', 'custom',
] as const;

const ORDERS: ModelSpec = {
  subject: 'jobs.orders.query',
  shape: 'one row per order',
  required: {
    order_id: 'the order id, key of the delivered ledger and of the keyset cursor',
    updated_at: 'when the order last changed or became sendable, set by the database; pages are read in (updated_at, order_id) order',
    did: 'the device id the purchase is sent for',
  },
  optional: ['ordered_at', ...ENVELOPE, ...ORDER_FIELDS],
};

const ITEMS: ModelSpec = {
  subject: 'jobs.orders.itemsQuery',
  shape: 'one row per order line, for the orders bound to :order_ids',
  required: {
    order_id: 'the order the line belongs to',
    id: 'the product id of the line',
    amount: 'how many of the product were bought',
  },
  recommended: { price: 'the unit price of the line: without it purchases go out without item prices' },
  optional: ['line_id', 'fashion_size'],
};

const CARTS: ModelSpec = {
  subject: 'jobs.carts.query',
  shape: 'one row per cart line',
  required: {
    did: 'the device whose cart holds the line; the snapshot is read sorted by did',
    id: 'the product id of the line',
    quantity: 'how many of the product are in the cart',
  },
  optional: [...ENVELOPE],
};

const WISHLISTS: ModelSpec = {
  subject: 'jobs.wishlists.query',
  shape: 'one row per wishlist line',
  required: {
    did: 'the device whose wishlist holds the line; the snapshot is read sorted by did',
    id: 'the product id of the line',
  },
  optional: [...ENVELOPE],
};

const EVENTS: ModelSpec = {
  subject: 'jobs.events.query',
  shape: 'one row per request',
  required: { event_key: 'a unique key per row, used by the delivered ledger and the keyset pages' },
  optional: [
    'endpoint', 'event', 'did', 'items', 'full_cart', 'full_wish', 'category_id', 'search_query', 'recommended_by',
    'recommended_code', 'category', 'label', 'value', 'code', 'type', 'order_id', 'ordered_at', ...ENVELOPE, ...ORDER_FIELDS,
  ],
};

// ───────────────────────────── entry points ─────────────────────────────

/** Every check, in order: source, state, then each configured model. Never throws for a failed check. */
export async function runChecks(config: Config, options: CheckOptions = {}): Promise<CheckFinding[]> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const secrets = secretsOf(config);
  const collector = () => {
    const list: CheckFinding[] = [];
    const add: Add = (level, subject, message) => list.push({ level, subject, message: oneLine(scrub(message, secrets)) });
    return { list, add };
  };
  const source = collector();
  const models = collector();
  const state = collector();
  await Promise.all([
    checkSource(config, source.add, models.add, timeoutMs).catch((caught: unknown) => source.add('error', 'source', `check failed: ${errorText(caught)}`)),
    checkState(config, state.add, timeoutMs).catch((caught: unknown) => state.add('error', 'state', `check failed: ${errorText(caught)}`)),
  ]);
  return [...source.list, ...state.list, ...models.list];
}

/** One line per finding: the level padded to a column, the subject, the message. */
export function formatFindings(findings: CheckFinding[]): string {
  return findings.map((f) => `${f.level.padEnd(6)}${f.subject}: ${f.message}`).join('\n');
}

/** Run the checks and print them (a table, or `{ok, errors, warnings, findings}` as JSON). 0 without an error finding, else 1. */
export async function checkCommand(config: Config, io: { stdout: Writable }, json: boolean, options: CheckOptions = {}): Promise<number> {
  const findings = await runChecks(config, options);
  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.filter((f) => f.level === 'warn').length;
  if (json) {
    io.stdout.write(`${JSON.stringify({ ok: errors === 0, errors, warnings, findings }, null, 2)}\n`);
  } else {
    const summary = errors > 0 ? `${errors} error(s), ${warnings} warning(s)` : warnings > 0 ? `no errors, ${warnings} warning(s)` : 'all checks passed';
    io.stdout.write(`${formatFindings(findings)}\n\n${summary}\n`);
  }
  return errors === 0 ? 0 : 1;
}

// ───────────────────────────── source ─────────────────────────────

async function checkSource(config: Config, add: Add, addModel: Add, timeoutMs: number): Promise<void> {
  const where = describeUrl(config.source.url);
  const source = openSource({
    url: config.source.url,
    poolSize: 1,
    statementTimeoutMs: config.source.statementTimeoutMs,
    applicationName: `${config.source.applicationName}:check`,
  });
  try {
    let session: { version: string; readOnly: string; recovery: boolean };
    try {
      const rows = await withTimeout(
        source.query<{ version: string; read_only: string; recovery: boolean }>(
          `SELECT current_setting('server_version') AS version, current_setting('default_transaction_read_only') AS read_only, pg_is_in_recovery() AS recovery`,
        ),
        timeoutMs,
        `no answer within ${timeoutMs / 1000} s`,
      );
      const row = rows[0];
      if (!row) throw new Error('the version query returned no row');
      session = { version: row.version.split(' ')[0] ?? row.version, readOnly: row.read_only, recovery: row.recovery };
    } catch (caught) {
      add('error', 'source', `cannot query the shop database ${where}: ${errorText(caught)}`);
      addModel('warn', 'jobs', 'models not checked: the source database did not answer');
      return;
    }
    const server = `${where} (PostgreSQL ${session.version}${session.recovery ? ', a standby' : ''})`;
    if (session.readOnly !== 'on') {
      add(
        'error',
        'source',
        `connected to ${server}, but the session is not read-only (default_transaction_read_only is ${session.readOnly}): ` +
          'the connection options did not reach the server (a connection pooler dropping startup parameters?)',
      );
      addModel('warn', 'jobs', 'models not checked: check runs operator SQL only on a read-only session');
      return;
    }
    add('ok', 'source', `connected to ${server}, read-only session`);
    if (config.jobs.orders) await checkOpenTransactions(source, session.recovery, add);
    await checkModels(config, source, addModel);
  } finally {
    await withTimeout(source.close(), 5_000, 'close').catch(() => undefined);
  }
}

/** Whether the orders upper bound can see other sessions' open transactions (see `upperBound` in source/orders.ts). */
async function checkOpenTransactions(source: Source, standby: boolean, add: Add): Promise<void> {
  const subject = 'source.pg_stat_activity';
  const fallback = 'the upper bound of each orders run falls back to the settle lag alone, so an order committed more than settleSeconds after its updated_at can be passed by the watermark';
  try {
    // pg_stat_activity shows xact_start of other roles' sessions only to members of pg_read_all_stats (and superusers).
    const rows = await source.query<{ role: string; all_stats: boolean | null }>(
      `SELECT current_user AS role,
              CASE WHEN to_regrole('pg_read_all_stats') IS NULL THEN NULL ELSE pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') END AS all_stats,
              (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS sessions`,
    );
    const row = rows[0];
    if (!row) throw new Error('pg_stat_activity query returned no row');
    if (standby) {
      add('warn', subject, `the source is a standby: its pg_stat_activity does not show the primary's open transactions, so ${fallback}`);
      return;
    }
    if (row.all_stats === true) {
      add('ok', subject, `role ${row.role} sees every session's xact_start: each orders run stops before the oldest open transaction`);
      return;
    }
    add(
      'warn',
      subject,
      `role ${row.role} sees xact_start only of its own sessions: ${fallback}; GRANT pg_read_all_stats TO ${quoteIdent(row.role)} lets it see open transactions`,
    );
  } catch (caught) {
    add('warn', subject, `cannot read pg_stat_activity (${errorText(caught)}): ${fallback}`);
  }
}

// ───────────────────────────── models ─────────────────────────────

async function checkModels(config: Config, source: Source, add: Add): Promise<void> {
  const { orders, carts, wishlists, events } = config.jobs;
  if (orders) {
    const columns = await checkColumns(source, ORDERS, orders.query, [], add);
    if (columns && columns.has('order_id') && columns.has('updated_at')) await checkOrdersKeyset(source, orders.query, orders.pageSize, add);
    await checkColumns(source, ITEMS, bindOrderIds(orders.itemsQuery), [[]], add);
  }
  for (const [spec, job] of [[CARTS, carts], [WISHLISTS, wishlists]] as const) {
    if (!job) continue;
    const columns = await checkColumns(source, spec, job.query, [], add);
    if (columns && columns.has('did')) await checkSnapshotOrder(source, spec.subject, job.query, job.pageSize, add);
  }
  if (events) await checkColumns(source, EVENTS, events.query, [], add);
}

/**
 * Run the model with LIMIT 0 and judge its columns. The LIMIT 0 result is left-joined to one row so that the answer
 * carries the column names (as keys of an all-null row). Returns the columns, or undefined when the model does not run.
 */
async function checkColumns(source: Source, spec: ModelSpec, query: string, params: unknown[], add: Add): Promise<Set<string> | undefined> {
  let columns: Set<string>;
  try {
    const rows = await source.query(
      `SELECT q.* FROM (SELECT 1) AS "__pcs_one" LEFT JOIN (
SELECT * FROM (
${query}
) q LIMIT 0
) AS q ON true`,
      params,
    );
    columns = new Set(Object.keys(rows[0] ?? {}));
  } catch (caught) {
    add('error', spec.subject, `does not run: ${errorText(caught)}`);
    return undefined;
  }
  const required = Object.keys(spec.required);
  const known = new Set([...required, ...Object.keys(spec.recommended ?? {}), ...spec.optional]);
  let problems = 0;
  for (const column of required) {
    if (columns.has(column)) continue;
    problems++;
    const near = [...columns].find((c) => c.toLowerCase() === column);
    add(
      'error',
      spec.subject,
      `missing required column ${column}: ${spec.required[column] ?? ''} (rule: ${spec.shape} with ${required.join(', ')})` +
        (near === undefined ? '' : `; the model has "${near}", which differs only in case: alias it AS ${column}`),
    );
  }
  for (const [column, why] of Object.entries(spec.recommended ?? {})) {
    if (columns.has(column)) continue;
    problems++;
    add('warn', spec.subject, `has no ${column} column (recommended): ${why}`);
  }
  const unknown = [...columns].filter((c) => !known.has(c));
  if (unknown.length > 0) {
    problems++;
    add('warn', spec.subject, `unknown columns are ignored: ${unknown.join(', ')} (check their spelling against the model's columns)`);
  }
  if (problems === 0) add('ok', spec.subject, `runs and has its columns: ${[...columns].join(', ')}`);
  return columns;
}

/** EXPLAIN the orders page query as `ordersPage` runs it (a cursor in the past, a bound of now, a page of pageSize). */
async function checkOrdersKeyset(source: Source, query: string, pageSize: number, add: Add): Promise<void> {
  const subject = ORDERS.subject;
  const after = new Date(Date.now() - 24 * 3_600_000).toISOString();
  const before = new Date().toISOString();
  let plan: PlanNode;
  try {
    // A real order id of the right type for the cursor key (a cursor past the first page compares (updated_at, order_id)).
    const sample = await source.query<{ key: string }>(`SELECT q.order_id::text AS key FROM (
${query}
) AS q WHERE q.order_id IS NOT NULL LIMIT 1`);
    const key = sample[0]?.key;
    const params: unknown[] = key === undefined ? [after, before, pageSize] : [after, before, key, pageSize];
    const where = key === undefined ? 'q.updated_at >= $1' : '(q.updated_at, q.order_id) > ($1, $3)';
    // The same SQL as ordersPage in src/source/orders.ts.
    plan = await explain(
      source,
      `SELECT q.*, to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "__pcs_ts", q.order_id::text AS "__pcs_key"
      FROM (
${query}
) AS q
     WHERE ${where} AND q.updated_at < $2
     ORDER BY q.updated_at, q.order_id
     LIMIT $${params.length}`,
      params,
    );
  } catch (caught) {
    add('error', subject, `the page query the sync runs on this model fails: ${errorText(caught)}`);
    return;
  }
  const order = orderingOf(plan);
  if (order.kind === 'ordered') {
    const index = findNode(order.node, (n) => n.indexName !== undefined);
    add('ok', subject, `pages are read in (updated_at, order_id) order${index ? ` from index ${index.indexName ?? ''}${index.relation ? ` on ${index.relation}` : ''}` : ''}, without a sort`);
    return;
  }
  const target = sortTarget(order.node);
  if (order.kind === 'incremental') {
    add('ok', subject, `an index serves updated_at and each group of equal updated_at is sorted by order_id (incremental sort)${target.table ? ` on ${target.table}` : ''}`);
    return;
  }
  const table = target.table ?? '<table>';
  const columns = target.columns ?? '(updated_at, id)';
  add(
    'warn',
    subject,
    `no index serves ORDER BY updated_at, order_id: create one, e.g. CREATE INDEX ON ${table} ${columns}` +
      `; the plan sorts ${scanText(order.node)} for every page` +
      smallNote(order.node),
  );
}

/** EXPLAIN the snapshot page query as `snapshotDevices` runs it past its first page; a sort is only a hint. */
async function checkSnapshotOrder(source: Source, subject: string, query: string, pageSize: number, add: Add): Promise<void> {
  let plan: PlanNode;
  try {
    // The same SQL as snapshotDevices in src/source/snapshot.ts (a page after the first).
    plan = await explain(
      source,
      `SELECT q.*, q.did::text AS "__pcs_did" FROM (
${query}
) AS q WHERE q.did IS NOT NULL AND q.did::text COLLATE "C" > $2 ORDER BY q.did::text COLLATE "C" LIMIT $1`,
      [pageSize, ''],
    );
  } catch (caught) {
    add('error', subject, `the page query the sync runs on this model fails: ${errorText(caught)}`);
    return;
  }
  const order = orderingOf(plan);
  if (order.kind !== 'sort') {
    add('ok', subject, 'pages are read in did::text COLLATE "C" order without a full sort');
    return;
  }
  const target = sortTarget(order.node);
  add(
    'warn',
    subject,
    `hint: no index serves ORDER BY did::text COLLATE "C": each snapshot page sorts ${scanText(order.node)}` +
      `; an index may help, e.g. CREATE INDEX ON ${target.table ?? '<table>'} ${target.columns ?? '(device_id COLLATE "C")'}` +
      smallNote(order.node),
  );
}

// ───────────────────────────── plans ─────────────────────────────

interface PlanNode {
  type: string;
  children: PlanNode[];
  sortKey: string[];
  relation?: string | undefined;
  alias?: string | undefined;
  indexName?: string | undefined;
  rows: number;
}

async function explain(source: Source, sql: string, params: unknown[]): Promise<PlanNode> {
  const rows = await source.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`, params);
  let raw: unknown = rows[0]?.['QUERY PLAN'];
  if (typeof raw === 'string') raw = JSON.parse(raw) as unknown;
  const top: unknown = Array.isArray(raw) ? (raw as unknown[])[0] : undefined;
  const plan = isRecord(top) ? toPlanNode(top.Plan) : undefined;
  if (!plan) throw new Error('EXPLAIN gave no plan');
  return plan;
}

function toPlanNode(value: unknown): PlanNode | undefined {
  if (!isRecord(value)) return undefined;
  const text = (key: string): string | undefined => (typeof value[key] === 'string' ? value[key] : undefined);
  const relationName = text('Relation Name');
  const schema = text('Schema');
  const children = Array.isArray(value.Plans) ? (value.Plans as unknown[]).map(toPlanNode).filter((n): n is PlanNode => n !== undefined) : [];
  const sortKey = Array.isArray(value['Sort Key']) ? (value['Sort Key'] as unknown[]).filter((k): k is string => typeof k === 'string') : [];
  const rows = typeof value['Plan Rows'] === 'number' ? value['Plan Rows'] : 0;
  return {
    type: text('Node Type') ?? '?',
    children,
    sortKey,
    relation: relationName === undefined ? undefined : schema === undefined ? relationName : `${schema}.${relationName}`,
    alias: text('Alias'),
    indexName: text('Index Name'),
    rows,
  };
}

/** Nodes that keep their input's order: the ordering of the query is decided below them. */
const ORDER_PRESERVING = new Set(['Limit', 'Result', 'Subquery Scan', 'Gather Merge', 'Unique', 'ProjectSet', 'Materialize', 'LockRows']);

/** What produces the query's order: a full Sort, an Incremental Sort over a presorted prefix, or an ordered path (an index). */
function orderingOf(plan: PlanNode): { kind: 'sort' | 'incremental' | 'ordered'; node: PlanNode } {
  let node = plan;
  for (;;) {
    if (node.type === 'Sort') return { kind: 'sort', node };
    if (node.type === 'Incremental Sort') return { kind: 'incremental', node };
    const child = node.children[0];
    if (!ORDER_PRESERVING.has(node.type) || !child) return { kind: 'ordered', node };
    node = child;
  }
}

function findNode(node: PlanNode, test: (n: PlanNode) => boolean): PlanNode | undefined {
  if (test(node)) return node;
  for (const child of node.children) {
    const found = findNode(child, test);
    if (found) return found;
  }
  return undefined;
}

interface SortKeyPart {
  alias: string;
  column: string;
  cast?: string | undefined;
  collation?: string | undefined;
}

const IDENT = String.raw`(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")`;
/** `o.updated_at`, `((o.id)::text)`, `c.device_id COLLATE "C"`, `((c.device_id)::text) COLLATE "C"` as EXPLAIN VERBOSE writes sort keys. */
const SORT_KEY = new RegExp(String.raw`^\(*(${IDENT})\.(${IDENT})\)*(?:::([\w ]+?)\)*)?(?:\s+COLLATE\s+(${IDENT}))?$`);

function parseSortKey(key: string): SortKeyPart | undefined {
  const m = SORT_KEY.exec(key.trim());
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { alias: m[1], column: m[2], cast: m[3]?.trim(), collation: m[4] };
}

/** The table the sort keys come from and index columns that would serve them, where the keys are plain columns of one table. */
function sortTarget(sort: PlanNode): { table?: string | undefined; columns?: string | undefined } {
  const parts = sort.sortKey.map(parseSortKey);
  const first = parts[0];
  const scans = (alias?: string) => {
    const found: PlanNode[] = [];
    const walk = (n: PlanNode) => {
      if (n.relation !== undefined && (alias === undefined || n.alias === alias)) found.push(n);
      n.children.forEach(walk);
    };
    walk(sort);
    return found;
  };
  const byAlias = first ? scans(first.alias)[0] : undefined;
  const all = scans();
  const table = byAlias?.relation ?? (all.length === 1 ? all[0]?.relation : undefined);
  if (!first || !byAlias || parts.some((p) => p === undefined || p.alias !== first.alias)) return { table };
  const columns = parts
    .filter((p): p is SortKeyPart => p !== undefined)
    .map((p) => {
      const base = p.cast === undefined ? p.column : `(${p.column}::${p.cast})`;
      return p.collation === undefined ? base : `${base} COLLATE ${p.collation}`;
    });
  return { table, columns: `(${columns.join(', ')})` };
}

/** "a sequential scan of shop.orders (~20000 rows)", "a hash join (~80000 rows)". */
function scanText(sort: PlanNode): string {
  const input = sort.children[0];
  if (!input) return 'its input';
  const kind = input.type === 'Seq Scan' ? 'a sequential scan' : `a ${input.type.toLowerCase()}`;
  return `${kind}${input.relation ? ` of ${input.relation}` : ''} (~${Math.round(input.rows)} rows)`;
}

function smallNote(sort: PlanNode): string {
  const rows = sort.children[0]?.rows ?? sort.rows;
  return rows < SMALL_TABLE_ROWS ? ` (the planner expects only ~${Math.round(rows)} rows and may sort that few even where an index exists; check again when the table has grown)` : '';
}

// ───────────────────────────── state ─────────────────────────────

async function checkState(config: Config, add: Add, timeoutMs: number): Promise<void> {
  const where = describeUrl(config.state.url);
  const schema = config.state.schema;
  const db = openQuietStateDb(config.state.url, schema, `${config.source.applicationName}:check`);
  try {
    let server: string;
    try {
      const result = await withTimeout(
        db.knex.raw<{ rows: { version: string; recovery: boolean; read_only: string }[] }>(
          `SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS recovery, current_setting('default_transaction_read_only') AS read_only`,
        ),
        timeoutMs,
        `no answer within ${timeoutMs / 1000} s`,
      );
      const row = result.rows[0];
      if (!row) throw new Error('the version query returned no row');
      if (row.recovery || row.read_only === 'on') {
        add('error', 'state', `the state database ${where} is read-only${row.recovery ? ' (a standby)' : ''}: the connector writes its watermarks, ledger and failures there`);
        return;
      }
      server = `${where} (PostgreSQL ${row.version.split(' ')[0] ?? row.version})`;
    } catch (caught) {
      add('error', 'state', `cannot query the state database ${where}: ${errorText(caught)}`);
      return;
    }
    let pending: string[];
    try {
      pending = await pendingMigrations(db);
    } catch (caught) {
      add('error', 'state', `connected to ${server}, but cannot read the migrations of schema ${schema}: ${errorText(caught)}`);
      return;
    }
    if (pending.length === 0) add('ok', 'state', `connected to ${server}, schema ${schema} is migrated`);
    else add('warn', 'state', `connected to ${server}, but schema ${schema} is not migrated (pending: ${pending.join(', ')}): run personaclick-sync migrate`);
  } finally {
    await withTimeout(db.close(), 5_000, 'close').catch(() => undefined);
  }
}

/**
 * As `openStateDb`, but knex's own warnings ("Acquire connection error: …") stay quiet: knex writes them to stdout,
 * where they would break `check --json`, and the finding already carries the error.
 */
function openQuietStateDb(url: string, schema: string, applicationName: string): StateDb {
  const quiet = () => undefined;
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: applicationName },
    pool: { min: 0, max: 1 },
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet },
  });
  return fromKnex(knex, schema);
}

// ───────────────────────────── helpers ─────────────────────────────

/** `user@host:port/database` of a postgres URL, never its password; text that is not a URL comes back redacted. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = decodeURIComponent(u.username);
    const host = u.hostname !== '' ? u.hostname : (u.searchParams.get('host') ?? 'localhost');
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return `${user === '' ? '' : `${user}@`}${host}:${u.port === '' ? '5432' : u.port}/${database === '' ? user : database}`;
  } catch {
    return redactUrl(url);
  }
}

/** An error's message, with the database's hint when it gave one. */
function errorText(caught: unknown): string {
  const error = toError(caught);
  const hint = (error as { hint?: unknown }).hint;
  const code = (error as { code?: unknown }).code;
  let text = error.message;
  if (text === '' && error instanceof AggregateError && error.errors.length > 0) text = error.errors.map((e) => toError(e).message).join('; ');
  if (text === '') text = typeof code === 'string' ? code : error.name;
  return typeof hint === 'string' && hint !== '' ? `${text} (hint: ${hint})` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
