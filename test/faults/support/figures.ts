/** Figures the README's reliability section quotes: computed from what the sandbox saw, printed as one JSON line per test. */
import type { AttemptRecord, SandboxStats } from '../../../src/sandbox/index.js';

/** The most arrivals in any window of `windowMs` (a window holds the arrivals t with start <= t < start + windowMs). */
export function maxInWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    const t = sorted[end] ?? 0;
    while ((sorted[start] ?? t) <= t - windowMs) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

/** Requests the sandbox faulted, by kind, and their total. */
export function faultCounts(stats: SandboxStats): { byKind: SandboxStats['faults']; total: number } {
  const total = Object.values(stats.faults).reduce((a, b) => a + b, 0);
  return { byKind: { ...stats.faults }, total };
}

/** Attempts grouped by key, each list in arrival order. */
export function attemptsByKey(attempts: readonly AttemptRecord[]): Map<string, AttemptRecord[]> {
  const byKey = new Map<string, AttemptRecord[]>();
  for (const a of [...attempts].sort((x, y) => x.at - y.at)) {
    if (a.key === undefined) continue;
    const list = byKey.get(a.key);
    if (list) list.push(a);
    else byKey.set(a.key, [a]);
  }
  return byKey;
}

export const isSuccess = (a: AttemptRecord): boolean => typeof a.outcome === 'number' && a.outcome >= 200 && a.outcome < 300;

/** Print the figures of one test as one JSON line (the README's reliability section is filled from these). */
export function report(test: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ figures: test, ...figures }));
}
