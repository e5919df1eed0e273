/** The sandbox's public shapes. */
import type { SandboxCatalogue } from './catalogue.js';
import type { FaultConfig } from './faults.js';
import type { StoredOrder } from './order-book.js';
import type { OrderChange } from './state.js';
import type { TriggerCounts } from './triggers.js';

/** The shop secret the order-sync API expects when `shopSecret` is not given (the `sandbox` command uses it). */
export const SANDBOX_SHOP_SECRET = 'sandbox-shop-secret';

export interface SandboxOptions {
  /** 0 = a random free port (the default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Known shops: an unknown shop_id answers 404 "Shop not found" (the API's error matrix). Default: any non-empty shop_id is known. */
  shopIds?: string[];
  faults?: FaultConfig;
  /** Keep every accepted body in memory (default true); false keeps only counts and the cart/wish mirror. */
  recordBodies?: boolean;
  /** Keep a record of every API request received, faulted ones and retries included (default false): see `attempts()`. */
  recordAttempts?: boolean;
  /** Order-sync API: the shop secret (default SANDBOX_SHOP_SECRET); missing answers 401, another one 403. */
  shopSecret?: string;
  /** Order-sync API: `POST /sync/orders` requests admitted in any 60 s (default 40); beyond, 429 with Retry-After. */
  syncOrdersPerMinute?: number;
  /** Order-sync API: orders in one batch (default 5000); more answers 413. */
  syncOrdersMaxOrders?: number;
  /** Order-sync API: bytes in one request body (default 32 MiB); more answers 413. */
  syncOrdersMaxBytes?: number;
  /**
   * `GET /orders/by_user`: the key its orders come under. `data` (default) as the API answers today; `payload` as
   * REES46's docs announce it will; `alternate` switches on every answer (data first).
   */
  byUserKey?: 'data' | 'payload' | 'alternate';
}

/** One API request as the sandbox saw it (kept only with `recordAttempts`). */
export interface AttemptRecord {
  /** Date.now() on arrival. */
  at: number;
  path: string;
  /**
   * The request's key: its body's `order_id`, else `did`, else `code`, as text; for `/sync/orders`
   * `<first order id>+<orders in the batch>` (e.g. `N1+500`); for `/orders/by_user` the first
   * customer identifier of the query. Undefined when it has none (or no JSON body).
   */
  key: string | undefined;
  /** The HTTP status it was answered with, or `reset` (socket destroyed) / `hang` (never answered). */
  outcome: number | 'reset' | 'hang';
  /** The Retry-After header of the answer, in seconds, when it carried one. */
  retryAfterSeconds?: number;
  /** The request headers as received (lower-case names). */
  headers: Record<string, string>;
}

export interface AcceptedRequest {
  path: string;
  body: Record<string, unknown>;
  /** Date.now() on arrival. */
  at: number;
}

export interface SandboxStats {
  /** API requests received (control endpoints not counted). */
  received: number;
  /** Accepted requests and answered reads. */
  accepted: number;
  /** Refused for their data: unknown shop or wrong shop secret (403), or a reject rule. */
  rejected: number;
  /** Bad JSON or refused by the rules (400), a missing credential (401), too large (413). */
  invalid: number;
  /** Answers sent, by HTTP status. */
  byStatus: Record<string, number>;
  faults: { error5xx: number; rate429: number; reset: number; hang: number; failNext: number; down: number; forbidden: number };
  /** Max requests received in any 1 s sliding window. */
  maxPerSecond: number;
}

/** `GET /__sandbox/stats`: the stats plus distinct orders and orders accepted more than once. */
export interface SandboxStatsReport extends SandboxStats {
  purchases: number;
  duplicates: number;
}

export interface Sandbox {
  url: string;
  port: number;
  /** Empty when recordBodies is false. */
  accepted: AcceptedRequest[];
  /** order_id → how many times a purchase for it was accepted. */
  purchases: Map<string, number>;
  /** did → product id → quantity; a clearing full_cart deletes the did. */
  carts: Map<string, Map<string, number>>;
  /** did → product ids. */
  wishlists: Map<string, Set<string>>;
  /** Accepted requests by kind: `/push purchase`, `/push/custom my_event`, `/track/clicked`, `/sync/orders`, `/orders/by_user`, … */
  events: Map<string, number>;
  /** Order-sync API: order id → what it holds of the order (status, lines, history, times received). */
  syncOrders: Map<string, StoredOrder>;
  /** Live purchases as orders by order_id, with their did (what `GET /orders/by_user` finds by did). */
  pushOrders: Map<string, StoredOrder>;
  /** Lose (`drop`) or change an order held by either road; false when none is held under that id. */
  alterOrder(id: string, change: OrderChange): boolean;
  /** The catalogue imports: the products and categories PersonaClick was told, and the errors it would mail. */
  catalogue: SandboxCatalogue;
  /** Arrival timestamps (ms) of every `POST /sync/orders` request, faulted and refused ones included. */
  syncArrivals(): number[];
  stats(): SandboxStats;
  /** What PersonaClick's trigger chains would have mailed so far (also `GET /__sandbox/triggers`). */
  triggers(): TriggerCounts;
  /** Arrival timestamps (ms) of every API request received. */
  arrivals(): number[];
  /** Every API request received with its key and answer, in arrival order; empty unless `recordAttempts`. */
  attempts(): AttemptRecord[];
  /** Where `GET /orders/by_user` answers its orders from now on (see SandboxOptions.byUserKey). */
  setByUserKey(key: NonNullable<SandboxOptions['byUserKey']>): void;
  /** Replaces the fault config (throws on an invalid one). */
  setFaults(f: FaultConfig): void;
  /** Forgets everything recorded (not the faults). */
  reset(): void;
  /** Closes the server, destroying hanging and keep-alive sockets. */
  close(): Promise<void>;
}
