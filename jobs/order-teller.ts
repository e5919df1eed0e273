/**
 * What becomes of one order read from the model: the decision of both roads, in one place.
 *
 * - Not in the ledger: a new order. Its status may say it never makes an order (`jobs.orders.skipStatuses`): skipped.
 *   Otherwise it goes out by the run's road for new orders: a live `purchase` (`push`), or an order of the order-sync
 *   API with its real date (`sync`, history). One ledger serves both, so it never goes out by the other road too.
 * - In the ledger: delivered before, by either road. When its state (status and line statuses) differs from the one
 *   last told and is newer (by the model's updated_at), the change goes out as a status update through the
 *   order-sync API; an unchanged or older state costs nothing. Without a shop secret, updates are counted and
 *   skipped, with one line per run.
 */
import { requireJob } from '../src/config/index.js';
import { toEpochMs } from '../src/dates.js';
import { buildPurchase, buildStatusUpdate, buildSyncOrder, orderStateOf, type Row } from '../src/payloads/index.js';
import type { JobRun, RowHandle } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { OrderRow } from '../src/source/orders.js';
import type { LedgerState, Road } from '../src/state/ledger.js';
import { buildContext } from './context.js';
import { OrderBatches } from './order-batches.js';

/** Two days: a purchase older than this sent through `/push` would count as made today. */
export const OLD_ORDER_MS = 2 * 24 * 3_600_000;

export interface TellerOptions {
  /** The road of orders not yet in the ledger. */
  newOrders: Road;
  /** `push` road only: orders placed before this instant (epoch ms) are refused, not sent as new. */
  pushNotBefore?: number | undefined;
  /** Told each buyer's did once its purchase is delivered (the live sync reconciles their carts). */
  onPurchase?: ((did: string) => void) | undefined;
}

/** How replay asks for one order: sent again on this road as a whole order, and what warnings it was delivered with. */
export interface Resend {
  road: Road;
  deliveredWithWarnings?: string | undefined;
  /**
   * `report --verify` found PersonaClick's copy missing or different (an `unconfirmed` failure): the whole order goes
   * out again on `road` even though the ledger has it, and on delivery the ledger's road becomes `road`.
   */
  unconfirmed?: boolean | undefined;
}

/** The model's status of an order as text (a number status reads as its digits); undefined when it gives none. */
function statusText(row: Row): string | undefined {
  const status = row.status;
  if (typeof status === 'string') return status;
  return typeof status === 'number' || typeof status === 'bigint' ? String(status) : undefined;
}

export class OrderTeller {
  private readonly ctx;
  private readonly skipStatuses: ReadonlySet<string>;
  private readonly batches: OrderBatches | undefined;
  /** Status changes not told for want of a shop secret. */
  private untold = 0;

  constructor(
    services: Services,
    private readonly run: JobRun,
    private readonly options: TellerOptions,
  ) {
    const job = requireJob(services.config, 'orders');
    this.ctx = buildContext(services.config);
    this.skipStatuses = new Set(job.skipStatuses);
    const secret = services.config.personaclick.shopSecret;
    this.batches = secret === undefined ? undefined : new OrderBatches(run, { shopId: services.config.personaclick.shopId, shopSecret: secret }, { batchSize: job.batchSize });
  }

  /** Decide and act for one order of the model (its lines, and what the ledger knows of it). */
  async tell(order: OrderRow, lines: readonly Row[], told: LedgerState | undefined, resend?: Resend): Promise<void> {
    const row = this.run.track(order.key, order.cursor);
    if (resend !== undefined) return this.sendNew(row, order, lines, resend.road, resend.deliveredWithWarnings, resend.unconfirmed === true);
    if (told !== undefined) return this.update(row, order, lines, told);
    const status = statusText(order.row);
    if (status !== undefined && this.skipStatuses.has(status)) return this.run.skip(row);
    return this.sendNew(row, order, lines, this.options.newOrders, undefined);
  }

  /** Send what is gathered, and say what was left untold. */
  async finish(): Promise<void> {
    if (!this.run.shouldStop()) await this.batches?.flush();
    if (this.untold > 0) {
      this.run.log.warn(
        { statusChanges: this.untold },
        `${this.untold} status change(s) of delivered orders not sent: they go through the order-sync API, which needs personaclick.shopSecret`,
      );
    }
  }

  private async update(row: RowHandle, order: OrderRow, lines: readonly Row[], told: LedgerState): Promise<void> {
    const state = orderStateOf(order.row, lines);
    // Nothing to tell (no status in the model, or the state told already), or an older state than the one told.
    if (state === undefined || state === told.hash || order.cursor.ts <= told.stateTs) return this.run.skip(row);
    if (this.batches === undefined) {
      this.untold += 1;
      return this.run.skip(row);
    }
    const built = buildStatusUpdate(order.row, lines, told.hash);
    if (!built.ok) return this.run.invalid(row, built.reason);
    await this.batches.add(row, built.order, { hash: built.state, stateTs: order.cursor.ts, warnings: built.warnings });
  }

  private async sendNew(row: RowHandle, order: OrderRow, lines: readonly Row[], road: Road, deliveredWithWarnings: string | undefined, replaceRoad = false): Promise<void> {
    const stateTs = order.cursor.ts;
    if (road === 'sync') {
      if (this.batches === undefined) return this.run.invalid(row, 'personaclick.shopSecret: the order-sync API needs the shop secret');
      const built = buildSyncOrder(order.row, lines);
      if (!built.ok) return this.run.invalid(row, built.reason);
      await this.batches.add(row, built.order, { hash: built.state === '' ? null : built.state, stateTs, warnings: built.warnings, deliveredWithWarnings, ...(replaceRoad ? { replaceRoad } : {}) });
      return;
    }
    const placed = toEpochMs(order.row.ordered_at) ?? toEpochMs(order.row.updated_at);
    const notBefore = this.options.pushNotBefore;
    if (notBefore !== undefined && placed !== undefined && placed < notBefore) {
      return this.run.invalid(
        row,
        `ordered_at: ${new Date(placed).toISOString()} is more than two days ago: through /push it would count as bought today; send history through the order-sync API (personaclick.shopSecret), or pass --old-orders-as-new`,
      );
    }
    const built = buildPurchase(order.row, lines, this.ctx);
    const did = built.ok ? built.request.body.did : undefined;
    const onPurchase = this.options.onPurchase;
    await this.run.submit(row, built, {
      hash: orderStateOf(order.row, lines) ?? null,
      stateTs,
      deliveredWithWarnings,
      onDelivered: onPurchase !== undefined && typeof did === 'string' ? () => onPurchase(did) : undefined,
    });
  }
}
