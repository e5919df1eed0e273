/**
 * The demo's history part, run and printed: a backfill of the shop's older orders through the order-sync API (their
 * real dates, phone orders without a device included), then a cancellation and a partial return told by the next
 * `sync orders`, each once.
 */
import type { Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { backfillOrders, syncOrders } from '../../jobs/orders.js';
import type { Logger } from '../log.js';
import type { Services } from '../run/services.js';
import type { RunSummary } from '../run/summary.js';
import type { Sandbox, StoredOrder } from '../sandbox/index.js';
import { buildHistory, cancelAndReturn, type HistoryFacts, type Lifecycle } from './history.js';
import { pad, type Check, type Print } from './print.js';
import type { ShopFacts } from './shop.js';

export interface HistoryDemoContext {
  services: Services;
  sandbox: Sandbox;
  pglite: PGlite;
  out: Writable;
  log: Logger;
  shop: ShopFacts;
}

export interface HistoryOutcome {
  facts: HistoryFacts;
  range: { from: string; to: string };
  backfill: RunSummary;
  /** Requests the backfill took. */
  requests: number;
  /** The history orders PersonaClick holds. */
  held: StoredOrder[];
  purchasesBefore: number;
  purchasesAfter: number;
  life: Lifecycle;
  lines: { cancelled: number; returned: number };
  update: RunSummary;
  /** Requests the status updates took. */
  updates: number;
  /** What PersonaClick holds of the two changed orders afterwards. */
  told: { cancelled: StoredOrder | undefined; returned: StoredOrder | undefined };
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export async function runHistoryDemo(ctx: HistoryDemoContext): Promise<HistoryOutcome> {
  const { services, sandbox } = ctx;
  const now = Date.now();
  const facts = await buildHistory(ctx.pglite, new Date(now));
  const range = { from: day(now - 800 * 86_400_000), to: day(now - 30 * 86_400_000), yes: true }; // the demo's customers are made up
  const purchasesBefore = sandbox.purchases.size;
  const arrivals = sandbox.syncArrivals().length;
  const opts = { dryRun: false, out: ctx.out, log: ctx.log };
  const backfill = await backfillOrders(services, range, opts);
  const requests = sandbox.syncArrivals().length - arrivals;
  const held = [...facts.placed.keys()].map((id) => sandbox.syncOrders.get(id)).filter((o): o is StoredOrder => o !== undefined);

  // Two delivered orders of the live part: the first one that went out, and the first with two products or more.
  const delivered = [...sandbox.purchases.keys()].sort();
  const multi = await ctx.pglite.query<{ id: string }>(
    `SELECT order_id::text AS id FROM shop.order_lines WHERE order_id::text = ANY($1::text[]) GROUP BY order_id HAVING count(DISTINCT product_id) > 1 ORDER BY order_id LIMIT 1`,
    [delivered.slice(1)],
  );
  const life = await cancelAndReturn(ctx.pglite, delivered[0] ?? '', multi.rows[0]?.id ?? delivered[1] ?? '');
  const count = async (id: string) =>
    Number((await ctx.pglite.query<{ n: number }>(`SELECT count(*)::int AS n FROM shop.order_lines WHERE order_id = $1`, [id])).rows[0]?.n ?? 0);
  const lines = { cancelled: await count(life.cancelled), returned: await count(life.returned) };
  const before = sandbox.syncArrivals().length;
  const update = await syncOrders(services, opts);
  const updates = sandbox.syncArrivals().length - before;
  const told = { cancelled: sandbox.syncOrders.get(life.cancelled), returned: sandbox.syncOrders.get(life.returned) };
  return { facts, range, backfill, requests, held, purchasesBefore, purchasesAfter: sandbox.purchases.size, life, lines, update, updates, told };
}

export function printHistory(print: Print, o: HistoryOutcome): void {
  print(`History: the shop also has ${o.facts.orders} older orders (placed over the past two years; ${o.facts.guests} of them phone orders`);
  print(`with no device id, which could never go out as purchases). A purchase event has no date field: PersonaClick`);
  print(`would record each as bought today. The order-sync API takes each with its real date:`);
  print(`  personaclick-sync backfill orders --from ${o.range.from} --to ${o.range.to}   (${o.backfill.status}, ${o.backfill.durationMs} ms)`);
  print(`  orders read       ${pad(o.backfill.read)}`);
  print(`  sent              ${pad(o.backfill.sent)}   in ${o.requests} request(s) to POST /sync/orders (up to 1000 orders each, 40 a minute by default)`);
  print(`  PersonaClick has  ${pad(o.held.length)}   of them, each with its date; e.g.:`);
  for (const order of o.held.slice(0, 3))
    print(
      `    order ${order.id}  placed ${new Date(order.date * 1000).toISOString().slice(0, 10)}  ${order.status}  ${Object.values(order.identifiers).join(', ')}`,
    );
  print();
  print(`Order lifecycle: order ${o.life.cancelled} was cancelled, and order ${o.life.returned} had one line (${o.life.returnedProduct}) returned.`);
  print(`  personaclick-sync sync orders   (${o.update.status})`);
  print(`  orders read       ${pad(o.update.read)}`);
  print(`  sent              ${pad(o.update.sent)}   status updates in ${o.updates} request(s) to POST /sync/orders; no purchase sent again`);
  print('  PersonaClick now has:');
  for (const order of [o.told.cancelled, o.told.returned]) {
    if (order === undefined) continue;
    print(
      `    order ${order.id}  ${order.status}; lines: ${order.lines.map((l) => `${l.id} ×${l.quantity} ${l.status ?? ''}`.trim()).join(', ') || '(as purchased)'}`,
    );
  }
  print();
}

export function historyChecks(o: HistoryOutcome): Check[] {
  const datesKept = o.held.every((order) => order.date === o.facts.placed.get(order.id));
  const guests = o.held.filter((order) => order.identifiers.phone !== undefined && order.identifiers.email === undefined).length;
  return [
    {
      ok: o.backfill.status === 'done' && o.backfill.sent === o.facts.orders && o.held.length === o.facts.orders,
      text: `the backfill sent all ${o.facts.orders} older orders through the order-sync API`,
    },
    { ok: datesKept, text: 'PersonaClick holds each older order with the date it was placed, not the day it was sent' },
    { ok: guests === o.facts.guests, text: `the ${o.facts.guests} phone orders without a device went too, named by their phone` },
    { ok: o.purchasesAfter === o.purchasesBefore, text: 'no order went out twice, by either road (no new purchase)' },
    {
      ok: o.update.sent === 2 && o.updates === 1,
      text: 'the next sync told the cancellation and the partial return, one status update each',
    },
    {
      ok: o.told.cancelled?.status === 'cancelled' && o.told.returned?.liveLines.length === o.lines.returned - 1,
      text: `PersonaClick has order ${o.life.cancelled} cancelled and order ${o.life.returned} without its returned line`,
    },
  ];
}
