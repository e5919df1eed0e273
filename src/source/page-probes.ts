/**
 * The page statements a run executes, built by the same builders, at a realistic place in the shop's data, each
 * run once (twice when cheap) and timed, and EXPLAINed with the same values: what `check` judges a model's cost by.
 *
 * - orders: the keyset page after a cursor deep in the table (the first order at 90% of the model's updated_at span),
 *   then the items query bound with that page's real order ids;
 * - carts, wishlists: the snapshot page after a real did (the first page's last);
 * - events: the page after a real event_key (the first page's last);
 * - categories, products: the page of ids and digests after a real id (the first page's last), the statement a
 *   reconcile reads the whole model with (the full rows are read only for the ids that changed).
 *
 * Every statement runs as the jobs run theirs: in its own read-only transaction, under the source's
 * statement_timeout, so a model that cannot write cannot write here either, and a page too slow for the run is too
 * slow here.
 */
import type { Cursor } from '../cursor.js';
import type { KeyBound, KeysForm } from '../key-list.js';
import { digestPageStatement, ModelDigests, type DigestMethod, type PageAnswer } from './catalogue-digests.js';
import type { Source } from './db.js';
import { eventsPageStatement } from './events.js';
import { orderLinesStatement, ordersPageStatement, sourceNow, updatedAtPointStatement } from './orders.js';
import type { PlanNode } from './plan.js';
import { explain, modelRows, timedQuery } from './probes.js';
import { snapshotPageStatement, type KeyColumn } from './snapshot.js';
import type { Statement } from './statement.js';

/** Where the measured orders page starts: this far into the model's updated_at span. */
export const DEEP_CURSOR_FRACTION = 0.9;

export interface MeasuredPage {
  statement: Statement;
  plan: PlanNode;
  /** Rows the page gave. */
  rows: number;
  /** Milliseconds the page took (the faster of up to two runs). */
  ms: number;
}

/** Run, time and EXPLAIN one page statement. */
async function measurePage<R extends Record<string, unknown>>(source: Source, statement: Statement): Promise<{ page: MeasuredPage; rows: R[] }> {
  const timed = await timedQuery<R>(source, statement);
  const plan = await explain(source, statement);
  return { page: { statement, plan, rows: timed.rows.length, ms: timed.ms }, rows: timed.rows };
}

export interface OrdersPageProbe {
  /** The cursor the page starts after. */
  cursor: Cursor;
  page: MeasuredPage;
  /** The page's order ids, as the run binds them to the items query. */
  keys: string[];
  /** The model's rows, as the planner estimates them. */
  modelRows: number;
}

/** The keyset page after a cursor deep in the table; undefined when the model has no rows. */
export async function probeOrdersPage(source: Source, query: string, pageSize: number): Promise<OrdersPageProbe | undefined> {
  const [point] = await source.query<{ ts: string | null }>(updatedAtPointStatement(query, DEEP_CURSOR_FRACTION));
  if (!point?.ts) return undefined;
  const before = await sourceNow(source);
  const [first] = await source.query<{ __pcs_ts: string; __pcs_key: string }>(
    ordersPageStatement(query, { after: { ts: point.ts, key: null }, before, limit: 1, bytes: source.pageBytes }),
  );
  if (!first) return undefined;
  const cursor: Cursor = { ts: first.__pcs_ts, key: first.__pcs_key };
  // The page after that order: past the first page, as nearly every page of a run is.
  const { page, rows } = await measurePage<{ __pcs_key: string }>(
    source,
    ordersPageStatement(query, { after: cursor, before, limit: pageSize, bytes: source.pageBytes }),
  );
  return { cursor, page, keys: rows.map((r) => r.__pcs_key), modelRows: await modelRows(source, query) };
}

/** The items query bound with a page's real order ids, as the run binds them. */
export async function probeItems(source: Source, itemsQuery: string, keys: readonly string[]): Promise<MeasuredPage> {
  return (await measurePage(source, orderLinesStatement(itemsQuery, keys))).page;
}

