/**
 * The sandbox's control endpoints under /__sandbox/, so a sandbox started in another process (by
 * the CLI) can be driven by tests: stats, faults, reset, and what was recorded (tracking requests,
 * carts, wishlists, and the order-sync API's orders and arrivals), and an order PersonaClick holds
 * lost or changed (`alter-order`), so a read-back can be shown a difference.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from './api.js';
import { parseFaults } from './faults.js';
import { errorBody, MAX_BODY_BYTES, readBody, send, sendJson, SUCCESS_BODY } from './http.js';
import type { OrderChange, SandboxState } from './state.js';
import type { SandboxStatsReport } from './types.js';

export const CONTROL_PREFIX = '/__sandbox/';

export function statsReport(state: SandboxState): SandboxStatsReport {
  let duplicates = 0;
  for (const count of state.purchases.values()) if (count > 1) duplicates += 1;
  return { ...state.stats(), purchases: state.purchases.size, duplicates };
}

type Handler = (ctx: ApiContext, raw: Buffer | undefined, res: ServerResponse) => void;

function setFaults(ctx: ApiContext, raw: Buffer | undefined, res: ServerResponse): void {
  try {
    if (raw === undefined) throw new Error('request body too large');
    ctx.faults.set(parseFaults(JSON.parse(raw.toString('utf8'))));
  } catch (err) {
    send(res, { status: 400, body: errorBody(err instanceof Error ? err.message : String(err)) });
    return;
  }
  send(res, { status: 200, body: SUCCESS_BODY });
}

/** `POST /__sandbox/alter-order` `{"id": …, "drop": true}` or `{"id": …, "status"?, "total"?, "items"?: [{id, quantity}]}`; 404 when no such order is held. */
function alterOrder(ctx: ApiContext, raw: Buffer | undefined, res: ServerResponse): void {
  let id: string;
  let change: OrderChange;
  try {
    if (raw === undefined) throw new Error('request body too large');
    ({ id, change } = parseOrderChange(JSON.parse(raw.toString('utf8'))));
  } catch (err) {
    send(res, { status: 400, body: errorBody(err instanceof Error ? err.message : String(err)) });
    return;
  }
  if (!ctx.state.alterOrder(id, change)) return send(res, { status: 404, body: errorBody(`no order ${id} is held`) });
  send(res, { status: 200, body: SUCCESS_BODY });
}

export function parseOrderChange(value: unknown): { id: string; change: OrderChange } {
  if (typeof value !== 'object' || value === null) throw new Error('expected {"id": …, "drop"?, "status"?, "total"?, "items"?}');
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string' && typeof v.id !== 'number') throw new Error('id: must be an order id');
  const change: OrderChange = {};
  if (v.drop !== undefined) change.drop = v.drop === true;
  if (v.status !== undefined) {
    if (typeof v.status !== 'string') throw new Error('status: must be text');
    change.status = v.status;
  }
  if (v.total !== undefined) {
    if (typeof v.total !== 'number') throw new Error('total: must be a number');
    change.total = v.total;
  }
  if (v.items !== undefined) {
    if (!Array.isArray(v.items)) throw new Error('items: must be a list of {id, quantity}');
    change.items = v.items.map((item: unknown, i) => {
      const it = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      if ((typeof it.id !== 'string' && typeof it.id !== 'number') || typeof it.quantity !== 'number') throw new Error(`items[${i}]: must be {id, quantity}`);
      return { id: String(it.id), quantity: it.quantity, ...(typeof it.price === 'number' ? { price: it.price } : {}) };
    });
  }
  return { id: String(v.id), change };
}

const ROUTES: Record<string, Record<string, Handler>> = {
  stats: { GET: (ctx, _raw, res) => sendJson(res, 200, statsReport(ctx.state)) },
  faults: { GET: (ctx, _raw, res) => sendJson(res, 200, ctx.faults.get()), PUT: setFaults },
  reset: {
    POST: (ctx, _raw, res) => {
      ctx.state.reset();
      send(res, { status: 200, body: SUCCESS_BODY });
    },
  },
  purchases: { GET: (ctx, _raw, res) => sendJson(res, 200, Object.fromEntries(ctx.state.purchases)) },
  /** Every API request received (empty unless the sandbox records attempts). */
  attempts: { GET: (ctx, _raw, res) => sendJson(res, 200, ctx.state.attemptsByArrival()) },
  carts: {
    GET: (ctx, _raw, res) => sendJson(res, 200, Object.fromEntries([...ctx.state.carts].map(([did, cart]) => [did, Object.fromEntries(cart)]))),
  },
  wishlists: {
    GET: (ctx, _raw, res) => sendJson(res, 200, Object.fromEntries([...ctx.state.wishlists].map(([did, wish]) => [did, [...wish]]))),
  },
  /** Order id → StoredOrder. */
  'sync-orders': { GET: (ctx, _raw, res) => sendJson(res, 200, Object.fromEntries(ctx.state.syncOrders)) },
  /** Order id → a live purchase as held (its did, and what the sync told of it since). */
  'push-orders': { GET: (ctx, _raw, res) => sendJson(res, 200, Object.fromEntries(ctx.state.pushOrders)) },
  'alter-order': { POST: alterOrder },
  /** What PersonaClick's trigger chains would have mailed: after-purchase, and "order status changed" (src/sandbox/triggers.ts). */
  triggers: { GET: (ctx, _raw, res) => sendJson(res, 200, ctx.state.triggers.counts()) },
  /** Arrival times (ms) of every POST /sync/orders. */
  'sync-arrivals': { GET: (ctx, _raw, res) => sendJson(res, 200, ctx.state.syncArrivals) },
};

export function handleControl(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, path: string): void {
  const name = path.slice(CONTROL_PREFIX.length);
  const methods = Object.hasOwn(ROUTES, name) ? ROUTES[name] : undefined;
  readBody(req, MAX_BODY_BYTES, (raw) => {
    if (methods === undefined) return send(res, { status: 404, body: errorBody('Not found') });
    const handler = methods[req.method ?? ''];
    if (handler === undefined) {
      return send(res, { status: 405, body: errorBody('Method not allowed'), headers: { allow: Object.keys(methods).join(', ') } });
    }
    handler(ctx, raw, res);
  });
}
