/**
 * RequestBatches' bound on open batches (`maxOpen`, the catalogue's memory bound): a full batch waits until an open
 * one is answered, goes as soon as it is (not on a poll), and a stopped run ends the wait.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestBatches } from '../jobs/order-batches.js';
import type { ApiRequest, JsonValue } from '../src/payloads/index.js';
import type { BatchEntry, JobRun, RowHandle } from '../src/run/runner.js';

/** A run that only takes batches: each dispatched batch is kept, to be answered by the test. */
function fakeRun(): { run: JobRun; batches: BatchEntry[][]; stop: () => void } {
  const batches: BatchEntry[][] = [];
  let stopped = false;
  const partial: Partial<JobRun> = {
    dispatchBatch: (entries) => {
      batches.push([...entries]);
      return Promise.resolve();
    },
    shouldStop: () => stopped,
    invalid: () => undefined,
  };
  return { run: partial as JobRun, batches, stop: () => (stopped = true) };
}

const request = (items: JsonValue[]): ApiRequest => ({ method: 'PUT', path: '/import/products', body: { items } }) as unknown as ApiRequest;
const row = (key: string): RowHandle => ({ key }) as unknown as RowHandle;
const answer = (batch: BatchEntry[] | undefined): void => {
  for (const entry of batch ?? []) entry.options.onSettled?.();
};
/** Let every pending promise callback run (no timer fires: the clock is fake). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

describe('RequestBatches with maxOpen', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a full batch until an open one is answered, and sends it at once then', async () => {
    const { run, batches } = fakeRun();
    const b = new RequestBatches(run, request, { batchSize: 2, maxOpen: 1 }, 'product');
    await b.add(row('a'), 'a', {});
    await b.add(row('b'), 'b', {});
    expect(batches).toHaveLength(1);
    await b.add(row('c'), 'c', {});
    let second = false;
    const adding = b.add(row('d'), 'd', {}).then(() => (second = true));
    await settle();
    expect(batches).toHaveLength(1);
    expect(second).toBe(false);
    // Half the first batch answered: still open.
    batches[0]?.[0]?.options.onSettled?.();
    await settle();
    expect(batches).toHaveLength(1);
    // All of it: the next goes without any timer firing.
    batches[0]?.[1]?.options.onSettled?.();
    await settle();
    expect(batches).toHaveLength(2);
    await adding;
    expect(second).toBe(true);
    expect(batches[1]?.map((e) => e.item)).toEqual(['c', 'd']);
  });

  it('ends the wait when the run stops (an open batch may then never be answered)', async () => {
    const { run, batches, stop } = fakeRun();
    const b = new RequestBatches(run, request, { batchSize: 1, maxOpen: 1 }, 'product');
    await b.add(row('a'), 'a', {});
    let done = false;
    const adding = b.add(row('b'), 'b', {}).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toBe(false);
    stop();
    await vi.advanceTimersByTimeAsync(100);
    await adding;
    expect(done).toBe(true);
    answer(batches[0]);
  });
});
