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

export class RequestBatches {
  private pending: Pending[] = [];
  private bytes: number;
  private readonly envelope: number;

  constructor(
    private readonly run: JobRun,
    /** The request carrying these items. */
    private readonly request: (items: JsonValue[]) => ApiRequest,
    private readonly limits: { batchSize: number; maxBytes?: number | undefined },
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

  /** Add an item (its row is finished when its batch's outcome is booked). */
  async add(row: RowHandle, item: JsonValue, options: DispatchOptions): Promise<void> {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1; // and the comma before it
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
    await this.run.dispatchBatch(batch, this.request);
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
