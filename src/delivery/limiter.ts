/**
 * The adaptive concurrency limit (`delivery.concurrency: auto`): how many requests may be on the wire at once,
 * learnt from the answers, in the manner of TCP congestion control and Netflix's concurrency-limits (AIMD for
 * overload answers, a latency gradient for queueing, a minimum-latency probe as in BBR).
 *
 * Windows. Answers are judged in windows: a window holds only requests sent after the last change of the limit
 * (so it judges the current limit, not an older one) and closes once half the limit's worth of them, at least
 * WINDOW_MIN_SAMPLES, have come back and WINDOW_MIN_MS have passed. Its latency is its median, so a few slow
 * answers (a GC pause, a busy core) are not a rise.
 *
 * Baseline. The no-load latency is the lowest window median of the last BASELINE_MS (the first window counts its
 * fastest tenth: it may already queue). While the limit stays above what the server serves at once, every window
 * queues; so every PROBE_EVERY_MS the limit halves for one window (a probe) to see the latency with less in flight.
 * A probe whose latency is clearly lower (PROBE_SHOWS_QUEUEING) shows the requests were queueing: its limit counts
 * as the last at which the latency held, and the next probe comes sooner (PROBE_AGAIN_MS).
 *
 * Decisions, each window:
 * - latency holds (median within HOLD_RATIO of the baseline, plus HOLD_SLACK_MS of jitter) and at least half the
 *   limit was in flight: the limit grows: doubling each window at first (slow start); later by half of itself a
 *   second (FREE_GROWTH), but near the limit at which overload answers last came by only NEAR_OVERLOAD_GROWTH a
 *   second (each step past it costs a few 429s); after a latency cut, back up half way to where the latency rose
 *   at BACK_UP_GROWTH (a passing rise, such as a process warming up, costs little; a lasting one is closed in on);
 * - between HOLD_RATIO and RISE_RATIO: it holds;
 * - above RISE_RATIO two windows running, after the limit grew past the last limit at which the latency held:
 *   requests queue (at the server or in this process), so the limit is cut in proportion (gradient) to where the
 *   latency would be back near the baseline, by at most half, but not below that last good limit. A rise at a limit
 *   that has held before is not ours (a busy machine, a slower API): the limit holds. So noise can at most undo
 *   an increase; it cannot walk the limit down.
 * An overload answer (a 429; a 5xx, timeout or network failure when unusually frequent) cuts at once by
 * OVERLOAD_BACKOFF (by half in slow start), once per round trip, never below what the server has just been taking
 * (its good answers of the last second at the latency of an answer that did not queue); `congested()` (the queue's
 * overload hold tripped) cuts straight to that.
 *
 * The limit stays within [min, max]. Pure: time comes from `now`, changes go to `onChange`; the queue applies them.
 */

export type SampleOutcome = 'ok' | 'overload' | 'error';

export interface Sample {
  /** How long the request was on the wire (not counting waits for a slot, the rate gate or a retry). */
  latencyMs: number;
  /**
   * ok: answered; overload: the API has had enough (a 429; a 5xx, timeout or network failure when unusually
   * frequent: adaptive.ts decides); error: any other answer (says nothing of load).
   */
  outcome: SampleOutcome;
  /** Requests on the wire when it came back, itself included (is the limit used at all?). */
  inFlight?: number;
}

export type LimitChangeReason = 'slow start' | 'increase' | 'latency rise' | 'overload' | 'congestion' | 'probe' | 'probe done';

export interface LimitChange {
  from: number;
  to: number;
  reason: LimitChangeReason;
  /** The window's median latency, or the overload answer's latency (0 for congestion). */
  latencyMs: number;
  /** The no-load latency the limit was judged against (undefined before the first window). */
  baselineMs: number | undefined;
}

export interface LimiterOptions {
  /** Lowest limit (default 1). */
  min?: number;
  /** Highest limit. */
  max: number;
  /** Starting limit (default min(16, max)). */
  initial?: number;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
  onChange?: (change: LimitChange) => void;
}

export interface LimitRange {
  low: number;
  high: number;
  /** The limit now. */
  current: number;
}

