/**
 * A strict rate gate: at most N request attempts start in any one-second window, spread evenly over the second.
 *
 * Two rules, both on the real start times:
 * - starts are spaced 1000 / N ms apart (slots on a fixed grid, so timer lateness does not lower the rate, and a
 *   late timer never turns into a burst of more than one catch-up slot);
 * - the N-th previous start must be at least `windowMs` (1 s plus a small margin for network jitter) ago.
 * The second rule alone is a sliding window, which lets N requests go in one burst and, with the network's jitter,
 * lets the server see more than N in a second; the first alone drifts above N when timers fire together.
 * Together the server sees at most N per second and, under load, close to N.
 *
 * Why not p-queue's own `interval` / `intervalCap` with `strict: true`: that is the second rule alone (a sliding
 * window, bursts of N included), and it gates the queue's tasks, where this gates every attempt, each retry of
 * p-retry inside a task included.
 */
import { timerMs } from './timers.js';

const WINDOW_MARGIN_MS = 25;

interface Waiter {
  resolve: () => void;
  reject: (reason: Error) => void;
}

export class RateGate {
  private readonly spacingMs: number;
  private readonly cap: number;
  private readonly windowMs: number;
  /** Ring buffer of the last `cap` start times. */
  private readonly starts: number[] = [];
  private startsHead = 0;
  private nextSlot = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly maxPerSecond: number) {
    this.spacingMs = maxPerSecond > 0 ? 1000 / maxPerSecond : 0;
    this.cap = Math.max(1, Math.floor(maxPerSecond));
    this.windowMs = 1000 + WINDOW_MARGIN_MS;
  }

  get enabled(): boolean {
    return this.maxPerSecond > 0;
  }

  /** Resolves when one more attempt may start; rejects with the reason if the gate is cleared first. */
  pass(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Reject every waiting attempt (the queue is stopping): none of them starts. */
  clear(reason: Error = new Error('rate gate cleared')): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(reason);
  }

  private earliestStart(now: number): number {
    let earliest = Math.max(this.nextSlot, now);
    if (this.starts.length === this.cap) {
      const oldest = this.starts[this.startsHead] ?? 0;
      earliest = Math.max(earliest, oldest + this.windowMs);
    }
    return earliest;
  }

  private pump(): void {
    if (this.timer) return;
    while (this.waiters.length > 0) {
      const now = performance.now();
      const earliest = this.earliestStart(now);
      if (earliest > now) {
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          timerMs(Math.ceil(earliest - now)),
        );
        return;
      }
      const waiter = this.waiters.shift();
      if (!waiter) return;
      this.record(now);
      waiter.resolve();
    }
  }

  private record(now: number): void {
    // The next slot on the grid; after an idle spell the grid restarts from now (one slot of catch-up at most).
    this.nextSlot = Math.max(this.nextSlot, now - this.spacingMs) + this.spacingMs;
    if (this.starts.length < this.cap) this.starts.push(now);
    else {
      this.starts[this.startsHead] = now;
      this.startsHead = (this.startsHead + 1) % this.cap;
    }
  }
}
