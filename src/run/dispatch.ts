/**
 * Where a run's requests go and how their outcomes are booked: one delivery queue per road (`push`: the tracking API
 * at `delivery.concurrency` and `maxRequestsPerSecond`; `sync`: the order-sync API at `orderSyncPerMinute`, one at a
 * time), or in a dry run the NDJSON writer. Every outcome ends here: counted, put in the checkpoint's buffers, and
 * its row finished in the tracker. A job's budget (a rate) is for the whole job: with N shards each process takes 1/N.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Config } from '../config/index.js';
import { ApiError, FatalApiError } from '../errors.js';
import { DeliveryQueue, type DeliveryOptions, type Outcome, type Sender } from '../delivery/queue.js';
import type { PersonaClickClient } from '../delivery/client.js';
import { BudgetedSender, type ClaimSlot } from '../delivery/budgeted-sender.js';
import type { Logger } from '../log.js';
import { outwardText, terminalSafeJson } from '../outward.js';
import { warningsText, type ApiRequest, type BuildWarning, type JsonValue } from '../payloads/index.js';
import { shardCount, type Shard } from '../shard.js';
import type { Road } from '../state/ledger.js';
import type { RunCounts } from '../state/runs.js';
import type { Cursor } from '../cursor.js';
import type { Checkpointer } from './checkpoint.js';
import type { PrefixTracker } from './tracker.js';

export type { Road };

export interface RowHandle {
  seq: number;
  key: string;
}

export interface DispatchOptions {
  /** The digest the ledger keeps for the key: a mirror's content hash, an order's state. */
  hash?: string | null | undefined;
  /** Mirrors: the stream and segment the request went out with, kept in the ledger for its clearing request. */
  envelope?: { stream: string | null; segment: string | null } | undefined;
  /** Orders: the model's updated_at (cursor text) of the state this request tells. */
  stateTs?: string | undefined;
  /** A clearing request: on delivery the ledger forgets the key. */
  forgetOnDelivery?: boolean | undefined;
  /**
   * The builder's warnings (optional fields left out for bad values). On delivery the key is in the ledger as
   * delivered all the same, and its open failure becomes a `warning` naming each field and value instead of being
   * resolved.
   */
  warnings?: readonly BuildWarning[] | undefined;
  /**
   * Replay of a warning: the warnings (as `warningsText` writes them) the key was delivered with. A request built
   * with exactly these again is not sent: nothing was fixed, and PersonaClick has that request already.
   */
  deliveredWithWarnings?: string | undefined;
  /**
   * Orders: the request replaces PersonaClick's copy whole (replay of an `unconfirmed` order): on delivery the
   * ledger's road becomes this request's road.
   */
  replaceRoad?: boolean | undefined;
  /** Told when the request is delivered (after it is booked). */
  onDelivered?: (() => void) | undefined;
  /** Called once the row's batch outcome is booked, delivered or rejected (a batch request's rows: see RequestBatches). */
  onSettled?: (() => void) | undefined;
}

/** One row's part of a batch request. */
export interface BatchEntry {
  row: RowHandle;
  item: JsonValue;
  options: DispatchOptions;
}

/** A rejected batch of more than one order is split in two on these answers, down to the guilty orders. */
const SPLIT_ON = new Set([400, 413, 422]);

/** Answers that, given alike to a batch and both its halves, refuse the request itself (413 is a size, which halves do narrow). */
const REFUSED_WHOLE_ON = new Set([400, 422]);

/** A rejected batch sent again as two halves: what it was answered, and what its halves have been so far. */
interface Split {
  status: number;
  reason: string;
  orders: number;
  /** Halves answered exactly as the whole was, held until the other half is answered. */
  alike: (() => void)[];
  settled: number;
}

/**
 * Both halves of a batch refused exactly as the whole was: the request is refused, not its orders (a wrong secret or
 * shop answered 400/422). Bisecting on would file every order at 40 requests a minute; the run stops instead (exit
 * 3), nothing of it filed, and the next run sends it again once the setting is fixed.
 */
function batchWideRefusal(split: Split): FatalApiError {
  const detail = split.reason.replace(/^HTTP \d+:\s*/, '');
  const answer = new ApiError(split.reason, split.status, 'fatal', '', undefined, { path: '/sync/orders' });
  return new FatalApiError(
    answer,
    `PersonaClick refused a batch of ${split.orders} orders and both its halves alike (HTTP ${split.status} on /sync/orders: ${detail}): ` +
      'a refusal of the request, not of its orders; check personaclick.shopId and personaclick.shopSecret. Nothing of it was filed: the next run sends it again',
  );
}

/** Characters of dry-run output gathered before one write. */
const DRY_RUN_CHUNK = 64 * 1024;

/** Body fields that are credentials: a dry run prints them masked. */
const SECRET_FIELDS = ['shop_secret'];

