/**
 * `check`'s cost findings: what a run of each model will cost the shop's database, and what would make it cheaper.
 * The pages are measured by src/source/page-probes.ts (the very statements the jobs run, at a realistic place) and
 * their plans judged by src/check/advice.ts; this module only turns that into findings.
 *
 * Per model: a finding with the measured time of one page, the planner's cost of it, the pages a run over the whole
 * model reads (the planner's row estimate ÷ the page size) and the total; a warning for each table the plan reads in
 * full on every page, naming the index or the rewrite that ends it; for orders, a summary of the sync's reading.
 */
import { perPageScans, sortIndex, SMALL_TABLE_ROWS, type Fix, type ScanAdvice } from './advice.js';
import type { Source } from '../source/db.js';
import { ordersPageStatement, sourceNow } from '../source/orders.js';
import {
  DEEP_CURSOR_FRACTION,
  probeDigestPage,
  probeEventsPage,
  probeItems,
  probeOrdersPage,
  probeSnapshotPage,
  type MeasuredPage,
} from '../source/page-probes.js';
import { findNode, orderingOf, relationScans, walk, type PlanNode } from '../source/plan.js';
import { explain, tableFacts, type IndexFacts, type TableFacts } from '../source/probes.js';

/** The cost of a model's pages: one page measured, the whole model estimated from it. */
export interface CostFigures {
  /** Milliseconds one page took, measured as the run reads it (the faster of two runs when under a second). */
  pageMs: number;
  /** The planner's estimated total cost of the page statement (its units: a sequential page read is 1). */
  planCost: number;
  /** Rows the measured page gave (at most the page size). */
  pageRows: number;
  pageSize: number;
  /** The model's rows, as the planner estimates them. */
  rows: number;
  /** Pages a run over the whole model reads: rows ÷ page size, rounded up. */
  pages: number;
  /** pages × pageMs. */
  totalMs: number;
}

export type CostAdd = (level: 'ok' | 'warn' | 'error', subject: string, message: string, extra?: { cost?: CostFigures; fix?: Fix }) => void;

export interface CostContext {
  source: Source;
  add: CostAdd;
  /** The role the connector reads as. */
  role: string | undefined;
  /** The source's statement_timeout, for the message of a page that exceeds it. */
  statementTimeoutMs: number;
  errorText(caught: unknown): string;
}

export interface OrdersJob {
  query: string;
  itemsQuery: string;
  pageSize: number;
}

const ORDERS = 'jobs.orders.query';
const ITEMS = 'jobs.orders.itemsQuery';

/** The orders model's keyset page and, when its columns are right, the items query on that page's ids. */
export async function checkOrdersCost(ctx: CostContext, job: OrdersJob, itemsRun: boolean): Promise<void> {
  let probe: Awaited<ReturnType<typeof probeOrdersPage>>;
  try {
    probe = await probeOrdersPage(ctx.source, job.query, job.pageSize);
  } catch (caught) {
    ctx.add('error', ORDERS, `the page query the sync runs on this model fails: ${failure(ctx, caught)}`);
    return;
  }
  if (!probe) {
    await keysetWithoutRows(ctx, job);
    return;
  }
  const { page } = probe;
  const facts = await factsOf(ctx.source, [page.plan]);
  const skip = await judgeKeyset(ctx, page.plan, facts);
  reportScans(ctx, ORDERS, perPageScans(page.plan, { facts, role: ctx.role }, skip));
  const orders = figures(page, job.pageSize, probe.modelRows);
  ctx.add(
    'ok',
    ORDERS,
    `a page of ${count(page.rows)} orders after a cursor deep in the table (${DEEP_CURSOR_FRACTION * 100}% of its updated_at span) took ${duration(page.ms)} ` +
      `(planner cost ${count(page.plan.totalCost)}); ~${count(orders.rows)} orders (the planner's estimate) make ${count(orders.pages)} pages: ~${duration(orders.totalMs)} for the whole table`,
    { cost: orders },
  );
  if (!itemsRun) return;

  let items: MeasuredPage;
  try {
    items = await probeItems(ctx.source, job.itemsQuery, probe.keys);
  } catch (caught) {
    ctx.add('error', ITEMS, `fails on a page of ${count(probe.keys.length)} real order ids (as the sync binds them to :order_ids): ${failure(ctx, caught)}`);
    return;
  }
  const itemFacts = await factsOf(ctx.source, [items.plan]);
  reportScans(ctx, ITEMS, perPageScans(items.plan, { facts: itemFacts, boundKeys: probe.keys, parameter: ':order_ids', role: ctx.role }));
  const lines = figures(items, job.pageSize, probe.modelRows);
  ctx.add(
    'ok',
    ITEMS,
    `the lines of a page of ${count(probe.keys.length)} real order ids (${count(items.rows)} lines) took ${duration(items.ms)} (planner cost ${count(items.plan.totalCost)}); ` +
      `one such query per page of orders: ~${duration(lines.totalMs)} for the whole table`,
    { cost: lines },
  );

  const pageMs = round(orders.pageMs + lines.pageMs);
  const total: CostFigures = { ...orders, pageMs, planCost: round(page.plan.totalCost + items.plan.totalCost), totalMs: round(orders.pages * pageMs) };
  const perSecond = pageMs > 0 ? (Math.max(page.rows, 1) / pageMs) * 1000 : Number.POSITIVE_INFINITY;
  ctx.add(
    'ok',
    'jobs.orders',
    `reading the whole table: ${count(orders.pages)} pages × ${duration(pageMs)} (orders ${duration(page.ms)} + lines ${duration(items.ms)}) = ~${duration(total.totalMs)} of the shop database's time; ` +
      `reading alone lets a sync go at most ~${count(perSecond)} orders/s (pages are read while the previous one is sent)`,
    { cost: total },
  );
}

