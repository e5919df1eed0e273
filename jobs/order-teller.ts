/**
 * What becomes of one order read from the model: the decision of both roads, in one place.
 *
 * - Not in the ledger: an order PersonaClick does not have. Its status may say it never makes an order
 *   (`jobs.orders.skipStatuses`): skipped. The live sync (`newOrders: 'live'`) judges each: only a new purchase goes
 *   out live (`/push`, which PersonaClick stamps as bought now and which starts its after-purchase triggers): placed
 *   within `newPurchaseHours`, in a status that makes an order (not a `closedStatuses` one, not every line cancelled
 *   or refunded), with the buyer's did. Everything else goes through the order-sync API with its real date and
 *   status; without the shop secret it is kept as a `held` failure naming `personaclick.shopSecret`, nothing told.
 *   A backfill sends every order by its one road (`sync`, or `push` with --via push).
 * - In the ledger: delivered before, by either road. When its state (status and line statuses) differs from the one
 *   last told and is newer (by the model's updated_at), the change goes out as a status update through the
 *   order-sync API; an unchanged or older state costs nothing. Without a shop secret, updates are counted and
 *   skipped, with one line per run.
 * - The live sync leaves history alone: an order placed more than `historyAfterDays` ago, first seen or changed, is
 *   skipped and counted (a mass status change in the shop must not mail years of customers); `backfill orders`
 *   tells it when asked.
 */
import { requireJob } from '../src/config/index.js';
import { toEpochMs } from '../src/dates.js';
import { buildPurchase, buildStatusUpdate, buildSyncOrder, isClosedLine, orderStateOf, type Row } from '../src/payloads/index.js';
import type { JobRun, RowHandle } from '../src/run/runner.js';
import type { Services } from '../src/run/services.js';
import type { Cursor } from '../src/cursor.js';
import { tooLargeReason, type KeySize } from '../src/source/byte-budget.js';
import type { OrderRow } from '../src/source/orders.js';
import type { LedgerState, Road } from '../src/state/ledger.js';
import { buildContext } from './context.js';
import { OrderBatches } from './order-batches.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Where the shop secret comes from, for every line about what waits for it. */
export const SECRET_HINT =
  'personaclick.shopSecret (the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET})';

export interface TellerOptions {
  /**
   * Orders not yet in the ledger: `live` (the incremental sync) judges each, a new purchase live and anything else
   * through the order-sync API; `push` or `sync` sends every one by that road (a backfill).
   */
  newOrders: Road | 'live';
  /** `push` road only: orders placed before this instant (epoch ms) are refused, not sent as new. */
  pushNotBefore?: number | undefined;
  /** Told each buyer's did once its purchase is delivered (the live sync reconciles their carts). */
  onPurchase?: ((did: string) => void) | undefined;
}

/** How replay asks for one order: sent again as a whole order (`live`: by the road it would take now), and with what warnings it was delivered. */
export interface Resend {
  road: Road | 'live';
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

/** When the order was placed (epoch ms): `ordered_at`, else `updated_at`. */
function placedAt(row: Row): number | undefined {
  return toEpochMs(row.ordered_at) ?? toEpochMs(row.updated_at);
}

const hasDid = (row: Row): boolean => (typeof row.did === 'string' ? row.did.trim() !== '' : row.did !== null && row.did !== undefined);

export class OrderTeller {
  private readonly ctx;
  private readonly skipStatuses: ReadonlySet<string>;
  private readonly closedStatuses: ReadonlySet<string>;
  private readonly batches: OrderBatches | undefined;
  /** Placed before these instants (epoch ms): no longer a new purchase; history the live sync leaves alone. */
  private readonly newSince: number;
  private readonly historyBefore: number;
  private readonly limits: { newPurchaseHours: number; historyAfterDays: number };
  /** Status changes not told for want of a shop secret. */
  private untold = 0;
  /** Orders kept as `held` for want of a shop secret. */
  private held = 0;
  /** History the live sync left alone: orders first seen, and status changes of orders told. */
  private historyNew = 0;
  private historyChanges = 0;

  constructor(
    services: Services,
    private readonly run: JobRun,
    private readonly options: TellerOptions,
  ) {
    const job = requireJob(services.config, 'orders');
    this.ctx = buildContext(services.config);
    this.skipStatuses = new Set(job.skipStatuses);
    this.closedStatuses = new Set(job.closedStatuses);
    const now = Date.now();
    this.limits = { newPurchaseHours: job.newPurchaseHours, historyAfterDays: job.historyAfterDays };
    this.newSince = now - job.newPurchaseHours * HOUR_MS;
    this.historyBefore = now - job.historyAfterDays * DAY_MS;
    const secret = services.config.personaclick.shopSecret;
    this.batches =
      secret === undefined
        ? undefined
        : new OrderBatches(run, { shopId: services.config.personaclick.shopId, shopSecret: secret }, { batchSize: job.batchSize });
  }

  /**
   * An order larger than `source.pageBytes` with its lines: an invalid failure with its size, never read whole nor
   * sent (replay sizes it again and sends it once it fits). A status update keeps the order-sync road, a history order too.
   */
  tooLarge(order: { key: string; cursor?: Cursor | undefined }, size: KeySize, told: LedgerState | undefined, budget: number): void {
    const row = this.run.track(order.key, order.cursor);
    const road = told !== undefined || this.options.newOrders === 'sync' ? 'sync' : undefined;
    this.run.invalid(row, tooLargeReason('the order with its lines', size, budget), road);
  }

