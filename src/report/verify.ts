/**
 * `report --verify N`: what PersonaClick really holds. The order-sync API answers success when a batch is queued and
 * reports bad orders later by email, so the books (the ledger) say what was sent, not what was kept. This reads a
 * sample of delivered orders back (`GET /orders/by_user`, by the customer) and compares each with what the connector
 * would send now, from the shop's model: present or missing; status, total, and the products and quantities of its
 * live lines (those not cancelled or refunded).
 *
 * The sample: the range's delivered orders (both roads) in the sync's keyset order (updated_at, order_id), evenly
 * spaced: every k-th of them, kept in one pass with memory for 2N keys (EvenSample). The same orders come up each time
 * while the books stay the same.
 */
import { outwardText } from '../outward.js';
import type { Config } from '../config/index.js';
import { toEpochMs } from '../dates.js';
import { ApiError, toError } from '../errors.js';
import { ByUserReader, BY_USER_CAP_BYTES, type Customer, type HeldOrder } from './read-back.js';
import { buildPurchase, buildSyncOrder, CUSTOMER_IDENTIFIERS, orderStateOf, type Row } from '../payloads/index.js';
import { purchaseItems } from '../payloads/items.js';
import { syncLines } from '../payloads/sync-order.js';
import type { Source } from '../source/db.js';
import { tooLargeReason } from '../source/byte-budget.js';
import { readOrders, sizeOrders } from '../source/order-reads.js';
import type { OrderRow } from '../source/orders.js';
import { importGapMs } from '../run/dispatch.js';
import type { StateDb } from '../state/db.js';
import { claimImportSlot } from '../state/budget.js';
import { fileVerifyOutcome } from '../state/failures.js';
import { ledgerStates, type LedgerState } from '../state/ledger.js';

/** A delivered order of the range, as the report's page loop sees it. */
export interface DeliveredOrder {
  key: string;
  road: 'push' | 'sync';
  /** updated_at as cursor text. */
  ts: string;
}

/**
 * Up to `n` items evenly spaced over a stream of unknown length, in one pass: every `stride`-th item is kept, and when
 * 2n are kept every other one is dropped and the stride doubles. At the end, n are picked evenly from those kept
 * (the middle one of each of n equal parts).
 */
export class EvenSample<T> {
  private kept: T[] = [];
  private stride = 1;
  private seen = 0;

  constructor(readonly n: number) {}

