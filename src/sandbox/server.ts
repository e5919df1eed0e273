/**
 * `startSandbox`: a local stand-in for the PersonaClick tracking API and order-sync API over real HTTP.
 * Per request: count the arrival, route, decide the fault and the latency (in arrival order, so a
 * seeded run repeats), read the body, judge it by the sandbox's own rules (src/sandbox/rules),
 * answer after the latency. Nothing is logged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BY_USER_PATH, bodyLimit, faultOutcome, handleApi, orderSyncSettings, routeError, type ApiContext, type Outcome } from './api.js';
import { CONTROL_PREFIX, handleControl } from './control.js';
import { Faults } from './faults.js';
import { pathOf, queryOf, readBody, send } from './http.js';
import { CUSTOMER_IDENTIFIERS } from './rules/order-sync.js';
import { SandboxState, SYNC_ORDERS_PATH } from './state.js';
import type { AttemptRecord, Sandbox, SandboxOptions } from './types.js';

const KEEP_ALIVE_MS = 65_000;

/** The key of a request for the attempt record (see AttemptRecord.key). */
function attemptKey(path: string, url: string | undefined, raw: Buffer | undefined): string | undefined {
  if (path === BY_USER_PATH) {
    const query = queryOf(url);
    return CUSTOMER_IDENTIFIERS.map((name) => query[name]).find((value) => value !== undefined);
  }
  if (raw === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (path === SYNC_ORDERS_PATH && Array.isArray(record.orders)) {
    const first: unknown = (record.orders[0] as { id?: unknown } | undefined)?.id;
    return `${typeof first === 'string' || typeof first === 'number' ? first : '?'}+${record.orders.length}`;
  }
  for (const field of ['order_id', 'did', 'code']) {
    const value = record[field];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return undefined;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function attemptRecord(req: IncomingMessage, path: string, at: number, raw: Buffer | undefined, outcome: Outcome): AttemptRecord {
  const record: AttemptRecord = {
    at,
    path,
    key: attemptKey(path, req.url, raw),
    outcome: outcome.kind === 'answer' ? outcome.status : outcome.kind,
    headers: headersOf(req),
  };
  const retryAfter = outcome.kind === 'answer' ? outcome.headers?.['retry-after'] : undefined;
  if (retryAfter !== undefined) record.retryAfterSeconds = Number(retryAfter);
  return record;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const orderSync = orderSyncSettings(opts);
  const state = new SandboxState(opts.recordBodies ?? true, opts.recordAttempts ?? false, orderSync.perMinute);
  const faults = new Faults(opts.faults ?? {});
  const ctx: ApiContext = { state, faults, shopIds: opts.shopIds === undefined ? undefined : new Set(opts.shopIds), orderSync };
  const timers = new Set<NodeJS.Timeout>();

  function deliver(req: IncomingMessage, res: ServerResponse, outcome: Outcome): void {
    if (outcome.kind === 'hang' || req.socket.destroyed) return;
    if (outcome.kind === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    state.answered(outcome.status);
    send(res, outcome);
  }

  function later(delayMs: number, run: () => void): void {
    if (delayMs <= 0) return run();
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timers.add(timer);
  }

  const server = createServer((req, res) => {
    const path = pathOf(req.url);
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(ctx, req, res, path);
    const at = Date.now();
    state.arrive(at, path);
    const misrouted = routeError(path, req.method);
    const fault = misrouted === undefined ? faults.decide() : undefined;
    const delayMs = faults.latency();
    readBody(req, bodyLimit(ctx, path), (raw) => {
      const outcome =
        misrouted ??
        (fault === undefined ? handleApi(ctx, { path, method: req.method ?? 'GET', query: queryOf(req.url), raw, at }) : faultOutcome(state, fault));
      if (state.recordAttempts) state.attempt(attemptRecord(req, path, at, raw, outcome));
      if (outcome.kind === 'hang') return;
      const capacity = misrouted === undefined && fault === undefined ? faults.capacity : undefined;
      if (capacity) capacity.serve(() => later(delayMs, () => deliver(req, res, outcome)));
      else later(delayMs, () => deliver(req, res, outcome));
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    accepted: state.accepted,
    purchases: state.purchases,
    carts: state.carts,
    wishlists: state.wishlists,
    events: state.events,
    syncOrders: state.syncOrders,
    catalogue: state.catalogue,
    pushOrders: state.pushOrders,
    alterOrder: (id, change) => state.alterOrder(id, change),
    syncArrivals: () => [...state.syncArrivals],
    stats: () => state.stats(),
    triggers: () => state.triggers.counts(),
    arrivals: () => state.arrivals.toArray(),
    attempts: () => state.attemptsByArrival(),
    setFaults: (f) => faults.set(f),
    setByUserKey: (key) => {
      orderSync.byUserKey = key;
    },
    reset: () => state.reset(),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
