/**
 * PersonaClick's trigger chains, as far as a connector can set them off, counted rather than mailed: the after-purchase
 * chain starts on each live `purchase` (`/push`), and the order-sync API "starts the trigger chain on 'order status
 * changed'" (REES46 `docs/integration/cdp/orders/sync.md`; api-notes.md, last section) for each order of an accepted
 * batch whose status is not the one PersonaClick held: a new order's first status, a purchased order's first status, and
 * every change after. Re-sending a status already held starts nothing. What would have been mailed, and to how many
 * customers: served at `GET /__sandbox/triggers`.
 */
import { CUSTOMER_IDENTIFIERS } from './rules/order-sync.js';

export interface TriggerCounts {
  /** After-purchase chains: one per accepted live purchase (a purchase accepted twice starts it twice). */
  afterPurchase: number;
  /** "Order status changed" chains: one per order-sync order whose status differs from the one held. */
  orderStatusChanged: number;
  /** orderStatusChanged by the status the order changed to. */
  byStatus: Record<string, number>;
  /** Distinct customers some chain started for (by did, else the first identifier an order gives). */
  customers: number;
}

export class TriggerChains {
  private afterPurchase = 0;
  private statusChanged = 0;
  private byStatus: Record<string, number> = {};
  private readonly customers = new Set<string>();

  /** A live purchase was accepted for `did` (its e-mail, when it gives one, names the same person). */
  purchase(did: string): void {
    this.afterPurchase += 1;
    this.customers.add(`did:${did}`);
  }

  /**
   * An order of an accepted `/sync/orders` batch: `held` is the status PersonaClick held before (undefined for an order
   * it did not have, '' for a live purchase not told a status yet); `who` the order's identifiers as held and sent.
   */
  syncOrder(status: string, held: string | undefined, who: { did?: string | undefined; identifiers: Partial<Record<string, string>> }): void {
    if (held === status) return;
    this.statusChanged += 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const name = CUSTOMER_IDENTIFIERS.find((c) => who.identifiers[c] !== undefined);
    if (who.did !== undefined) this.customers.add(`did:${who.did}`);
    else if (name !== undefined) this.customers.add(`${name}:${who.identifiers[name] ?? ''}`);
  }

  counts(): TriggerCounts {
    return { afterPurchase: this.afterPurchase, orderStatusChanged: this.statusChanged, byStatus: { ...this.byStatus }, customers: this.customers.size };
  }

  reset(): void {
    this.afterPurchase = 0;
    this.statusChanged = 0;
    this.byStatus = {};
    this.customers.clear();
  }
}
