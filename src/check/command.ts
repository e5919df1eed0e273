/**
 * `check`: before a first run, try everything a run needs without sending anything, and report it: the source database
 * answers (through the same read-only path as the jobs) and can see open transactions, the state schema is migrated,
 * every configured SQL model runs and has its columns, and what a run of each model will cost: one page of the very
 * statements the jobs run (built by src/source/), measured at a realistic place and EXPLAINed, with the index or
 * rewrite that ends a table read in full on every page (cost.ts). A failed check is a finding, never a crash;
 * no finding ever holds a password. The probes live in src/source/ and src/state/; this module only judges and prints.
 */
import type { Writable } from 'node:stream';
import { secretsOf, type Config } from '../config/index.js';
import { whereOf } from '../db-unreachable.js';
import { DatabaseUnreachableError, toError } from '../errors.js';
import { CUSTOMER_IDENTIFIERS } from '../payloads/index.js';
import { maskSecrets } from '../outward.js';
import { openSource, sourceOptionsOf, type Source } from '../source/db.js';
import type { Fix } from './advice.js';
import { CARTS_MODEL, CATEGORIES_MODEL, EVENTS_MODEL, ITEMS_MODEL, ORDERS_MODEL, PRODUCTS_MODEL, WISHLISTS_MODEL, type ModelSpec } from '../source/models.js';
import { crossCheck, modelReferences, orderLineReferences, CROSS_CHECK_ORDERS } from '../source/catalogue-probes.js';
import type { Statement } from '../source/statement.js';
import { orderLinesStatement, repeatedOrders } from '../source/orders.js';
import { privilegeFindings, rolePrivileges } from '../source/privileges.js';
import { missingColumns, missingColumnText, repeatedKeysText } from '../source/shape.js';
import { modelColumns, modelColumnTypes, sessionInfo, statsVisibility, type SessionInfo } from '../source/probes.js';
import { openStateDb } from '../state/db.js';
import { pendingMigrations } from '../state/migrate.js';
import { stateServer } from '../state/server.js';
import { checkCatalogueCost, checkEventsCost, checkOrdersCost, checkSnapshotCost, type CostContext, type CostFigures } from './cost.js';

export interface CheckFinding {
  level: 'ok' | 'warn' | 'error';
  /** What was checked: 'source', 'source.pg_stat_activity', 'state', 'jobs.orders.query', 'jobs.orders.itemsQuery', … */
  subject: string;
  message: string;
  /** Cost findings: one page measured and the whole model estimated from it. */
  cost?: CostFigures;
  /** A warning's remedy as data: statements to run on the shop's database, a condition of the model to rewrite. */
  fix?: Fix;
}

export interface CheckOptions {
  /** How long the first answer of each database may take (a host that drops packets would otherwise hang the check). */
  connectTimeoutMs?: number;
}

type Level = CheckFinding['level'];
type Add = (level: Level, subject: string, message: string, extra?: Pick<CheckFinding, 'cost' | 'fix'>) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

// ───────────────────────────── entry points ─────────────────────────────

/** Every check, in order: source, state, then each configured model. Never throws for a failed check. */
export async function runChecks(config: Config, options: CheckOptions = {}): Promise<CheckFinding[]> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const secrets = secretsOf(config);
  const collector = () => {
    const list: CheckFinding[] = [];
    const clean = (text: string) => oneLine(maskSecrets(text, secrets));
    const add: Add = (level, subject, message, extra = {}) => {
      const { fix, cost } = extra;
      list.push({
        level,
        subject,
        message: clean(message),
        ...(cost ? { cost } : {}),
        ...(fix
          ? {
              fix: {
                sql: fix.sql.map(clean),
                ...(fix.rewrite ? { rewrite: { condition: clean(fix.rewrite.condition), replacement: clean(fix.rewrite.replacement) } } : {}),
              },
            }
          : {}),
      });
    };
    return { list, add };
  };
  const source = collector();
  const models = collector();
  const state = collector();
  await Promise.all([
    checkSource(config, source.add, models.add, timeoutMs).catch((caught: unknown) => source.add('error', 'source', `check failed: ${errorText(caught)}`)),
    checkState(config, state.add, timeoutMs).catch((caught: unknown) => state.add('error', 'state', `check failed: ${errorText(caught)}`)),
  ]);
  return [...source.list, ...state.list, ...bySubject(models.list)];
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
  const where = whereOf(config.source.url);
  const source = openSource({ ...sourceOptionsOf(config.source), poolSize: 1, applicationName: `${config.source.applicationName}:check`, quiet: true });
  try {
    let session: SessionInfo;
    try {
      session = await withTimeout(sessionInfo(source), timeoutMs, `no answer within ${timeoutMs / 1000} s`);
    } catch (caught) {
      add('error', 'source', `cannot query the shop database ${where}: ${errorText(caught)}`);
      addModel('warn', 'jobs', 'models not checked: the source database did not answer');
      return;
    }
    const server = `${where} (PostgreSQL ${session.version}${session.recovery ? ', a standby' : ''})`;
    add('ok', 'source', `connected to ${server}; every statement runs in a read-only transaction`);
    await checkRole(config, source, add);
    if (config.jobs.orders) await checkOpenTransactions(source, session.recovery, add);
    await checkModels(config, source, session.role, addModel);
  } finally {
    await withTimeout(source.close(), 5_000, 'close').catch(() => undefined);
  }
}

