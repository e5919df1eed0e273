/**
 * Rows gathered into batch requests (`/sync/orders`, the catalogue imports): at most `batchSize` items a request and
 * below the API's body limit (the bytes are counted as the request's JSON will have them), each batch handed to the
 * run when full and at the end. Rows in a batch not yet sent are not finished, so the watermark never passes them.
 */
import { syncOrdersRequest, type ApiRequest, type JsonObject, type JsonValue, type SyncContext } from '../src/payloads/index.js';
import type { DispatchOptions, JobRun, RowHandle } from '../src/run/runner.js';

/** The API takes 32 MB a request; a little under it leaves room for what a proxy may add. */
export const MAX_BATCH_BYTES = 31_000_000;

interface Pending {
  row: RowHandle;
  item: JsonValue;
  options: DispatchOptions;
}

/**
 * How long a flush waiting for an open batch to settle goes without looking whether the run stopped (a stopped run's
 * open batches may never settle).
 */
const STOP_CHECK_MS = 50;

export class RequestBatches {
  private pending: Pending[] = [];
  /** Batches handed to the run whose outcome is not booked yet. */
  private open = 0;
  /** The flush waiting for an open batch to settle (adds are awaited one after another: one at most). */
  private wake: (() => void) | undefined;
  private bytes: number;
  private readonly envelope: number;

  constructor(
    private readonly run: JobRun,
    /** The request carrying these items. */
    private readonly request: (items: JsonValue[]) => ApiRequest,
    /**
     * `maxOpen`: at most this many batches handed over and not yet answered (queued or on the wire); the next waits.
     * Without it the delivery queue's own bound holds (its concurrency and waiting line, in requests, whatever their size).
     */
    private readonly limits: { batchSize: number; maxBytes?: number | undefined; maxOpen?: number | undefined },
    /** What one item is, for the reason of one too large for any request: "order", "product". */
    private readonly noun: string,
  ) {
    // Bytes of the request's JSON around its items (the comma between two items is counted with each item).
    this.envelope = Buffer.byteLength(JSON.stringify(request([]).body));
    this.bytes = this.envelope;
  }

  private get maxBytes(): number {
    return this.limits.maxBytes ?? MAX_BATCH_BYTES;
  }

  /**
   * Add an item (its row is finished when its batch's outcome is booked). `bytes`: the UTF-8 length of its JSON, when
   * the caller has it already (else it is serialised here to count it).
   */
  async add(row: RowHandle, item: JsonValue, options: DispatchOptions, bytes?: number): Promise<void> {
    const size = (bytes ?? Buffer.byteLength(JSON.stringify(item))) + 1; // and the comma before it
    if (this.envelope + size > this.maxBytes) {
      this.run.invalid(row, `${this.noun}: ${size} bytes of JSON, more than one request may carry (${this.maxBytes} bytes)`);
      return;
    }
    if (this.pending.length > 0 && this.bytes + size > this.maxBytes) await this.flush();
    this.pending.push({ row, item, options });
    this.bytes += size;
    if (this.pending.length >= this.limits.batchSize) await this.flush();
  }

  /** Send what is gathered. */
  async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.bytes = this.envelope;
    const { maxOpen } = this.limits;
    if (maxOpen !== undefined) {
      // A request of thousands of items is megabytes of objects and JSON: a few at a time keep the process's memory
      // flat whatever the queue's concurrency (a stop ends the wait: what is open then is dropped, never answered).
      while (this.open >= maxOpen && !this.run.shouldStop()) await this.settledOrWhile();
      this.open += 1;
      let unsettled = batch.length;
      const settled = () => {
        unsettled -= 1;
        if (unsettled === 0) {
          this.open -= 1;
          this.wake?.();
        }
      };
      for (const entry of batch) entry.options.onSettled = settled; // each add's options are the caller's own object
    }
    await this.run.dispatchBatch(batch, this.request);
  }

  /** Until an open batch settles, or STOP_CHECK_MS at most. */
  private settledOrWhile(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, STOP_CHECK_MS);
      this.wake = done;
    });
  }
}

/** Orders gathered into `/sync/orders` requests. */
export class OrderBatches extends RequestBatches {
  constructor(run: JobRun, ctx: SyncContext, limits: { batchSize: number; maxBytes?: number }) {
    super(run, (items) => syncOrdersRequest(items, ctx), limits, 'order');
  }

  override add(row: RowHandle, item: JsonObject, options: DispatchOptions): Promise<void> {
    return super.add(row, item, options);
  }
}
