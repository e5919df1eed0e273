/**
 * The crash loop: start the built CLI, wait for its "run started" line, SIGKILL it a random while later, start it
 * again, and so on for the wanted number of kill points; then let one run finish. Delays come from a seeded PRNG.
 */
import { startCli, type CliResult } from '../../support/cli.js';
import { between } from './seed.js';

export interface CrashLoopOptions {
  args: string[];
  /** Kill points wanted. */
  kills: number;
  random: () => number;
  /** Kill this long after the child logged "run started": [min, max] ms, drawn uniformly. */
  killAfterMs: [number, number];
  env?: NodeJS.ProcessEnv;
  /** Runs after each kill, while no connector runs (the books are still). */
  afterKill?: (kill: number) => Promise<void>;
}

export interface CrashLoopResult {
  /** Runs killed with SIGKILL while working. */
  kills: number;
  /** Processes started in all (kills + the final run). */
  runs: number;
  /** The run that ended the loop by itself. */
  final: CliResult;
  /** The kill delays used (ms after "run started"). */
  delays: number[];
  /** From spawn to the "run started" line, per killed run (ms). */
  startups: number[];
  /** How long the final run took (ms). */
  finalMs: number;
  /**
   * Starts that found the job's lock still held (exit 75) right after a kill: the killed process's database session
   * had not yet noticed its client was gone. Each is started again a moment later, as the next cron tick would.
   */
  lockedRestarts: number;
  wallMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function crashLoop(opts: CrashLoopOptions): Promise<CrashLoopResult> {
  const started = Date.now();
  const delays: number[] = [];
  const startups: number[] = [];
  let spawnedAt = Date.now();
  let lockedRestarts = 0;
  let lockedInARow = 0;
  const end = (final: CliResult) => ({ kills, runs, final, delays, startups, finalMs: Date.now() - spawnedAt, lockedRestarts, wallMs: Date.now() - started });
  let kills = 0;
  let runs = 0;
  for (;;) {
    runs += 1;
    spawnedAt = Date.now();
    const cli = startCli(opts.args, { env: opts.env, timeoutMs: 600_000 });
    if (kills >= opts.kills) return end(await cli.done);
    const ready = await Promise.race([
      cli.waitFor(/"run started"/, 60_000).then(
        () => true,
        () => false,
      ),
      cli.done.then(() => false),
    ]);
    if (!ready) {
      const ended = await cli.done;
      if (ended.code === 75 && kills > 0 && lockedInARow < 50) {
        lockedRestarts += 1;
        lockedInARow += 1;
        await sleep(100);
        continue;
      }
      if (ended.signal === null && ended.code !== null) return end(ended);
      throw new Error(`run ${runs} never logged "run started" (code ${String(ended.code)}, signal ${String(ended.signal)}):\n${ended.stderr.slice(-3000)}`);
    }
    lockedInARow = 0;
    const readyAt = Date.now();
    const delay = Math.round(between(opts.random, opts.killAfterMs[0], opts.killAfterMs[1]));
    const exitedFirst = await Promise.race([sleep(delay).then(() => false), cli.done.then(() => true)]);
    if (exitedFirst) return end(await cli.done);
    cli.child.kill('SIGKILL');
    const killed = await cli.done;
    if (killed.signal !== 'SIGKILL') return end(killed); // it ended just before
    kills += 1;
    delays.push(delay);
    startups.push(readyAt - spawnedAt);
    await opts.afterKill?.(kills);
  }
}
