/**
 * The delivery queue: a concurrency limit (fixed, or adaptive with `concurrency: 'auto'`: adaptive.ts), an optional
 * strict rate limit, backpressure, and retries with jittered exponential backoff that honour Retry-After. Each
 * submitted request ends in exactly one outcome callback, unless the queue is stopped first (then the request was
 * never sent, and the caller must not count it as done).
 */
import PQueue from 'p-queue';
import pRetry, { AbortError } from 'p-retry';
import { ApiError, ApiUnavailableError, fatalStop, toError } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import type { Logger } from '../log.js';
import type { PersonaClickClient } from './client.js';
import { AdaptiveConcurrency } from './adaptive.js';
import type { LimitRange } from './limiter.js';
import { RateGate } from './rate-gate.js';
import { sleep, timerMs } from './timers.js';

export interface DeliveryOptions {
  /** Requests in flight at once, or 'auto': a limit learnt from the answers, up to maxConcurrency. */
  concurrency: number | 'auto';
  /** The adaptive limit's ceiling (only with 'auto'; default 256). */
  maxConcurrency?: number;
  maxRequestsPerSecond: number;
  retries: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** A Retry-After longer than this halts the run instead of blocking it (default: max(retryMaxMs, 60 s)). */
  maxRetryAfterMs?: number;
}

export type Outcome = { kind: 'delivered'; attempts: number } | { kind: 'rejected'; status: number | undefined; reason: string; attempts: number };

export interface DeliveryStats {
  sent: number;
  attempts: number;
  retries: number;
  /** Milliseconds spent waiting before retries (Retry-After and backoff), summed over requests. */
  waitedMs: number;
  byStatus: Record<string, number>;
}

/** Something that can send one request (the real client, or a dry-run writer). */
export interface Sender {
  send(req: ApiRequest): Promise<unknown>;
}

/** At most this many requests wait for a free slot (besides those in flight). */
const MAX_WAITING = 16;

/** The adaptive limit's ceiling when the options name none. */
export const DEFAULT_MAX_CONCURRENCY = 256;

/** The most requests that can be on the wire at once: what the HTTP agent's connection pool must allow. */
export function maxInFlight(options: Pick<DeliveryOptions, 'concurrency' | 'maxConcurrency'>): number {
  return options.concurrency === 'auto' ? (options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY) : options.concurrency;
}

export class DeliveryQueue {
  private readonly queue: PQueue;
  private readonly gate: RateGate;
  /** Only with concurrency 'auto'. */
  private readonly adaptive: AdaptiveConcurrency | undefined;
  /** One per request waiting to retry (see retrySignal); halt() aborts them all. */
  private readonly retryWaits = new Set<AbortController>();
  private stopError: Error | undefined;
  readonly stats: DeliveryStats = { sent: 0, attempts: 0, retries: 0, waitedMs: 0, byStatus: {} };

  constructor(
    private readonly sender: Sender | PersonaClickClient,
    private readonly options: DeliveryOptions,
    private readonly log: Logger,
  ) {
    if (options.concurrency === 'auto') {
      // A new limit takes effect at once: more slots start waiting requests now; fewer let the requests in flight
      // finish and start no new ones until below it. The waiting line (submit) follows it too.
      this.adaptive = new AdaptiveConcurrency(maxInFlight(options), log, (slots) => {
        if (slots !== this.queue.concurrency) this.queue.concurrency = slots;
      });
    }
    this.queue = new PQueue({ concurrency: this.adaptive?.slots ?? maxInFlight(options) });
    this.gate = new RateGate(options.maxRequestsPerSecond);
  }

  /** With concurrency 'auto': the lowest and highest limit of the run so far, and the limit now. */
  get concurrencyRange(): LimitRange | undefined {
    return this.adaptive?.range;
  }

  /** Why the queue stopped taking work (fatal answer, API unavailable, shutdown), if it did. */
  get stopped(): Error | undefined {
    return this.stopError;
  }

  /** Requests waiting or running. */
  get inFlight(): number {
    return this.queue.size + this.queue.pending;
  }

  /**
   * Wait until there is room (backpressure), then enqueue. `onOutcome` runs once the request is delivered or
   * rejected for good. Returns false (and enqueues nothing) when the queue has stopped. `wait: false` enqueues at
   * once: for requests made from an outcome (the halves of a rejected batch), which must not wait on themselves.
   */
  async submit(req: ApiRequest, onOutcome: (outcome: Outcome) => void, wait = true): Promise<boolean> {
    // Backpressure: a short waiting line is enough to keep every slot busy, and the shorter it is, the sooner the
    // reader yields to the answers coming in (building 64 orders in one go delayed them by ~2.5 ms each time).
    const waiting = Math.min(this.queue.concurrency, MAX_WAITING);
    if (wait && this.queue.size >= waiting) await this.queue.onSizeLessThan(waiting);
    if (this.stopError) return false;
    void this.queue
      .add(async () => {
        if (this.stopError) return;
        const outcome = await this.deliver(req);
        if (outcome) onOutcome(outcome);
      })
      .catch((caught: unknown) => this.halt(toError(caught)));
    return true;
  }

  /** Resolves when nothing is waiting or running. */
  async drain(): Promise<void> {
    await this.queue.onIdle();
  }

  /** Stop taking work: drop what has not started, stop retrying; requests already on the wire finish. */
  halt(reason: Error): void {
    if (!this.stopError) {
      this.stopError = reason;
      this.log.debug({ err: reason }, 'delivery stopping');
    }
    this.queue.clear();
    this.gate.clear(reason);
    this.adaptive?.clear(reason);
    for (const wait of this.retryWaits) wait.abort(reason);
    this.retryWaits.clear();
  }

