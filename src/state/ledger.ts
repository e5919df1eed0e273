/** The delivered ledger: what PersonaClick already has, so nothing goes out twice that need not. */
import type { Knex } from 'knex';
import { boundOperator, keysArraySql, type KeyBound, type KeysForm } from '../key-list.js';
import { shardPredicate, type Shard } from '../shard.js';
import { pgArray, type StateDb } from './db.js';

export interface LedgerEntry {
  key: string;
  hash?: string | null;
  /** Mirrors: the stream and segment of the device's last full request (its clearing request goes out on them). */
  stream?: string | null;
  segment?: string | null;
  /**
   * Orders: the road the order first went out by (`push` or `sync`); it never changes afterwards, except by
   * `replaceRoad`.
   */
  road?: Road | null;
  /**
   * Orders: this delivery replaces PersonaClick's copy whole (replay of an `unconfirmed` order through the order-sync
   * API): the ledger's road becomes this one, so `report --verify` reads it back the way PersonaClick now holds it.
   */
  replaceRoad?: boolean;
  /** Orders: the model's updated_at (cursor text) of the state PersonaClick was last told; `hash` is that state's digest. */
  stateTs?: string | null;
}

/** The two roads an order can take: a live purchase event, or the order-sync API. */
export type Road = 'push' | 'sync';

/** What the ledger knows of a delivered order: its road, and the state last told. */
export interface LedgerState {
  road: Road | null;
  hash: string | null;
  /** Cursor text of the model's updated_at of that state; for rows from before it was kept, when it was delivered. */
  stateTs: string;
}

/** The ledger's rows for these keys, by key: one query per page. */
export async function ledgerStates(db: StateDb, job: string, keys: readonly string[]): Promise<Map<string, LedgerState>> {
  if (keys.length === 0) return new Map();
  const rows = await db.knex.raw<{ rows: { key: string; road: Road | null; hash: string | null; state_ts: string | null; delivered: string }[] }>(
    `SELECT key, road, hash, state_ts, to_char(delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS delivered
       FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`,
    [db.schema, job, pgArray(keys)],
  );
  return new Map(rows.rows.map((r) => [r.key, { road: r.road, hash: r.hash, stateTs: r.state_ts ?? r.delivered }]));
}

/** What the ledger holds, by job and road (orders: `push` or `sync`; the others have none), for `status`. */
export async function ledgerCounts(db: StateDb): Promise<{ job: string; road: string | null; count: number }[]> {
  const rows = await db.knex.raw<{ rows: { job: string; road: string | null; n: string }[] }>(
    `SELECT job, road, count(*) AS n FROM ??.ledger GROUP BY job, road ORDER BY job, road`,
    [db.schema],
  );
  return rows.rows.map((r) => ({ job: r.job, road: r.road, count: Number(r.n) }));
}

/** Which of these keys are already delivered for the job. One query per page. */
export async function deliveredKeys(db: StateDb, job: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.knex.raw<{ rows: { key: string }[] }>(`SELECT key FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`, [
    db.schema,
    job,
    pgArray(keys),
  ]);
  return new Set(rows.rows.map((r) => r.key));
}

export async function recordDelivered(db: StateDb, trx: Knex.Transaction, job: string, entries: readonly LedgerEntry[], runId: string): Promise<void> {
  if (entries.length === 0) return;
  for (let i = 0; i < entries.length; i += 5000) {
    const chunk = entries.slice(i, i + 5000);
    await trx.raw(
      `INSERT INTO ??.ledger (job, key, hash, stream, segment, road, state_ts, run_id)
       SELECT ?, k, h, st, sg, rd, ts, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(k, h, st, sg, rd, ts)
       ON CONFLICT (job, key) DO UPDATE
         SET hash = EXCLUDED.hash, stream = EXCLUDED.stream, segment = EXCLUDED.segment, road = coalesce(ledger.road, EXCLUDED.road),
             state_ts = EXCLUDED.state_ts, run_id = EXCLUDED.run_id, delivered_at = now()`,
      [
        db.schema,
        job,
        runId,
        pgArray(chunk.map((e) => e.key)),
        pgArray(chunk.map((e) => e.hash ?? null)),
        pgArray(chunk.map((e) => e.stream ?? null)),
        pgArray(chunk.map((e) => e.segment ?? null)),
        pgArray(chunk.map((e) => e.road ?? null)),
        pgArray(chunk.map((e) => e.stateTs ?? null)),
      ],
    );
  }
  // Copies replaced whole: the road becomes the one they went out by now.
  for (const road of ['push', 'sync'] as const) {
    const keys = entries.filter((e) => e.replaceRoad === true && e.road === road).map((e) => e.key);
    if (keys.length > 0) await trx.raw(`UPDATE ??.ledger SET road = ? WHERE job = ? AND key = ANY(?::text[])`, [db.schema, road, job, pgArray(keys)]);
  }
}

