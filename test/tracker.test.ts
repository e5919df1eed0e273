/**
 * The watermark's rule: it moves only over the contiguous prefix of rows that are finished (delivered, skipped or
 * recorded as failed), whatever order they finish in (`PrefixTracker`).
 */
import { describe, expect, it } from 'vitest';
import { PrefixTracker } from '../src/run/tracker.js';

function tracker(rows: number): { t: PrefixTracker<string>; seqs: number[] } {
  const t = new PrefixTracker<string>();
  const seqs = Array.from({ length: rows }, (_, i) => t.add(`c${i}`));
  return { t, seqs };
}

describe('PrefixTracker', () => {
  it('has no cursor until the first row read is finished, however many after it are', () => {
    const { t } = tracker(4);
    t.finish(1);
    t.finish(2);
    t.finish(3);
    expect(t.prefixCursor).toBeUndefined();
    expect(t.open).toBe(1);
    t.finish(0);
    expect(t.prefixCursor).toBe('c3');
    expect(t.open).toBe(0);
  });

  it('stops at the first unfinished row: a gap holds back every row after it', () => {
    const { t } = tracker(5);
    t.finish(0);
    t.finish(1);
    t.finish(3);
    t.finish(4);
    expect(t.prefixCursor).toBe('c1');
    t.finish(2);
    expect(t.prefixCursor).toBe('c4');
  });

  it('ignores a row finished twice and a sequence never registered', () => {
    const { t } = tracker(3);
    t.finish(0);
    t.finish(0);
    t.finish(7);
    t.finish(-1);
    expect(t.prefixCursor).toBe('c0');
    expect(t.open).toBe(2);
    expect(t.registered).toBe(3);
  });

  it('in reverse order of a thousand rows, moves only when the first is finished', () => {
    const { t, seqs } = tracker(1000);
    for (const seq of [...seqs].reverse().slice(0, 999)) t.finish(seq);
    expect(t.prefixCursor).toBeUndefined();
    t.finish(0);
    expect(t.prefixCursor).toBe('c999');
  });
});
