/**
 * The overload hold (with `concurrency: auto`): when overload answers keep coming after the limit was cut (a rate
 * limit's window is full, or the API is down), nothing more goes on the wire until the server takes requests again.
 * A cut of the limit cannot stop that on its own: a 429 comes back at once, so even a small limit would send
 * hundreds of requests a second into a full window.
 *
 * - It trips on an overload answer to a request sent after the first overload answer of the episode came back
 *   (an episode ends RECENT_MS after its last overload answer): the cut that first answer made did not help. Or at
 *   once, when the caller says the limit was far past what the server takes (limiter.farPastTheServer()).
 * - Held, every attempt waits (first tries and retries alike). After `interval` (from INITIAL_INTERVAL_MS) one
 *   attempt goes through as a probe; the rest keep waiting.
 * - A good answer to a request sent since the hold tripped (the probe) starts the recovery: each such good answer
 *   lets two more attempts through (doubling every round trip, as TCP's slow start after a timeout), and after
 *   RECOVERED_AFTER of them everything goes. A window that reopens slowly is not flooded the moment it has room
 *   for one. An overload answer to a request sent since the trip (probe or recovery) doubles the interval, up to
 *   MAX_INTERVAL_MS (or the answer's Retry-After, when shorter), and holds again.
 *   Each request still waits out its own Retry-After before its retry; the hold only keeps the others back.
 *   A failure that is not overload (failed()) neither opens nor doubles anything: the probe is tried again.
 *
 * The state machine is synchronous and takes the time as an argument; `pass()` is the queue's way to wait.
 */

import { WaitLine } from './wait-line.js';

const RECENT_MS = 1_000;
const INITIAL_INTERVAL_MS = 50;
/** Probes never wait longer than this (a shorter Retry-After shortens it): a rate limit's window reopens within a second. */
const MAX_INTERVAL_MS = 500;
const RECOVERED_AFTER = 32;

type State = 'open' | 'held' | 'probing' | 'recovering';

export class OverloadHold {
  private state: State = 'open';
  private lastOverloadAt = Number.NEGATIVE_INFINITY;
  /** When the first overload answer of the current episode came. */
  private episodeStart = Number.NEGATIVE_INFINITY;
  private trippedAt = Number.NEGATIVE_INFINITY;
  private interval = INITIAL_INTERVAL_MS;
  private maxInterval = MAX_INTERVAL_MS;
  private reopenAt = 0;
  /** Recovering: attempts that may still go, and good answers so far. */
  private budget = 0;
  private good = 0;
  private readonly waiters = new WaitLine();
  private timer: NodeJS.Timeout | undefined;
  /** How many times it tripped (for the run's debug log and tests). */
  trips = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly onTrip?: (info: { retryAfterMs: number | undefined }) => void,
  ) {}

  get held(): boolean {
    return this.state !== 'open';
  }

  /**
   * An overload answer (429, 5xx, timeout, network failure) to a request sent at `startedAt`. True when it trips the
   * hold: `atOnce` trips it even on the first answer of an episode (the limit was doubling: it may be far past).
   */
  overloaded(startedAt: number, retryAfterMs: number | undefined, atOnce = false): boolean {
    const now = this.now();
    if (now - this.lastOverloadAt >= RECENT_MS) this.episodeStart = now;
    this.lastOverloadAt = now;
    if (this.state === 'open') {
      if (startedAt <= this.episodeStart && !atOnce) return false;
      this.state = 'held';
      this.trips += 1;
      this.trippedAt = now;
      this.interval = INITIAL_INTERVAL_MS;
      this.maxInterval = cap(retryAfterMs);
      this.reopenAt = now + this.interval;
      this.onTrip?.({ retryAfterMs });
      this.pump();
      return true;
    }
    if ((this.state === 'probing' || this.state === 'recovering') && startedAt >= this.trippedAt) {
      if (retryAfterMs !== undefined) this.maxInterval = cap(retryAfterMs);
      this.interval = Math.min(this.maxInterval, this.interval * 2);
      this.state = 'held';
      this.reopenAt = now + this.interval;
      this.pump();
    }
    return false;
  }

  /** Any other answer to a request sent at `startedAt`: one sent since the hold tripped means the server takes requests. */
  answered(startedAt: number): void {
    if (this.state === 'open' || startedAt < this.trippedAt) return;
    if (this.state !== 'recovering') {
      this.state = 'recovering';
      this.budget = 0;
      this.good = 0;
    }
    this.good += 1;
    this.budget += 2;
    if (this.good >= RECOVERED_AFTER) this.state = 'open';
    this.pump();
  }

  /**
   * A failure that is not overload (a server error as frequent as usual) to a request sent at `startedAt`: a probe
   * that failed so is tried again after the same interval; while recovering, it lets one more through in its place.
   */
  failed(startedAt: number): void {
    if (startedAt < this.trippedAt) return;
    if (this.state === 'probing') {
      this.state = 'held';
      this.reopenAt = this.now() + this.interval;
    } else if (this.state === 'recovering') this.budget += 1;
    else return;
    this.pump();
  }

  /**
   * 0: the caller may send now (when held and the interval has passed, the caller is the probe); otherwise how
   * long to wait before asking again (Infinity: until an answer comes).
   */
  waitMs(): number {
    if (this.state === 'open') return 0;
    if (this.state === 'recovering') {
      if (this.budget <= 0) return Number.POSITIVE_INFINITY;
      this.budget -= 1;
      return 0;
    }
    if (this.state === 'probing') return Number.POSITIVE_INFINITY;
    const now = this.now();
    if (now < this.reopenAt) return this.reopenAt - now;
    this.state = 'probing';
    return 0;
  }

  /**
   * Resolves when the caller, a request that has made `attempts` attempts so far, may send (the one that has tried
   * most goes first: wait-line.ts). Rejects with the reason if cleared first.
   */
  pass(attempts = 0): Promise<void> {
    if (this.state === 'open' && this.waiters.length === 0) return Promise.resolve();
    const passed = this.waiters.wait(attempts);
    this.pump();
    return passed;
  }

  /** Reject every waiting attempt (the queue is stopping). */
  clear(reason: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.waiters.clear(reason);
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.waiters.length > 0) {
      const wait = this.waitMs();
      if (wait === Number.POSITIVE_INFINITY) return; // the next answer calls pump again
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.waiters.next();
    }
  }
}

function cap(retryAfterMs: number | undefined): number {
  return Math.max(INITIAL_INTERVAL_MS, Math.min(MAX_INTERVAL_MS, retryAfterMs ?? MAX_INTERVAL_MS));
}
