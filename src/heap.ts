/**
 * V8's heap held near what a run lives on. A run's live heap is small (20-60 MB) and nearly all it allocates dies
 * young, but V8 sizes its generations for throughput: left alone, a million-order sync or a catalogue reconcile peaked
 * near 200 MB of RSS for 20 MB of live data. An operator's own setting (NODE_OPTIONS or node's flags) wins.
 *
 * The young generation's cap below works on Node 20 only. Node 26's V8 sizes its young generation itself (16-40 MB
 * in a catalogue reconcile) whatever the growth factor says once it runs; only `--max-semi-space-size` given at start
 * caps it, and a running process cannot give itself that. The image's entrypoint passes `--max-semi-space-size=4`
 * (the Dockerfile; a 1% reconcile of a million products then peaks 25 MB lower, and is no slower), and
 * docs/operations.md ("Memory") tells an operator who runs the connector on Node 22 or later outside it to do the same.
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
  // The young generation doubles while what survives its collections adds up, to 32 MB on Node 20: a quarter of the
  // peak. Its size is fixed at start (--max-semi-space-size), but whether it grows is read each time: once it reaches
  // the cap, it stops growing. (Held at its first size from the start, a first reconcile took a quarter more CPU; at
  // 8 MB, none measurable.) Node 26 does not read it: see above.
  if (operatorSets('--max-semi-space-size') || operatorSets('--semi-space-growth-factor')) return;
  const observer = new PerformanceObserver(() => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if (young === undefined || young.space_size < YOUNG_GENERATION_CAP_BYTES) return;
    setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
