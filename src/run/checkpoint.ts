/**
 * Checkpoints: outcomes are buffered as they happen and written every few seconds, together with the watermark,
 * in one state transaction (`writeBooks`), so the books never say more (or less) than what PersonaClick got. A run
 * that delivers fast writes sooner: once MAX_BUFFERED outcomes wait, a write starts at once.
 */
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import { isEmptyUpdate, writeBooks, type BooksUpdate } from '../state/books.js';
import type { StateDb } from '../state/db.js';
import type { FailureRecord } from '../state/failures.js';
import type { LedgerEntry } from '../state/ledger.js';
import type { Cursor } from '../cursor.js';
import { storableText } from '../storable-text.js';

export interface CheckpointOptions {
  /** Ledger and failures namespace (e.g. "orders"). */
  job: string;
  /** Watermark to move (none for mirror jobs). */
  watermark?: string | undefined;
  upperBound?: string | undefined;
  runId: string;
  intervalMs: number;
}

/**
 * Outcomes buffered at most before a write starts without waiting for the interval: a first reconcile of a catalogue
 * tells some 30 000 products a second, and two seconds of them held were a quarter of the connector's memory.
 */
export const MAX_BUFFERED = 10_000;

export class Checkpointer {
  private delivered = new Map<string, LedgerEntry>();
  private failures = new Map<string, FailureRecord>();
  /** Delivered (in `delivered` or `forgotten`) without fields left out for bad values: kept open as `warning`. */
  private warnings = new Map<string, FailureRecord>();
  private forgotten = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastCursor: Cursor | undefined;
  /** The watermark at each write (given by `start`), and whether a write started early is still under way. */
  private cursor: (() => Cursor | undefined) | undefined;
  private early = false;
  /** A failure of a background checkpoint; the run must stop and report it. */
  error: Error | undefined;
  checkpoints = 0;

  constructor(
    private readonly db: StateDb | undefined,
    private readonly options: CheckpointOptions,
    private readonly log: Logger,
  ) {}

  /** Delivered: in the ledger (mirrors: with the content hash, stream and segment; orders: with the road and state). */
  markDelivered(entry: LedgerEntry): void {
    this.failures.delete(entry.key);
    this.warnings.delete(entry.key);
    this.forgotten.delete(entry.key);
    this.delivered.set(entry.key, entry);
    this.writeIfFull();
  }

  markFailed(failure: FailureRecord): void {
    this.delivered.delete(failure.key);
    this.warnings.delete(failure.key);
    this.failures.set(failure.key, { ...failure, reason: storableText(failure.reason) });
    this.writeIfFull();
  }

  /**
   * The key just marked delivered (or forgotten) went out without optional fields whose values were bad: its open
   * failure becomes (or stays) a `warning` with this reason instead of being resolved.
   */
  markWarning(key: string, reason: string): void {
    this.warnings.set(key, { key, class: 'warning', reason });
  }

  /** The key was cleared at PersonaClick: drop it from the ledger. */
  markForgotten(key: string): void {
    this.delivered.delete(key);
    this.failures.delete(key);
    this.warnings.delete(key);
    this.forgotten.add(key);
    this.writeIfFull();
  }

  /** Write periodically (and when MAX_BUFFERED outcomes wait); `cursor()` gives the watermark to store at each write. */
  start(cursor: () => Cursor | undefined): void {
    this.cursor = cursor;
    this.timer = setInterval(() => void this.flush(cursor).catch(this.failed), this.options.intervalMs);
    this.timer.unref();
  }

  /** A background write failed: the run must stop and report it. */
  private readonly failed = (caught: unknown): void => {
    this.error ??= toError(caught);
    this.log.error({ err: this.error }, 'checkpoint failed');
  };

  /** MAX_BUFFERED outcomes wait: write now (one such write at a time; more wait for it, or for the interval). */
  private writeIfFull(): void {
    const cursor = this.cursor;
    if (this.early || cursor === undefined || this.delivered.size + this.failures.size + this.forgotten.size < MAX_BUFFERED) return;
    this.early = true;
    this.flush(cursor)
      .catch(this.failed)
      .finally(() => (this.early = false));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.cursor = undefined;
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
      const warnings = [...this.warnings.values()];
      const forgotten = [...this.forgotten];
      const at = cursor();
      this.delivered = new Map();
      this.failures = new Map();
      this.warnings = new Map();
      this.forgotten = new Set();
      const moved = at !== undefined && (this.lastCursor === undefined || at.ts !== this.lastCursor.ts || at.key !== this.lastCursor.key);
      try {
        await this.write(delivered, failures, warnings, forgotten, moved ? at : undefined);
      } catch (caught) {
        this.restore(delivered, failures, warnings, forgotten); // nothing written: keep it for the next flush
        throw toError(caught);
      }
    });
    this.writing = next.catch(() => undefined); // the chain continues; the caller of this flush sees the error
    return next;
  }

  private restore(delivered: LedgerEntry[], failures: FailureRecord[], warnings: FailureRecord[], forgotten: string[]): void {
    // Newer outcomes (buffered since this flush took its share) win over the ones put back.
    const newer = (key: string) => this.delivered.has(key) || this.failures.has(key) || this.forgotten.has(key);
    for (const w of warnings) if (!newer(w.key)) this.warnings.set(w.key, w);
    for (const d of delivered) if (!newer(d.key)) this.delivered.set(d.key, d);
    for (const f of failures) if (!newer(f.key)) this.failures.set(f.key, f);
    for (const k of forgotten) if (!newer(k)) this.forgotten.add(k);
  }

  private async write(
    delivered: LedgerEntry[],
    failures: FailureRecord[],
    warnings: FailureRecord[],
    forgotten: string[],
    cursor: Cursor | undefined,
  ): Promise<void> {
    const db = this.db;
    if (!db) return;
    const { job, runId, watermark, upperBound } = this.options;
    const update: BooksUpdate = {
      job,
      runId,
      delivered,
      failures,
      warnings,
      forgotten,
      watermark: cursor && watermark ? { name: watermark, cursor, upperBound } : undefined,
    };
    if (isEmptyUpdate(update)) return;
    await writeBooks(
      db,
      update,
      (err, attempt, delayMs) => this.log.warn({ err, attempt, delayMs }, 'state database unreachable; checkpoint retried'),
      (err, failures) => this.log.warn({ err, failures }, 'the state database refused a failure reason; checkpoint written again with the reasons in ASCII'),
    );
    if (cursor) this.lastCursor = cursor;
    this.checkpoints += 1;
    this.log.debug({ delivered: delivered.length, failures: failures.length, cursor }, 'checkpoint');
  }
}
