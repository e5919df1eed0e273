/** The harness's side of the sandbox child: start it, set faults, read its stats, arrival times and purchases, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultConfig, SandboxStats } from '../../src/sandbox/index.js';
import type { SandboxCommand, SandboxOp, SandboxReply, TimelinePoint } from './sandbox-child.js';

export interface BenchSandbox {
  url: string;
  stats(): Promise<SandboxStats>;
  /** Arrival times (ms) of every API request since the last reset. */
  arrivals(): Promise<number[]>;
  /** order_id → how many times a purchase for it was accepted, since the last reset. */
  purchases(): Promise<Record<string, number>>;
  /** The sandbox process's CPU time so far (µs) and its RSS now (bytes). */
  usage(): Promise<{ cpu: NodeJS.CpuUsage; rss: number }>;
  setFaults(faults: FaultConfig): Promise<void>;
  /** What was sampled since the last call ([time, accepted, 429s] every `everyMs`), and sample afresh (0: stop). */
  timeline(everyMs: number): Promise<TimelinePoint[]>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startSandboxChild(): Promise<BenchSandbox> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./sandbox-child.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sandbox child exited ${String(code)} before listening`)));
    child.once('message', (m: { ready?: string }) => (m.ready ? resolve(m.ready) : reject(new Error('unexpected first message from the sandbox child'))));
  });
  child.removeAllListeners('exit');
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: SandboxReply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.value);
  });
  const call = (op: SandboxOp): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      child.send({ ...op, id } satisfies SandboxCommand);
    });
  return {
    url,
    stats: async () => (await call({ op: 'stats' })) as SandboxStats,
    usage: async () => (await call({ op: 'usage' })) as { cpu: NodeJS.CpuUsage; rss: number },
    arrivals: async () => (await call({ op: 'arrivals' })) as number[],
    purchases: async () => (await call({ op: 'purchases' })) as Record<string, number>,
    setFaults: async (faults) => void (await call({ op: 'faults', faults })),
    timeline: async (everyMs) => (await call({ op: 'timeline', everyMs })) as TimelinePoint[],
    reset: async () => void (await call({ op: 'reset' })),
    close: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ op: 'close' });
      await exited;
    },
  };
}
