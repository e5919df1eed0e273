/**
 * What the sandbox received and accepted: arrival times and counts, accepted bodies (optional),
 * purchases by order_id (and as orders, for `GET /orders/by_user`), a mirror of each device's cart
 * and wishlist, and the order-sync API's orders, its arrivals and its pace.
 * Collections are cleared in place on reset, so references handed out stay live.
 */
import { SandboxCatalogue } from './catalogue.js';
import { storeOrder, storePurchase, type PushPurchase, type StoredOrder, type SyncOrder } from './order-book.js';
import { Pace } from './pace.js';
import { CUSTOMER_IDENTIFIERS } from './rules/order-sync.js';
import { TriggerChains } from './triggers.js';
import type { AcceptedRequest, AttemptRecord, SandboxStats } from './types.js';

export const SYNC_ORDERS_PATH = '/sync/orders';

export type FaultKind = keyof SandboxStats['faults'];

/** Arrival timestamps in a growable Float64Array, with the busiest 1 s sliding window kept as they come. */
export class Arrivals {
  private buf = new Float64Array(1024);
  private n = 0;
  private windowStart = 0;
  private max = 0;

  push(t: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n] = t;
    this.n += 1;
    while (this.windowStart < this.n && (this.buf[this.windowStart] ?? t) <= t - 1000) this.windowStart += 1;
    this.max = Math.max(this.max, this.n - this.windowStart);
  }

  get maxPerSecond(): number {
    return this.max;
  }

  toArray(): number[] {
    return Array.from(this.buf.subarray(0, this.n));
  }

  clear(): void {
    this.buf = new Float64Array(1024);
    this.n = 0;
    this.windowStart = 0;
    this.max = 0;
  }
}

/** How `alterOrder` changes a held order: drop it, or replace its status, total or lines. */
export interface OrderChange {
  drop?: boolean;
  status?: string;
  total?: number;
  items?: { id: string; quantity: number; price?: number }[];
}

const noFaults = (): SandboxStats['faults'] => ({ error5xx: 0, rate429: 0, reset: 0, hang: 0, failNext: 0, down: 0, forbidden: 0 });

export class SandboxState {
  readonly accepted: AcceptedRequest[] = [];
  readonly purchases = new Map<string, number>();
  /**
   * The orders PersonaClick has, whichever way they came: a live purchase's `order_id` and an order-sync order's `id`
   * are one order (api-notes.md), so a status update of a purchased order needs only `{id, status}`.
   */
  readonly knownOrders = { has: (id: string): boolean => this.syncOrders.has(id) || this.purchases.has(id) };
  readonly carts = new Map<string, Map<string, number>>();
  readonly wishlists = new Map<string, Set<string>>();
  /** Accepted requests by kind: `/push <event>`, `/push/custom <event>`, `/track/<what>`. */
  readonly events = new Map<string, number>();
  readonly arrivals = new Arrivals();
  /** Every API request with its key and answer (only when recording attempts). */
  readonly attempts: AttemptRecord[] = [];
  /** Order-sync API: the orders it holds by id, and when each `/sync/orders` request arrived (ms). */
  readonly syncOrders = new Map<string, StoredOrder>();
  readonly syncArrivals: number[] = [];
  /**
   * Live purchases as orders by order_id (with their did), and the order-sync updates of those orders applied to
   * them: with `syncOrders`, what `GET /orders/by_user` reads.
   */
  readonly pushOrders = new Map<string, StoredOrder>();
  readonly syncPace: Pace;
  /** What PersonaClick's trigger chains would have mailed (counted, never sent). */
  readonly triggers = new TriggerChains();
  private received = 0;
  private acceptedCount = 0;
  private rejected = 0;
  private invalid = 0;
  private byStatus: Record<string, number> = {};
  private faults = noFaults();
  /** The catalogue imports: what the shop's catalogue is as PersonaClick was told it. */
  readonly catalogue = new SandboxCatalogue();

  constructor(
    private readonly recordBodies: boolean,
    readonly recordAttempts = false,
    syncOrdersPerMinute = 40,
  ) {
    this.syncPace = new Pace(syncOrdersPerMinute);
  }

  arrive(at: number, path?: string): void {
    this.received += 1;
    this.arrivals.push(at);
    if (path === SYNC_ORDERS_PATH) this.syncArrivals.push(at);
  }

  attempt(record: AttemptRecord): void {
    if (this.recordAttempts) this.attempts.push(record);
  }

  /** The attempts in arrival order (they are recorded once their body is read, which may reorder them slightly). */
  attemptsByArrival(): AttemptRecord[] {
    return [...this.attempts].sort((a, b) => a.at - b.at);
  }

