/**
 * Naive timestamps (`timestamp without time zone`, as a Rails shop keeps them) are read in one stated zone, never the
 * host's: the same Spree shop gives the same order-sync `date` and the same live/history judgement whether the
 * connector runs under TZ=America/New_York or TZ=Asia/Tokyo. Child processes, because a process's zone is fixed at
 * its first use of Date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../support/cli.js';
import { SHOP_ID } from '../support/harness.js';
import { adminQuery, createMigratedDatabase, PG_HOST, PG_PORT, type TestDatabase } from '../support/pg.js';
import { createSpreeShop, insertSpreeOrder, SPREE_ITEMS_QUERY, SPREE_ORDERS_QUERY } from '../support/spree-shop.js';

const SECRET = 'shop-secret-5e0d7c21';
let db: TestDatabase;

beforeAll(async () => {
  db = await createMigratedDatabase('pcs_dates');
  await createSpreeShop(db);
  // 40 hours ago: a new purchase (newPurchaseHours 48) only when read as the UTC the shop wrote. Read in Tokyo it
  // would be 49 hours old (history); in New York 35.
  await insertSpreeOrder(db, {
    number: 'R40',
    completedHoursAgo: 40,
    did: 'dev-r40',
    email: 'r40@example.com',
    userId: 40,
    lines: [{ variant: 1, quantity: 1, price: 20 }],
  });
  // Ten days ago: history, through the order-sync API with its date.
  await insertSpreeOrder(db, {
    number: 'R240',
    completedHoursAgo: 240,
    did: 'dev-r240',
    email: 'r240@example.com',
    userId: 41,
    lines: [{ variant: 2, quantity: 1, price: 30 }],
  });
  // Last changed a day ago, so that read in a zone west of UTC they are not in the future (not yet due to be read).
  await db.query(`UPDATE spree_orders SET updated_at = updated_at - interval '1 day'`);
});
afterAll(async () => {
  await adminQuery(`ALTER DATABASE "${db.name}" RESET timezone`).catch(() => undefined);
  await db.drop();
});

function configFile(source: Record<string, unknown> = {}): string {
  return writeConfig({
    personaclick: { url: 'http://127.0.0.1:9', shopId: SHOP_ID, shopSecret: SECRET },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}`, ...source },
    jobs: {
      orders: {
        query: SPREE_ORDERS_QUERY,
        itemsQuery: SPREE_ITEMS_QUERY,
        settleSeconds: 0,
        startFrom: '2000-01-01',
        skipStatuses: ['cart', 'address', 'delivery', 'payment', 'confirm'],
      },
    },
  });
}

interface Sent {
  purchases: string[];
  /** Order-sync orders: id → date (Unix seconds). */
  dates: Record<string, number>;
}

/** What a dry run of `sync orders` would send, under a host zone. */
async function dryRun(tz: string, config: string): Promise<Sent> {
  const r = await runCli(['sync', 'orders', '--dry-run', '--config', config], { env: { TZ: tz, LOG_LEVEL: 'warn' } });
  expect(r.code, r.stderr).toBe(0);
  const sent: Sent = { purchases: [], dates: {} };
  for (const line of r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')) {
    const request = JSON.parse(line) as { body?: { event?: string; order_id?: string; orders?: { id: string; date?: number }[] } };
    const body = request.body ?? (request as NonNullable<typeof request.body>);
    if (body.event === 'purchase' && body.order_id !== undefined) sent.purchases.push(body.order_id);
    for (const o of body.orders ?? []) if (o.date !== undefined) sent.dates[o.id] = o.date;
  }
  return sent;
}

const placedSeconds = async (number: string): Promise<number> =>
  Number(
    (
      await db.query<{ s: string }>(
        `SELECT floor(extract(epoch FROM completed_at AT TIME ZONE 'UTC'))::bigint::text AS s FROM spree_orders WHERE number = $1`,
        [number],
      )
    )[0]?.s,
  );

describe('naive timestamps of the shop', () => {
  it('give the same purchase and the same order-sync date under TZ=America/New_York and TZ=Asia/Tokyo', async () => {
    const config = configFile();
    const newYork = await dryRun('America/New_York', config);
    const tokyo = await dryRun('Asia/Tokyo', config);
    expect(newYork).toEqual(tokyo);
    expect(newYork.purchases).toEqual(['R40']);
    expect(newYork.dates).toEqual({ R240: await placedSeconds('R240') });
  });

  it('check names the naive columns and the zone applied', async () => {
    const r = await runCli(['check', '--config', configFile()], { env: { TZ: 'Asia/Tokyo', LOG_LEVEL: 'warn' } });
    const line = r.stdout.split('\n').find((l) => l.includes('jobs.orders.query') && l.includes('timestamp without time zone'));
    expect(line).toMatch(
      /updated_at, ordered_at are timestamp without time zone: read as wall time in (Etc\/)?UTC, the shop database's TimeZone setting; set source\.timezone/,
    );
    const stated = await runCli(['check', '--config', configFile({ timezone: 'UTC' })], { env: { TZ: 'Asia/Tokyo', LOG_LEVEL: 'warn' } });
    expect(stated.stdout).toContain('jobs.orders.query: updated_at, ordered_at are timestamp without time zone: read as wall time in UTC (source.timezone)');
  });

  it("default to the shop database's TimeZone setting, and source.timezone overrides it", async () => {
    await adminQuery(`ALTER DATABASE "${db.name}" SET timezone = 'America/Los_Angeles'`);
    try {
      const truth = await placedSeconds('R240');
      // Read as Los Angeles wall time: 7 or 8 hours later than the UTC the shop wrote, whatever the host's zone.
      const byDatabase = await dryRun('Asia/Tokyo', configFile());
      const shift = (byDatabase.dates.R240 ?? 0) - truth;
      expect([7 * 3600, 8 * 3600]).toContain(shift);
      const stated = await dryRun('Asia/Tokyo', configFile({ timezone: 'UTC' }));
      expect(stated.dates).toEqual({ R240: truth });
      expect(stated.purchases).toEqual(['R40']);
    } finally {
      await adminQuery(`ALTER DATABASE "${db.name}" RESET timezone`);
    }
  });
});