const WINDOW_MIN_SAMPLES = 10;
const WINDOW_MIN_MS = 50;
const BASELINE_MS = 10_000;
const HOLD_RATIO = 1.2;
const HOLD_SLACK_MS = 1;
const RISE_RATIO = 1.4;
const RISE_SLACK_MS = 3;
/** The latency a gradient cut aims at, as a multiple of the baseline. */
const TARGET_RATIO = 1.1;
const OVERLOAD_BACKOFF = 0.9;
const SLOW_START_BACKOFF = 0.5;
/** Growth a second, as a share of the limit (at least 1 a second): with no overload in sight, */
const FREE_GROWTH = 0.5;
/** from NEAR_OVERLOAD of the limit at which overload answers last came, */
const NEAR_OVERLOAD_GROWTH = 0.05;
const NEAR_OVERLOAD = 0.9;
/** and after a latency cut, up to half way to where the latency rose. */
const BACK_UP_GROWTH = 1;
/** Past this multiple of that limit without a new overload, it is forgotten. */
const FORGET_OVERLOAD_ABOVE = 1.3;
const PROBE_EVERY_MS = 2_000;
/** After a probe that showed queueing. */
const PROBE_AGAIN_MS = 500;
/** Probes only from this limit up (below it, halving says little and costs much). */
const PROBE_MIN_LIMIT = 4;
/** A probe's latency below this share of the latency before it shows that requests were queueing. */
const PROBE_SHOWS_QUEUEING = 0.8;
const OK_BUCKET_MS = 100;
/** See farPastTheServer(). */
const FAR_PAST = 1.5;

interface Window {
  startedAt: number;
  latencies: number[];
  maxInFlight: number;
}

export class AdaptiveLimiter {
  readonly min: number;
  readonly max: number;
  private value: number;
  private slowStart = true;
  private low: number;
  private high: number;
  private window: Window;
  /** Per second of the last BASELINE_MS: [second, lowest window median, lowest window fastest tenth]. */
  private baselines: Array<[number, number, number]> = [];
  private risesInARow = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** The limit at which the last overload answer came; near it, growth slows (it is probed, not rushed). */
  private overloadedAt: number | undefined;
  /** After a latency cut: fast growth back up to here. */
  private backUpTo: number | undefined;
  /** The limit of the last window whose latency held (undefined before the first). */
  private heldAt: number | undefined;
  /** A probe window under way: the limit to go back to, and the latency before it. */
  private probe: { restoreTo: number; medianBefore: number } | undefined;
  private lastProbeAt: number;
  private readonly okBuckets: number[] = new Array<number>(1000 / OK_BUCKET_MS).fill(0);
  private readonly okBucketIds: number[] = new Array<number>(1000 / OK_BUCKET_MS).fill(Number.NEGATIVE_INFINITY);
  private readonly now: () => number;
  private readonly onChange: ((change: LimitChange) => void) | undefined;

  constructor(options: LimiterOptions) {
    this.min = Math.max(1, Math.floor(options.min ?? 1));
    this.max = Math.max(this.min, Math.floor(options.max));
    this.now = options.now ?? (() => performance.now());
    this.onChange = options.onChange;
    this.value = clamp(options.initial ?? 16, this.min, this.max);
    this.low = this.limit;
    this.high = this.limit;
    const now = this.now();
    this.lastProbeAt = now;
    this.window = newWindow(now);
  }

  /** Requests that may be on the wire at once now. */
  get limit(): number {
    return Math.floor(this.value);
  }

  /**
   * True while the limit is still doubling every window (slow start), or far above what the server has been taking
   * (its good answers of the last second at an unqueued latency): an overload answer then means a full refusal,
   * not a step just past the edge.
   */
  farPastTheServer(): boolean {
    return this.slowStart || this.value > FAR_PAST * Math.max(this.min, this.taken(this.now()));
  }

  /** The lowest and highest limit so far, and the limit now (probes' brief halvings left out). */
  get range(): LimitRange {
    return { low: this.low, high: this.high, current: Math.floor(this.probe?.restoreTo ?? this.value) };
  }

