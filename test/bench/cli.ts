/**
 * The connector as users run it: the built CLI (dist/src/cli.js) in a child process, timed from spawn to exit,
 * with its peak RSS (reported by the preloaded rss-probe) and the summary line of its JSON log.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeConfig } from '../support/cli.js';
import { benchLaunch } from './image-launch.js';
import { CARTS_QUERY, ITEMS_QUERY, ORDERS_QUERY } from './data.js';
import type { ProbeReport } from './rss-probe.js';
import type { RunCounts } from '../../src/state/runs.js';

/** The built CLI, from dist/test/bench/ where this module runs. */
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const PROBE = new URL('./rss-probe.js', import.meta.url).href;
/** node's flags and environment for the connector (BENCH_LAUNCH, image-launch.ts). */
export const LAUNCH = benchLaunch();
export const SHOP_ID = 'bench-shop-0001';

/** The `run finished` / `run stopped` log line. */
export interface RunLine extends RunCounts {
  status: string;
  durationMs: number;
  rate: number;
}

export interface CliRun {
  code: number | null;
  wallMs: number;
  /** Peak resident set size of the connector's process, MB. */
  peakRssMb: number;
  /** CPU time (user + system) of the connector's process, ms. */
  cpuMs: number;
  run: RunLine | undefined;
  stderr: string;
}

export interface ConnectorSetup {
  dbUrl: string;
  apiUrl: string;
  /** The state schema: each scenario gets its own, so every sync starts from scratch. */
  schema: string;
  delivery?: Record<string, unknown>;
  /**
   * The job the scenario runs: orders alone (with a carts model too, the live sync would also reconcile each
   * buyer's cart and send a second request per order), or carts alone.
   */
  job?: 'orders' | 'carts';
}

/** A config as an operator would write it: defaults everywhere but the URLs, the models and the start point. */
export function writeBenchConfig(setup: ConnectorSetup): string {
  return writeConfig({
    personaclick: { url: setup.apiUrl, shopId: SHOP_ID },
    delivery: { ...setup.delivery },
    source: { url: setup.dbUrl },
    state: { schema: setup.schema },
    jobs:
      setup.job === 'carts'
        ? { carts: { query: CARTS_QUERY } }
        : { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

export interface CliOptions {
  /** Where stdout goes: a file path ('/dev/null' included); default discarded. */
  stdoutFile?: string | undefined;
  /** Write a V8 CPU profile of the connector into this directory. */
  cpuProfDir?: string | undefined;
  timeoutMs?: number | undefined;
}

export async function runConnector(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pcs-bench-rss-'));
  const rssFile = join(dir, 'maxrss');
  const stdout = openSync(opts.stdoutFile ?? '/dev/null', 'w');
  const nodeArgs = [...LAUNCH.nodeFlags, '--import', PROBE, ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []), CLI, ...args];
  const started = performance.now();
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...LAUNCH.env, PATH: process.env.PATH, LOG_LEVEL: 'info', LOG_PRETTY: '0', BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', stdout, 'pipe'],
  });
  closeSync(stdout);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  let usage: ProbeReport = { maxRSS: Number.NaN, userCPUTime: Number.NaN, systemCPUTime: Number.NaN };
  try {
    usage = JSON.parse(readFileSync(rssFile, 'utf8')) as ProbeReport;
  } catch {
    // killed before it could report
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, wallMs, peakRssMb: usage.maxRSS / 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, run: runLine(stderr), stderr };
}

/** Run the CLI and fail loudly unless it exits 0. */
export async function mustRun(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const result = await runConnector(args, opts);
  if (result.code !== 0) throw new Error(`personaclick-sync ${args.join(' ')} exited ${String(result.code)}:\n${result.stderr.slice(-3000)}`);
  return result;
}

function runLine(stderr: string): RunLine | undefined {
  for (const line of stderr.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const json = JSON.parse(line) as { msg?: unknown } & RunLine;
      if (json.msg === 'run finished' || json.msg === 'run stopped') return json;
    } catch {
      // not a log line
    }
  }
  return undefined;
}
