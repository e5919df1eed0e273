/**
 * The catalogue's models read for change detection (docs/catalogue.md, "How changes are found"): the database digests
 * every row of the model (its hash, over the operator's SELECT wrapped as `q`), and a page of `(id, digest)` pairs
 * comes back as two texts (src/key-list.ts), which go on to the state database as they are, to be compared with the
 * ledger there (src/state/ledger.ts, ledgerDiff): no row of an unchanged product is decoded in this process. The full rows
 * are then fetched only for the ids that differ: by id, or by a range of ids when most of a stretch is wanted (a
 * first run), each with the digest of the very row fetched.
 */
import { boundOperator, keyRuns, keysArraySql, listEnds, type KeyBound, type KeysForm } from '../key-list.js';
import type { Row } from '../payloads/index.js';
import { shardPredicate, type Shard } from '../shard.js';
import type { Source } from './db.js';
import { sizeDevices, type ChangedWindow, type SizedDevices } from './snapshot.js';
import { Binder, fromModel, type Statement } from './statement.js';

/** A model's row as fetched in full: its columns, with its id text and digest added. */
export type DigestedRow = Row & { __pcs_did: string; __pcs_digest: string };

/**
 * A page of the model's `(id, digest)` pairs, as two texts that go to the state database as they are (no
 * row decoded here). Pages hold whole ids and cover the model's ids from `from` to `to` (null: from the start; to the
 * end); the next page begins where this one's `to` ends. The texts may hold pairs past `to` at their end (the rows
 * of an id the next page reads whole): whoever unpacks them keeps only the pairs within `to`.
 */
export interface DigestPage {
  /** The ids, in the form `keysForm` says (src/key-list.ts; an id the model returns twice appears twice). */
  keys: string;
  keysForm: KeysForm;
  /**
   * Their digests in the same order, as text joined by commas (a digest is the decimal text of the row's hash, or the
   * hex of an md5: never a comma; `string_to_array` splits it without the parsing an array literal needs).
   */
  digests: string;
  /** Pairs in the page (within `to`). */
  count: number;
  from: KeyBound | null;
  to: KeyBound | null;
  /** More pages may follow. */
  more: boolean;
  /** Some id comes twice in the page. */
  dups: boolean;
}

/** How a model row's digest is computed: the row's hash, or (a column type without one, e.g. json) the md5 of its text. */
export type DigestMethod = 'hash' | 'text';

/** The digest of a model row, computed by Postgres: the same expression in every statement of a run. */
const ROW_DIGEST: Record<DigestMethod, string> = { hash: 'hash_record_extended(q, 0)', text: 'md5(q::text)' };

