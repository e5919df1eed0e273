/**
 * ModelDigests.pages, the catalogue's (id, digest) pages: what the change detection relies on is that the pages,
 * taken together, give every row of the model exactly once with its digest, in id byte order; that no id is split
 * between two pages (an id the model returns twice is a model error, and must be seen whole to be found); that each
 * page's stretch begins where the one before ends; and that --limit stops at a whole id. Judged against the model
 * read whole by a plain statement, for many page sizes, on a model with ids that come twice and one that comes
 * more often than a page holds (that one fills a page alone, flagged, and the rest of its rows are not read: it is
 * refused as a model error whatever its count).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysArraySql, type KeyBound } from '../src/key-list.js';
import { ModelDigests, type DigestPage } from '../src/source/catalogue-digests.js';
import { openSource, type Source } from '../src/source/db.js';
import { createDatabase, type TestDatabase } from './support/pg.js';

let db: TestDatabase;
let source: Source;

const MODEL = `SELECT id, name, price FROM items`;
/** Ids a list of ids cannot hold (empty, or holding its separator) and ids an array literal must quote or escape. */
const ODD_MODEL = `SELECT id, name, price FROM odd_items`;

beforeAll(async () => {
  db = await createDatabase('pcs_catalogue_digests');
  // 60 ids; a7, b3 and c9 come twice; m5 comes 12 times (more than most pages hold); ids of differing lengths and
  // cases, so that byte order differs from a locale's.
  await db.query(`CREATE TABLE items (id text, name text, price numeric);
    INSERT INTO items SELECT chr(97 + i % 20) || (i / 20), 'Item ' || i, i * 1.5 FROM generate_series(0, 59) i;
    INSERT INTO items VALUES ('a7', 'Item a7 again', 1), ('b3', 'Item b3 again', 2), ('c9', 'Item c9 again', 3), ('Z', 'upper', 4), ('a10', 'longer', 5);
    INSERT INTO items SELECT 'm5', 'Item m5 #' || i, i FROM generate_series(1, 11) i;
    CREATE TABLE odd_items (id text, name text, price numeric);
    INSERT INTO odd_items SELECT 'k' || i, 'Odd ' || i, i FROM generate_series(10, 40) i;
    INSERT INTO odd_items VALUES ('', 'empty', 1), ('', 'empty again', 2), ('a,b', 'comma', 3), ('a,b', 'comma again', 4), ('q"x', 'quote', 5),
      (E'back\\\\slash', 'backslash', 6), (' sp', 'space', 7), ('{b}', 'braces', 8), ('NULL', 'null word', 9), ('k2' || chr(31) || 'y', 'separator', 10),
      ('é', 'accent', 11), ('😀', 'astral', 12), ('k25', 'k25 again', 13);`);
  source = openSource({ url: db.url, poolSize: 2, statementTimeoutMs: 0, applicationName: 'test' });
});
afterAll(async () => {
  await source.close();
  await db.drop();
});

/** Every row of the model as (id, digest), in id byte order; an id's rows in any order. */
async function expected(model = MODEL): Promise<[string, string][]> {
  const rows = await db.query<{ k: string; d: string }>(`SELECT q.id AS k, hash_record_extended(q, 0)::text AS d FROM (${model}) q`);
  return rows.map((r): [string, string] => [r.k, r.d]).sort(byteOrder);
}

function byteOrder(a: [string, string], b: [string, string]): number {
  return Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
}

/** The page's pairs within its `to` (the literals may hold the next page's id past it), unpacked by Postgres. */
async function pairsOf(page: DigestPage): Promise<[string, string][]> {
  const rows = await db.query<{ k: string; d: string }>(
    `SELECT u.k, u.d::text AS d FROM unnest(${keysArraySql(page.keysForm, '$1')}, string_to_array($2, ',')) WITH ORDINALITY AS u(k, d, i) ORDER BY u.i`,
    [page.keys, page.digests],
  );
  const within = (key: string, to: KeyBound | null): boolean => {
    if (to === null) return true;
    const c = Buffer.compare(Buffer.from(key), Buffer.from(to.key));
    return c < 0 || (c === 0 && to.inclusive);
  };
  return rows.filter((r) => within(r.k, page.to)).map((r): [string, string] => [r.k, r.d]);
}

async function readAll(pageSize: number, limit?: number, query = MODEL): Promise<{ pages: DigestPage[]; pairs: [string, string][][] }> {
  const model = new ModelDigests(source, query, undefined);
  const pages: DigestPage[] = [];
  const pairs: [string, string][][] = [];
  for await (const page of model.pages(pageSize, undefined, limit)) {
    pages.push(page);
    pairs.push(await pairsOf(page));
  }
  return { pages, pairs };
}

