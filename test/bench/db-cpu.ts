/**
 * The CPU time the Postgres backends of one database spend while something runs: what a run costs the shop's
 * database, apart from the state database, the connector and the sandbox that share this machine's cores. Sampled
 * from /proc (the bench's Postgres runs on this machine; Linux): each backend's title names its database, its
 * utime + stime are read every `everyMs`, and what each spent since the start is summed at the end. A backend that
 * ends between two samples loses at most `everyMs` of its time: the figure is a lower bound, that close.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Ticks (utime + stime) of the processes whose title is a backend of `database`, by pid. */
function backendTicks(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // "postgres: 15/main: <user> <database> <host>(<port>) <activity>"
      if (!title.startsWith('postgres: ') || !title.includes(` ${database} `)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command in parentheses: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU milliseconds the backends of `database` spend while `work` runs. */
export async function databaseCpu<T>(database: string, work: () => Promise<T>, everyMs = 50): Promise<{ result: T; cpuMs: number }> {
  const start = backendTicks(database);
  const last = new Map(start);
  const sample = (): void => {
    for (const [pid, ticks] of backendTicks(database)) last.set(pid, ticks);
  };
  const timer = setInterval(sample, everyMs);
  try {
    const result = await work();
    sample();
    let ticks = 0;
    for (const [pid, now] of last) ticks += now - (start.get(pid) ?? 0);
    return { result, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } finally {
    clearInterval(timer);
  }
}