/** Milliseconds a paced road adds to each gap, so that network jitter never lets the API see one request too many. */
const PACE_MARGIN_MS = 25;

/** The spacing of the secret-bearing imports (order-sync, catalogue): one request per gap, for the whole shop. */
export function importGapMs(config: Config): number {
  return 60_000 / config.delivery.orderSyncPerMinute + PACE_MARGIN_MS;
}

/**
 * The queue settings of a road for this process: a job's rate is shared by its shards. With the shared import budget
 * (`budgeted`) the `sync` road has no gate of its own: the budget spaces every process's requests.
 */
export function roadOptions(config: Config, road: Road, shard: Shard | undefined, budgeted = false): DeliveryOptions {
  const { delivery } = config;
  const share = shardCount(shard);
  if (road === 'push') return { ...delivery, maxRequestsPerSecond: delivery.maxRequestsPerSecond / share };
  if (budgeted) return { ...delivery, concurrency: 1, maxRequestsPerSecond: 0 };
  const gapMs = (60_000 * share) / delivery.orderSyncPerMinute + PACE_MARGIN_MS;
  return { ...delivery, concurrency: 1, maxRequestsPerSecond: 1000 / gapMs };
}

export interface DispatchContext {
  config: Config;
  /** The API client (or a sender wrapping it, such as the run observer's); undefined in a dry run. */
  client: Sender | PersonaClickClient | undefined;
  shard: Shard | undefined;
  counts: RunCounts;
  checkpoint: Checkpointer;
  tracker: PrefixTracker<Cursor | undefined>;
  log: Logger;
  /** Where a dry run's NDJSON goes. */
  out: Writable;
  /** Secrets masked in reasons kept in the books (outward.ts). */
  secrets: readonly string[];
  /**
   * The shop's shared import budget (state database): every attempt on the `sync` road claims its slot there. Absent
   * (no state database), the road paces itself alone.
   */
  importBudget?: ClaimSlot | undefined;
}

export class Dispatch {
  private readonly queues = new Map<Road, DeliveryQueue>();
  private dryOut = '';

  constructor(private readonly ctx: DispatchContext) {}

  /** A dry run: nothing is sent, every request is printed. */
  get dryRun(): boolean {
    return this.ctx.client === undefined;
  }

  private queue(road: Road): DeliveryQueue | undefined {
    const client = this.ctx.client;
    if (!client) return undefined;
    let queue = this.queues.get(road);
    if (!queue) {
      const budget = road === 'sync' ? this.ctx.importBudget : undefined;
      const sender = budget ? new BudgetedSender(client, budget) : client;
      queue = new DeliveryQueue(sender, roadOptions(this.ctx.config, road, this.ctx.shard, budget !== undefined), this.ctx.log.child({ road }));
      this.queues.set(road, queue);
    }
    return queue;
  }

  /** Why delivery stopped (a fatal answer, the API unavailable, a halt), if it did on any road. */
  get stopped(): Error | undefined {
    for (const queue of this.queues.values()) if (queue.stopped) return queue.stopped;
    return undefined;
  }

  get inFlight(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.inFlight;
    return n;
  }

  get stats(): { retries: number; waitedMs: number } {
    let retries = 0;
    let waitedMs = 0;
    for (const queue of this.queues.values()) {
      retries += queue.stats.retries;
      waitedMs += queue.stats.waitedMs;
    }
    return { retries, waitedMs };
  }

  /** The live road's adaptive limit (`concurrency: auto`): its range over the run and where it is; undefined when fixed. */
  get concurrencyRange(): DeliveryQueue['concurrencyRange'] {
    return this.queues.get('push')?.concurrencyRange;
  }

  halt(reason: Error): void {
    for (const queue of this.queues.values()) queue.halt(reason);
  }

  async drain(): Promise<void> {
    // A road's outcome may add work to another (none does today), so drain until every queue is idle at once.
    while ([...this.queues.values()].some((q) => q.inFlight > 0)) await Promise.all([...this.queues.values()].map((q) => q.drain()));
    await this.writeDryRun();
  }

  /** One request for one row, on the tracking API. */
  async dispatch(row: RowHandle, req: ApiRequest, options: DispatchOptions = {}): Promise<void> {
    const queue = this.queue('push');
    if (!queue) {
      await this.print(req);
      this.delivered(row, options, undefined);
      return;
    }
    await queue.submit(req, (outcome) => this.settle([{ row, item: null, options }], outcome, 'push'));
  }