export async function forgetDelivered(db: StateDb, trx: Knex.Transaction, job: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await trx.raw(`DELETE FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`, [db.schema, job, pgArray(keys)]);
}

/** The stream and segment the ledger holds for these keys (replay's clearing requests). One query. */
export async function ledgerEnvelopes(
  db: StateDb,
  job: string,
  keys: readonly string[],
): Promise<Map<string, { stream: string | null; segment: string | null }>> {
  if (keys.length === 0) return new Map();
  const rows = await db.knex.raw<{ rows: { key: string; stream: string | null; segment: string | null }[] }>(
    `SELECT key, stream, segment FROM ??.ledger WHERE job = ? AND key = ANY(?::text[])`,
    [db.schema, job, pgArray(keys)],
  );
  return new Map(rows.rows.map((r) => [r.key, { stream: r.stream, segment: r.segment }]));
}

/** ` AND ` the shard's predicate on the ledger's key, its values bound as knex's `?` into `params`; '' without a shard. */
function andInShard(shard: Shard | undefined, params: unknown[]): string {
  const inShard = shardPredicate('key', shard, (value) => {
    params.push(value);
    return '?';
  });
  return inShard === undefined ? '' : ` AND ${inShard}`;
}

/**
 * The ledger of a mirror job in key byte order (the "C" collation of the key column, so the primary key index serves
 * it), a page at a time (never an empty one). Rows this run has written are left out: the merge has already passed
 * them. The next page is read while the consumer works on this one; it starts after this page's last key, so what the
 * run writes meanwhile (keys the merge has passed) is left out just the same.
 */
export async function* ledgerPages(db: StateDb, job: string, runId: string, pageSize = 5000, shard?: Shard): AsyncGenerator<LedgerEntry[]> {
  const readPage = async (after: string | null): Promise<LedgerEntry[]> => {
    const params: unknown[] = [db.schema, job, runId];
    let sql = `SELECT key, hash, stream, segment FROM ??.ledger WHERE job = ? AND run_id IS DISTINCT FROM ?`;
    if (after !== null) {
      sql += ` AND key > ?`;
      params.push(after);
    }
    sql += andInShard(shard, params);
    sql += ` ORDER BY key LIMIT ?`;
    params.push(pageSize);
    const result = await db.knex.raw<{ rows: { key: string; hash: string | null; stream: string | null; segment: string | null }[] }>(
      sql,
      params as Knex.RawBinding[],
    );
    return result.rows;
  };
  let next: Promise<LedgerEntry[]> | undefined = readPage(null);
  while (next !== undefined) {
    const rows: LedgerEntry[] = await next;
    const last = rows[rows.length - 1];
    next = !last || rows.length < pageSize ? undefined : readPage(last.key);
    // Should the consumer stop before it awaits this read, its failure must not surface as an unhandled rejection.
    next?.catch(() => undefined);
    if (rows.length > 0) yield rows;
  }
}

/**
 * A key where a page of the model and the ledger differ: `at` is its place in the page (1-based; null when the key
 * is only in the ledger: gone from the model), `count` how many times the page has it, `hash` the ledger's text.
 */
export interface LedgerDiff {
  key: string;
  hash: string | null;
  at: number | null;
  count: number;
}

/** A page of the model's `(id, digest)` pairs, as two texts (src/source/catalogue-digests.ts). */
export interface DigestPairs {
  /** The ids, in the form `keysForm` says (src/key-list.ts). */
  keys: string;
  keysForm: KeysForm;
  /** The digests in the same order, as text joined by commas. */
  digests: string;
  /** Some id comes twice in the page (then the page's pairs are grouped by id, which costs a hash aggregate). */
  dups: boolean;
  /** The page's stretch of keys (null: from the start; to the end); pairs in the texts past `to` are not the page's. */
  from: KeyBound | null;
  to: KeyBound | null;
}

