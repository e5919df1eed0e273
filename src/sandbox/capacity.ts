/**
 * The sandbox's capacity model (fault config `capacity`): an API that serves `slots` requests at once, each for
 * `serviceMs`, keeps the rest in a first-come-first-served queue, and answers 429 with Retry-After to a request that
 * arrives when `ratePerSecond` requests have already been admitted in the last second (a sliding window; refused
 * requests do not count in it). So its throughput is at most min(slots / serviceMs, ratePerSecond): more in flight
 * than `slots` only makes answers slower, and more than `ratePerSecond` a second only earns 429s. It is what the
 * adaptive concurrency limit (src/delivery/limiter.ts) is measured against.
 */
import { z } from 'zod';

export interface CapacityConfig {
  /** Requests served at once (K). */
  slots: number;
  /** How long serving one request takes (L), ms. */
  serviceMs: number;
  /** Requests admitted per sliding second (R); absent: no rate limit. */
  ratePerSecond?: number | undefined;
  /** Retry-After of the 429 (default 1). */
  retryAfterSeconds?: number | undefined;
}

export const capacityConfigSchema = z.strictObject({
  slots: z.number().int().min(1),
  serviceMs: z.number().min(0),
  ratePerSecond: z.number().positive().optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
}) satisfies z.ZodType<CapacityConfig>;

const WINDOW_MS = 1000;

export class CapacityModel {
  private busy = 0;
  /** Answers waiting for a slot, oldest first (from `queueHead` on). */
  private queue: Array<() => void> = [];
  private queueHead = 0;
  /** Admission times (ms) of the sliding window, oldest first (from `windowHead` on). */
  private admitted: number[] = [];
  private windowHead = 0;

  constructor(private readonly config: CapacityConfig) {}

  /**
   * Decide on an arriving request: undefined when admitted (it counts in the rate window from now), else the
   * Retry-After (seconds) of the 429 it gets.
   */
  admit(now: number): number | undefined {
    const rate = this.config.ratePerSecond;
    if (rate === undefined) return undefined;
    while (this.windowHead < this.admitted.length && (this.admitted[this.windowHead] ?? now) <= now - WINDOW_MS) this.windowHead += 1;
    if (this.admitted.length - this.windowHead >= rate) return this.config.retryAfterSeconds ?? 1;
    if (this.windowHead > 4096 && this.windowHead * 2 > this.admitted.length) {
      this.admitted = this.admitted.slice(this.windowHead);
      this.windowHead = 0;
    }
    this.admitted.push(now);
    return undefined;
  }

  /** Run `answer` once the request has been served: `serviceMs` after a slot is free for it, in arrival order. */
  serve(answer: () => void): void {
    if (this.busy < this.config.slots) this.start(answer);
    else this.queue.push(answer);
  }

  /** Requests being served, and waiting for a slot. */
  get load(): { busy: number; queued: number } {
    return { busy: this.busy, queued: this.queue.length - this.queueHead };
  }

  private start(answer: () => void): void {
    this.busy += 1;
    // Unref'd: a request still being served must not keep a closing sandbox's process alive.
    setTimeout(() => {
      this.busy -= 1;
      answer();
      const next = this.queue[this.queueHead];
      if (next === undefined) {
        this.queue = [];
        this.queueHead = 0;
        return;
      }
      this.queueHead += 1;
      if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      this.start(next);
    }, this.config.serviceMs).unref();
  }
}
