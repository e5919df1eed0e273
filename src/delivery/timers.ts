/**
 * Timers of the delivery. Node's setTimeout takes at most 2^31−1 ms: a longer delay (a Retry-After of years, a huge
 * backoff) "overflows" and fires at once, so every delay the delivery sets goes through `timerMs` first.
 */

/** The longest delay setTimeout honours (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay setTimeout will honour: at most MAX_TIMER_MS, at least 0 (NaN counts as 0). */
export function timerMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/**
 * Wait `ms` (clamped by timerMs), or until `signal` aborts: it resolves either way, and takes its listener off the
 * signal when it ends, so a signal outlives any number of sleeps without gathering listeners.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, timerMs(ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