/** `key > x` or `key >= x`, and the like, for a bound of a stretch. */
function boundSql(column: string, bound: KeyBound, lower: boolean): string {
  return `${column} ${boundOperator(bound, lower)} ?`;
}

/**
 * A page of the model's `(id, digest)` pairs compared with the ledger in the state database; only the keys that
 * differ come back (key byte order): in the page but not in the ledger, in both but told under another context or row
 * digest (the ledger's text is `<context>.<row>.<item>`, src/payloads/catalogue-digest.ts), twice in the page, or
 * (`gone`) in the ledger within the page's stretch of keys but not in the page. Without `gone` (`sync products`, a
 * window of the model) only the page's keys are looked up. `all`: every key of the page comes back (--full). The
 * ledger's rows this run has written are left out.
 */
export async function ledgerDiff(
  db: StateDb,
  job: string,
  runId: string,
  page: DigestPairs,
  opts: { context: string; all: boolean; gone: boolean; shard?: Shard | undefined },
): Promise<LedgerDiff[]> {
  const params: unknown[] = [page.keys, page.digests];
  // The pairs past the page's end are the next page's.
  let within = '';
  if (page.to !== null) {
    within = ` WHERE ${boundSql('u.k COLLATE "C"', page.to, false)}`;
    params.push(page.to.key);
  }
  params.push(db.schema, job, runId);
  let ledger = `SELECT key, hash FROM ??.ledger WHERE job = ? AND run_id IS DISTINCT FROM ?`;
  const where = (sql: string, value: unknown): void => {
    ledger += sql;
    params.push(value);
  };
  if (page.to !== null) where(` AND ${boundSql('key', page.to, false)}`, page.to.key);
  if (!opts.gone) where(` AND key = ANY(${keysArraySql(page.keysForm, '?')})`, page.keys);
  else {
    if (page.from !== null) where(` AND ${boundSql('key', page.from, true)}`, page.from.key);
    ledger += andInShard(opts.shard, params);
  }
  params.push(opts.all, `${opts.context}.`);
  // The digests are compared as the text the ledger holds them in: split, never parsed.
  const unnest = `unnest(${keysArraySql(page.keysForm, '?')}, string_to_array(?::text, ',')) WITH ORDINALITY AS u(k, d, i)${within}`;
  const pairs = page.dups
    ? `SELECT u.k COLLATE "C" AS k, min(u.d) AS d, min(u.i)::int AS at, count(*)::int AS n FROM ${unnest} GROUP BY u.k`
    : `SELECT u.k COLLATE "C" AS k, u.d AS d, u.i::int AS at, 1 AS n FROM ${unnest}`;
  const result = await db.knex.raw<{ rows: LedgerDiff[] }>(
    `WITH s AS (${pairs}), l AS (${ledger})
     SELECT coalesce(s.k, l.key) AS key, l.hash, s.at, coalesce(s.n, 0) AS count
       FROM s FULL JOIN l ON l.key = s.k
      WHERE s.k IS NULL OR l.key IS NULL OR ? OR s.n > 1 OR l.hash IS NULL OR NOT starts_with(l.hash, ? || s.d || '.')
      ORDER BY 1`,
    params as Knex.RawBinding[],
  );
  return result.rows;
}

/**
 * Refresh the planner's statistics of the ledger when a run booked enough of it to leave them stale: at least a tenth
 * of the rows the statistics know (autovacuum's own threshold for an ANALYZE), or any number when the ledger was never
 * analysed. After a run that booked many rows (a first reconcile of a million products, say) and before autovacuum has
 * come round, the planner thinks the ledger small and reads each page of `ledgerPages` by a bitmap scan and a sort of
 * everything after the key (0.23 s a page at a million rows, against 6 ms by the primary key once analysed): the next
 * run's merge would wait on it for most of its time. A nightly run that changes 1% of a million products books too
 * few rows to matter, and is spared reading 30 000 sampled rows (a quarter of a second) each night. Whether it ran.
 */
export async function analyzeLedger(db: StateDb, booked: number): Promise<boolean> {
  const known = await db.knex.raw<{ rows: { reltuples: number | string | null }[] }>(
    `SELECT reltuples FROM pg_class WHERE oid = to_regclass(quote_ident(?) || '.ledger')`,
    [db.schema],
  );
  const tuples = Number(known.rows[0]?.reltuples ?? -1);
  if (tuples >= 0 && booked < tuples / 10) return false;
  await db.knex.raw('ANALYZE ??.ledger', [db.schema]);
  return true;
}