  offer(item: T): void {
    if (this.seen % this.stride === 0) this.kept.push(item);
    this.seen += 1;
    if (this.kept.length >= 2 * this.n) {
      this.kept = this.kept.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
  }

  /** Items offered so far. */
  get offered(): number {
    return this.seen;
  }

  result(): T[] {
    const m = this.kept.length;
    if (m <= this.n) return [...this.kept];
    // The middle of each of n equal parts of those kept, so the sample reaches both ends of the stream.
    return Array.from({ length: this.n }, (_, i) => this.kept[Math.floor(((i + 0.5) * m) / this.n)] as T);
  }
}

export type VerifyOutcome = 'equal' | 'missing' | 'different' | 'changed' | 'unchecked';

export interface VerifyLine {
  /** The order id (the ledger's key). */
  id: string;
  road: 'push' | 'sync';
  outcome: Exclude<VerifyOutcome, 'equal'>;
  /** The identifier it was looked up by (never its value: that is a customer's email or phone). */
  by: Customer['by'] | undefined;
  /** What differs, or why it was not checked. */
  reason: string;
}

export interface VerifyResult {
  /** --verify N */
  requested: number;
  /** Delivered orders of the range (the sample is drawn from them). */
  delivered: number;
  /** Orders sampled and read back (equal + missing + different + changed). */
  checked: number;
  equal: number;
  /** PersonaClick has no such order for the customer. */
  missing: number;
  /** PersonaClick holds it, not as the connector would send it now. */
  different: number;
  /**
   * Different, but the model's state is not the one last told: changed since (the next sync sends the change), or
   * older than it (a late commit; never sent): not counted against PersonaClick.
   */
  changed: number;
  /** Not read back: the order left the model or would not be sent now, or the customer's read failed. */
  unchecked: number;
  /** Of `unchecked`: the customer's read was refused (a 400, an answer past the cap): nothing confirms these. */
  unread: number;
  /** GET /orders/by_user requests made (one per customer). */
  requests: number;
  /**
   * Every customer's read (at least EMPTY_FOR_ALL_MIN of them) was answered with an empty, valid order list: not one
   * order of those sent is held by anyone. Not believed: a wrong personaclick.shopId, or a read side that answers
   * nothing. Those orders count as unchecked (not missing), nothing is filed, and report exits 4.
   */
  emptyForAll: boolean;
  lines: VerifyLine[];
  /**
   * The missing and different orders filed as open `unconfirmed` failures (replay --class unconfirmed sends them again
   * through the order-sync API), and open `unconfirmed` failures resolved because their order was read back equal.
   */
  filed: number;
  resolved: number;
}

/**
 * Customers read back, at least, for "every answer empty" to be taken as the read side failing rather than as orders
 * really missing: below it, a customer with no orders is just that.
 */
export const EMPTY_FOR_ALL_MIN = 3;

/** Reads at once, at most (each is also paced by the configured rate). */
const READERS = 4;
/** Source and state lookups a chunk at a time. */
const CHUNK = 1000;
const REMOVED = new Set(['cancelled', 'refunded']);

interface Expected {
  order: DeliveredOrder;
  customer: Customer;
  /** The day the search starts from: the day before it was placed (dates at PersonaClick are the shop's). */
  dateFrom: string | undefined;
  status: string | undefined;
  /** Only when the connector sends one (a purchase without order_price leaves the total to PersonaClick). */
  total: number | undefined;
  items: Map<string, number>;
  /**
   * The model's state (status and line statuses) is not the one last told: `untold` when newer (the next sync tells
   * it), `older` when its updated_at is not after the told state's (a late commit, a restored row: never sent).
   */
  drift: 'untold' | 'older' | undefined;
}

/** Whether the read-back confirms what the books say: nothing missing or different, no read refused (else exit 5). */
export function verified(result: VerifyResult): boolean {
  return result.missing + result.different + result.unread === 0;
}

/** The one line of a read-back answered empty for every customer (see VerifyResult.emptyForAll). */
export function emptyForAllLine(result: VerifyResult): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return (
    `PersonaClick answered every one of the ${n(result.requests)} read(s) with an empty order list: not one order sent to these customers is held. ` +
    'Not believed: check personaclick.shopId (another shop answers empty) and try again later; nothing was filed as unconfirmed (exit 4).'
  );
}

/**
 * Read the sample back and compare. Throws FatalApiError (exit 3) and ApiUnavailableError (exit 4) from the reads.
 * `onEqual` hears the id of each order read back equal (fileVerify resolves its open `unconfirmed` failure).
 */