/** An orders model without rows: no page to measure, but the plan still tells whether an index serves the keyset. */
async function keysetWithoutRows(ctx: CostContext, job: OrdersJob): Promise<void> {
  let plan: PlanNode;
  try {
    const before = await sourceNow(ctx.source);
    const after = new Date(Date.parse(before) - 24 * 3_600_000).toISOString();
    plan = await explain(
      ctx.source,
      ordersPageStatement(job.query, { after: { ts: after, key: null }, before, limit: job.pageSize, bytes: ctx.source.pageBytes }),
    );
  } catch (caught) {
    ctx.add('error', ORDERS, `the page query the sync runs on this model fails: ${failure(ctx, caught)}`);
    return;
  }
  await judgeKeyset(ctx, plan, await factsOf(ctx.source, [plan]));
  ctx.add('ok', ORDERS, 'the model has no rows yet: the cost of its pages is not measured (run check again when it has)');
}

/** Whether an index serves ORDER BY updated_at, order_id; returns the scans the keyset warning accounts for. */
async function judgeKeyset(ctx: CostContext, plan: PlanNode, facts: ReadonlyMap<string, TableFacts>): Promise<Set<PlanNode>> {
  const order = orderingOf(plan);
  if (order.kind === 'ordered') {
    const index = findNode(order.node, (n) => n.indexName !== undefined);
    ctx.add(
      'ok',
      ORDERS,
      `pages are read in (updated_at, order_id) order${index ? ` from index ${index.indexName ?? ''}${index.relation ? ` on ${index.relation}` : ''}` : ''}, without a sort`,
    );
    return new Set();
  }
  const target = sortIndex(order.node);
  if (order.kind === 'incremental') {
    ctx.add(
      'ok',
      ORDERS,
      `an index serves updated_at and each group of equal updated_at is sorted by order_id (incremental sort)${target.table ? ` on ${target.table}` : ''}`,
    );
    return new Set();
  }
  const covered = sortedScans(order.node, target.table);
  const scan = sortInput(order.node, facts);
  if (target.sql === undefined) {
    ctx.add(
      'warn',
      ORDERS,
      `no index can serve ORDER BY updated_at, order_id: the sort keys (${order.node.sortKey.join(', ')}) do not come from one table` +
        `${target.table ? ` (${target.table})` : ''}, so the plan sorts ${scan} for every page; give the model updated_at and order_id columns of one table` +
        smallNote(order.node, facts),
    );
    return covered;
  }
  const existing = await existingIndex(ctx.source, target.table, target.columns);
  if (existing !== undefined) {
    ctx.add(...unusedIndex(ORDERS, 'updated_at, order_id', existing, target.table ?? '', scan, order.node, facts));
    return covered;
  }
  ctx.add(
    'warn',
    ORDERS,
    `no index serves ORDER BY updated_at, order_id: create one, e.g. ${target.sql}; the plan sorts ${scan} for every page${smallNote(order.node, facts)}`,
    {
      fix: { sql: [target.sql] },
    },
  );
  return covered;
}

/** A snapshot model (carts, wishlists): its page after a real did. */
export async function checkSnapshotCost(ctx: CostContext, subject: string, query: string, pageSize: number): Promise<void> {
  await keyedCost(ctx, subject, query, pageSize, {
    key: 'did',
    order: 'did::text COLLATE "C"',
    fallback: '(device_id COLLATE "C")',
    noun: 'lines',
    probe: probeSnapshotPage,
  });
}

/**
 * A catalogue model (categories, products): its page of ids and digests after a real id, the statement a reconcile
 * reads the whole model with (the full rows only for the ids that changed).
 */
