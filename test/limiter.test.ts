/**
 * The adaptive concurrency limit on its own, on a clock of its own: fed answers in rounds (all in flight go out
 * together and come back together), as a server of a given shape would give them.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, type LimitChange, type SampleOutcome } from '../src/delivery/limiter.js';

interface Rig {
  limiter: AdaptiveLimiter;
  changes: LimitChange[];
  clock: { t: number };
  /** One round trip: `limit` requests out at once, back after `latencyMs`, answered `outcome`. */
  round(latencyMs: number, outcome?: SampleOutcome, inFlight?: number): void;
  /** Rounds for `ms` of clock time, each with the latency the server gives at the current limit. */
  run(ms: number, latencyAt: (limit: number) => number): void;
}

function rig(options: { min?: number; max: number; initial?: number }): Rig {
  const clock = { t: 1_000 };
  const changes: LimitChange[] = [];
  const limiter = new AdaptiveLimiter({ ...options, now: () => clock.t, onChange: (c) => changes.push(c) });
  const round = (latencyMs: number, outcome: SampleOutcome = 'ok', inFlight?: number) => {
    const n = inFlight ?? limiter.limit;
    clock.t += latencyMs;
    for (let i = 0; i < n; i += 1) limiter.onSample({ latencyMs, outcome, inFlight: n });
  };
  const run = (ms: number, latencyAt: (limit: number) => number) => {
    const end = clock.t + ms;
    while (clock.t < end) round(latencyAt(limiter.limit));
  };
  return { limiter, changes, clock, round, run };
}

/** A server serving K at once in L ms, queueing the rest: the latency it gives with `limit` in flight. */
const capacity = (k: number, l: number) => (limit: number) => l * Math.max(1, limit / k);