  /**
   * The abort signal of one request's retries (its waits and p-retry's), which halt() aborts. Each request has its
   * own, with a listener or two on it at a time: one signal shared by the queue gathered a listener per request
   * waiting to retry, and past ten Node warned of a leak (MaxListenersExceededWarning).
   */
  private retrySignal(tries: Tries): AbortSignal {
    const stop = new AbortController();
    tries.stop = stop;
    if (this.stopError) stop.abort(this.stopError);
    else this.retryWaits.add(stop);
    return stop.signal;
  }

  /**
   * One request to its outcome. The first attempt runs bare (most requests succeed at once, and p-retry's
   * machinery costs about as much CPU as the request); only after a retryable failure does p-retry take over,
   * with the same schedule as if it had run from the start: jittered exponential backoff from retryMinMs.
   */
  private async deliver(req: ApiRequest): Promise<Outcome | undefined> {
    const { retries, retryMinMs, retryMaxMs } = this.options;
    const tries: Tries = { attempts: 0, failedAt: undefined, stop: undefined, waiting: false };
    try {
      try {
        await this.attempt(req, tries);
      } catch (caught) {
        const error = toError(caught);
        const signal = this.retrySignal(tries);
        if (!(await this.afterFailure(error, retries, tries))) throw error;
        // p-retry would wait this long before its second attempt; it then continues the series from there.
        await sleep(Math.min(retryMaxMs, Math.round((Math.random() + 1) * retryMinMs)), signal);
        if (this.stopError) throw new AbortError(this.stopError);
        await pRetry(() => this.attempt(req, tries), {
          retries: retries - 1,
          // Delays past setTimeout's limit would fire at once: p-retry's stay under it.
          minTimeout: timerMs(retryMinMs * 2),
          maxTimeout: timerMs(retryMaxMs),
          factor: 2,
          randomize: true,
          signal,
          shouldRetry: ({ error: e }) => e instanceof ApiError && e.retryable,
          onFailedAttempt: async ({ error: e, retriesLeft }) => {
            await this.afterFailure(e, retriesLeft, tries);
          },
        });
      }
      this.stats.sent += 1;
      return { kind: 'delivered', attempts: tries.attempts };
    } catch (caught) {
      const error = toError(caught);
      if (this.stopError) return undefined; // stopped meanwhile: not delivered, not failed
      if (error instanceof ApiError) {
        if (error.failureClass === 'rejected') return { kind: 'rejected', status: error.status, reason: error.message, attempts: tries.attempts };
        if (error.failureClass === 'fatal') {
          this.halt(fatalStop(error));
          return undefined;
        }
      }
      this.log.warn({ err: error, attempts: tries.attempts }, 'giving up on a request after its retries');
      this.halt(new ApiUnavailableError(error));
      return undefined;
    } finally {
      if (tries.stop) this.retryWaits.delete(tries.stop);
      this.retryWait(tries, false);
    }
  }

  /**
   * One attempt: through the overload hold (auto), the rate gate, then the wire (auto: once there is room under the
   * limit). Throws the classified failure.
   */
  private async attempt(req: ApiRequest, tries: Tries): Promise<void> {
    this.retryWait(tries, false);
    const made = tries.attempts;
    if (this.stopError) throw new AbortError(this.stopError);
    if (this.adaptive) {
      await this.adaptive.pass(made);
      if (this.stopError) throw new AbortError(this.stopError);
    }
    if (this.gate.enabled) {
      await this.gate.pass();
      if (this.stopError) throw new AbortError(this.stopError);
    }
    if (tries.failedAt !== undefined) this.stats.waitedMs += Date.now() - tries.failedAt;
    tries.attempts += 1;
    this.stats.attempts += 1;
    const result = this.adaptive ? await this.adaptive.send(() => this.sender.send(req), made) : await this.sender.send(req);
    const status = (result as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number') this.count(status);
  }

  /**
   * After a failed attempt: count it, and when it may be retried (retryable, retries left) wait out any Retry-After
   * and answer true. A Retry-After longer than maxRetryAfterMs is thrown: it would block the run, so it halts.
   */
  private async afterFailure(error: Error, retriesLeft: number, tries: Tries): Promise<boolean> {
    if (!(error instanceof ApiError)) return false;
    this.count(error.status ?? 'network');
    if (!error.retryable || retriesLeft <= 0) return false;
    this.stats.retries += 1;
    tries.failedAt = Date.now();
    this.retryWait(tries, true);
    if (error.retryAfterMs !== undefined) {
      const maxRetryAfterMs = this.options.maxRetryAfterMs ?? Math.max(this.options.retryMaxMs, 60_000);
      if (error.retryAfterMs > maxRetryAfterMs) throw error; // would block the run for too long: halt now
      // Wait at least as long as the server asked; the backoff comes on top of it.
      await sleep(error.retryAfterMs, tries.stop?.signal);
    }
    return true;
  }

  /** With concurrency 'auto', a request waiting to retry gives its slot back (adaptive.ts). */
  private retryWait(tries: Tries, waiting: boolean): void {
    if (!this.adaptive || tries.waiting === waiting) return;
    tries.waiting = waiting;
    this.adaptive.retryWait(waiting);
  }

  private count(status: number | string): void {
    const key = String(status);
    this.stats.byStatus[key] = (this.stats.byStatus[key] ?? 0) + 1;
  }
}

interface Tries {
  attempts: number;
  /** When the last failed attempt ended (for the time spent waiting). */
  failedAt: number | undefined;
  /** Aborts this request's waits between retries (set at its first failure). */
  stop: AbortController | undefined;
  /** Waiting to retry (counted by the adaptive concurrency). */
  waiting: boolean;
}
