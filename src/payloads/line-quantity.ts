/**
 * What an order line's quantity means, for both roads (api-notes.md, "Corrections and additions"): a whole number of
 * units (1–1000); weighed goods (a fractional quantity: 0.75 kg) go as quantity 1 with the line's final price (unit
 * price × weight); a line of no units (0 or fewer) is left out of the order with a warning, never the whole order;
 * and a line `cancelled` or `refunded` is taken out of what was bought (it is how a return is told).
 */
import { toNumber } from './fields.js';
import { fail, isAbsent } from './reason.js';
import { AMOUNT, MAX_AMOUNT, isRecord } from './rules.js';
import type { BuildWarning, Check } from './types.js';

/** Line statuses that take a line out of the order. */
export const CLOSED_LINE_STATUSES: readonly string[] = ['cancelled', 'refunded'];

/** A line the shop cancelled or refunded (its `status`). */
export function isClosedLine(line: unknown): boolean {
  return isRecord(line) && typeof line.status === 'string' && CLOSED_LINE_STATUSES.includes(line.status);
}

export interface LineQuantity {
  /** Units to send: the whole number the model gave, or 1 for a weighed line. */
  amount: number;
  /** A weighed line: the quantity the model gave (the price to send is the unit price times it). */
  weighed?: number;
}

/** Cents, as money is sent. */
export const toCents = (n: number): number => Math.round(n * 100) / 100;

/**
 * The quantity of a line: its units, a weighed line as 1, or undefined for a line of no units (a warning is pushed:
 * the line is left out). A value that is no quantity at all (text, NaN, a count above 1000) fails.
 */
export function lineQuantity(raw: unknown, field: string, warnings: BuildWarning[]): Check<LineQuantity | undefined> {
  if (isAbsent(raw)) return fail(field, AMOUNT, raw, true);
  const n = toNumber(raw);
  if (n === undefined || !Number.isFinite(n)) return fail(field, AMOUNT, raw);
  if (n <= 0) {
    warnings.push({ field, value: String(n), reason: `${field}: ${n} is not a quantity bought (a line of no units); the line is left out of the order` });
    return { ok: true, value: undefined };
  }
  if (Number.isInteger(n)) return n <= MAX_AMOUNT ? { ok: true, value: { amount: n } } : fail(field, AMOUNT, raw);
  return { ok: true, value: { amount: 1, weighed: n } };
}
