/** snapshotDevices / snapshotPages: whole devices in did byte order, whatever the type of the model's did. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource, type Source } from '../src/source/db.js';
import { sizeDevices, snapshotDevices, snapshotPages } from '../src/source/snapshot.js';
import { createDatabase, type TestDatabase } from './support/pg.js';

let db: TestDatabase;
let source: Source;

beforeAll(async () => {
  db = await createDatabase('pcs_snapshot');
  await db.query(`CREATE TABLE lines (d_text text, d_varchar varchar(20), d_int int, d_char char(6), product text, qty int);
    INSERT INTO lines SELECT 'dev-' || (i % 37), 'dev-' || (i % 37), i % 37, 'd' || (i % 37), 'P' || i, 1 + i % 3 FROM generate_series(1, 400) i;
    INSERT INTO lines SELECT 'big', 'big', 1000, 'big', 'B' || i, 1 FROM generate_series(1, 60) i;`);
  source = openSource({ url: db.url, poolSize: 2, statementTimeoutMs: 0, applicationName: 'test' });
});
afterAll(async () => {
  await source.close();
  await db.drop();
});

/** What the snapshot must give: every did's ::text in byte order, each with all of its products. */
async function expected(column: string): Promise<[string, string[]][]> {
  const rows = await db.query<{ did: string; products: string[] }>(
    `SELECT ${column}::text AS did, array_agg(product ORDER BY product) AS products FROM lines GROUP BY 1 ORDER BY ${column}::text COLLATE "C"`,
  );
  return rows.map((r) => [r.did, r.products]);
}

async function read(column: string, pageSize: number): Promise<[string, string[]][]> {
  const out: [string, string[]][] = [];
  const query = `SELECT ${column} AS did, product AS id, qty AS quantity FROM lines`;
  for await (const device of snapshotDevices(source, query, pageSize, undefined)) {
    if (!('lines' in device)) throw new Error(`device ${device.did} was given as too large`);
    out.push([device.did, device.lines.map((l) => String(l.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]);
  }
  return out;
}

describe('snapshotDevices', () => {
  for (const column of ['d_text', 'd_varchar', 'd_int', 'd_char']) {
    it(`groups whole devices in byte order for a ${column.slice(2)} did, across pages and a device bigger than a page`, async () => {
      const want = await expected(column);
      for (const pageSize of [7, 50, 1000]) expect(await read(column, pageSize)).toEqual(want);
    });
  }

  it('gives pages that are never empty and never split a device', async () => {
    const seen = new Set<string>();
    for await (const page of snapshotPages(source, `SELECT d_text AS did, product AS id FROM lines`, 25, undefined)) {
      expect(page.length).toBeGreaterThan(0);
      for (const device of page) {
        expect(seen.has(device.did)).toBe(false);
        seen.add(device.did);
      }
    }
    expect(seen.size).toBe(38);
  });
});

describe('pages bounded by bytes (source.pageBytes)', () => {
  /** 30 devices of 4 lines of 8 KB text each (about 33 KB a device), and one device of 40 such lines (about 330 KB). */
  const QUERY = `SELECT did, product AS id, note FROM wide`;
  let small: Source;

  beforeAll(async () => {
    await db.query(`CREATE TABLE wide (did text, product text, note text);
      INSERT INTO wide SELECT 'w-' || lpad((i % 30)::text, 2, '0'), 'P' || i, repeat(md5(i::text), 256) FROM generate_series(0, 119) i;
      INSERT INTO wide SELECT 'w-huge', 'H' || i, repeat(md5(i::text), 256) FROM generate_series(1, 40) i;`);
    small = openSource({ url: db.url, poolSize: 2, statementTimeoutMs: 0, applicationName: 'test', pageBytes: 100_000 });
  });
  afterAll(() => small.close());

  it('cuts a page at the byte budget, never inside a device, and gives a device larger than the budget as its size only', async () => {
    const pages: { dids: string[]; bytes: number }[] = [];
    const oversize: { did: string; rows: number; bytes: number }[] = [];
    for await (const page of snapshotPages(small, QUERY, 10_000, undefined)) {
      let bytes = 0;
      for (const device of page) {
        if ('tooLarge' in device) oversize.push({ did: device.did, ...device.tooLarge });
        else {
          expect(device.lines).toHaveLength(4);
          bytes += device.lines.reduce((n, l) => n + String(l.note).length, 0);
        }
      }
      pages.push({ dids: page.map((d) => d.did), bytes });
    }
    // Every device once, in byte order; the 10 000-row page limit never reached, so only bytes cut the pages.
    expect(pages.flatMap((p) => p.dids)).toEqual([...Array.from({ length: 30 }, (_, i) => `w-${String(i).padStart(2, '0')}`), 'w-huge']);
    expect(pages.length).toBeGreaterThan(5);
    for (const page of pages) expect(page.bytes).toBeLessThanOrEqual(100_000);
    expect(oversize.map((o) => [o.did, o.rows])).toEqual([['w-huge', 40]]);
    expect(oversize[0]?.bytes).toBeGreaterThan(100_000 * 3);
  });

  it('reads a large budget the old way: one page for the whole model', async () => {
    const pages: number[] = [];
    for await (const page of snapshotPages(source, QUERY, 10_000, undefined)) pages.push(page.length);
    expect(pages).toEqual([31]);
  });

  it('sizes devices asked for by key: runs within the budget, the too-large apart, the missing named', async () => {
    const sized = await sizeDevices(small, QUERY, ['w-03', 'w-huge', 'w-01', 'w-02', 'w-04', 'gone']);
    expect(sized.missing).toEqual(['gone']);
    expect([...sized.tooLarge.keys()]).toEqual(['w-huge']);
    expect(sized.runs.flat()).toEqual(['w-03', 'w-01', 'w-02', 'w-04']);
    expect(sized.runs.length).toBeGreaterThan(1);
  });
});
