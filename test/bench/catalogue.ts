/**
 * catalogue, the figures issue 18 asks for: a catalogue of 1,000,000 products (scaled) in 5,000 categories, in a
 * scratch database of its own. The first `reconcile products` (categories first) tells everything; then 1% of the
 * products change (prices, some out of stock) and the second run must send exactly those, in a time within twice a
 * `psql \copy` of the same model (the run must read the whole model to find the 1%). The same at a tenth of the size,
 * to show the connector's memory is flat. The sandbox runs in this process with the pace raised on both sides; the
 * time at the documented 40 requests a minute is computed from the requests made. The state database is a database
 * of its own, so that what each run costs the shop's database (its backends' CPU, db-cpu.ts) can be told apart from
 * what the comparison costs the state's, and set against what `psql \copy` costs it.
 */
import { writeConfig } from '../support/cli.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { createScratch } from './data.js';
import { psqlCopy } from './baseline.js';
import { databaseCpu } from './db-cpu.js';
import { mustRun, SHOP_ID } from './cli.js';
import { atMost, noTarget, type Figure } from './report.js';
import { connector, round, type Bench } from './scenarios.js';

const SECRET = 'bench-shop-secret';
/** The raised pace: a hundred a second, on both sides. */
const PER_MINUTE = 6000;
const DOCUMENTED_PER_MINUTE = 40;
const CATEGORIES = 5000;
const BATCH = 5000;

const CATEGORIES_QUERY = `SELECT id, name, parent, url FROM cat.categories`;
const PRODUCTS_QUERY = `SELECT p.id, p.name, p.price, p.url, p.picture, p.available, ARRAY[p.category_id] AS categories, p.brand, p.updated_at FROM cat.products p`;

async function fill(db: Awaited<ReturnType<typeof createScratch>>, n: number): Promise<void> {
  await db.query(`CREATE SCHEMA cat;
    CREATE TABLE cat.categories (id text PRIMARY KEY, name text NOT NULL, parent text, url text);
    CREATE TABLE cat.products (id text PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, url text NOT NULL, picture text NOT NULL,
      available boolean NOT NULL, category_id text NOT NULL, brand text, updated_at timestamptz NOT NULL DEFAULT now());`);
  // 50 parents, each with 99 leaves: 5000 categories; products in the leaves.
  await db.query(
    `INSERT INTO cat.categories SELECT 'c' || i, 'Category ' || i, CASE WHEN i <= 50 THEN NULL ELSE 'c' || (1 + i % 50) END, 'https://shop.example/c/' || i FROM generate_series(1, $1::int) i`,
    [CATEGORIES],
  );
  await db.query(
    `INSERT INTO cat.products SELECT 'p' || lpad(i::text, 8, '0'), 'Product ' || i, 1 + (i % 997) * 0.5, 'https://shop.example/p/' || i,
            'https://shop.example/img/' || i || '.jpg', i % 10 <> 0, 'c' || (51 + i % ($2::int - 50)), CASE WHEN i % 3 = 0 THEN 'Brand ' || (i % 40) END
       FROM generate_series(1, $1::int) i`,
    [n, CATEGORIES],
  );
  await db.query(
    `CREATE INDEX ON cat.products ((id COLLATE "C")); CREATE INDEX ON cat.categories ((id COLLATE "C")); ANALYZE cat.products; ANALYZE cat.categories`,
  );
}