describe('ModelDigests.pages', () => {
  it.each([
    ['ids a list holds', MODEL],
    ['ids a list cannot hold, and ids a literal quotes', ODD_MODEL],
  ])('gives every row once, in byte order, never splitting an id, each page beginning where the one before ends: %s', async (_, query) => {
    const want = await expected(query);
    for (const pageSize of [1, 2, 3, 4, 5, 7, 11, 12, 13, 40, 1000]) {
      const { pages, pairs } = await readAll(pageSize, undefined, query);
      // The ids come as a list until a page holds one the list cannot, then as literals.
      const firstLiteral = pages.findIndex((p) => p.keysForm === 'literal');
      if (query === MODEL) expect(firstLiteral).toBe(-1);
      else {
        expect(firstLiteral).toBeGreaterThanOrEqual(0);
        expect(pages.slice(firstLiteral).every((p) => p.keysForm === 'literal')).toBe(true);
      }
      const rowsOf = (id: string, from: [string, string][]) => from.filter(([k]) => k === id);
      const tooMany = new Set(want.map(([k]) => k).filter((id) => rowsOf(id, want).length > pageSize));
      const got = pairs.flat();
      expect(got.filter(([k]) => !tooMany.has(k)).sort(byteOrder), `page size ${pageSize}`).toEqual(want.filter(([k]) => !tooMany.has(k)));
      for (const id of tooMany) {
        expect(pairs.filter((p) => p.some(([k]) => k === id))).toEqual([expect.arrayContaining(rowsOf(id, got))]);
        expect(rowsOf(id, got)).toHaveLength(pageSize);
      }
      expect(got.map(([k]) => k)).toEqual(got.map(([k]) => k).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      const seen = new Set<string>();
      pages.forEach((page, i) => {
        const ids = pairs[i]?.map(([k]) => k) ?? [];
        expect(page.count, `page size ${pageSize}, page ${i}`).toBe(ids.length);
        // An id's rows all in one page, and a page holding an id twice says so (the comparison groups it by id then).
        for (const id of new Set(ids)) {
          expect(seen.has(id), `page size ${pageSize}: ${id} in two pages`).toBe(false);
          seen.add(id);
        }
        expect(page.dups, `page size ${pageSize}, page ${i}`).toBe(new Set(ids).size !== ids.length);
        const before = pages[i - 1];
        expect(page.from).toEqual(before?.to ? { key: before.to.key, inclusive: !before.to.inclusive } : null);
        expect(page.more).toBe(i < pages.length - 1);
      });
      expect(pages[pages.length - 1]?.to).toBeNull();
    }
  });

  it('--limit: at most that many rows, whole ids from the start; the last page read says more may follow', async () => {
    const want = await expected();
    for (const [pageSize, limit] of [
      [4, 10],
      [5, 23],
      [13, 30],
      [1000, 17],
    ] as const) {
      const { pages, pairs } = await readAll(pageSize, limit);
      const got = pairs.flat();
      expect(got.length).toBeLessThanOrEqual(limit);
      expect(got.length).toBeGreaterThan(0);
      expect(got.sort(byteOrder)).toEqual(want.slice(0, got.length));
      // The last id read is whole, and the run is not taken to have reached the model's end.
      const lastId = got[got.length - 1]?.[0];
      expect(got.filter(([k]) => k === lastId).length).toBe(want.filter(([k]) => k === lastId).length);
      expect(pages[pages.length - 1]?.more).toBe(true);
    }
  });

  it('full rows come with the digest their page gave, and their times as the database wrote them (no item field is a time)', async () => {
    await db.query(`CREATE TABLE timed (id text, name text, updated_at timestamptz, seen timestamp, day date);
      INSERT INTO timed VALUES ('t1', 'One', '2024-03-01 10:00:00.123+00', '2024-03-01 12:00:00', '2024-03-01'), ('t2', 'Two', NULL, NULL, NULL);`);
    const timed = new ModelDigests(source, `SELECT id, name, updated_at, seen, day FROM timed`, undefined);
    const pages: DigestPage[] = [];
    for await (const page of timed.pages(10)) pages.push(page);
    const digests = new Map(await pairsOf(pages[0] as DigestPage));
    const rows = await timed.rowsById(['t1', 't2']);
    const [t1] = rows.get('t1') ?? [];
    expect(t1).toMatchObject({ id: 't1', name: 'One', seen: '2024-03-01 12:00:00', day: '2024-03-01' });
    expect(typeof t1?.updated_at).toBe('string');
    expect(
      Date.parse(
        String(t1?.updated_at)
          .replace(' ', 'T')
          .replace(/([+-]\d\d)$/, '$1:00'),
      ),
    ).toBe(Date.parse('2024-03-01T10:00:00.123Z'));
    expect(rows.get('t2')?.[0]).toMatchObject({ updated_at: null, seen: null, day: null });
    for (const id of ['t1', 't2']) expect(rows.get(id)?.[0]?.__pcs_digest).toBe(digests.get(id));
    // Read as a range of ids (a first run), the same.
    const ranged = await timed.rowsOf(['t1', 't2'], 2);
    expect(ranged.get('t1')?.[0]).toEqual(t1);
  });

  it('an empty model is one empty last page', async () => {
    const model = new ModelDigests(source, `${MODEL} WHERE false`, undefined);
    const pages: DigestPage[] = [];
    for await (const page of model.pages(10)) pages.push(page);
    expect(pages).toMatchObject([{ count: 0, from: null, to: null, more: false, dups: false }]);
  });
});