export interface KeyedPageProbe {
  /** The key the measured page starts after (undefined: the first page was measured; the whole model when not full). */
  after: string | undefined;
  page: MeasuredPage;
  modelRows: number;
}

/** The snapshot page after a real did (the first page's last), as the reconcile reads it; undefined for an empty model. */
export async function probeSnapshotPage(source: Source, query: string, pageSize: number, key: KeyColumn = 'did'): Promise<KeyedPageProbe | undefined> {
  const firstPage = snapshotPageStatement(query, { after: null, limit: pageSize, bytes: source.pageBytes, shard: undefined, didColumn: '__pcs_did', key });
  const first = await source.query<{ __pcs_did: string; __pcs_did_type: string }>(firstPage);
  const last = first[first.length - 1];
  if (!last) return undefined;
  const rows = await modelRows(source, query);
  if (first.length < pageSize) return { after: undefined, page: (await measurePage(source, firstPage)).page, modelRows: rows };
  const didColumn = last.__pcs_did_type === 'text' || last.__pcs_did_type === 'character varying' ? key : '__pcs_did';
  const next = snapshotPageStatement(query, { after: last.__pcs_did, limit: pageSize, bytes: source.pageBytes, shard: undefined, didColumn, key });
  return { after: last.__pcs_did, page: (await measurePage(source, next)).page, modelRows: rows };
}

/** The events page after a real event_key (the first page's last); undefined for an empty model. */
export async function probeEventsPage(source: Source, query: string, pageSize: number): Promise<KeyedPageProbe | undefined> {
  const firstPage = eventsPageStatement(query, null, pageSize, undefined, source.pageBytes);
  const first = await source.query<{ __pcs_key: string }>(firstPage);
  const last = first[first.length - 1];
  if (!last) return undefined;
  const rows = await modelRows(source, query);
  if (first.length < pageSize) return { after: undefined, page: (await measurePage(source, firstPage)).page, modelRows: rows };
  return {
    after: last.__pcs_key,
    page: (await measurePage(source, eventsPageStatement(query, last.__pcs_key, pageSize, undefined, source.pageBytes))).page,
    modelRows: rows,
  };
}

/**
 * The catalogue's page of ids and digests after a real id (the first page's last), as a reconcile reads every page of
 * the model (src/source/catalogue-digests.ts); its `rows` are the ids in it. Undefined for an empty model.
 */
export async function probeDigestPage(source: Source, query: string, pageSize: number): Promise<KeyedPageProbe | undefined> {
  const model = new ModelDigests(source, query, undefined);
  const pageOf = (from: KeyBound | null, form: KeysForm) => (method: DigestMethod) =>
    digestPageStatement(query, { from, limit: pageSize, shard: undefined, method }, form);
  // The first page settles the digest method as a run's does (the md5 of the row's text for a column type without a
  // hash); the pages timed are built with it.
  const [first] = await model.run<PageAnswer>(pageOf(null, 'literal'));
  const statement = (from: KeyBound | null, form: KeysForm): Statement => pageOf(from, form)(model.digestMethod);
  const last = first?.last;
  if (first === undefined || first.count === 0 || last === null || last === undefined) return undefined;
  const rows = await modelRows(source, query);
  const measured = async (page: Statement): Promise<MeasuredPage> => {
    const { page: timed, rows: answer } = await measurePage<PageAnswer>(source, page);
    return { ...timed, rows: answer[0]?.count ?? 0 };
  };
  if (first.count < pageSize) return { after: undefined, page: await measured(statement(null, 'list')), modelRows: rows };
  // The next page starts at the first one's last id, as a run's does (that id's rows may go on past the page). When
  // the model ends within it, the first page is the one a run reads in full: that one is timed.
  const next = await measured(statement({ key: last, inclusive: true }, 'list'));
  if (next.rows < pageSize) return { after: undefined, page: await measured(statement(null, 'list')), modelRows: rows };
  return { after: last, page: next, modelRows: rows };
}