export async function verifyOrders(
  config: Config,
  source: Source,
  state: StateDb,
  sample: readonly DeliveredOrder[],
  delivered: number,
  requested: number,
  onEqual?: (id: string) => void,
): Promise<VerifyResult> {
  const job = config.jobs.orders;
  const secret = config.personaclick.shopSecret;
  if (job === undefined || secret === undefined) throw new Error('verifyOrders: needs the orders job and the shop secret');
  const result: VerifyResult = {
    requested,
    delivered,
    checked: 0,
    equal: 0,
    missing: 0,
    different: 0,
    changed: 0,
    unchecked: 0,
    unread: 0,
    requests: 0,
    emptyForAll: false,
    lines: [],
    filed: 0,
    resolved: 0,
  };
  const note = (order: DeliveredOrder, outcome: VerifyLine['outcome'], by: Customer['by'] | undefined, reason: string): void => {
    result[outcome] += 1;
    if (outcome !== 'unchecked') result.checked += 1;
    result.lines.push({ id: order.key, road: order.road, outcome, by, reason });
  };

  // What the connector would send now, from the model (SQL stays in src/source and src/state).
  const expected: Expected[] = [];
  const ctx = { shopId: config.personaclick.shopId, defaultStream: config.personaclick.stream };
  for (let i = 0; i < sample.length; i += CHUNK) {
    const chunk = sample.slice(i, i + CHUNK);
    const keys = chunk.map((o) => o.key);
    const [sized, told] = await Promise.all([sizeOrders(source, job.query, job.itemsQuery, keys), ledgerStates(state, 'orders', keys)]);
    // Each run within source.pageBytes, built as soon as it is read: only what is compared is kept.
    const byChunk = new Map(chunk.map((o) => [o.key, o]));
    const wanted = new Map<string, Expected | string>();
    for (const run of sized.runs) {
      const { orders, lines } = await readOrders(source, job.query, job.itemsQuery, run);
      for (const row of orders) {
        const order = byChunk.get(row.key);
        if (order !== undefined) wanted.set(row.key, expectation(order, row, lines.get(row.key) ?? [], told.get(row.key), ctx));
      }
    }
    for (const order of chunk) {
      const want = wanted.get(order.key);
      const size = sized.tooLarge.get(order.key);
      if (size !== undefined) note(order, 'unchecked', undefined, tooLargeReason('the order with its lines', size, source.pageBytes));
      else if (want === undefined) note(order, 'unchecked', undefined, "no longer in the shop's orders model");
      else if (typeof want === 'string') note(order, 'unchecked', undefined, want);
      else expected.push(want);
    }
  }

  // One read per customer, READERS at once, paced.
  const groups = new Map<string, Expected[]>();
  for (const want of expected) {
    const id = `${want.customer.by}\u0000${want.customer.value}`;
    const group = groups.get(id);
    if (group) group.push(want);
    else groups.set(id, [want]);
  }
  // The reads are secret-bearing requests of the shop like the imports: on its one budget (docs/catalogue.md), shared
  // with every backfill and catalogue run at the same time; a strict maxRequestsPerSecond applies besides.
  const gapMs = importGapMs(config);
  const reader = new ByUserReader({
    claimSlot: () => claimImportSlot(state, config.personaclick.shopId, gapMs),
    url: config.personaclick.url,
    shopId: config.personaclick.shopId,
    shopSecret: secret,
    timeoutMs: config.personaclick.timeoutMs,
    connections: READERS,
    perSecond: config.delivery.maxRequestsPerSecond,
    retries: config.delivery.retries,
    retryMinMs: config.delivery.retryMinMs,
    retryMaxMs: config.delivery.retryMaxMs,
    capBytes: BY_USER_CAP_BYTES,
  });
  const queue = [...groups.values()];
  let stop: Error | undefined;
  /** Reads answered with a valid list, and those whose list held no order at all. */
  let answered = 0;
  let empty = 0;
  const work = async (): Promise<void> => {
    for (let group = queue.shift(); group !== undefined && stop === undefined; group = queue.shift()) {
      const first = group[0] as Expected;
      const dateFrom = group
        .map((g) => g.dateFrom)
        .reduce<string | undefined>((a, b) => (a === undefined || b === undefined ? undefined : a < b ? a : b), first.dateFrom);
      let held: HeldOrder[];
      try {
        result.requests += 1;
        held = await reader.read(first.customer, dateFrom);
      } catch (caught) {
        const error = toError(caught);
        if (!(error instanceof ApiError)) {
          stop ??= error;
          return;
        }
        result.unread += group.length;
        for (const want of group) note(want.order, 'unchecked', want.customer.by, `the read failed: ${error.message}`);
        continue;
      }
      answered += 1;
      if (held.length === 0) empty += 1;
      const byId = new Map(held.map((h) => [h.id, h]));
      for (const want of group) {
        const got = byId.get(want.order.key);
        if (got === undefined) {
          note(want.order, 'missing', want.customer.by, `PersonaClick holds no order ${want.order.key} for this ${want.customer.by}`);
          continue;
        }
        const differences = compare(want, got);
        if (differences.length === 0) {
          result.equal += 1;
          result.checked += 1;
          onEqual?.(want.order.key);
        } else if (want.drift === 'untold') {
          note(want.order, 'changed', want.customer.by, `${differences.join('; ')} (changed in the shop since it was last told: the next sync sends it)`);
        } else if (want.drift === 'older') {
          note(
            want.order,
            'changed',
            want.customer.by,
            `${differences.join('; ')} (the shop's row is older than the state last told, so the connector does not send it)`,
          );
        } else {
          note(want.order, 'different', want.customer.by, differences.join('; '));
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(READERS, queue.length) }, work));
  } finally {
    await reader.close();
  }
  if (stop !== undefined) throw stop;
  if (answered >= EMPTY_FOR_ALL_MIN && empty === answered) {
    // Every answer empty: one line says so (emptyForAllLine), not one line (and one unconfirmed failure) per order.
    result.emptyForAll = true;
    result.lines = result.lines.filter((l) => l.outcome !== 'missing');
    result.checked -= result.missing;
    result.unchecked += result.missing;
    result.missing = 0;
  }
  const rank: Record<VerifyLine['outcome'], number> = { missing: 0, different: 1, changed: 2, unchecked: 3 };
  result.lines.sort((a, b) => rank[a.outcome] - rank[b.outcome] || compareKeys(a.id, b.id));
  return result;
}

