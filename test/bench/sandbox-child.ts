/**
 * The sandbox in a process of its own (forked by sandbox.ts), so that it never shares an event loop with the
 * connector or the harness. Bodies are not recorded; the parent drives it over IPC.
 */
import { startSandbox, type FaultConfig } from '../../src/sandbox/index.js';

export type SandboxOp = { op: 'stats' } | { op: 'usage' } | { op: 'arrivals' } | { op: 'purchases' } | { op: 'reset' } | { op: 'faults'; faults: FaultConfig } | { op: 'close' };
export type SandboxCommand = SandboxOp & { id: number };
export type SandboxReply = { id: number; value?: unknown; error?: string };

const sandbox = await startSandbox({ recordBodies: false });
process.send?.({ ready: sandbox.url });
// The harness is gone (crashed or killed): go too.
process.on('disconnect', () => void sandbox.close().finally(() => process.exit(0)));

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
