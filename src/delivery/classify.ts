/** Which answers are worth retrying, which are the data's fault and which stop the run: decided here, as data. */
import type { FailureClass } from '../errors.js';

export type AnswerClass = Exclude<FailureClass, 'invalid'>;

interface StatusRule {
  readonly test: (status: number) => boolean;
  readonly class: AnswerClass;
  readonly why: string;
}

/** First match wins. Anything not listed that is not a success is `rejected`: never retry what will fail again. */
export const STATUS_RULES: readonly StatusRule[] = [
  { test: (s) => s === 401 || s === 403, class: 'fatal', why: 'the shop is refused: nothing else will succeed' },
  { test: (s) => s === 408 || s === 425 || s === 429, class: 'transient', why: 'the server asks us to slow down or try again' },
  { test: (s) => s >= 500, class: 'transient', why: 'a server error: try later' },
  { test: (s) => s >= 300, class: 'rejected', why: 'the request itself is wrong: fix the data, do not retry' },
];

export function classifyStatus(status: number): AnswerClass {
  for (const rule of STATUS_RULES) if (rule.test(status)) return rule.class;
  return 'rejected';
}

/** Network-level failures (no HTTP answer at all) are always transient. */
export const NETWORK_ERROR_CLASS: AnswerClass = 'transient';

/** Parse a Retry-After header (seconds or an HTTP date) into milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  const trimmed = raw.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