function compareKeys(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

const statusText = (value: unknown): string | undefined =>
  typeof value === 'string' ? (value.trim() === '' ? undefined : value) : typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;

/** What the connector would send of this order now, or why it would not send it. */
function expectation(
  order: DeliveredOrder,
  row: OrderRow,
  lines: readonly Row[],
  told: LedgerState | undefined,
  ctx: { shopId: string; defaultStream: string },
): Expected | string {
  const state = orderStateOf(row.row, lines);
  const drifted = state !== undefined && told !== undefined && told.hash !== null && state !== told.hash;
  const drift = !drifted ? undefined : row.cursor.ts > told.stateTs ? 'untold' : 'older';
  const placed = toEpochMs(row.row.ordered_at) ?? toEpochMs(row.row.updated_at);
  const dateFrom = placed === undefined ? undefined : new Date(placed - 86_400_000).toISOString().slice(0, 10);
  const items = liveItems(lines);
  if (order.road === 'sync') {
    const built = buildSyncOrder(row.row, lines);
    if (!built.ok) return `would not be sent now: ${built.reason}`;
    const by = CUSTOMER_IDENTIFIERS.find((name) => typeof built.order[name] === 'string');
    if (by === undefined) return 'no customer identifier';
    const value = built.order.value as { total: number };
    return {
      order,
      customer: { by, value: built.order[by] as string },
      dateFrom,
      status: built.order.status as string,
      total: value.total,
      items: items ?? new Map<string, number>(),
      drift,
    };
  }
  const built = buildPurchase(row.row, lines, ctx);
  if (!built.ok) return `would not be sent now: ${built.reason}`;
  const body = built.request.body;
  const purchased = new Map<string, number>();
  for (const item of body.items as { id: string; amount: number }[]) purchased.set(item.id, (purchased.get(item.id) ?? 0) + item.amount);
  const total = typeof body.order_price === 'number' ? body.order_price : undefined;
  return { order, customer: { by: 'did', value: body.did as string }, dateFrom, status: statusText(row.row.status), total, items: items ?? purchased, drift };
}

/** The lines still in the order (not cancelled or refunded), product → quantity, as the order-sync builder reads them; undefined when it would not. */
function liveItems(lines: readonly Row[]): Map<string, number> | undefined {
  const built = syncLines(lines, []);
  if (!built.ok) {
    const purchase = purchaseItems(lines, []);
    if (!purchase.ok) return undefined;
    const out = new Map<string, number>();
    for (const item of purchase.value) out.set(item.id, (out.get(item.id) ?? 0) + item.amount);
    return out;
  }
  const out = new Map<string, number>();
  for (const line of built.value) if (line.status === undefined || !REMOVED.has(line.status)) out.set(line.id, (out.get(line.id) ?? 0) + line.quantity);
  return out;
}

const money = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** What differs, in words, the shop's value first: "status paid (PersonaClick: cancelled)", "items P1 ×2 (PersonaClick: ×1)". */
function compare(want: Expected, got: HeldOrder): string[] {
  const out: string[] = [];
  // A live purchase tells no status: one is compared once PersonaClick holds one (an update told through the sync).
  const compareStatus = want.order.road === 'sync' || got.status !== undefined;
  if (compareStatus && want.status !== undefined && got.status !== want.status) out.push(`status ${want.status} (PersonaClick: ${got.status ?? 'none'})`);
  if (want.total !== undefined && (got.total === undefined || Math.abs(got.total - want.total) >= 0.005)) {
    out.push(`total ${money(want.total)} (PersonaClick: ${got.total === undefined ? 'none' : money(got.total)})`);
  }
  const held = new Map<string, number>();
  for (const line of got.items) if (line.status === undefined || !REMOVED.has(line.status)) held.set(line.id, (held.get(line.id) ?? 0) + (line.quantity ?? 0));
  const itemDiffs: string[] = [];
  for (const [id, quantity] of want.items) {
    const h = held.get(id);
    if (h !== quantity) itemDiffs.push(`${id} ×${quantity} (PersonaClick: ${h === undefined ? 'none' : `×${h}`})`);
  }
  for (const [id, quantity] of held) if (!want.items.has(id)) itemDiffs.push(`${id} none (PersonaClick: ×${quantity})`);
  if (itemDiffs.length > 0) out.push(`items ${itemDiffs.slice(0, 5).join(', ')}${itemDiffs.length > 5 ? `, and ${itemDiffs.length - 5} more` : ''}`);
  return out;
}

/**
 * Keep what the read-back found in the failures: each order missing or different becomes (or stays) an open
 * `unconfirmed` failure of the orders job, road `sync`, with what differs as its reason; an order read back equal
 * resolves its open `unconfirmed` failure. Changed-since-told and unchecked orders are not filed: the next sync tells
 * the one, nothing confirmed or denied the other. Sets `filed` and `resolved`.
 */
export async function fileVerify(state: StateDb, result: VerifyResult, equal: readonly string[]): Promise<void> {
  const unconfirmed = result.lines
    .filter((l) => l.outcome === 'missing' || l.outcome === 'different')
    .map((l) => ({ key: l.id, reason: outwardText(`report --verify: ${l.reason}`, []) }));
  const { filed, resolved } = await fileVerifyOutcome(state, 'orders', unconfirmed, equal);
  result.filed = filed;
  result.resolved = resolved;
}

const ROAD: Record<DeliveredOrder['road'], string> = { push: 'purchase', sync: 'order-sync' };

/** The read-back in a terminal: the counts, then one line per order that is not equal. */
export function formatVerify(result: VerifyResult): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const out = [
    `Read back from PersonaClick (GET /orders/by_user, ${n(result.requests)} request(s)): ${n(result.checked + result.unchecked)} of ${n(result.delivered)} delivered orders, evenly spaced (--verify ${n(result.requested)})`,
    `  checked ${n(result.checked)}  equal ${n(result.equal)}  missing ${n(result.missing)}  different ${n(result.different)}  changed since told ${n(result.changed)}  not checked ${n(result.unchecked)}${result.unread > 0 ? ` (${n(result.unread)} for a refused read)` : ''}`,
  ];
  const idWidth = Math.max(0, ...result.lines.map((l) => l.id.length));
  for (const line of result.lines) {
    out.push(`  ${line.id.padEnd(idWidth)}  ${ROAD[line.road].padEnd(10)}  ${line.outcome}${line.by === undefined ? '' : ` (by ${line.by})`}: ${line.reason}`);
  }
  out.push('');
  if (result.missing + result.different > 0) {
    out.push(
      `PersonaClick is missing ${n(result.missing)} and holds ${n(result.different)} different from what the connector would send: the order-sync API checks batches after queueing them and reports refused orders by email to the account. The ledger counts them delivered, so no run sends them again by itself: ${n(result.filed)} filed as unconfirmed failure(s); personaclick-sync replay --class unconfirmed sends them again, whole, through the order-sync API (docs/monitoring.md, "report --verify").`,
    );
  }
  if (result.resolved > 0) out.push(`${n(result.resolved)} unconfirmed failure(s) resolved: their orders were read back as the connector would send them.`);
  if (result.unread > 0) out.push(`${n(result.unread)} order(s) could not be read back: PersonaClick refused the read (see the lines above).`);
  if (result.emptyForAll) out.push(emptyForAllLine(result));
  else if (result.missing + result.different + result.unread === 0) {
    out.push(
      result.checked === 0
        ? 'Nothing was read back: no delivered order of the range could be checked.'
        : 'PersonaClick holds every order read back as the connector would send it now.',
    );
  }
  return out.join('\n');
}
