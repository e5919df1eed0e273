/**
 * Preloaded into the connector's process (`node --import`): on exit, write its resource usage (getrusage: peak RSS
 * in kB, CPU time in µs) as JSON to $BENCH_RSS_FILE. Nothing else: the connector runs as it does for users.
 */
import { writeFileSync } from 'node:fs';

export interface ProbeReport {
  maxRSS: number;
  userCPUTime: number;
  systemCPUTime: number;
}

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRSS, userCPUTime, systemCPUTime } satisfies ProbeReport));
  });
}
