/**
 * Signals and locks, in real child processes of the built CLI, for every job: SIGTERM mid-run stops within the
 * shutdown deadline, records the run as interrupted and leaves the books consistent, so the next run completes the
 * job without repeating anything; SIGINT exits 130; a second runner of a job exits 75 until the holder dies.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, startCli, type CliResult, type RunningCli } from '../support/cli.js';
import type { TestDatabase } from '../support/pg.js';
import { IMPORTS_PER_MINUTE, jobDatabase, JOB_CASES, readBooks, type JobCase } from './support/jobs.js';
import { faultsSeed, scenarioRandom } from './support/seed.js';
import { waitUntil } from '../support/wait.js';

const SEED = faultsSeed();
const DEADLINE_MS = 3000;
/** Time allowed after the deadline: checkpoint, runs row, closing connections, the lock. */
const GRACE_MS = 1000;
const LATENCY: [number, number] = [20, 60];

let sandbox: Sandbox;
let db: TestDatabase | undefined;

beforeAll(async () => {
  console.log(JSON.stringify({ suite: 'faults/signals', seed: SEED, replay: `FAULTS_SEED=${SEED}` }));
  sandbox = await startSandbox({ recordBodies: true, syncOrdersPerMinute: IMPORTS_PER_MINUTE });
});
afterEach(async () => {
  await db?.drop();
  db = undefined;
});
afterAll(async () => {
  await sandbox.close();
});

async function setup(
  job: JobCase,
  delivery: Record<string, unknown> = {},
  personaclick: Record<string, unknown> = {},
): Promise<{ db: TestDatabase; config: string }> {
  sandbox.reset();
  sandbox.setFaults({});
  const made = await jobDatabase(sandbox, delivery, personaclick);
  db = made.db;
  await job.prepare({ db: made.db, sandbox, config: made.config });
  sandbox.setFaults({ latencyMs: LATENCY, seed: Math.floor(scenarioRandom(SEED, job.name)() * 2 ** 31) });
  return made;
}

/** The child's end, or SIGKILL once `ms` have passed (the result then shows signal SIGKILL). */
async function exitWithin(cli: RunningCli, ms: number): Promise<CliResult> {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), ms);
  try {
    return await cli.done;
  } finally {
    clearTimeout(timer);
  }
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

async function lastRun(database: TestDatabase, job: JobCase): Promise<string | undefined> {
  const rows = await database.query<{ status: string }>(
    `SELECT status FROM personaclick_sync.runs WHERE job = $1 AND mode = $2 ORDER BY started_at DESC LIMIT 1`,
    [job.run.job, job.run.mode],
  );
  return rows[0]?.status;
}

/** Run the job once more to its end: it must complete, and the job must end with every key delivered exactly once. */
async function completesWithoutRepeats(database: TestDatabase, config: string, job: JobCase): Promise<void> {
  sandbox.setFaults({});
  const next = await runCli([...job.args, '--config', config]);
  expect(next.code, next.stderr).toBe(0);
  expect(await lastRun(database, job)).toBe('done');
  const counts = job.accepted(sandbox);
  expect([...counts.keys()].sort()).toEqual([...job.expected].sort());
  expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  const books = await readBooks(database, sandbox, job);
  expect(books).toMatchObject({ ledgerNotAccepted: [], acceptedNotBooked: [], passedNotBooked: [], ledger: job.expected.length, openFailures: 0 });
}

