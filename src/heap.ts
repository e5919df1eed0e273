/**
 * V8's heap held near what a run lives on. A run's live heap is small (20-60 MB) and nearly all it allocates dies
 * young, but V8 sizes its generations for throughput: left alone, a million-order sync or a catalogue reconcile peaked
 * near 200 MB of RSS for 20 MB of live data. An operator's own setting (NODE_OPTIONS or node's flags) wins.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The young generation grows no further once it holds this much (its semispaces, 4 MB each; V8's default is 16). */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 2 ** 20;

function operatorSets(flag: string): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes(flag));
}

export function holdHeap(): void {
  // The old generation grows to about four times what survived before V8 collects it again; by half at most keeps
  // the peak near what lives (a full collection of so small a heap takes a few milliseconds).
  if (!operatorSets('--heap-growing-percent')) setFlagsFromString('--heap-growing-percent=50');
  // The young generation doubles while what survives its collections adds up, to 32 MB (Node 20) or about 48 MB
  // (Node 26): a quarter of the peak. Its size is fixed at start (--max-semi-space-size), but whether it grows is read
  // each time: once it reaches the cap, it stops growing. (Held at its first size from the start, a first reconcile
  // took a quarter more CPU; at 8 MB, none measurable.)
  if (operatorSets('--max-semi-space-size') || operatorSets('--semi-space-growth-factor')) return;
  const observer = new PerformanceObserver(() => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if (young === undefined || young.space_size < YOUNG_GENERATION_CAP_BYTES) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