  /** The no-load latency estimate (ms), once a window has closed. */
  get baselineMs(): number | undefined {
    let best: number | undefined;
    for (const [, median] of this.baselines) best = best === undefined ? median : Math.min(best, median);
    return best;
  }

  onSample(sample: Sample): void {
    const now = this.now();
    const startedAt = now - sample.latencyMs;
    if (sample.outcome === 'overload') {
      if (startedAt < this.lastCutAt) return; // sent before the last cut: the same congestion, already answered
      const factor = this.slowStart ? SLOW_START_BACKOFF : OVERLOAD_BACKOFF;
      // Never below what the server has just been taking: a rate limit's window stays full for a while whatever
      // we do, and a cut on every refusal would collapse the limit.
      this.cut(Math.max(this.value * factor, Math.min(this.value, this.taken(now) * OVERLOAD_BACKOFF)), 'overload', sample.latencyMs, now);
      return;
    }
    if (sample.outcome === 'ok') this.countOk(now);
    // Only requests that went out under the current limit judge it.
    if (startedAt < this.window.startedAt) return;
    const w = this.window;
    w.latencies.push(sample.latencyMs);
    if (sample.inFlight !== undefined) w.maxInFlight = Math.max(w.maxInFlight, sample.inFlight);
    if (w.latencies.length < Math.max(WINDOW_MIN_SAMPLES, Math.ceil(this.value / 2)) || now - w.startedAt < WINDOW_MIN_MS) return;
    this.closeWindow(w, now);
  }

  /**
   * The server refuses whatever is sent (the queue's overload hold tripped: overload answers kept coming after a
   * cut): the limit falls at once to what the server has been taking, or by half when that says nothing.
   */
  congested(): void {
    const now = this.now();
    const taken = this.taken(now);
    const current = this.probe?.restoreTo ?? this.value;
    this.cut(Math.min(current, taken >= this.min ? taken : current * SLOW_START_BACKOFF), 'congestion', 0, now);
  }

  private closeWindow(w: Window, now: number): void {
    const sorted = w.latencies.sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    // The first window may queue already (the starting limit above what the server serves at once): its fastest
    // answers, served first, are the better guess of the no-load latency.
    const fastest = quantile(sorted, 0.1);
    this.recordBaseline(this.baselines.length === 0 ? fastest : median, fastest, now);
    const baseline = this.baselineMs ?? median;

    const holds = median <= baseline * HOLD_RATIO + HOLD_SLACK_MS;
    if (this.probe) {
      const { restoreTo, medianBefore } = this.probe;
      this.probe = undefined;
      if (median < medianBefore * PROBE_SHOWS_QUEUEING) {
        this.heldAt = this.value;
        this.lastProbeAt = now - (PROBE_EVERY_MS - PROBE_AGAIN_MS);
      }
      this.set(restoreTo, 'probe done', median, now);
      return;
    }
    if (holds) this.heldAt = this.value;
    if (median > baseline * RISE_RATIO + RISE_SLACK_MS) {
      this.risesInARow += 1;
      const heldAt = this.heldAt ?? this.min;
      if (this.risesInARow >= 2 && this.value > heldAt) {
        const gradient = clamp((baseline * TARGET_RATIO) / median, 0.5, OVERLOAD_BACKOFF);
        this.cut(Math.max(heldAt, this.value * gradient), 'latency rise', median, now);
        return;
      }
      this.window = newWindow(now);
      return;
    }
    this.risesInARow = 0;
    const used = w.maxInFlight === 0 || w.maxInFlight * 2 >= this.limit;
    if (used && now - this.lastProbeAt >= PROBE_EVERY_MS && this.limit >= PROBE_MIN_LIMIT) {
      this.lastProbeAt = now;
      this.probe = { restoreTo: this.value, medianBefore: median };
      this.set(this.value / 2, 'probe', median, now);
      return;
    }
    if (holds && used && this.value < this.max) {
      if (this.slowStart) {
        const next = Math.min(this.value * 2, w.maxInFlight > 0 ? w.maxInFlight * 2 : this.value * 2);
        this.set(Math.max(next, this.value + 1), 'slow start', median, now);
        return;
      }
      this.set(this.grown((now - w.startedAt) / 1000), 'increase', median, now);
      return;
    }
    this.window = newWindow(now);
  }