async function once(b: Bench, n: number): Promise<Figure[]> {
  const db = await createScratch();
  const stateDb = await createScratch();
  const sandbox = await startSandbox({ recordBodies: false, shopSecret: SECRET, syncOrdersPerMinute: PER_MINUTE });
  try {
    await fill(db, n);
    const config = writeConfig({
      personaclick: { url: sandbox.url, shopId: SHOP_ID, shopSecret: SECRET },
      delivery: { orderSyncPerMinute: PER_MINUTE },
      source: { url: db.url },
      state: { url: stateDb.url, schema: 'bench_catalogue' },
      jobs: { categories: { query: CATEGORIES_QUERY }, products: { query: PRODUCTS_QUERY, currency: 'USD', batchSize: BATCH } },
    });
    await mustRun(['migrate', '--config', config]);
    const label = n.toLocaleString('en-US');
    const { result: first, cpuMs: firstShopCpu } = await databaseCpu(db.name, () =>
      connector(b, `reconcile products, ${label}, first`, ['reconcile', 'products', '--config', config]),
    );
    const firstRequests = sandbox.catalogue.requests.length;
    const held = sandbox.catalogue.products.size;
    const errors = sandbox.catalogue.errors.length;
    // 1%: every hundredth product: its price, and every tenth of those goes out of stock.
    const changed = Number(
      (
        await db.query<{
          n: string;
        }>(`WITH c AS (UPDATE cat.products SET price = price + 1, available = CASE WHEN substr(id, 8) = '5' THEN false ELSE available END, updated_at = now()
        WHERE substr(id, 7, 2) = '42' RETURNING 1) SELECT count(*) AS n FROM c`)
      )[0]?.n ?? 0,
    );
    sandbox.catalogue.requests.length = 0;
    const {
      result: { result: second, cpuMs: stateCpu },
      cpuMs: shopCpu,
    } = await databaseCpu(db.name, () =>
      databaseCpu(stateDb.name, () => connector(b, `reconcile products, ${label}, ${changed} changed`, ['reconcile', 'products', '--config', config])),
    );
    const sentSecond = sandbox.catalogue.requests.filter((r) => r.path === '/import/products').reduce((sum, r) => sum + r.count, 0);
    const sorted = `${PRODUCTS_QUERY} ORDER BY p.id COLLATE "C"`;
    await psqlCopy(db.url, sorted);
    const { result: psqlMs, cpuMs: psqlShopCpu } = await databaseCpu(db.name, () => psqlCopy(db.url, sorted));
    b.log(
      `  psql \\copy: ${(psqlMs / 1000).toFixed(2)} s; the shop database's CPU: psql ${(psqlShopCpu / 1000).toFixed(2)} s, the 1% run ${(shopCpu / 1000).toFixed(2)} s`,
    );
    const scenario = `catalogue: ${label} products in ${CATEGORIES.toLocaleString('en-US')} categories, pace ${PER_MINUTE}/min on both sides, batches of ${BATCH}`;
    const requestsAtDocumented = Math.ceil(n / BATCH) + 1;
    return [
      { scenario, figure: 'first reconcile: requests', value: firstRequests, unit: '', ...noTarget, details: { products: held, errors } },
      {
        scenario,
        figure: 'first reconcile: wall time',
        value: round(first.wallMs / 1000, 1),
        unit: 's',
        ...noTarget,
        details: { cpuMs: round(first.cpuMs, 0) },
      },
      {
        scenario,
        figure: `first reconcile at the documented ${DOCUMENTED_PER_MINUTE}/min`,
        value: round(requestsAtDocumented / DOCUMENTED_PER_MINUTE, 1),
        unit: 'min',
        ...noTarget,
      },
      { scenario, figure: "first reconcile: the shop database's CPU", value: round(firstShopCpu / 1000, 1), unit: 's', ...noTarget },
      { scenario, figure: 'first reconcile: peak RSS', value: round(first.peakRssMb, 1), unit: 'MB', ...atMost(round(first.peakRssMb, 1), 150) },
      {
        scenario,
        figure: `1% changed: products sent (changed ${changed})`,
        value: sentSecond,
        unit: '',
        target: `= ${changed}`,
        met: sentSecond === changed && second.run?.sent === changed,
      },
      { scenario, figure: '1% changed: wall time', value: round(second.wallMs / 1000, 1), unit: 's', ...noTarget, details: { psqlCopyMs: round(psqlMs, 0) } },
      {
        scenario,
        figure: '1% changed: time ÷ psql \\copy of the model',
        value: round(second.wallMs / psqlMs, 2),
        unit: 'x',
        ...atMost(round(second.wallMs / psqlMs, 2), 2),
      },
      {
        scenario,
        figure: "1% changed: the shop database's CPU ÷ psql \\copy's",
        value: round(shopCpu / psqlShopCpu, 2),
        unit: 'x',
        ...noTarget,
        details: { shopCpuMs: round(shopCpu, 0), psqlShopCpuMs: round(psqlShopCpu, 0), stateCpuMs: round(stateCpu, 0), connectorCpuMs: round(second.cpuMs, 0) },
      },
      { scenario, figure: '1% changed: peak RSS', value: round(second.peakRssMb, 1), unit: 'MB', ...atMost(round(second.peakRssMb, 1), 150) },
    ];
  } finally {
    await sandbox.close();
    await db.drop();
    await stateDb.drop();
  }
}

export async function catalogue(b: Bench, n: number): Promise<Figure[]> {
  return [...(await once(b, Math.max(1000, Math.round(n / 10)))), ...(await once(b, n))];
}
