/**
 * What the sandbox accepted, key by key, with the time of the first acceptance: the sandbox keeps only counts, so
 * the live maps it hands out (purchases by order_id, carts by did) are wrapped to note each write as it happens.
 */
import { listContentHash } from '../../../src/payloads/index.js';
import type { Sandbox } from '../../../src/sandbox/index.js';

export class AcceptLog {
  /** key → Date.now() of its first acceptance. */
  readonly first = new Map<string, number>();
  /** key → requests accepted for it. */
  readonly count = new Map<string, number>();
  /** key → every content the sandbox has held for it (carts: content hashes), kept across clear(). */
  readonly held = new Map<string, Set<string>>();

  /** key → the content the sandbox took last for it. */
  readonly latest = new Map<string, string>();

  hold(key: string, content: string): void {
    const seen = this.held.get(key) ?? new Set<string>();
    seen.add(content);
    this.held.set(key, seen);
    this.latest.set(key, content);
  }

  note(key: string): void {
    if (!this.first.has(key)) this.first.set(key, Date.now());
    this.count.set(key, (this.count.get(key) ?? 0) + 1);
  }

  has(key: string): boolean {
    return this.first.has(key);
  }

  /** Keys accepted twice or more. */
  repeated(): string[] {
    return [...this.count].filter(([, n]) => n > 1).map(([k]) => k);
  }

  /** Requests accepted in all. */
  total(): number {
    let n = 0;
    for (const c of this.count.values()) n += c;
    return n;
  }

  /** Forget the counts (a new phase of one scenario); what was held is kept. */
  clear(): void {
    this.first.clear();
    this.count.clear();
  }

  /** Forget everything (a new scenario). */
  reset(): void {
    this.clear();
    this.held.clear();
    this.latest.clear();
  }
}

/** Every write to one of the sandbox's live maps, by key. */
function spyOnMap<V>(map: Map<string, V>): AcceptLog {
  const log = new AcceptLog();
  const set = map.set.bind(map);
  map.set = (key: string, value: V) => {
    log.note(key);
    return set(key, value);
  };
  return log;
}

/** Every accepted purchase, by order_id (the sandbox sets `purchases` once per accepted purchase). */
export function spyOnPurchases(sandbox: Sandbox): AcceptLog {
  return spyOnMap(sandbox.purchases);
}

/** Every order the order-sync API took, by id (the sandbox's order book is set once per order of an accepted batch). */
export function spyOnSyncOrders(sandbox: Sandbox): AcceptLog {
  return spyOnMap(sandbox.syncOrders);
}

/**
 * Every accepted full cart, by did: a full cart with items sets the device's entry, a clearing one deletes it.
 * (Only full carts are sent by the mirror; other cart events would be counted too.) `held` gets the content hash
 * of every cart the sandbox took, as the connector computes it (`listContentHash`), and EMPTY_CART for a clear.
 */
export function spyOnCarts(sandbox: Sandbox): AcceptLog {
  const log = new AcceptLog();
  const map = sandbox.carts;
  const set = map.set.bind(map);
  const del = map.delete.bind(map);
  map.set = (key: string, value: Map<string, number>) => {
    log.note(key);
    log.hold(key, hashOf(value));
    return set(key, value);
  };
  map.delete = (key: string) => {
    log.note(key);
    log.hold(key, EMPTY_CART);
    return del(key);
  };
  return log;
}

export const EMPTY_CART = 'empty';

/** The connector's content hash of a cart as the sandbox holds it. */
export function hashOf(cart: Map<string, number>): string {
  return listContentHash([...cart].map(([id, quantity]) => ({ id, quantity })));
}
