/**
 * Checkpoints: outcomes are buffered as they happen and written every few seconds, together with the watermark,
 * in one state transaction, so the books never say more (or less) than what PersonaClick got.
 */
import { withConnectionRetry } from '../db-retry.js';
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StateDb } from '../state/db.js';
import { forgetDelivered, recordDelivered, type LedgerEntry } from '../state/ledger.js';
import { recordFailures, resolveFailures, type FailureRecord } from '../state/failures.js';
import { writeWatermark, type Cursor } from '../state/watermarks.js';
import { storableText } from '../storable-text.js';
import { failuresInAscii } from './unstorable-failures.js';

export interface CheckpointOptions {
  /** Ledger and failures namespace (e.g. "orders"). */
  job: string;
  /** Watermark to move (none for mirror jobs). */
  watermark?: string | undefined;
  upperBound?: string | undefined;
  runId: string;
  intervalMs: number;
}

export class Checkpointer {
  private delivered = new Map<string, LedgerEntry>();
  private failures = new Map<string, FailureRecord>();
  private forgotten = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastCursor: Cursor | undefined;
  /** A failure of a background checkpoint; the run must stop and report it. */
  error: Error | undefined;
  checkpoints = 0;

  constructor(
    private readonly db: StateDb | undefined,
    private readonly options: CheckpointOptions,
    private readonly log: Logger,
  ) {}

  markDelivered(key: string, hash?: string | null): void {
    this.failures.delete(key);
    this.forgotten.delete(key);
    this.delivered.set(key, { key, hash: hash ?? null });
  }

  markFailed(failure: FailureRecord): void {
    this.delivered.delete(failure.key);
    this.failures.set(failure.key, { ...failure, reason: storableText(failure.reason) });
  }

  /** The key was cleared at PersonaClick: drop it from the ledger. */
  markForgotten(key: string): void {
    this.delivered.delete(key);
    this.failures.delete(key);
    this.forgotten.add(key);
  }

  /** Write periodically; `cursor()` gives the watermark to store at each write. */
  start(cursor: () => Cursor | undefined): void {
    this.timer = setInterval(() => {
      this.flush(cursor).catch((caught: unknown) => {
        this.error ??= toError(caught);
        this.log.error({ err: this.error }, 'checkpoint failed');
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Write what is buffered, and the watermark `cursor()` gives if it moved. Writes are serialised, and each takes
   * its buffers and its cursor only when its turn comes, in one tick: every row inside that cursor then has its
   * outcome either in those buffers or already written. (Taking them at call time would let a flush queued behind
   * a failing one move the watermark past the outcomes the failed one put back.)
   */
  flush(cursor: () => Cursor | undefined): Promise<void> {
    const next = this.writing.then(async () => {
      const delivered = [...this.delivered.values()];
      const failures = [...this.failures.values()];
      const forgotten = [...this.forgotten];
      const at = cursor();
      this.delivered = new Map();
      this.failures = new Map();
      this.forgotten = new Set();
      const moved = at !== undefined && (this.lastCursor === undefined || at.ts !== this.lastCursor.ts || at.key !== this.lastCursor.key);
      try {
        await this.write(delivered, failures, forgotten, moved ? at : undefined);
      } catch (caught) {
        this.restore(delivered, failures, forgotten); // nothing written: keep it for the next flush
        throw toError(caught);
      }
    });
    this.writing = next.catch(() => undefined); // the chain continues; the caller of this flush sees the error
    return next;
  }

  private restore(delivered: LedgerEntry[], failures: FailureRecord[], forgotten: string[]): void {
    for (const d of delivered) if (!this.delivered.has(d.key) && !this.failures.has(d.key)) this.delivered.set(d.key, d);
    for (const f of failures) if (!this.delivered.has(f.key) && !this.failures.has(f.key)) this.failures.set(f.key, f);
    for (const k of forgotten) if (!this.delivered.has(k)) this.forgotten.add(k);
  }

  private async write(delivered: LedgerEntry[], failures: FailureRecord[], forgotten: string[], cursor: Cursor | undefined): Promise<void> {
    const db = this.db;
    if (!db) return;
    if (delivered.length === 0 && failures.length === 0 && forgotten.length === 0 && cursor === undefined) return;
    const { job, runId } = this.options;
    // The state database may be restarting: the whole transaction is tried again (it is all upserts).
    const commit = (failureRows: FailureRecord[]) =>
      withConnectionRetry(
        () =>
          db.knex.transaction(async (trx) => {
            await recordDelivered(db, trx, job, delivered, runId);
            await resolveFailures(db, trx, job, delivered.map((d) => d.key));
            await recordFailures(db, trx, job, failureRows, runId);
            await forgetDelivered(db, trx, job, forgotten);
            if (cursor && this.options.watermark) {
              await writeWatermark(db, trx, this.options.watermark, cursor, { upperBound: this.options.upperBound, runId });
            }
          }),
        { onRetry: (err, attempt, delayMs) => this.log.warn({ err, attempt, delayMs }, 'state database unreachable; checkpoint retried') },
      );
    try {
      await commit(failures);
    } catch (caught) {
      // Refused for a failure reason's text: once more with the reasons in ASCII (unstorable-failures.ts).
      const inAscii = failuresInAscii(caught, failures);
      if (inAscii === undefined) throw toError(caught);
      this.log.warn({ err: toError(caught), failures: failures.length }, 'the state database refused a failure reason; checkpoint written again with the reasons in ASCII');
      await commit(inAscii);
    }
    if (cursor) this.lastCursor = cursor;
    this.checkpoints += 1;
    this.log.debug({ delivered: delivered.length, failures: failures.length, cursor }, 'checkpoint');
  }
}