/** A page's filter of the model: within the stretch from `from`, in the updated_at window, in the shard. */
function pageFilter(b: Binder, page: { from: KeyBound | null; shard: Shard | undefined; changed?: ChangedWindow | undefined }): string {
  const parts = ['q.id IS NOT NULL'];
  if (page.from !== null) parts.push(`q.id::text COLLATE "C" ${boundOperator(page.from, true)} ${b.bind(page.from.key)}`);
  if (page.changed !== undefined) {
    if (page.changed.since !== null) parts.push(`q.updated_at::timestamptz >= ${b.bind(page.changed.since)}::timestamptz`);
    parts.push(`q.updated_at::timestamptz < ${b.bind(page.changed.before)}::timestamptz`);
  }
  const inShard = shardPredicate('q.id::text', page.shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return parts.join(' AND ');
}

/** What a page statement takes: where it starts, how many pairs at most, and which rows of the model. */
interface PageQuery {
  from: KeyBound | null;
  limit: number;
  shard: Shard | undefined;
  changed?: ChangedWindow | undefined;
  method: DigestMethod;
}

/**
 * The first `limit` pairs from `from`, in id byte order, as they come: one pass, no window, no second sort. The ids
 * come as a `list` (src/key-list.ts) with a flag that says whether the list can hold them (no id empty or holding the
 * separator), or as a `literal` with the first and last ids. Whether the page is full, its ends and how its ids run
 * say what the reader does with it (ModelDigests.pages).
 */
export function digestPageStatement(query: string, page: PageQuery, form: KeysForm): Statement {
  const b = new Binder();
  const where = pageFilter(b, page);
  const pairs = `SELECT q.id::text COLLATE "C" AS k, ${ROW_DIGEST[page.method]} AS d FROM ${fromModel(query)} WHERE ${where} ORDER BY q.id::text COLLATE "C" LIMIT ${b.bind(page.limit)}`;
  const keys =
    form === 'list'
      ? `coalesce(string_agg(i.k, E'\\x1f'), '') AS keys, coalesce(bool_or(i.k = '' OR strpos(i.k, E'\\x1f') > 0), false) AS unlisted`
      : `coalesce(array_agg(i.k), '{}')::text AS keys, min(i.k) AS first, max(i.k) AS last`;
  return b.statement(`SELECT ${keys}, coalesce(string_agg(i.d::text, ','), '') AS digests, count(*)::int AS count FROM (${pairs}) AS i`);
}

/** The statement's answer: the page's ids, their digests, how many pairs; the list's flag or the literal's ends. */
export interface PageAnswer extends Record<string, unknown> {
  keys: string;
  digests: string;
  count: number;
  unlisted?: boolean;
  first?: string | null;
  last?: string | null;
}

/** The database has no `hash_record_extended` for a column type of the model (or is older than 14). */
function isMissingHash(caught: unknown): boolean {
  return (caught as { code?: unknown } | null)?.code === '42883';
}

/**
 * The model's digests and rows for change detection. The digest is the row's hash (`hash_record_extended`); a model
 * with a column type that has none (json, money, point, …; or a Postgres before 14) is digested as the md5 of the
 * row's text instead, from the first statement that finds out on (slower in the database, the same otherwise).
 */
export class ModelDigests {
  private method: DigestMethod = 'hash';
  /** How the pages' ids are read: a list, until an id the list cannot hold is found (src/key-list.ts). */
  private keysForm: KeysForm = 'list';

  constructor(
    private readonly source: Source,
    private readonly query: string,
    private readonly shard: Shard | undefined,
  ) {}

  /** How this model's rows are digested: the row's hash until a statement finds a column type without one. */
  get digestMethod(): DigestMethod {
    return this.method;
  }

  /**
   * A statement of the model built for its digest method, run; built again with the md5 of the row's text when the
   * database has no hash for one of its column types (from then on, for every statement of this model).
   */
  async run<R extends Record<string, unknown>>(statement: (method: DigestMethod) => Statement): Promise<R[]> {
    try {
      return await this.source.query<R>(statement(this.method));
    } catch (caught) {
      if (this.method !== 'hash' || !isMissingHash(caught)) throw caught;
      this.method = 'text';
      return this.source.query<R>(statement(this.method));
    }
  }

  /**
   * Every id of the model with its row's digest, in id byte order, a page at a time (at least one page, perhaps empty:
   * the end of the model is what tells the ledger's keys after it are gone); the next page is read while the
   * consumer works on this one. At most `limit` pairs in all (--limit).
   */
  async *pages(pageSize: number, changed?: ChangedWindow, limit = Number.POSITIVE_INFINITY): AsyncGenerator<DigestPage> {
    let read = 0;
    const readPage = async (from: KeyBound | null): Promise<DigestPage> => {
      const size = Math.min(pageSize, limit - read);
      const ask = async (form: KeysForm): Promise<PageAnswer | undefined> =>
        (await this.run<PageAnswer>((method) => digestPageStatement(this.query, { from, limit: size, shard: this.shard, changed, method }, form)))[0];
      let form = this.keysForm;
      let answer = await ask(form);
      if (answer?.unlisted === true) {
        // An id the list cannot hold: this page, and the rest of the run's, as literals.
        form = this.keysForm = 'literal';
        answer = await ask(form);
      }
      const keys = answer?.keys ?? (form === 'list' ? '' : '{}');
      const base = { keys, keysForm: form, digests: answer?.digests ?? '', from };
      const runs = keyRuns(keys, form);
      if (runs.count !== (answer?.count ?? 0)) throw new Error(`a page of ${answer?.count ?? 0} ids came back as ${runs.count}`);
      const { first, last } = form === 'list' ? listEnds(keys) : { first: answer?.first ?? null, last: answer?.last ?? null };
      if (runs.count < size || last === null) {
        return { ...base, count: runs.count, to: null, more: false, dups: runs.dupsBeforeTail || runs.tail > 1 };
      }
      // Full: its greatest id may go on in the next page, which reads that id whole (its pairs stay in the texts,
      // past `to`). An id that fills the page alone is the page (flagged: it comes more than once), and the rest of its
      // rows are not read: the model error is found whatever their number.
      if (first !== last) return { ...base, count: runs.count - runs.tail, to: { key: last, inclusive: false }, more: true, dups: runs.dupsBeforeTail };
      return { ...base, count: runs.count, to: { key: last, inclusive: true }, more: true, dups: runs.count > 1 };
    };
    let next: Promise<DigestPage> | undefined = readPage(null);
    while (next !== undefined) {
      const page: DigestPage = await next;
      read += page.count;
      // --limit: no page past it (the last one read says `more`, so nothing after it is taken as gone).
      next = page.more && page.to !== null && read < limit ? readPage({ key: page.to.key, inclusive: !page.to.inclusive }) : undefined;
      // Should the consumer stop before it awaits this read, its failure must not surface as an unhandled rejection.
      next?.catch(() => undefined);
      yield page;
    }
  }

  /** These ids sized (their rows counted, none read) and packed into runs within `budget` (snapshot.ts, sizeDevices). */
  sizes(ids: readonly string[], budget: number): Promise<SizedDevices> {
    return sizeDevices(this.source, this.query, ids, 'id', budget);
  }

  /** The full rows of these ids, fresh from the model. */
  async rowsById(ids: readonly string[]): Promise<Map<string, DigestedRow[]>> {
    if (ids.length === 0) return new Map();
    return byId(await this.run<DigestedRow>((method) => rowsByIdStatement(this.query, ids, method)));
  }

  /**
   * The full rows of these ids (in byte order), read as the range from the first to the last when they are most of
   * it (`span`: how many ids of the model lie in that range), else by id: a first run reads its rows in stretches by
   * the id index, a run that finds a few changes reads just those.
   */
  async rowsOf(ids: readonly string[], span: number): Promise<Map<string, DigestedRow[]>> {
    const first = ids[0];
    const last = ids[ids.length - 1];
    if (first === undefined || last === undefined) return new Map();
    if (ids.length * 2 < span) return this.rowsById(ids);
    const rows = await this.run<DigestedRow>((method) => rowsInRangeStatement(this.query, first, last, this.shard, method));
    return byId(rows, ids.length === span ? undefined : new Set(ids));
  }
}

/** A page's pairs one by one (the page's own order, 1-based), unpacked by the database: a dry run without a ledger. */
export async function pageEntries(source: Source, page: DigestPage): Promise<{ key: string; at: number; count: number }[]> {
  if (page.count === 0) return [];
  const b = new Binder();
  const keys = keysArraySql(page.keysForm, b.bind(page.keys));
  const within = page.to === null ? '' : `WHERE u.k COLLATE "C" ${boundOperator(page.to, false)} ${b.bind(page.to.key)}`;
  return source.query<{ key: string; at: number; count: number }>(
    b.statement(
      `SELECT u.k AS key, min(u.i)::int AS at, count(*)::int AS count FROM unnest(${keys}) WITH ORDINALITY AS u(k, i) ${within} GROUP BY u.k ORDER BY u.k COLLATE "C"`,
    ),
  );
}

/**
 * A row's columns, its id and its digest as text (the ledger keeps it as text; a driver may read an int8 as a number).
 * Its times are read as text (`timesAsText`): no field of a catalogue item is one.
 */
const fullColumns = (method: DigestMethod): string => `q.*, q.id::text AS "__pcs_did", ${ROW_DIGEST[method]}::text AS "__pcs_digest"`;

/** The full rows of these ids, with their digests. */
export function rowsByIdStatement(query: string, ids: readonly string[], method: DigestMethod): Statement {
  return { text: `SELECT ${fullColumns(method)} FROM ${fromModel(query)} WHERE q.id::text = ANY($1::text[])`, values: [ids], timesAsText: true };
}

/** The full rows of the ids from `first` to `last` (byte order, both included), with their digests. */
export function rowsInRangeStatement(query: string, first: string, last: string, shard: Shard | undefined, method: DigestMethod): Statement {
  const b = new Binder();
  const parts = [`q.id::text COLLATE "C" >= ${b.bind(first)}`, `q.id::text COLLATE "C" <= ${b.bind(last)}`];
  const inShard = shardPredicate('q.id::text', shard, b.bind);
  if (inShard !== undefined) parts.push(inShard);
  return { ...b.statement(`SELECT ${fullColumns(method)} FROM ${fromModel(query)} WHERE ${parts.join(' AND ')}`), timesAsText: true };
}

/** Rows by id: each id's rows (more than one when the model returns it twice); an id the model lacks is absent. */
function byId(rows: readonly DigestedRow[], wanted?: ReadonlySet<string>): Map<string, DigestedRow[]> {
  const out = new Map<string, DigestedRow[]>();
  for (const row of rows) {
    const key = row.__pcs_did;
    if (wanted !== undefined && !wanted.has(key)) continue;
    const lines = out.get(key);
    if (lines === undefined) out.set(key, [row]);
    else lines.push(row);
  }
  return out;
}
