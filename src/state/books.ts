/**
 * A checkpoint's writes, in one transaction: the delivered ledger rows, the failures they resolve, new failures and
 * warnings, keys the ledger forgets (cleared carts), and the watermark. The books then never say more (or less) than what PersonaClick
 * got. A lost connection retries the whole transaction (it is all upserts); a failure reason the database refuses
 * (SQLSTATE class 22) is written once more in ASCII, so one answer cannot keep the books from moving.
 */
import { withConnectionRetry } from '../db-retry.js';
import { toError } from '../errors.js';
import { failuresInAscii } from './unstorable-failures.js';
import type { StateDb } from './db.js';
import { recordFailures, resolveFailures, type FailureRecord } from './failures.js';
import { forgetDelivered, recordDelivered, type LedgerEntry } from './ledger.js';
import { writeWatermark, type Cursor } from './watermarks.js';

export interface BooksUpdate {
  /** Ledger and failures namespace (e.g. "orders"). */
  job: string;
  runId: string;
  delivered: readonly LedgerEntry[];
  failures: readonly FailureRecord[];
  /** Keys delivered with warnings (optional fields left out): their open failure becomes (or stays) a `warning`. */
  warnings: readonly FailureRecord[];
  forgotten: readonly string[];
  /** The watermark to move, when it moved. */
  watermark?: { name: string; cursor: Cursor; upperBound: string | undefined } | undefined;
}

export function isEmptyUpdate(update: BooksUpdate): boolean {
  return (
    update.delivered.length === 0 &&
    update.failures.length === 0 &&
    update.warnings.length === 0 &&
    update.forgotten.length === 0 &&
    update.watermark === undefined
  );
}

export async function writeBooks(
  db: StateDb,
  update: BooksUpdate,
  onRetry?: (error: Error, attempt: number, delayMs: number) => void,
  onRefusedText?: (error: Error, failures: number) => void,
): Promise<void> {
  const { job, runId, delivered, failures, warnings, forgotten, watermark } = update;
  // Delivered (or cleared) keys resolve their open failures, except those delivered with warnings.
  const warned = new Set(warnings.map((w) => w.key));
  const resolved = [...delivered.map((d) => d.key), ...forgotten].filter((key) => !warned.has(key));
  const commit = (failureRows: readonly FailureRecord[]) =>
    withConnectionRetry(
      () =>
        db.knex.transaction(async (trx) => {
          await recordDelivered(db, trx, job, delivered, runId);
          await resolveFailures(db, trx, job, resolved);
          await recordFailures(db, trx, job, failureRows, runId);
          await forgetDelivered(db, trx, job, forgotten);
          if (watermark) await writeWatermark(db, trx, watermark.name, watermark.cursor, { upperBound: watermark.upperBound, runId });
        }),
      { onRetry },
    );
  const failureRows = warnings.length === 0 ? failures : [...failures, ...warnings];
  try {
    await commit(failureRows);
  } catch (caught) {
    // Refused for a failure reason's text: once more with the reasons in ASCII (unstorable-failures.ts).
    const inAscii = failuresInAscii(caught, failureRows);
    if (inAscii === undefined) throw caught;
    onRefusedText?.(toError(caught), failureRows.length);
    await commit(inAscii);
  }
}