describe('SIGTERM mid-run', () => {
  for (const job of JOB_CASES) {
    it(`${job.name}: exits 143 within shutdownDeadlineMs, recorded as interrupted, books consistent; the next run completes it with no repeats`, async () => {
      const started = Date.now();
      const { db: database, config } = await setup(job, { shutdownDeadlineMs: DEADLINE_MS });
      const cli = startCli([...job.args, '--config', config]);
      await waitUntil('150 requests accepted', () => total(job.accepted(sandbox)) >= 150);
      const atSignal = total(job.accepted(sandbox));
      const signalled = Date.now();
      cli.child.kill('SIGTERM');
      const result = await exitWithin(cli, DEADLINE_MS + GRACE_MS);
      const shutdownMs = Date.now() - signalled;
      const atExit = total(job.accepted(sandbox));

      expect(result.code, result.stderr.slice(-2000)).toBe(143);
      expect(shutdownMs).toBeLessThan(DEADLINE_MS + GRACE_MS);
      expect(result.stderr).toMatch(/"status":"interrupted".*"msg":"run finished"/);
      expect(await lastRun(database, job)).toBe('interrupted');
      expect(atExit).toBeLessThan(job.expected.length); // it really stopped midway
      const books = await readBooks(database, sandbox, job);
      expect(books).toMatchObject({ ledgerNotAccepted: [], acceptedNotBooked: [], passedNotBooked: [] });
      expect(books.ledger).toBe(atExit);

      await completesWithoutRepeats(database, config, job);
      console.log(
        JSON.stringify({
          suite: 'faults/signals',
          test: `SIGTERM ${job.name}`,
          exit: result.code,
          shutdownMs,
          deadlineMs: DEADLINE_MS,
          acceptedAtSignal: atSignal,
          acceptedAtExit: atExit,
          items: job.expected.length,
          repeats: 0,
          wallMs: Date.now() - started,
        }),
      );
    });
  }

  const sync = JOB_CASES[0];
  if (!sync) throw new Error('no sync case');

  // Found by this suite, now fixed (src/run/runner.ts executeRun + src/delivery/queue.ts submit): the shutdown deadline only starts once the
  // job's body returns, but the body is blocked in DeliveryQueue.submit's backpressure wait while every slot holds a
  // hanging request; the run goes on retrying after SIGTERM and ends when retries run out, exit 4 ("halted"), not
  // 143 within shutdownDeadlineMs. The fix: the deadline timer starts when the signal comes.
  it('sync orders with requests hanging at PersonaClick: exits 143 at the deadline, books consistent, the next run sends the rest once', async () => {
    const started = Date.now();
    const deadline = 1000;
    const { db: database, config } = await setup(sync, { shutdownDeadlineMs: deadline }, { timeoutMs: 10_000 });
    const cli = startCli([...sync.args, '--config', config]);
    await waitUntil('100 requests accepted', () => sandbox.purchases.size >= 100);
    sandbox.setFaults({ hangRate: 1 });
    await waitUntil('requests hanging', () => sandbox.stats().faults.hang >= 4);
    const signalled = Date.now();
    cli.child.kill('SIGTERM');
    const result = await exitWithin(cli, deadline + GRACE_MS);
    const shutdownMs = Date.now() - signalled;
    console.log(
      JSON.stringify({
        suite: 'faults/signals',
        test: 'SIGTERM with hanging requests',
        exit: result.code,
        signal: result.signal,
        shutdownMs,
        deadlineMs: deadline,
        hanging: sandbox.stats().faults.hang,
        wallMs: Date.now() - started,
      }),
    );
    expect(result.code, result.stderr.slice(-2000)).toBe(143);
    expect(shutdownMs).toBeGreaterThanOrEqual(deadline - 50); // it did wait for the hanging ones
    expect(shutdownMs).toBeLessThan(deadline + GRACE_MS);
    expect(await lastRun(database, sync)).toBe('interrupted');
    expect(await readBooks(database, sandbox, sync)).toMatchObject({ ledgerNotAccepted: [], acceptedNotBooked: [], passedNotBooked: [] });
    await completesWithoutRepeats(database, config, sync);
  });

  it('a second SIGTERM exits at once, well before the deadline; the books stay consistent (at-least-once) and the next run completes', async () => {
    const started = Date.now();
    const { db: database, config } = await setup(sync, { shutdownDeadlineMs: 20_000 }, { timeoutMs: 30_000 });
    const cli = startCli([...sync.args, '--config', config]);
    await waitUntil('100 requests accepted', () => sandbox.purchases.size >= 100);
    sandbox.setFaults({ hangRate: 1 });
    await waitUntil('requests hanging', () => sandbox.stats().faults.hang >= 4);
    cli.child.kill('SIGTERM');
    await cli.waitFor(/"stopping: finishing in-flight requests"/);
    await new Promise((r) => setTimeout(r, 200));
    const second = Date.now();
    cli.child.kill('SIGTERM');
    const result = await exitWithin(cli, 1000);
    const exitMs = Date.now() - second;
    expect(result.code).toBe(143);
    expect(exitMs).toBeLessThan(1000);
    const books = await readBooks(database, sandbox, sync);
    expect(books).toMatchObject({ ledgerNotAccepted: [], passedNotBooked: [] });
    sandbox.setFaults({});
    const next = await runCli([...sync.args, '--config', config]);
    expect(next.code, next.stderr).toBe(0);
    const counts = sync.accepted(sandbox);
    expect(counts.size).toBe(sync.expected.length);
    const repeats = [...counts.values()].filter((n) => n > 1).length;
    expect(repeats).toBeLessThanOrEqual(books.acceptedNotBooked.length);
    console.log(
      JSON.stringify({
        suite: 'faults/signals',
        test: 'second SIGTERM',
        exit: result.code,
        exitMs,
        repeats,
        unbookedAtExit: books.acceptedNotBooked.length,
        wallMs: Date.now() - started,
      }),
    );
  });
});

