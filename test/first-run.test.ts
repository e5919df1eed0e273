/**
 * A first run leaves no gap (issue 17 §2): with `startFrom: now`, an order placed between a `backfill` and the first
 * `sync orders` reaches one road (the sync starts where the backfill stopped), and an order at exactly the incremental
 * watermark's timestamp that the live sync left alone as history is the backfill's (its ceiling is the watermark's
 * (ts, key), not ts alone). Every order of the shop ends at PersonaClick once.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { useFrame } from './support/frame.js';
import { runCommand, testConfig } from './support/harness.js';
import { createHistoryShop, HISTORY_ITEMS_QUERY, HISTORY_ORDERS_QUERY, insertHistory } from './support/history-shop.js';

const SECRET = 'shop-secret-4be7a0c9';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_first', shop: false });

function config(): Config {
  return testConfig(env.db.url, env.sandbox.url, {
    personaclick: { shopSecret: SECRET },
    delivery: { orderSyncPerMinute: 6000 },
    orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, startFrom: 'now', settleSeconds: 0 },
  });
}

const sync = () => runCommand(config(), ['sync', 'orders']);
const backfill = () => runCommand(config(), ['backfill', 'orders'], { from: '2000-01-01', to: '2100-01-01', yes: true });

/** Every order of the shop, and where each reached PersonaClick: by one road, once. */
async function roads(): Promise<{ shop: string[]; live: string[]; dated: string[]; twice: number }> {
  const shop = (await env.db.query<{ id: string }>(`SELECT id FROM hist.orders ORDER BY id`)).map((r) => r.id);
  const live = [...env.sandbox.purchases.keys()].sort();
  const dated = [...env.sandbox.syncOrders.keys()].filter((id) => !env.sandbox.purchases.has(id)).sort();
  return { shop, live, dated, twice: [...env.sandbox.purchases.values()].filter((n) => n > 1).length };
}

describe('the first run leaves no gap', () => {
  it('backfill first, then an order is placed, then the first sync: the sync starts where the backfill stopped and sends it', async () => {
    await createHistoryShop(env.db);
    await insertHistory(env.db, 1, 3, { ageDays: 5 }); // placed before installation
    expect((await backfill()).summaries[0]).toMatchObject({ status: 'done', sent: 3 });

    // Placed after the backfill, before anyone runs the sync.
    await insertHistory(env.db, 4, 1, { ageDays: 0 });
    await env.db.query(`UPDATE hist.orders SET created_at = now(), updated_at = now() WHERE id = 'H4'`);
    const first = await sync();
    expect(first.summaries[0]).toMatchObject({ status: 'done', read: 1, sent: 1 });

    expect(await roads()).toEqual({ shop: ['H1', 'H2', 'H3', 'H4'], live: ['H4'], dated: ['H1', 'H2', 'H3'], twice: 0 });
  });

  it('an order at exactly the sync watermark timestamp, left alone by the live sync as history, is told by the later backfill', async () => {
    await createHistoryShop(env.db);
    expect((await sync()).summaries[0]).toMatchObject({ status: 'done', read: 0 }); // installation: starts now
    // Two orders changed in one transaction (one updated_at): H2 new, H1 placed a year ago (history).
    await insertHistory(env.db, 1, 2, { ageDays: 0 });
    await env.db.query(`UPDATE hist.orders SET created_at = now() - interval '365 days' WHERE id = 'H1'`);
    await env.db.query(`UPDATE hist.orders SET updated_at = now(), created_at = CASE WHEN id = 'H2' THEN now() ELSE created_at END`);
    const day = await sync();
    expect(day.summaries[0]).toMatchObject({ read: 2, sent: 1, skipped: 1 });
    const [mark] = await env.db.query<{ key: string | null }>(`SELECT cursor_key AS key FROM personaclick_sync.watermarks WHERE name = 'orders'`);
    expect(mark?.key).toBe('H2'); // the watermark stands at H1's and H2's timestamp

    expect((await backfill()).summaries[0]).toMatchObject({ status: 'done', read: 2, sent: 1 }); // H2 is in the ledger: read, not sent again
    expect(env.sandbox.syncOrders.get('H1')).toMatchObject({ status: 'completed' });
    expect(await roads()).toEqual({ shop: ['H1', 'H2'], live: ['H2'], dated: ['H1'], twice: 0 });
  });
});