  /** Decide and act for one order of the model (its lines, and what the ledger knows of it). */
  async tell(order: OrderRow, lines: readonly Row[], told: LedgerState | undefined, resend?: Resend): Promise<void> {
    const row = this.run.track(order.key, order.cursor);
    if (resend !== undefined) {
      const road = resend.road === 'live' ? this.roadOf(order, lines) : { road: resend.road, why: undefined };
      return this.sendNew(row, order, lines, road.road, road.why, resend.deliveredWithWarnings, resend.unconfirmed === true);
    }
    const live = this.options.newOrders === 'live';
    if (live && (placedAt(order.row) ?? Infinity) < this.historyBefore) {
      if (told === undefined) this.historyNew += 1;
      else this.historyChanges += 1;
      return this.run.skip(row);
    }
    if (told !== undefined) return this.update(row, order, lines, told);
    const status = statusText(order.row);
    if (status !== undefined && this.skipStatuses.has(status)) return this.run.skip(row);
    if (this.options.newOrders !== 'live') return this.sendNew(row, order, lines, this.options.newOrders, undefined, undefined);
    const road = this.roadOf(order, lines);
    return this.sendNew(row, order, lines, road.road, road.why, undefined);
  }

  /**
   * The road an order PersonaClick does not have takes now: `push` for a new purchase, else `sync` with why it is not
   * one (for the line that holds it back when the order-sync API is closed).
   */
  private roadOf(order: OrderRow, lines: readonly Row[]): { road: Road; why: string | undefined } {
    const why = this.notNewPurchase(order.row, lines);
    return why === undefined ? { road: 'push', why } : { road: 'sync', why };
  }

  /** Why this order is not a new purchase; undefined when it is one. */
  private notNewPurchase(row: Row, lines: readonly Row[]): string | undefined {
    if (!hasDid(row)) return 'no did (an order taken by phone or in the back office, or a guest whose tracker was blocked)';
    const status = statusText(row);
    if (status !== undefined && this.closedStatuses.has(status)) return `status ${status}: cancelled or refunded as a whole (jobs.orders.closedStatuses)`;
    if (lines.length > 0 && lines.every(isClosedLine)) return 'every line cancelled or refunded';
    const placed = placedAt(row);
    if (placed !== undefined && placed < this.newSince) {
      return `placed ${new Date(placed).toISOString()}, more than ${this.limits.newPurchaseHours} hours ago (jobs.orders.newPurchaseHours): not a new purchase`;
    }
    return undefined;
  }

  /** Send what is gathered, and say what was left untold. */
  async finish(): Promise<void> {
    if (!this.run.shouldStop()) await this.batches?.flush();
    if (this.untold > 0) {
      this.run.log.warn(
        { statusChanges: this.untold },
        `${this.untold} status change(s) of delivered orders not sent: they go through the order-sync API, which needs ${SECRET_HINT}`,
      );
    }
    if (this.held > 0) {
      this.run.log.warn(
        { held: this.held },
        `${this.held} order(s) held: not new purchases (or without a did), they reach PersonaClick only through the order-sync API, which needs ${SECRET_HINT}; set it, then replay --class held`,
      );
    }
    if (this.historyNew + this.historyChanges > 0) {
      this.run.log.warn(
        { ordersFirstSeen: this.historyNew, statusChanges: this.historyChanges, placedBefore: new Date(this.historyBefore).toISOString() },
        `${this.historyNew + this.historyChanges} change(s) of orders placed more than ${this.limits.historyAfterDays} days ago (jobs.orders.historyAfterDays) left alone: ` +
          'history is told only by backfill orders, so that a mass change in the shop mails no one',
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
    if (!built.ok) return this.run.invalid(row, built.reason, 'sync');
    await this.batches.add(row, built.order, { hash: built.state, stateTs: order.cursor.ts, warnings: built.warnings });
  }

  private async sendNew(
    row: RowHandle,
    order: OrderRow,
    lines: readonly Row[],
    road: Road,
    why: string | undefined,
    deliveredWithWarnings: string | undefined,
    replaceRoad = false,
  ): Promise<void> {
    const stateTs = order.cursor.ts;
    if (road === 'sync') {
      if (this.batches === undefined) {
        if (why === undefined) return this.run.invalid(row, `personaclick.shopSecret: the order-sync API needs the shop secret`, 'sync');
        this.held += 1;
        return this.run.hold(
          row,
          `${why}: it reaches PersonaClick only through the order-sync API, which needs personaclick.shopSecret; set it, then replay --class held`,
        );
      }
      const built = buildSyncOrder(order.row, lines);
      if (!built.ok) return this.run.invalid(row, built.reason, 'sync');
      await this.batches.add(row, built.order, {
        hash: built.state === '' ? null : built.state,
        stateTs,
        warnings: built.warnings,
        deliveredWithWarnings,
        ...(replaceRoad ? { replaceRoad } : {}),
      });
      return;
    }
    const placed = placedAt(order.row);
    const notBefore = this.options.pushNotBefore;
    if (notBefore !== undefined && placed !== undefined && placed < notBefore) {
      return this.run.invalid(
        row,
        `ordered_at: ${new Date(placed).toISOString()} is more than ${this.limits.newPurchaseHours} hours ago (jobs.orders.newPurchaseHours): through /push it would count as bought today; send history through the order-sync API (personaclick.shopSecret), or pass --old-orders-as-new`,
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
