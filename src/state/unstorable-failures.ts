/**
 * The last resort of a checkpoint. When the state database refuses one for its data (SQLSTATE class 22, "data
 * exception": a NUL byte, a character its encoding cannot hold, a value too long), the text from outside in it is the
 * failure rows' reasons (API messages, values quoted from rows). The checkpoint is then written once more with each
 * reason in plain ASCII, which every server encoding holds, and a note why: one answer that cannot be stored must
 * not keep the books (the delivered ledger, the watermark) from moving, nor make every later run send the same rows.
 */
import type { FailureRecord } from './failures.js';
import { asciiText } from '../storable-text.js';

/** SQLSTATE class 22: the statement was refused for a value in it. */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/** The failure rows with their reasons in ASCII (a note says why); undefined when `error` is no data exception or there are no rows. */
export function failuresInAscii(error: unknown, failures: readonly FailureRecord[]): FailureRecord[] | undefined {
  if (failures.length === 0 || !isDataException(error)) return undefined;
  const code = String((error as { code?: unknown }).code);
  return failures.map((f) => ({ ...f, reason: `${asciiText(f.reason, 900)} [escaped to ASCII: the state database refused the text, SQLSTATE ${code}]` }));
}