  /**
   * One request for several rows, on the order-sync API; each row is booked with the batch's outcome. A batch the API
   * rejects for its data (400, 413, 422) is split in two and each half sent again, down to the guilty orders.
   */
  async dispatchBatch(entries: readonly BatchEntry[], request: (items: JsonValue[]) => ApiRequest): Promise<void> {
    if (entries.length === 0) return;
    const queue = this.queue('sync');
    if (!queue) {
      await this.print(request(entries.map((e) => e.item)));
      for (const e of entries) {
        this.delivered(e.row, e.options, undefined);
        e.options.onSettled?.();
      }
      return;
    }
    /** What to do with a group's outcome once it is known not to be a batch-wide refusal. */
    const proceed = (group: readonly BatchEntry[], outcome: Outcome): void => {
      if (outcome.kind === 'rejected' && group.length > 1 && outcome.status !== undefined && SPLIT_ON.has(outcome.status)) {
        this.ctx.log.debug({ orders: group.length, status: outcome.status, reason: outcome.reason }, 'batch rejected: sending its halves apart');
        const half = Math.ceil(group.length / 2);
        const split: Split = { status: outcome.status, reason: outcome.reason, orders: group.length, alike: [], settled: 0 };
        void send(group.slice(0, half), false, split);
        void send(group.slice(half), false, split);
        return;
      }
      this.settle(group, outcome, 'sync');
    };
    const send = (group: readonly BatchEntry[], wait: boolean, parent?: Split): Promise<boolean> =>
      queue.submit(
        request(group.map((e) => e.item)),
        (outcome) => {
          if (!parent) return proceed(group, outcome);
          // A half refused exactly as the whole was waits for its sibling: both alike is a refusal of the request
          // itself (the shop, the secret), which no order of it can fix and no further split will narrow.
          parent.settled += 1;
          const alike =
            outcome.kind === 'rejected' && outcome.status === parent.status && outcome.reason === parent.reason && REFUSED_WHOLE_ON.has(parent.status);
          if (alike) parent.alike.push(() => proceed(group, outcome));
          else proceed(group, outcome);
          if (parent.settled < 2) return;
          if (parent.alike.length === 2) {
            queue.halt(batchWideRefusal(parent));
            return;
          }
          for (const go of parent.alike.splice(0)) go();
        },
        wait,
      );
    await send(entries, true);
  }

  private settle(group: readonly BatchEntry[], outcome: Outcome, road: Road): void {
    for (const e of group) {
      if (outcome.kind === 'delivered') this.delivered(e.row, e.options, road);
      else this.rejected(e.row, outcome.reason, outcome.status, road);
      e.options.onSettled?.();
    }
  }

  private delivered(row: RowHandle, options: DispatchOptions, road: Road | undefined): void {
    const { counts, checkpoint, tracker, log } = this.ctx;
    counts.sent += 1;
    if (!this.dryRun) {
      if (options.forgetOnDelivery) checkpoint.markForgotten(row.key);
      else {
        checkpoint.markDelivered({
          key: row.key,
          hash: options.hash ?? null,
          stream: options.envelope?.stream ?? null,
          segment: options.envelope?.segment ?? null,
          road: road ?? null,
          stateTs: options.stateTs ?? null,
          ...(options.replaceRoad === true ? { replaceRoad: true } : {}),
        });
      }
    }
    const warned = options.warnings !== undefined && options.warnings.length > 0 ? options.warnings : undefined;
    if (warned) {
      counts.warnings += 1;
      const reason = warningsText(warned);
      if (!this.dryRun) checkpoint.markWarning(row.key, reason);
      log.debug({ key: row.key, reason }, this.dryRun ? 'would be sent with warnings' : 'delivered with warnings');
    }
    tracker.finish(row.seq);
    options.onDelivered?.();
  }

  private rejected(row: RowHandle, reason: string, status: number | undefined, road: Road): void {
    const { counts, checkpoint, tracker, log, secrets } = this.ctx;
    counts.rejected += 1;
    const kept = outwardText(reason, secrets);
    checkpoint.markFailed({ key: row.key, class: 'rejected', reason: kept, status, road: road === 'sync' ? road : undefined });
    log.warn({ key: row.key, status, reason: kept, road }, 'request rejected');
    tracker.finish(row.seq);
  }

  /** A dry run's line: the exact request, credentials masked. */
  private async print(req: ApiRequest): Promise<void> {
    const masked = SECRET_FIELDS.some((f) => f in req.body)
      ? { ...req.body, ...Object.fromEntries(SECRET_FIELDS.filter((f) => f in req.body).map((f) => [f, '***'])) }
      : req.body;
    this.dryOut += `${JSON.stringify({ path: req.path, ...(req.method === undefined || req.method === 'POST' ? {} : { method: req.method }), body: masked })}\n`;
    if (this.dryOut.length >= DRY_RUN_CHUNK) await this.writeDryRun();
  }

  /** Write what a dry run has gathered (dry-run NDJSON goes out in chunks: one write per line cost more than building it). */
  async writeDryRun(): Promise<void> {
    const chunk = terminalSafeJson(this.dryOut);
    this.dryOut = '';
    if (chunk !== '' && !this.ctx.out.write(chunk)) await once(this.ctx.out, 'drain');
  }
}
