/** Run the built command line as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves when a line of stderr matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Everything written to stderr so far. */
  stderrSoFar(): string;
}

/** The fast tier runs nothing but in-process code: a test that spawns the built CLI belongs in test/cli/ (or faults/). */
function refuseInFastTier(): void {
  if (process.env.PCS_TIER === 'fast') {
    throw new Error(
      'this test spawns the built CLI: move it to test/cli/ (a tier that builds dist/ first), or run the command in-process with runMain (test/support/main.ts)',
    );
  }
}

export function startCli(args: string[], opts: { env?: NodeJS.ProcessEnv | undefined; timeoutMs?: number; fdLimit?: number } = {}): RunningCli {
  refuseInFastTier();
  // With fdLimit: under `ulimit -n` (the shell execs node, so the pid and its signals stay the CLI's).
  const [command, argv] =
    opts.fdLimit === undefined
      ? [process.execPath, [CLI, ...args]]
      : ['/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, CLI, ...args]];
  const child = spawn(command, argv, {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', LOG_PRETTY: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const w of [...waiters]) {
      const line = stderr.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    stderrSoFar: () => stderr,
    waitFor(pattern, timeoutMs = 20_000) {
      const line = stderr.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no stderr line matched ${pattern} within ${timeoutMs} ms:\n${stderr.slice(-2000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  refuseInFastTier();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', LOG_PRETTY: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Write a YAML config to a fresh temporary file and return its path. */
export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'pcs-config-'));
  const path = join(dir, 'personaclick-sync.yaml');
  writeFileSync(path, typeof config === 'string' ? config : stringify(asPrivileged(config)));
  return path;
}

/**
 * The test databases are reached as `postgres`, a superuser, which runs refuse unless told otherwise (issue 20 §4,
 * docs/security.md): a config that names a source and says nothing about it gets source.allowPrivilegedRole: true.
 * Tests of the refusal set it (or connect as a read-only role).
 */
export function asPrivileged(config: unknown): unknown {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return config;
  const source = (config as { source?: unknown }).source;
  if (typeof source !== 'object' || source === null || Array.isArray(source) || 'allowPrivilegedRole' in source) return config;
  return { ...config, source: { ...source, allowPrivilegedRole: true } };
}
