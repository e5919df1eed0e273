/** A sender that tells a run's watcher of every attempt: on the wire, then its answer (or "network") and latency. */
import { performance } from 'node:perf_hooks';
import { ApiError } from '../errors.js';
import type { ApiRequest } from '../payloads/index.js';
import type { Sender } from '../delivery/queue.js';
import type { RunWatch } from './observer.js';

export function observedSender(inner: Sender, watch: RunWatch): Sender {
  return {
    async send(req: ApiRequest): Promise<unknown> {
      watch.requestStarted();
      const started = performance.now();
      try {
        const result = await inner.send(req);
        const status = (result as { status?: unknown } | undefined)?.status;
        watch.requestEnded(typeof status === 'number' ? status : 200, (performance.now() - started) / 1000);
        return result;
      } catch (caught) {
        watch.requestEnded(caught instanceof ApiError && caught.status !== undefined ? caught.status : 'network', (performance.now() - started) / 1000);
        throw caught;
      }
    },
  };
}