describe('adaptive limit', () => {
  it('grows while latency holds and the limit is used: doubling at first, up to its maximum', () => {
    const r = rig({ max: 256, initial: 16 });
    r.run(500, () => 20);
    expect(r.changes.slice(0, 3).map((c) => [c.from, c.to, c.reason])).toEqual([
      [16, 32, 'slow start'],
      [32, 64, 'slow start'],
      [64, 128, 'slow start'],
    ]);
    expect(r.limiter.limit).toBe(256);
    r.run(5_000, () => 20);
    expect(r.limiter.limit).toBe(256);
    expect(r.limiter.range).toEqual({ low: 16, high: 256, current: 256 });
  });

  it('does not grow while the requests do not fill half the limit (the reader is the bottleneck)', () => {
    const r = rig({ max: 256, initial: 16 });
    for (let i = 0; i < 50; i += 1) r.round(20, 'ok', 5);
    expect(r.limiter.limit).toBe(16);
    expect(r.changes).toEqual([]);
  });

  it('falls multiplicatively on an overload answer: by half in slow start, by a tenth after; once per round trip', () => {
    const r = rig({ max: 256, initial: 100 });
    r.round(20, 'overload'); // 100 answers of one round: one cut
    expect(r.limiter.limit).toBe(50);
    r.round(20, 'overload');
    expect(r.limiter.limit).toBe(45);
    r.round(20, 'overload');
    expect(r.limiter.limit).toBe(40);
    expect(r.changes.map((c) => c.reason)).toEqual(['overload', 'overload', 'overload']);
  });

  it('after an overload, grows back slowly (5% a second); with no overload in sight, by half of itself a second', () => {
    const r = rig({ max: 100_000, initial: 100 });
    r.round(20, 'overload'); // 50, slow start over
    r.run(1_000, () => 20);
    expect(r.limiter.limit).toBeGreaterThan(50);
    expect(r.limiter.limit).toBeLessThanOrEqual(54);
    // Far past it (1.3×), the overload is forgotten.
    r.run(10_000, () => 20);
    const free = r.limiter.limit;
    expect(free).toBeGreaterThanOrEqual(72);
    r.run(1_000, () => 20);
    expect(r.limiter.limit).toBeGreaterThanOrEqual(Math.floor(free * 1.3));
  });

  it('stays within [min, max] whatever comes', () => {
    const r = rig({ min: 2, max: 40, initial: 16 });
    for (let i = 0; i < 100; i += 1) r.round(5, 'overload');
    expect(r.limiter.limit).toBe(2);
    r.run(60_000, () => 20);
    expect(r.limiter.limit).toBe(40);
    expect(r.limiter.range.low).toBe(2);
    expect(r.limiter.range.high).toBe(40);
    for (const c of r.changes) {
      expect(c.to).toBeGreaterThanOrEqual(2);
      expect(c.to).toBeLessThanOrEqual(40);
    }
  });

  it('finds the capacity of a server that queues what it cannot serve at once, and stays near it', () => {
    const r = rig({ max: 256, initial: 16 });
    r.run(20_000, capacity(64, 20));
    // Beyond K the latency grows with the limit: the limit settles within the band where latency still holds.
    const late = r.changes.filter((c) => c.reason !== 'probe' && c.reason !== 'probe done').slice(-10);
    expect(r.limiter.limit).toBeGreaterThanOrEqual(48);
    expect(r.limiter.limit).toBeLessThanOrEqual(100);
    expect(r.changes.some((c) => c.reason === 'latency rise')).toBe(true);
    for (const c of late) expect(c.to).toBeLessThanOrEqual(128);
  });

  it('starting far above the capacity (every answer queued, so no unloaded latency seen), probes find it and come down', () => {
    const r = rig({ max: 256, initial: 128 });
    r.run(30_000, capacity(16, 20));
    expect(r.changes.some((c) => c.reason === 'latency rise')).toBe(true);
    expect(r.limiter.limit).toBeLessThanOrEqual(40);
    expect(r.limiter.limit).toBeGreaterThanOrEqual(12);
    expect(r.limiter.baselineMs).toBeLessThan(30);
  });

  it('a latency rise at a limit that has held before is not ours: no cut (noise cannot walk the limit down)', () => {
    const r = rig({ max: 256, initial: 16 });
    r.round(20, 'overload'); // 16 → 8, out of slow start
    r.run(3_000, () => 20);
    const settled = r.limiter.limit;
    // A busy machine: every other stretch of windows answers three times slower, whatever the limit.
    let k = 0;
    r.run(10_000, () => ((k += 1) % 20 < 10 ? 60 : 20));
    expect(r.changes.some((c) => c.reason === 'latency rise' && c.to < settled * 0.9)).toBe(false);
    expect(r.limiter.limit).toBeGreaterThanOrEqual(settled);
  });

  it('congested: falls at once to what the server has been taking (good answers a second × no-load latency)', () => {
    const r = rig({ max: 256, initial: 64 });
    // The server has been answering 16 at a time in 20 ms: 800 a second, which needs 16 in flight.
    for (let i = 0; i < 100; i += 1) r.round(20, 'ok', 16);
    expect(r.limiter.limit).toBe(64);
    r.limiter.congested();
    expect(r.limiter.limit).toBeGreaterThanOrEqual(14);
    expect(r.limiter.limit).toBeLessThanOrEqual(18);
    // With nothing taken in the last second, it halves.
    r.clock.t += 2_000;
    const before = r.limiter.limit;
    r.limiter.congested();
    expect(r.limiter.limit).toBe(Math.floor(before / 2));
    expect(r.changes[r.changes.length - 1]?.reason).toBe('congestion');
  });

  it('probes at half the limit every few seconds, and goes back', () => {
    const r = rig({ max: 32, initial: 32 });
    r.round(20, 'overload'); // out of slow start: 16
    r.run(6_000, () => 20);
    const probes = r.changes.filter((c) => c.reason === 'probe');
    const back = r.changes.filter((c) => c.reason === 'probe done');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(back.length).toBeGreaterThanOrEqual(probes.length - 1);
    for (const p of probes) expect(p.to).toBe(Math.floor(p.from / 2));
  });
});
