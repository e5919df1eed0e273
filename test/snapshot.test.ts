/** snapshotDevices / snapshotPages: whole devices in did byte order, whatever the type of the model's did. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource, type Source } from '../src/source/db.js';
import { snapshotDevices, snapshotPages } from '../src/source/snapshot.js';
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