  /** The limit after `seconds` of growth. */
  private grown(seconds: number): number {
    const step = (share: number) => this.value + Math.max(1, this.value * share) * seconds;
    if (this.backUpTo !== undefined && this.value < this.backUpTo) return Math.min(this.backUpTo, step(BACK_UP_GROWTH));
    this.backUpTo = undefined;
    const overloadedAt = this.overloadedAt;
    if (overloadedAt !== undefined && this.value > overloadedAt * FORGET_OVERLOAD_ABOVE) this.overloadedAt = undefined;
    const near = this.overloadedAt !== undefined && this.value >= this.overloadedAt * NEAR_OVERLOAD;
    return step(near ? NEAR_OVERLOAD_GROWTH : FREE_GROWTH);
  }

  /** A cut: ends slow start, and the next overload answers of requests sent before it are the same congestion. */
  private cut(next: number, reason: LimitChangeReason, latencyMs: number, now: number): void {
    this.risesInARow = 0;
    this.probe = undefined;
    // Where overload begins: just above where a cut from slow start (which doubled past it) or to what the server
    // has been taking lands; otherwise where the overload answer came.
    if (reason === 'congestion' || (reason === 'overload' && this.slowStart))
      this.overloadedAt = Math.min(this.value, Math.max(next, this.min) / NEAR_OVERLOAD);
    else if (reason === 'overload') this.overloadedAt = this.value;
    this.backUpTo = reason === 'latency rise' ? (this.value + next) / 2 : undefined;
    this.slowStart = false;
    this.lastCutAt = now;
    this.set(next, reason, latencyMs, now);
  }

  private set(next: number, reason: LimitChangeReason, latencyMs: number, now: number): void {
    const from = this.limit;
    this.value = clamp(next, this.min, this.max);
    this.window = newWindow(now);
    const to = this.limit;
    if (reason !== 'probe') {
      this.low = Math.min(this.low, to);
      this.high = Math.max(this.high, to);
    }
    if (to !== from) this.onChange?.({ from, to, reason, latencyMs, baselineMs: this.baselineMs });
  }

  /**
   * What the server has been taking, as a limit: its good answers of the last second times the latency of an
   * answer that did not queue (Little's law: what that rate needs in flight). That latency is the fastest tenth of
   * the windows', not the baseline: early in a run, before the process warms up, the baseline runs high, and a limit
   * made of it would leave a rate limit's window overfull.
   */
  private taken(now: number): number {
    let fastest: number | undefined;
    for (const [, , fast] of this.baselines) fastest = fastest === undefined ? fast : Math.min(fastest, fast);
    return this.okPerSecond(now) * ((fastest ?? 0) / 1000);
  }

  private recordBaseline(median: number, fastest: number, now: number): void {
    const second = Math.floor(now / 1000);
    const last = this.baselines[this.baselines.length - 1];
    if (last && last[0] === second) {
      last[1] = Math.min(last[1], median);
      last[2] = Math.min(last[2], fastest);
    } else this.baselines.push([second, median, fastest]);
    const oldest = Math.floor((now - BASELINE_MS) / 1000);
    while (this.baselines.length > 1 && (this.baselines[0]?.[0] ?? second) < oldest) this.baselines.shift();
  }

  /** ok answers, counted in 100 ms buckets over the last second. */
  private countOk(now: number): void {
    const bucket = Math.floor(now / OK_BUCKET_MS);
    const at = bucket % this.okBuckets.length;
    if (this.okBucketIds[at] !== bucket) {
      this.okBucketIds[at] = bucket;
      this.okBuckets[at] = 0;
    }
    this.okBuckets[at] = (this.okBuckets[at] ?? 0) + 1;
  }

  private okPerSecond(now: number): number {
    const current = Math.floor(now / OK_BUCKET_MS);
    let count = 0;
    for (const [i, id] of this.okBucketIds.entries()) if (id > current - this.okBuckets.length) count += this.okBuckets[i] ?? 0;
    return count;
  }
}

function newWindow(now: number): Window {
  return { startedAt: now, latencies: [], maxInFlight: 0 };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}
