/** The `schedule` command's engine: node-cron tasks over real Postgres and the sandbox over real HTTP. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { ConfigError } from '../src/errors.js';
import { createLogger, silentLogger, type Logger } from '../src/log.js';
import { acquireJobLock } from '../src/state/lock.js';
import { cartsJob, wishlistsJob } from '../jobs/mirror.js';
import { ordersJob } from '../jobs/orders.js';
import { scheduledJobs } from '../jobs/index.js';
import { OVERLAP_REASON, runSchedule, type ScheduledJob } from '../src/run/scheduler.js';
import { urlFor } from './support/pg.js';
import { insertOrders } from './support/shop.js';
import { CARTS_QUERY, WISHLISTS_QUERY } from './support/carts.js';
import { runSync, testConfig, type ConfigOverrides } from './support/harness.js';
import { useFrame } from './support/frame.js';
import { waitUntil } from './support/wait.js';

const env = useFrame({ prefix: 'pcs_sched' });

const config = (o: ConfigOverrides = {}) => testConfig(env.db.url, env.sandbox.url, o);
const EVERY_SECOND = '* * * * * *';
/** testConfig's delivery.shutdownDeadlineMs. */
const SHUTDOWN_DEADLINE_MS = 5000;

type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A pino logger writing JSON lines to memory, for asserting on what the scheduler logs. */
function captureLog(): { log: Logger; lines: () => LogLine[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const log = createLogger({ destination: stream, pretty: false, level: 'info' });
  return {
    log,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogLine),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the scheduler; `stop()` aborts it and resolves with its exit code and how long the stop took. */
function startScheduler(cfg: Config, log: Logger) {
  const controller = new AbortController();
  const done = runSchedule(cfg, scheduledJobs(cfg), { log, out: new PassThrough(), signal: controller.signal });
  return {
    done,
    async stop(): Promise<{ code: number; stopMs: number }> {
      const at = Date.now();
      controller.abort();
      const code = await done;
      return { code, stopMs: Date.now() - at };
    },
  };
}

interface RunRow {
  status: string;
  started_at: Date;
  finished_at: Date | null;
  sent: string;
}

const runRows = () => env.db.query<RunRow>(`SELECT status, started_at, finished_at, sent::text FROM personaclick_sync.runs ORDER BY started_at`);

describe('scheduler', () => {
  it('runs the orders job every second without overlapping itself, skips the ticks that come mid-run, and stops cleanly', async () => {
    await insertOrders(env.db, 1, 60);
    env.sandbox.setFaults({ latencyMs: 40 }); // 60 orders one at a time: a run takes well over a second
    const { log, lines } = captureLog();
    const scheduler = startScheduler(config({ orders: { schedule: EVERY_SECOND }, delivery: { concurrency: 1 } }), log);
    await sleep(5000);
    const { code, stopMs } = await scheduler.stop();

    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(SHUTDOWN_DEADLINE_MS);

    const runs = await runRows();
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) {
      expect(['done', 'interrupted']).toContain(run.status);
      expect(run.finished_at).not.toBeNull();
    }
    // No two runs overlapped: each started after the previous one finished (checked at full precision in SQL).
    const overlaps = await env.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM (SELECT started_at, lag(finished_at) OVER (ORDER BY started_at) AS prev FROM personaclick_sync.runs) q
        WHERE started_at < prev`,
    );
    expect(overlaps[0]?.n).toBe('0');
    expect(runs.reduce((n, r) => n + Number(r.sent), 0)).toBe(60);

    // Every order went out exactly once.
    expect(env.sandbox.purchases.size).toBe(60);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);

    const logged = lines();
    const orders = logged.filter((l) => l.job === 'orders');
    // The next due time at startup (before any run) and after each run, as an ISO string.
    const firstStart = orders.findIndex((l) => l.msg === 'scheduled run starting');
    const nextDue = orders.filter((l) => l.msg === 'next run due');
    expect(firstStart).toBeGreaterThan(0);
    expect(orders.slice(0, firstStart).some((l) => l.msg === 'next run due')).toBe(true);
    for (const l of nextDue) expect(l.next).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
    const finished = orders.filter((l) => l.msg === 'scheduled run finished');
    expect(finished.length).toBeGreaterThanOrEqual(2);
    expect(finished[0]).toMatchObject({ level: 'info', status: 'done', read: 60, sent: 60, rejected: 0 });
    expect(nextDue.length).toBeGreaterThanOrEqual(1 + finished.length - 1); // the last run may end after the stop
    // The ticks that came during the first run were skipped, with the reason.
    const skipped = orders.filter((l) => l.msg === 'scheduled run skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped[0]).toMatchObject({ level: 'warn', reason: OVERLAP_REASON });
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    expect(logged.at(-1)?.msg).toBe('scheduler stopped');
  });

  it('passes the stop to a running job, which checkpoints and ends interrupted; the next run sends only the rest', async () => {
    await insertOrders(env.db, 1, 300);
    env.sandbox.setFaults({ latencyMs: 40 }); // ~12 s of work at concurrency 1
    const cfg = config({ orders: { schedule: EVERY_SECOND }, delivery: { concurrency: 1 } });
    const scheduler = startScheduler(cfg, silentLogger());
    await waitUntil('the first run to send a few orders', () => env.sandbox.purchases.size >= 10);
    const { code, stopMs } = await scheduler.stop();
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(SHUTDOWN_DEADLINE_MS);

    const runs = await runRows();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe('interrupted');
    const sentBefore = env.sandbox.purchases.size;
    expect(sentBefore).toBeLessThan(300);
    expect(Number(runs[0]?.sent)).toBe(sentBefore);

    env.sandbox.setFaults({});
    const rest = await runSync(cfg);
    expect(rest.summary.status).toBe('done');
    expect(rest.summary.sent).toBe(300 - sentBefore);
    expect(env.sandbox.purchases.size).toBe(300);
    expect([...env.sandbox.purchases.values()].every((n) => n === 1)).toBe(true);
  });

  it("logs a run whose lock another runner holds as skipped with the holder's message, not as an error", async () => {
    await insertOrders(env.db, 1, 5);
    const cfg = config({ orders: { schedule: EVERY_SECOND } });
    const lock = await acquireJobLock(cfg.state.url, cfg.state.schema, 'orders');
    const { log, lines } = captureLog();
    try {
      const scheduler = startScheduler(cfg, log);
      await waitUntil('two skipped runs', () => lines().filter((l) => l.msg === 'scheduled run skipped').length >= 2);
      expect((await scheduler.stop()).code).toBe(0);
    } finally {
      await lock.release();
    }
    const skipped = lines().filter((l) => l.msg === 'scheduled run skipped');
    for (const l of skipped) {
      expect(l).toMatchObject({ level: 'info', job: 'orders' });
      expect(l.reason).toMatch(/job "orders" is already running: its lock is held by personaclick-sync lock orders .*backend pid \d+/);
    }
    expect(lines().filter((l) => l.level === 'error')).toEqual([]);
    expect(await runRows()).toEqual([]);
    expect(env.sandbox.purchases.size).toBe(0);
  });

  it('logs a run that throws as an error and goes on with the schedule', async () => {
    // The state database does not exist: every run fails to connect before it starts.
    const cfg = config({ orders: { schedule: EVERY_SECOND }, state: { url: urlFor(`${env.db.name}_missing`) } });
    const { log, lines } = captureLog();
    const scheduler = startScheduler(cfg, log);
    await waitUntil('two failed runs', () => lines().filter((l) => l.msg === 'scheduled run failed; the schedule goes on').length >= 2);
    expect((await scheduler.stop()).code).toBe(0);
    const failed = lines().filter((l) => l.msg === 'scheduled run failed; the schedule goes on');
    expect(failed[0]).toMatchObject({ level: 'error', job: 'orders' });
    expect(JSON.stringify(failed[0]?.err)).toMatch(/does not exist/);
    // After each failure the scheduler still says when the job is next due.
    expect(lines().filter((l) => l.msg === 'next run due').length).toBeGreaterThanOrEqual(3);
  });

  it('reads the cron expressions in config.schedule.timezone', async () => {
    const base = config({ orders: { schedule: '0 0 9 * * *' } });
    const cfg: Config = { ...base, schedule: { timezone: 'Asia/Tokyo' } };
    const { log, lines } = captureLog();
    const scheduler = startScheduler(cfg, log);
    await waitUntil('the next due time', () => lines().some((l) => l.msg === 'next run due'));
    expect((await scheduler.stop()).code).toBe(0);
    const next = lines().find((l) => l.msg === 'next run due');
    expect(next).toMatchObject({ job: 'orders', level: 'info' });
    // 09:00 in Tokyo (UTC+9, no DST) is midnight UTC, within the next day.
    expect(next?.next).toMatch(/T00:00:00\.000Z$/);
    const at = new Date(String(next?.next)).getTime();
    expect(at).toBeGreaterThan(Date.now() - 5000);
    expect(at).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    expect(lines().find((l) => l.msg === 'job scheduled')).toMatchObject({ job: 'orders', timezone: 'Asia/Tokyo', expression: '0 0 9 * * *' });
  });
});

describe('scheduledJobs and the schedule check', () => {
  const EVENTS_QUERY = `SELECT 'k' AS event_key, 'view' AS event, 'd1' AS did`;

  it('maps each scheduled job to its request and leaves out the jobs without a schedule', () => {
    const cfg = testConfig('postgres://postgres@127.0.0.1:5432/none', 'http://127.0.0.1:1', {
      orders: { schedule: '*/5 * * * *' },
      jobs: {
        carts: { query: CARTS_QUERY, schedule: '0 3 * * *' },
        wishlists: { query: WISHLISTS_QUERY, schedule: '30 3 * * *' },
        events: { query: EVENTS_QUERY },
      },
    });
    const shape = (jobs: ScheduledJob[]) => jobs.map((j) => ({ name: j.name, expression: j.expression, lock: j.launchable.lock }));
    // The scheduled form of each job: the incremental sync and the nightly reconciles (their own locks), never a backfill or --full.
    expect(shape(scheduledJobs(cfg))).toEqual([
      { name: 'orders', expression: '*/5 * * * *', lock: 'orders' },
      { name: 'carts', expression: '0 3 * * *', lock: 'carts' },
      { name: 'wishlists', expression: '30 3 * * *', lock: 'wishlists' },
    ]);
    expect(scheduledJobs(cfg).map((j) => j.launchable)).toEqual([ordersJob.scheduled, cartsJob.scheduled, wishlistsJob.scheduled]);
    const onlyEvents = testConfig('postgres://postgres@127.0.0.1:5432/none', 'http://127.0.0.1:1', {
      jobs: { events: { query: EVENTS_QUERY, schedule: '0 * * * * *' } },
    });
    expect(shape(scheduledJobs(onlyEvents))).toEqual([{ name: 'events', expression: '0 * * * * *', lock: 'events' }]);
  });

  it('throws ConfigError when no job has a schedule; the config refuses what node-cron would refuse', async () => {
    const opts = { log: silentLogger(), out: new PassThrough(), signal: new AbortController().signal };
    const none = testConfig('postgres://postgres@127.0.0.1:5432/none', 'http://127.0.0.1:1', { jobs: { carts: { query: CARTS_QUERY } } });
    expect(scheduledJobs(none)).toEqual([]);
    await expect(runSchedule(none, scheduledJobs(none), opts)).rejects.toBeInstanceOf(ConfigError);
    await expect(runSchedule(none, scheduledJobs(none), opts)).rejects.toThrow(/no job has a schedule/);

    // "31 February" is a valid field each, but never a day: node-cron's validator (the config's) says so.
    expect(() => testConfig('postgres://postgres@127.0.0.1:5432/none', 'http://127.0.0.1:1', { orders: { schedule: '0 0 31 2 *' } })).toThrow(
      /jobs\.orders\.schedule: .*impossible day of month/,
    );
  });
});