export async function checkCatalogueCost(ctx: CostContext, subject: string, query: string, pageSize: number): Promise<void> {
  await keyedCost(ctx, subject, query, pageSize, {
    key: 'id',
    order: 'id::text COLLATE "C"',
    fallback: '(id COLLATE "C")',
    noun: 'ids and digests',
    probe: probeDigestPage,
  });
}

/** The events model: its page after a real event_key. */
export async function checkEventsCost(ctx: CostContext, query: string, pageSize: number): Promise<void> {
  await keyedCost(ctx, 'jobs.events.query', query, pageSize, {
    key: 'event_key',
    order: 'event_key::text COLLATE "C"',
    fallback: '(event_key COLLATE "C")',
    noun: 'rows',
    probe: probeEventsPage,
  });
}

interface KeyedModel {
  key: string;
  order: string;
  fallback: string;
  noun: string;
  probe: typeof probeSnapshotPage;
}

async function keyedCost(ctx: CostContext, subject: string, query: string, pageSize: number, model: KeyedModel): Promise<void> {
  let probe: Awaited<ReturnType<typeof probeSnapshotPage>>;
  try {
    probe = await model.probe(ctx.source, query, pageSize);
  } catch (caught) {
    ctx.add('error', subject, `the page query the run uses on this model fails: ${failure(ctx, caught)}`);
    return;
  }
  if (!probe) {
    ctx.add('ok', subject, 'the model has no rows yet: the cost of its pages is not measured (run check again when it has)');
    return;
  }
  const { page } = probe;
  const facts = await factsOf(ctx.source, [page.plan]);
  const order = orderingOf(page.plan);
  let skip = new Set<PlanNode>();
  if (order.kind !== 'sort') {
    ctx.add('ok', subject, `pages are read in ${model.order} order without a full sort`);
  } else {
    const target = sortIndex(order.node);
    skip = sortedScans(order.node, target.table);
    const existing = await existingIndex(ctx.source, target.table, target.columns);
    if (existing !== undefined) {
      ctx.add(...unusedIndex(subject, model.order, existing, target.table ?? '', sortInput(order.node, facts), order.node, facts));
      reportScans(ctx, subject, perPageScans(page.plan, { facts, role: ctx.role }, skip));
      return;
    }
    const help =
      target.table === undefined
        ? `no single index can serve it: the ${model.key} of a page comes from several tables or a computed subquery (${order.node.sortKey.join(', ')})`
        : `an index may help, e.g. ${target.sql ?? `CREATE INDEX ON ${target.table} ${model.fallback}`}`;
    ctx.add(
      'warn',
      subject,
      `hint: no index serves ORDER BY ${model.order}: each page sorts ${sortInput(order.node, facts)}; ${help}` + smallNote(order.node, facts),
      target.sql === undefined ? {} : { fix: { sql: [target.sql] } },
    );
  }
  reportScans(ctx, subject, perPageScans(page.plan, { facts, role: ctx.role }, skip));
  const cost = figures(page, pageSize, probe.modelRows);
  const where =
    probe.after !== undefined
      ? `a page of ${count(page.rows)} ${model.noun} after a real ${model.key}`
      : page.rows < pageSize
        ? 'the whole model (one page)'
        : `the first page of ${count(page.rows)} ${model.noun}`;
  ctx.add(
    'ok',
    subject,
    `${where} took ${duration(page.ms)} (planner cost ${count(page.plan.totalCost)}); ~${count(cost.rows)} ${model.noun} (the planner's estimate) make ${count(cost.pages)} pages: ~${duration(cost.totalMs)} for the whole model`,
    { cost },
  );
}

// ───────────────────────────── helpers ─────────────────────────────

/**
 * A valid index of `table` whose leading key columns are `columns` (as advice writes them: `(updated_at, number)`),
 * when one exists: then advising to create it again would be wrong.
 */
async function existingIndex(source: Source, table: string | undefined, columns: string | undefined): Promise<IndexFacts | undefined> {
  if (table === undefined || columns === undefined) return undefined;
  const wanted = splitColumns(columns);
  if (wanted.length === 0) return undefined;
  const facts = await tableFacts(source, table).catch(() => undefined);
  return facts?.indexes.find(
    (index) => index.predicate === null && wanted.every((c, i) => index.columns[i] !== undefined && sameColumn(index.columns[i] ?? '', c)),
  );
}

/** `(updated_at, number)` → ['updated_at', 'number']; commas inside parentheses (expressions) are kept. */
function splitColumns(text: string): string[] {
  const inner = text.trim().replace(/^\(/, '').replace(/\)$/, '');
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of inner) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

