/**
 * The peak memory of a connector child process: a probe preloaded with `node --import` (through NODE_OPTIONS)
 * writes getrusage's peak RSS to a file on exit, and a watchdog samples /proc/<pid>/status meanwhile and kills the
 * child if it grows past a limit (a broken connector reading an endless answer would otherwise eat the machine).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';

const PROBE = `import { writeFileSync } from 'node:fs';
const file = process.env.PCS_PEAK_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
`;

let probeUrl: string | undefined;

export interface RssProbe {
  /** Environment for the child: preloads the probe. */
  env: NodeJS.ProcessEnv;
  /** Watch a started child: sample its RSS every `everyMs`, SIGKILL it past `limitMiB`. */
  watch(child: ChildProcess, limitMiB: number, everyMs?: number): void;
  /** Peak RSS in MiB (the probe's figure, or the highest sample when the child died before writing it). */
  peakMiB(): number;
  /** True when the watchdog killed the child. */
  killed(): boolean;
}

export function rssProbe(): RssProbe {
  const dir = mkdtempSync(join(tmpdir(), 'pcs-rss-'));
  if (probeUrl === undefined) {
    const path = join(dir, 'probe.mjs');
    writeFileSync(path, PROBE);
    probeUrl = pathToFileURL(path).href;
  }
  const file = join(dir, 'peak-rss');
  let sampledKiB = 0;
  let killedIt = false;
  return {
    env: { NODE_OPTIONS: `--import=${probeUrl}`, PCS_PEAK_RSS_FILE: file },
    watch(child, limitMiB, everyMs = 25) {
      const timer = setInterval(() => {
        const pid = child.pid;
        if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return clearInterval(timer);
        let status: string;
        try {
          status = readFileSync(`/proc/${pid}/status`, 'utf8');
        } catch {
          return clearInterval(timer);
        }
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (hwm?.[1] !== undefined) sampledKiB = Math.max(sampledKiB, Number(hwm[1]));
        if (sampledKiB > limitMiB * 1024) {
          killedIt = true;
          child.kill('SIGKILL');
          clearInterval(timer);
        }
      }, everyMs);
      child.once('close', () => clearInterval(timer));
    },
    peakMiB() {
      let probedKiB = 0;
      try {
        probedKiB = Number(readFileSync(file, 'utf8'));
      } catch {
        probedKiB = 0;
      }
      return Math.round(Math.max(probedKiB, sampledKiB) / 1024);
    },
    killed: () => killedIt,
  };
}