describe('SIGINT', () => {
  for (const job of JOB_CASES.filter((j) => j.name === 'sync orders' || j.name === 'reconcile carts')) {
    it(`${job.name}: SIGINT once exits 130, recorded as interrupted, books consistent; the next run completes it with no repeats`, async () => {
      const started = Date.now();
      const { db: database, config } = await setup(job, { shutdownDeadlineMs: DEADLINE_MS });
      const cli = startCli([...job.args, '--config', config]);
      await waitUntil('150 requests accepted', () => total(job.accepted(sandbox)) >= 150);
      const signalled = Date.now();
      cli.child.kill('SIGINT');
      const result = await exitWithin(cli, DEADLINE_MS + GRACE_MS);
      const shutdownMs = Date.now() - signalled;
      expect(result.code, result.stderr.slice(-2000)).toBe(130);
      expect(shutdownMs).toBeLessThan(DEADLINE_MS + GRACE_MS);
      expect(await lastRun(database, job)).toBe('interrupted');
      expect(await readBooks(database, sandbox, job)).toMatchObject({ ledgerNotAccepted: [], acceptedNotBooked: [], passedNotBooked: [] });
      await completesWithoutRepeats(database, config, job);
      console.log(
        JSON.stringify({ suite: 'faults/signals', test: `SIGINT ${job.name}`, exit: result.code, shutdownMs, repeats: 0, wallMs: Date.now() - started }),
      );
    });
  }
});

describe('one runner per job', () => {
  for (const job of JOB_CASES) {
    it(`${job.name}: a second runner exits 75 naming the holder; after kill -9 of the holder a new runner runs and completes the job`, async () => {
      const started = Date.now();
      const { db: database, config } = await setup(job, { concurrency: 1 });
      const holder = startCli([...job.args, '--config', config]);
      await holder.waitFor(/"run started"/);
      const second = await runCli([...job.args, '--config', config]);
      expect(second.code, second.stderr).toBe(75);
      expect(second.stderr).toMatch(/already running: its lock is held by personaclick-sync lock /);
      expect(second.stderr).not.toMatch(/"run started"/);
      const running = await database.query<{ status: string }>(`SELECT status FROM personaclick_sync.runs WHERE job = $1 AND mode = $2`, [
        job.run.job,
        job.run.mode,
      ]);
      expect(running).toEqual([{ status: 'running' }]); // the second runner wrote no run
      holder.child.kill('SIGKILL');
      expect((await holder.done).signal).toBe('SIGKILL');
      sandbox.setFaults({});
      const next = await runCli([...job.args, '--config', config]);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/"run started"/);
      expect([...job.accepted(sandbox).keys()].sort()).toEqual([...job.expected].sort());
      console.log(
        JSON.stringify({ suite: 'faults/signals', test: `lock ${job.name}`, secondExit: second.code, afterKillExit: next.code, wallMs: Date.now() - started }),
      );
    });
  }
});