const sameColumn = (a: string, b: string): boolean =>
  a.replace(/"/g, '').replace(/\s+/g, ' ').toLowerCase() === b.replace(/"/g, '').replace(/\s+/g, ' ').toLowerCase();

/**
 * The index that would serve the order exists, but this plan sorts anyway: never advise it again. On a small table the
 * planner's choice is expected (ok); on a large one the model keeps the index from being used (a warning, no fix).
 */
function unusedIndex(
  subject: string,
  order: string,
  index: IndexFacts,
  table: string,
  scan: string,
  sort: PlanNode,
  facts: ReadonlyMap<string, TableFacts>,
): ['ok' | 'warn', string, string] {
  const small = smallNote(sort, facts);
  const has = `index ${index.name} on ${table} (${index.columns.join(', ')}) exists for ORDER BY ${order}`;
  if (small !== '') return ['ok', subject, `${has}; this plan sorts ${scan} instead${small}`];
  return [
    'warn',
    subject,
    `${has}, but the plan sorts ${scan} for every page instead of reading it: the model's joins or conditions keep the planner from it (check that the ORDER BY columns are the indexed table's own columns, and ANALYZE the table)`,
  ];
}

function reportScans(ctx: CostContext, subject: string, scans: readonly ScanAdvice[]): void {
  for (const scan of scans) {
    ctx.add(
      'warn',
      subject,
      `${scan.relation} (~${count(scan.tableRows)} rows) is read in full for every page ${scan.reason}: ${scan.remedy}`,
      scan.fix ? { fix: scan.fix } : {},
    );
  }
}

function figures(page: MeasuredPage, pageSize: number, rows: number): CostFigures {
  const pages = Math.max(1, Math.ceil(rows / pageSize));
  const pageMs = round(page.ms);
  return { pageMs, planCost: round(page.plan.totalCost), pageRows: page.rows, pageSize, rows: Math.round(rows), pages, totalMs: round(pages * pageMs) };
}

/** The sequential scans of the sort's table under a sort: the sort warning already names their fix. */
function sortedScans(sort: PlanNode, table: string | undefined): Set<PlanNode> {
  return new Set(table === undefined ? [] : relationScans(sort).filter((n) => n.type === 'Seq Scan' && n.relation === table));
}

/** Catalog facts of every table the plans read in full. */
async function factsOf(source: Source, plans: readonly PlanNode[]): Promise<Map<string, TableFacts>> {
  const relations = new Set<string>();
  for (const plan of plans) {
    walk(plan, (n) => {
      if (n.type === 'Seq Scan' && n.relation !== undefined) relations.add(n.relation);
    });
  }
  const facts = new Map<string, TableFacts>();
  for (const relation of relations) {
    // Facts only sharpen the advice: a table the catalog will not describe is judged from the plan alone.
    const found = await tableFacts(source, relation).catch(() => undefined);
    if (found) facts.set(relation, found);
  }
  return facts;
}

/** "a sequential scan of shop.orders (~20,000 rows, ~2,000 of them past the cursor)", "a hash join (~80,000 rows)". */
function sortInput(sort: PlanNode, facts: ReadonlyMap<string, TableFacts>): string {
  const input = sort.children[0];
  if (!input) return 'its input';
  if (input.type !== 'Seq Scan') return `a ${input.type.toLowerCase()}${input.relation ? ` of ${input.relation}` : ''} (~${count(input.rows)} rows)`;
  const table = input.relation === undefined ? undefined : facts.get(input.relation)?.rows;
  const rows =
    table !== undefined && table >= 0 && table > input.rows
      ? `~${count(table)} rows, ~${count(input.rows)} of them past the cursor`
      : `~${count(input.rows)} rows`;
  return `a sequential scan${input.relation ? ` of ${input.relation}` : ''} (${rows})`;
}

function smallNote(sort: PlanNode, facts: ReadonlyMap<string, TableFacts>): string {
  const input = sort.children[0];
  const table = input?.relation === undefined ? undefined : facts.get(input.relation)?.rows;
  const rows = table !== undefined && table >= 0 ? table : (input?.rows ?? sort.rows);
  return rows < SMALL_TABLE_ROWS
    ? ` (the planner expects only ~${Math.round(rows)} rows and may sort that few even where an index exists; check again when the table has grown)`
    : '';
}

function failure(ctx: CostContext, caught: unknown): string {
  const text = ctx.errorText(caught);
  return /statement timeout/i.test(text)
    ? `${text}: one page takes longer than source.statementTimeoutMs (${ctx.statementTimeoutMs} ms), so the run would fail the same way`
    : text;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 48 ms, 4.8 s, 3.2 min, 1.5 h. */
export function duration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
