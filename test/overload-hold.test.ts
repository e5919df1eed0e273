/** The overload hold on a clock of its own: when it trips, what a probe is, what lets everything go again. */
import { describe, expect, it } from 'vitest';
import { OverloadHold } from '../src/delivery/overload-hold.js';

function rig() {
  const clock = { t: 10_000 };
  const hold = new OverloadHold(() => clock.t);
  return { hold, clock };
}

describe('overload hold', () => {
  it('does not trip on overload answers to requests sent before the first one came back (one congestion)', () => {
    const { hold, clock } = rig();
    for (let i = 0; i < 50; i += 1) {
      clock.t += 1;
      expect(hold.overloaded(9_990, 1000)).toBe(false);
    }
    expect(hold.held).toBe(false);
    expect(hold.waitMs()).toBe(0);
  });

  it('trips when a request sent after the first overload answer is refused too, and lets one probe through at a time', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_980, 1000); // first of the episode, at t = 10 000
    clock.t += 5;
    expect(hold.overloaded(10_001, 1000)).toBe(true);
    expect(hold.held).toBe(true);
    expect(hold.waitMs()).toBe(50);
    clock.t += 50;
    expect(hold.waitMs()).toBe(0); // the probe
    expect(hold.waitMs()).toBe(Number.POSITIVE_INFINITY); // everyone else waits for its answer
    // The probe is refused: twice as long; refused again: twice again.
    clock.t += 3;
    hold.overloaded(clock.t - 3, 1000);
    expect(hold.waitMs()).toBe(100);
    clock.t += 100;
    expect(hold.waitMs()).toBe(0);
    clock.t += 3;
    hold.overloaded(clock.t - 3, 1000);
    expect(hold.waitMs()).toBe(200);
  });

  it('waits at most 500 ms between probes, or the Retry-After when shorter', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_990, 300);
    clock.t += 5;
    hold.overloaded(10_001, 300);
    const waits: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const w = hold.waitMs();
      waits.push(w);
      clock.t += w;
      expect(hold.waitMs()).toBe(0);
      clock.t += 2;
      hold.overloaded(clock.t - 2, 300);
    }
    expect(waits).toEqual([50, 100, 200, 300, 300, 300]);
  });

  it('good answers to requests sent since it tripped let two more through each, then everything; one sent before does not', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_990, undefined);
    clock.t += 5;
    hold.overloaded(10_001, undefined);
    hold.answered(10_002); // sent before the trip (at 10 005): says nothing about now
    expect(hold.held).toBe(true);
    clock.t += 50;
    expect(hold.waitMs()).toBe(0); // the probe
    clock.t += 20;
    hold.answered(clock.t - 20);
    expect([hold.waitMs(), hold.waitMs(), hold.waitMs()]).toEqual([0, 0, Number.POSITIVE_INFINITY]);
    let passed = 3;
    while (hold.held) {
      hold.answered(clock.t);
      while (hold.held && hold.waitMs() === 0) passed += 1;
    }
    expect(passed).toBeGreaterThanOrEqual(32);
    expect(hold.waitMs()).toBe(0);
  });

  it('an overload answer while recovering holds again, for twice as long', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_990, undefined);
    clock.t += 5;
    hold.overloaded(10_001, undefined);
    clock.t += 50;
    hold.waitMs();
    hold.answered(clock.t);
    hold.waitMs();
    clock.t += 2;
    hold.overloaded(clock.t - 1, undefined);
    expect(hold.waitMs()).toBe(100);
  });

  it('an overload episode ends a second after its last overload answer: a lone 429 later does not trip it', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_990, 1000);
    clock.t += 1_500;
    expect(hold.overloaded(clock.t - 20, 1000)).toBe(false);
    clock.t += 2;
    expect(hold.overloaded(clock.t - 1, 1000)).toBe(true);
  });

  it('pass() resolves at once when open, after the interval for the probe, and rejects when cleared', async () => {
    const hold = new OverloadHold();
    await hold.pass();
    const t = performance.now();
    hold.overloaded(t - 10, 1000);
    hold.overloaded(performance.now(), 1000);
    const started = performance.now();
    await hold.pass(); // the probe, after ~50 ms
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    const waiting = hold.pass();
    hold.clear(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });

  it('a failure that is not overload: a failed probe is tried again after the same interval; while recovering, one more goes', () => {
    const { hold, clock } = rig();
    hold.overloaded(9_990, undefined);
    clock.t += 5;
    hold.overloaded(10_001, undefined);
    clock.t += 50;
    expect(hold.waitMs()).toBe(0);
    clock.t += 2;
    hold.failed(clock.t - 1);
    expect(hold.waitMs()).toBe(50);
    clock.t += 50;
    expect(hold.waitMs()).toBe(0);
    hold.answered(clock.t);
    expect([hold.waitMs(), hold.waitMs(), hold.waitMs()]).toEqual([0, 0, Number.POSITIVE_INFINITY]);
    hold.failed(clock.t);
    expect([hold.waitMs(), hold.waitMs()]).toEqual([0, Number.POSITIVE_INFINITY]);
    expect(hold.held).toBe(true);
    // Before it tripped, or when open, a failure changes nothing.
    hold.failed(9_000);
    expect(hold.waitMs()).toBe(Number.POSITIVE_INFINITY);
  });
});