/** What the source role may do beyond reading (issue 20 §4): each a warning, with what runs make of it. */
async function checkRole(config: Config, source: Source, add: Add): Promise<void> {
  let found: ReturnType<typeof privilegeFindings>;
  let role: string;
  try {
    const privileges = await rolePrivileges(source, config.state.schema);
    role = privileges.role;
    found = privilegeFindings(privileges);
  } catch (caught) {
    add('warn', 'source.role', `could not read what the source role may do: ${errorText(caught)}`);
    return;
  }
  if (found.length === 0) {
    add(
      'ok',
      'source.role',
      `role "${role}" can only read: not a superuser, writes none of the shop's tables, no server files or programs, no replication, no dangerous extension`,
    );
    return;
  }
  const allowed = config.source.allowPrivilegedRole;
  for (const f of found) {
    const verdict = !f.refuse
      ? ''
      : allowed
        ? ' (runs go on: source.allowPrivilegedRole is true)'
        : '; runs refuse it: connect as a read-only role (docs/security.md), or set source.allowPrivilegedRole: true';
    add('warn', 'source.role', `${f.problem}${verdict}`);
  }
}

/** Whether the orders upper bound can see other sessions' open transactions (see `upperBound` in source/orders.ts). */
async function checkOpenTransactions(source: Source, standby: boolean, add: Add): Promise<void> {
  const subject = 'source.pg_stat_activity';
  const fallback =
    'the upper bound of each orders run falls back to the settle lag alone, so an order committed more than settleSeconds after its updated_at can be passed by the watermark';
  try {
    // pg_stat_activity shows xact_start of other roles' sessions only to members of pg_read_all_stats (and superusers).
    const row = await statsVisibility(source);
    if (standby) {
      add('warn', subject, `the source is a standby: its pg_stat_activity does not show the primary's open transactions, so ${fallback}`);
      return;
    }
    if (row.allStats === true) {
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

async function checkModels(config: Config, source: Source, role: string, add: Add): Promise<void> {
  const { orders, carts, wishlists, events } = config.jobs;
  const cost: CostContext = { source, add, role, statementTimeoutMs: config.source.statementTimeoutMs, errorText };
  if (orders) {
    const columns = await checkColumns(source, ORDERS_MODEL, orders.query, [], add);
    if (columns) checkOrderSyncRoad(config, columns, add);
    if (columns) await checkNaiveTimes(source, ORDERS_MODEL, orders.query, [], columns, add);
    const lines = orderLinesStatement(orders.itemsQuery, []);
    const itemColumns = await checkColumns(source, ITEMS_MODEL, lines.text, lines.values, add);
    if (itemColumns) await checkNaiveTimes(source, ITEMS_MODEL, lines.text, lines.values, itemColumns, add);
    if (columns && columns.has('order_id') && columns.has('updated_at')) {
      await checkRepeatedOrders(source, orders.query, add);
      await checkOrdersCost(cost, orders, itemColumns?.has('order_id') === true);
    }
  }
  for (const [spec, job] of [
    [CARTS_MODEL, carts],
    [WISHLISTS_MODEL, wishlists],
  ] as const) {
    if (!job) continue;
    const columns = await checkColumns(source, spec, job.query, [], add);
    if (columns) await checkNaiveTimes(source, spec, job.query, [], columns, add);
    if (columns && columns.has('did')) await checkSnapshotCost(cost, spec.subject, job.query, job.pageSize);
  }
  if (events) {
    const columns = await checkColumns(source, EVENTS_MODEL, events.query, [], add);
    if (columns) await checkNaiveTimes(source, EVENTS_MODEL, events.query, [], columns, add);
    if (columns && columns.has('event_key')) await checkEventsCost(cost, events.query, events.pageSize);
  }
  await checkCatalogue(config, source, cost, add);
}

/** The catalogue models (columns, cost), and the cross-check of the product ids the other models name. */
async function checkCatalogue(config: Config, source: Source, cost: CostContext, add: Add): Promise<void> {
  const { categories, products, orders, carts, wishlists } = config.jobs;
  for (const [spec, job] of [
    [CATEGORIES_MODEL, categories],
    [PRODUCTS_MODEL, products],
  ] as const) {
    if (!job) continue;
    const columns = await checkColumns(source, spec, job.query, [], add);
    if (columns && columns.has('id')) await checkCatalogueCost(cost, spec.subject, job.query, job.pageSize);
  }
  if ((categories || products) && (config.personaclick.shopSecret === undefined || config.personaclick.shopSecret === '')) {
    add('error', 'personaclick.shopSecret', 'not set: the catalogue imports (jobs.categories, jobs.products) need the shop secret');
  }
  if (!products) return;
  const subject = 'jobs.products.crossCheck';
  const sides: [string, () => Promise<Statement>][] = [];
  if (orders) sides.push([`the lines of the last ${CROSS_CHECK_ORDERS} orders`, () => orderLineReferences(source, orders.query, orders.itemsQuery)]);
  if (carts) sides.push(['the carts', () => Promise.resolve(modelReferences(carts.query))]);
  if (wishlists) sides.push(['the wishlists', () => Promise.resolve(modelReferences(wishlists.query))]);
  for (const [what, references] of sides) {
    try {
      const found = await crossCheck(source, await references(), products.query);
      if (found.missing === 0) add('ok', subject, `${what}: all ${found.referenced} product ids are in the products model`);
      else {
        add(
          'warn',
          subject,
          `${what}: ${found.missing} of ${found.referenced} product ids are not in the products model (e.g. ${found.examples.join(', ')}): PersonaClick will know no such product (no recommendations, no feed price for a line sent without one)`,
        );
      }
      if (found.tooLong > 0)
        add(
          'warn',
          subject,
          `${what}: ${found.tooLong} product ids are longer than 255 characters: the catalogue and the events ignore them, so they never match`,
        );
    } catch (caught) {
      add('warn', subject, `${what}: the cross-check did not run: ${errorText(caught)}`);
    }
  }
}

/**
 * Which of a model's columns are `timestamp without time zone`, and the zone they are read in: stated
 * (`source.timezone`, ok) or taken from the shop database's TimeZone setting (a warning: the operator should say).
 */
async function checkNaiveTimes(
  source: Source,
  spec: ModelSpec,
  query: string,
  values: readonly unknown[],
  columns: ReadonlySet<string>,
  add: Add,
): Promise<void> {
  let naive: string[];
  try {
    const types = await modelColumnTypes(source, query, columns, values);
    naive = [...types].filter(([, type]) => type === 'timestamp without time zone').map(([name]) => name);
  } catch (caught) {
    add('warn', spec.subject, `cannot read the types of its columns: ${errorText(caught)}`);
    return;
  }
  if (naive.length === 0) return;
  const zone = await source.zone();
  const list = `${naive.join(', ')} ${naive.length === 1 ? 'is' : 'are'} timestamp without time zone`;
  if (zone.from === 'config') {
    add('ok', spec.subject, `${list}: read as wall time in ${zone.name} (source.timezone)`);
    return;
  }
  const whence =
    zone.from === 'database'
      ? `the shop database's TimeZone setting`
      : `UTC (the shop database's TimeZone ${JSON.stringify(zone.databaseSetting ?? '')} is not a zone name the connector knows)`;
  add(
    'warn',
    spec.subject,
    `${list}: read as wall time in ${zone.name}, ${whence}; set source.timezone to the zone the shop writes them in (UTC for a Rails shop's default), so that dates sent never depend on a setting`,
  );
}

/** One row per order: a join that multiplies rows is named with a few of its keys and the fix (the whole model is read once). */
async function checkRepeatedOrders(source: Source, query: string, add: Add): Promise<void> {
  const subject = ORDERS_MODEL.subject;
  try {
    const repeated = await repeatedOrders(source, query);
    // Said only when broken: the model's ok line already stands for its shape.
    if (repeated.length > 0)
      add('error', subject, `${repeatedKeysText(ORDERS_MODEL, 'order_id', repeated)}; a run stops on it before sending anything (exit 2)`);
  } catch (caught) {
    add('warn', subject, `could not check that each order_id comes once (${errorText(caught)}): a run checks its own range before it sends`);
  }
}

/** The findings grouped by subject, subjects in the order they first appear (each group in its own order). */
function bySubject(findings: CheckFinding[]): CheckFinding[] {
  const groups = new Map<string, CheckFinding[]>();
  for (const finding of findings) {
    const group = groups.get(finding.subject);
    if (group) group.push(finding);
    else groups.set(finding.subject, [finding]);
  }
  return [...groups.values()].flat();
}

/** Whether the order-sync road (history with real dates, status changes, returns) is open, and what the model gives it. */
function checkOrderSyncRoad(config: Config, columns: ReadonlySet<string>, add: Add): void {
  const subject = 'personaclick.shopSecret';
  if (config.personaclick.shopSecret === undefined) {
    add('ok', subject, 'not set: backfill orders needs --via push (purchases dated when they arrive), and status changes of delivered orders are not told');
    return;
  }
  const identifiers = CUSTOMER_IDENTIFIERS.filter((c) => columns.has(c));
  if (!columns.has('status'))
    add(
      'warn',
      subject,
      'set, but the orders model has no status column: the order-sync API takes no order without one, and cancellations and returns are never told',
    );
  else if (identifiers.length === 0)
    add(
      'warn',
      subject,
      `set, but the orders model gives no customer identifier (${CUSTOMER_IDENTIFIERS.join(', ')}): the order-sync API takes no order without one`,
    );
  else
    add(
      'ok',
      subject,
      `set: history goes through the order-sync API with real dates, and status changes and returns are told (customers by ${identifiers.join(', ')})`,
    );
}

/** Judge the model's columns (read with LIMIT 0). Returns them, or undefined when the model does not run. */
async function checkColumns(source: Source, spec: ModelSpec, query: string, values: readonly unknown[], add: Add): Promise<Set<string> | undefined> {
  let columns: Set<string>;
  try {
    columns = await modelColumns(source, query, values);
  } catch (caught) {
    add('error', spec.subject, `does not run: ${errorText(caught)}`);
    return undefined;
  }
  const required = Object.keys(spec.required);
  const known = new Set([...required, ...Object.keys(spec.recommended ?? {}), ...spec.optional]);
  let problems = 0;
  for (const column of missingColumns(spec, columns)) {
    problems++;
    add('error', spec.subject, `${missingColumnText(spec, column, columns)}; a run stops on it before sending anything (exit 2)`);
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

// ───────────────────────────── state ─────────────────────────────

async function checkState(config: Config, add: Add, timeoutMs: number): Promise<void> {
  const where = whereOf(config.state.url);
  const schema = config.state.schema;
  const db = openStateDb(config.state.url, schema, { applicationName: `${config.source.applicationName}:check`, poolSize: 1, quiet: true });
  try {
    let server: string;
    try {
      const info = await withTimeout(stateServer(db), timeoutMs, `no answer within ${timeoutMs / 1000} s`);
      if (info.readOnly) {
        add(
          'error',
          'state',
          `the state database ${where} is read-only${info.standby ? ' (a standby)' : ''}: the connector writes its watermarks, ledger and failures there`,
        );
        return;
      }
      server = `${where} (PostgreSQL ${info.version})`;
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

// ───────────────────────────── helpers ─────────────────────────────

/** An error's message, with the database's hint when it gave one. */
function errorText(caught: unknown): string {
  const given = toError(caught);
  // The finding names the database already: say only what went wrong.
  const error = given instanceof DatabaseUnreachableError ? toError(given.cause) : given;
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

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
