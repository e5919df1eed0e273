/**
 * Lost database connections (a restarted server, a failover, pg_terminate_backend) are retried a few times with
 * backoff, by p-retry as the HTTP retries are; everything else (SQL errors, statement timeouts) is not: retrying would
 * only repeat the failure or the load.
 */
import pRetry from 'p-retry';
import { toError } from './errors.js';

/** SQLSTATE classes and codes that mean "the connection went away", not "the statement is wrong". */
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);
const CONNECTION_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /connection.*(closed|ended|lost)/i,
  /Client has encountered a connection error/i,
  /timeout exceeded when trying to connect/i,
];

export function isConnectionError(error: unknown): boolean {
  const e = toError(error);
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_SQLSTATES.has(code) || CONNECTION_ERRNOS.has(code))) return true;
  return CONNECTION_MESSAGES.some((re) => re.test(e.message));
}

export interface ConnectionRetryOptions {
  attempts?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: ((error: Error, attempt: number, delayMs: number) => void) | undefined;
}

/** Run `fn`; on a lost connection wait and try again (default 6 attempts over about 10 s: 250 ms doubling to 4 s). */
export function withConnectionRetry<T>(fn: () => Promise<T>, opts: ConnectionRetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const minTimeout = opts.minDelayMs ?? 250;
  const maxTimeout = opts.maxDelayMs ?? 4000;
  return pRetry(fn, {
    retries: attempts - 1,
    minTimeout,
    maxTimeout,
    factor: 2,
    randomize: false,
    shouldRetry: ({ error }) => isConnectionError(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && isConnectionError(error))
        opts.onRetry?.(toError(error), attemptNumber, Math.min(maxTimeout, minTimeout * 2 ** (attemptNumber - 1)));
    },
  });
}
