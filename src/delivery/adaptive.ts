/**
 * `concurrency: auto` inside the delivery queue: every attempt feeds the adaptive limit (limiter.ts) and the overload
 * hold (overload-hold.ts), and the queue's slots are worked out from them.
 *
 * The limit counts requests on the wire, strictly: an attempt waits for room on the wire before it goes. A request
 * waiting out a retry's delay (Retry-After, backoff) gives its queue slot back, up to the limit's worth of such
 * requests, so that a few 429s do not idle the queue while the server takes requests again; when it wakes it waits
 * for room on the wire like any other (retries waking together after a burst of 429s would otherwise go out all at
 * once, past the limit, and earn the next burst). The hold keeps every attempt back (retries too) while the server
 * refuses whatever is sent.
 * So a 429 slows the whole queue, not only the request that got it: the limit falls, and if 429s keep coming the
 * hold stops sending until a probe gets through.
 *
 * Which answers say "overload": a 429 always (the API says so). A 5xx, a timeout or a network failure only when
 * such failures are clearly more frequent than usual (ServerErrors): an API that fails one request in ten at
 * random, whatever the load, would otherwise cut the limit to 1 (retries take care of those); one that is down or
 * buckling fails far more than usual, and is answered as overload within a few failures.
 */
import { ApiError } from '../errors.js';
import type { Logger } from '../log.js';
import { AdaptiveLimiter, type LimitChange, type LimitRange, type SampleOutcome } from './limiter.js';
import { OverloadHold } from './overload-hold.js';
import { WaitLine } from './wait-line.js';

/** Where the limit starts (or the ceiling, when lower). */
const INITIAL_LIMIT = 16;

export class AdaptiveConcurrency {
  private readonly limiter: AdaptiveLimiter;
  private readonly hold: OverloadHold;
  private onWire = 0;
  private waitingForRetry = 0;
  private readonly serverErrors = new ServerErrors();
  /** Attempts waiting for room on the wire, and those let through that have not yet gone on it. */
  private readonly wireWaiters = new WaitLine();
  private granted = 0;

  constructor(
    max: number,
    private readonly log: Logger,
    /** Called with the queue's new number of slots whenever it changes. */
    private readonly onSlots: (slots: number) => void,
  ) {
    this.limiter = new AdaptiveLimiter({ max, initial: Math.min(INITIAL_LIMIT, max), onChange: (change) => this.limitChanged(change) });
    this.hold = new OverloadHold();
    log.debug({ limit: this.limiter.limit, max }, 'adaptive concurrency: starting limit');
  }

  /** The queue's slots: the limit, plus one for each request waiting to retry (at most the limit again). */
  get slots(): number {
    const limit = this.limiter.limit;
    return limit + Math.min(this.waitingForRetry, limit);
  }

  /** The lowest and highest limit so far, and the limit now. */
  get range(): LimitRange {
    return this.limiter.range;
  }

  /** Resolves when an attempt may go on (at once, unless the overload hold is on); `attempts`: made so far. */
  pass(attempts: number): Promise<void> {
    return this.hold.pass(attempts);
  }

  /**
   * One attempt on the wire, once there is room under the limit (the request that has tried most first): timed,
   * and its answer (or failure) taken as a sample. `attempts`: made so far, this one not counted.
   */
  async send<T>(attempt: () => Promise<T>, attempts: number): Promise<T> {
    if (this.wireWaiters.length > 0 || this.onWire + this.granted >= this.limiter.limit) {
      await this.wireWaiters.wait(attempts);
      this.granted = Math.max(0, this.granted - 1);
    }
    this.onWire += 1;
    const startedAt = performance.now();
    let outcome: SampleOutcome | 'usual failure' = 'ok';
    let retryAfterMs: number | undefined;
    try {
      return await attempt();
    } catch (caught) {
      outcome = 'error';
      if (caught instanceof ApiError && caught.retryable) {
        retryAfterMs = caught.retryAfterMs;
        if (caught.status === 429) outcome = 'overload';
        else outcome = this.serverErrors.add(true) ? 'overload' : 'usual failure';
      }
      throw caught;
    } finally {
      if (outcome === 'ok' || outcome === 'error') this.serverErrors.add(false);
      const farPast = outcome === 'overload' && this.limiter.farPastTheServer();
      // A failure as frequent as usual says nothing of the load, nor does its latency.
      if (outcome !== 'usual failure') this.limiter.onSample({ latencyMs: performance.now() - startedAt, outcome, inFlight: this.onWire });
      this.onWire -= 1;
      this.letOnTheWire();
      if (outcome === 'ok' || outcome === 'error') this.hold.answered(startedAt);
      else if (outcome === 'usual failure') this.hold.failed(startedAt);
      else if (outcome === 'overload' && this.hold.overloaded(startedAt, retryAfterMs, farPast)) {
        this.log.debug({ retryAfterMs, limit: this.limiter.limit }, 'overload answers keep coming: holding every attempt until a probe gets through');
        this.limiter.congested();
      }
    }
  }

  /** A request starts (true) or ends (false) waiting to retry. */
  retryWait(waiting: boolean): void {
    this.waitingForRetry += waiting ? 1 : -1;
    this.onSlots(this.slots);
  }

  /** The queue is stopping: attempts held back fail with the reason. */
  clear(reason: Error): void {
    this.hold.clear(reason);
    this.wireWaiters.clear(reason);
    this.granted = 0;
  }

  /** Let waiting attempts on the wire, oldest first, as far as the limit leaves room. */
  private letOnTheWire(): void {
    while (this.wireWaiters.length > 0 && this.onWire + this.granted < this.limiter.limit) {
      this.granted += 1;
      this.wireWaiters.next();
    }
  }

  private limitChanged(change: LimitChange): void {
    this.onSlots(this.slots);
    this.letOnTheWire();
    if (this.log.isLevelEnabled('debug')) {
      const { from, to, reason, latencyMs, baselineMs } = change;
      this.log.debug(
        { limit: to, from, reason, latencyMs: round1(latencyMs), baselineMs: baselineMs === undefined ? undefined : round1(baselineMs), onWire: this.onWire },
        'concurrency limit changed',
      );
    }
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Share of the last RECENT answers that were server failures (5xx, timeouts, network), against the usual share. */
const RECENT = 50;
/** The usual share: the mean of the answers so far, then following them with this weight each (about the last 200). */
const USUAL_WEIGHT = 1 / 200;
/** Unusual: above twice the usual share plus UNUSUAL_MARGIN, and above UNUSUAL_AT_LEAST in any case. */
const UNUSUAL_MARGIN = 0.05;
const UNUSUAL_AT_LEAST = 0.1;

class ServerErrors {
  private readonly recent: boolean[] = [];
  private at = 0;
  private failed = 0;
  private usual = 0;
  private answers = 0;

  /** Count one answer (true: a server failure); true when failures are now unusually frequent. */
  add(failure: boolean): boolean {
    if (this.recent.length < RECENT) this.recent.push(failure);
    else {
      if (this.recent[this.at]) this.failed -= 1;
      this.recent[this.at] = failure;
      this.at = (this.at + 1) % RECENT;
    }
    if (failure) this.failed += 1;
    const share = this.failed / RECENT;
    const unusual = share > Math.max(UNUSUAL_AT_LEAST, 2 * this.usual + UNUSUAL_MARGIN);
    this.answers += 1;
    this.usual += ((failure ? 1 : 0) - this.usual) * Math.max(USUAL_WEIGHT, 1 / this.answers);
    return failure && unusual;
  }
}