  answered(status: number): void {
    const key = String(status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  fault(kind: FaultKind): void {
    this.faults[kind] += 1;
  }

  /** 400 for bad JSON or a body refused by validation, 401 for a missing shop_id / did. */
  countInvalid(): void {
    this.invalid += 1;
  }

  /** Refused for its data: an unknown shop or a reject rule. */
  countRejected(): void {
    this.rejected += 1;
  }

  accept(path: string, body: Record<string, unknown>, at: number): void {
    if (this.recordBodies) this.accepted.push({ path, body, at });
    const event = typeof body.event === 'string' ? body.event : '';
    this.count(path.startsWith('/track/') ? path : `${path} ${event}`);
    if (path === '/push') this.applyPush(event, body, at);
  }

  /** An accepted order-sync batch (its body, holding the shop secret, is not kept). */
  acceptSync(orders: readonly SyncOrder[], at: number): void {
    for (const order of orders) {
      const id = String(order.id);
      const held = this.syncOrders.get(id) ?? this.pushOrders.get(id);
      const identifiers: Partial<Record<string, string>> = { ...held?.identifiers };
      for (const name of CUSTOMER_IDENTIFIERS) {
        const value = order[name];
        if (typeof value === 'string' || typeof value === 'number') identifiers[name] = String(value);
      }
      this.triggers.syncOrder(order.status, held?.status, { did: this.pushOrders.get(id)?.did, identifiers });
      storeOrder(this.syncOrders, order, at);
      if (this.pushOrders.has(String(order.id))) storeOrder(this.pushOrders, order, at);
    }
    this.count(SYNC_ORDERS_PATH);
  }

  /** The orders `GET /orders/by_user` searches: live purchases (with what the sync told of them since), then the sync's. */
  heldOrders(): readonly ReadonlyMap<string, StoredOrder>[] {
    return [this.pushOrders, this.syncOrders];
  }

  /**
   * Lose or change an order PersonaClick holds, whichever road it came by (as when the account's later checks drop
   * or alter it): false when it holds no such order.
   */
  alterOrder(id: string, change: OrderChange): boolean {
    let found = false;
    for (const book of [this.pushOrders, this.syncOrders]) {
      const order = book.get(id);
      if (order === undefined) continue;
      found = true;
      if (change.drop === true) {
        book.delete(id);
        continue;
      }
      if (change.status !== undefined) order.status = change.status;
      if (change.total !== undefined) order.total = change.total;
      if (change.items !== undefined) {
        order.lines = change.items.map((item) => ({ id: item.id, quantity: item.quantity, price: item.price ?? 0 }));
        order.liveLines = order.lines;
      }
    }
    return found;
  }

  /** An answered read (`GET /orders/by_user`). */
  /** Counts an answered read; returns how many reads of that path were answered, this one included. */
  acceptRead(path: string): number {
    this.count(path);
    return this.events.get(path) ?? 0;
  }

  private count(kind: string): void {
    this.acceptedCount += 1;
    this.events.set(kind, (this.events.get(kind) ?? 0) + 1);
  }

  stats(): SandboxStats {
    return {
      received: this.received,
      accepted: this.acceptedCount,
      rejected: this.rejected,
      invalid: this.invalid,
      byStatus: { ...this.byStatus },
      faults: { ...this.faults },
      maxPerSecond: this.arrivals.maxPerSecond,
    };
  }

  reset(): void {
    this.accepted.length = 0;
    this.attempts.length = 0;
    this.purchases.clear();
    this.carts.clear();
    this.wishlists.clear();
    this.events.clear();
    this.arrivals.clear();
    this.syncOrders.clear();
    this.pushOrders.clear();
    this.syncArrivals.length = 0;
    this.syncPace.clear();
    this.triggers.reset();
    this.catalogue.reset();
    this.received = 0;
    this.acceptedCount = 0;
    this.rejected = 0;
    this.invalid = 0;
    this.byStatus = {};
    this.faults = noFaults();
  }

  /** Mirror what the API keeps per device: purchases by order, cart and wishlist contents. */
  private applyPush(event: string, body: Record<string, unknown>, at: number): void {
    const did = String(body.did);
    const items = Array.isArray(body.items) ? body.items.filter(isItem) : undefined;
    switch (event) {
      case 'purchase': {
        const orderId = body.order_id;
        if (typeof orderId === 'string' || typeof orderId === 'number') {
          const key = String(orderId);
          this.purchases.set(key, (this.purchases.get(key) ?? 0) + 1);
          this.triggers.purchase(did);
          storePurchase(this.pushOrders, body as PushPurchase, at); // the rules have checked its fields
        }
        return;
      }
      case 'cart': {
        if (body.full_cart === true) {
          replaceOrClear(this.carts, did, items, (list) => {
            const cart = new Map<string, number>();
            for (const item of list) cart.set(String(item.id), (cart.get(String(item.id)) ?? 0) + quantityOf(item.quantity));
            return cart;
          });
          return;
        }
        const cart = this.carts.get(did) ?? new Map<string, number>();
        for (const item of items ?? []) cart.set(String(item.id), (cart.get(String(item.id)) ?? 0) + quantityOf(item.amount));
        if (cart.size > 0) this.carts.set(did, cart);
        return;
      }
      case 'remove_from_cart':
        removeItems(this.carts, did, items, (cart, id) => cart.delete(id));
        return;
      case 'wish': {
        if (body.full_wish === true) {
          replaceOrClear(this.wishlists, did, items, (list) => new Set(list.map((item) => String(item.id))));
          return;
        }
        const wish = this.wishlists.get(did) ?? new Set<string>();
        for (const item of items ?? []) wish.add(String(item.id));
        if (wish.size > 0) this.wishlists.set(did, wish);
        return;
      }
      case 'remove_wish':
        removeItems(this.wishlists, did, items, (wish, id) => wish.delete(id));
        return;
    }
  }
}

interface Item {
  id: string | number;
  quantity?: unknown;
  amount?: unknown;
}

function isItem(value: unknown): value is Item {
  if (typeof value !== 'object' || value === null) return false;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number';
}

function quantityOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 1;
}

/** Full cart / full wish: items replace the device's contents; no (or no) items delete the device. */
function replaceOrClear<T extends { size: number }>(byDid: Map<string, T>, did: string, items: Item[] | undefined, build: (items: Item[]) => T): void {
  const next = items === undefined ? undefined : build(items);
  if (next === undefined || next.size === 0) byDid.delete(did);
  else byDid.set(did, next);
}

function removeItems<T extends { size: number }>(
  byDid: Map<string, T>,
  did: string,
  items: Item[] | undefined,
  remove: (contents: T, id: string) => void,
): void {
  const contents = byDid.get(did);
  if (contents === undefined) return;
  for (const item of items ?? []) remove(contents, String(item.id));
  if (contents.size === 0) byDid.delete(did);
}
