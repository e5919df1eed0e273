/**
 * The sandbox in a process of its own (forked by sandbox.ts), so that it never shares an event loop with the
 * connector or the harness. Bodies are not recorded; the parent drives it over IPC.
 */
import { startSandbox, type FaultConfig } from '../../src/sandbox/index.js';

export type SandboxOp =
  | { op: 'stats' }
  | { op: 'usage' }
  | { op: 'arrivals' }
  | { op: 'purchases' }
  | { op: 'reset' }
  | { op: 'faults'; faults: FaultConfig }
  | { op: 'timeline'; everyMs: number }
  | { op: 'close' };
export type SandboxCommand = SandboxOp & { id: number };
export type SandboxReply = { id: number; value?: unknown; error?: string };
/** [Date.now(), requests accepted, answers 429] since the last reset. */
export type TimelinePoint = [number, number, number];

const sandbox = await startSandbox({ recordBodies: false });
process.send?.({ ready: sandbox.url });
// The harness is gone (crashed or killed): go too.
process.on('disconnect', () => void sandbox.close().finally(() => process.exit(0)));

// The accepted and 429 counts sampled every `everyMs` from a `timeline` command to the next (or a reset).
let timeline: TimelinePoint[] = [];
let sampler: NodeJS.Timeout | undefined;
const sample = () => {
  const stats = sandbox.stats();
  timeline.push([Date.now(), stats.accepted, stats.byStatus['429'] ?? 0]);
};

process.on('message', (message: SandboxCommand) => {
  const reply = (value: unknown) => process.send?.({ id: message.id, value } satisfies SandboxReply);
  try {
    switch (message.op) {
      case 'stats':
        return reply(sandbox.stats());
      case 'usage':
        return reply({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
      case 'arrivals':
        return reply(sandbox.arrivals());
      case 'purchases':
        return reply(Object.fromEntries(sandbox.purchases));
      case 'reset':
        sandbox.reset();
        return reply(true);
      case 'timeline': {
        // Hands back what was sampled since the last call, and starts sampling afresh (everyMs 0: stops).
        if (sampler) clearInterval(sampler);
        sampler = undefined;
        if (timeline.length > 0) sample();
        const points = timeline;
        timeline = [];
        if (message.everyMs > 0) {
          sample();
          sampler = setInterval(sample, message.everyMs);
        }
        return reply(points);
      }
      case 'faults':
        sandbox.setFaults(message.faults);
        return reply(true);
      case 'close':
        void sandbox.close().then(() => {
          reply(true);
          process.disconnect();
        });
        return;
    }
  } catch (caught) {
    process.send?.({ id: message.id, error: caught instanceof Error ? caught.message : String(caught) } satisfies SandboxReply);
  }
});
