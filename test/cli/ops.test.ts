/** Operations as an operator runs them: backfill, replay, locks, shards and signals, in real child processes. */
import { describe, expect, it } from 'vitest';
import { runCli, startCli, writeConfig } from '../support/cli.js';
import { PG_HOST, PG_PORT } from '../support/pg.js';
import { insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { SHOP_ID } from '../support/harness.js';
import { useFrame } from '../support/frame.js';
import { waitUntil } from '../support/wait.js';

const env = useFrame({ sandbox: { recordBodies: false }, prefix: 'pcs_ops' });

function config(delivery: Record<string, unknown> = {}): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, shutdownDeadlineMs: 5000, ...delivery },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${env.db.name}` },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

/** 1200 orders, one every 6 hours through 2024 (ids 1..1200). */
async function yearOfOrders(): Promise<void> {
  await insertOrders(env.db, 1, 1200, `'2024-01-01 00:00:00+00'::timestamptz + ((i - 1) * interval '6 hours') + interval '123 microseconds'`);
}

async function idsIn(from: string, to: string): Promise<string[]> {
  const rows = await env.db.query<{ id: string }>(`SELECT id FROM shop.orders WHERE updated_at >= $1 AND updated_at < $2 ORDER BY id`, [from, to]);
  return rows.map((r) => String(r.id));
}

function sent(): string[] {
  return [...env.sandbox.purchases.keys()].sort((a, b) => Number(a) - Number(b));
}

function duplicates(): number {
  return [...env.sandbox.purchases.values()].filter((n) => n > 1).length;
}

describe('backfill orders', () => {
  it('sends every order of the range once and none outside it, and its own watermark leaves the incremental one alone', async () => {
    await yearOfOrders();
    const path = config();
    const result = await runCli(['backfill', 'orders', '--from', '2024-03-01', '--to', '2024-06-01', '--via', 'push', '--yes', '--config', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(sent()).toEqual(await idsIn('2024-03-01', '2024-06-01'));
    expect(duplicates()).toBe(0);
    const marks = await env.db.query<{ name: string }>(`SELECT name FROM personaclick_sync.watermarks ORDER BY name`);
    expect(marks.map((m) => m.name)).toEqual(['orders:backfill:2024-03-01..2024-06-01']);
    const finished = result.stderr.split('\n').filter((l) => l.includes('"run finished"'));
    expect(JSON.parse(finished[0] ?? '{}')).toMatchObject({ job: 'orders', status: 'done', sent: 368 });
    // Running it again sends nothing and ends at once.
    const again = await runCli(['backfill', 'orders', '--from', '2024-03-01', '--to', '2024-06-01', '--via', 'push', '--yes', '--config', path]);
    expect(again.code).toBe(0);
    expect(env.sandbox.stats().accepted).toBe(368);
  });

  it('killed with SIGKILL midway, a re-run completes the range; duplicates stay within the in-flight bound', async () => {
    await yearOfOrders();
    env.sandbox.setFaults({ latencyMs: 5 });
    const path = config({ concurrency: 4 });
    const first = startCli(['backfill', 'orders', '--from', '2024-01-01', '--to', '2025-01-01', '--via', 'push', '--yes', '--config', path]);
    await waitUntil('400 orders accepted', () => env.sandbox.stats().accepted >= 400);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(env.sandbox.purchases.size).toBeLessThan(1200);
    const rerun = await runCli(['backfill', 'orders', '--from', '2024-01-01', '--to', '2025-01-01', '--via', 'push', '--yes', '--config', path]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(sent()).toEqual(await idsIn('2024-01-01', '2025-01-01'));
    // At-least-once: only what was on the wire or not yet checkpointed when the process died can go twice
    // (PersonaClick keys purchases by order_id, so a repeat creates no second order).
    const bound = 2 * 4 + Math.ceil((200 / 5) * 4);
    expect(duplicates()).toBeLessThanOrEqual(bound);
    // The killed run could not close its runs row; the next run of the job closed it as failed, saying why.
    const runs = await env.db.query<{ status: string; error: string | null }>(`SELECT status, error FROM personaclick_sync.runs ORDER BY started_at`);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'done']);
    expect(runs[0]?.error).toMatch(/ended without finishing/);
  });

  it('never sends an order twice when a backfill and the incremental sync run over the same orders at once', async () => {
    await yearOfOrders();
    const path = config();
    // The incremental sync has got to mid-year.
    const start = await runCli(['sync', 'orders', '--limit', '600', '--config', path]);
    expect(start.code).toBe(0);
    env.sandbox.setFaults({ latencyMs: 3 });
    const [backfill, sync] = await Promise.all([
      runCli(['backfill', 'orders', '--from', '2024-01-01', '--to', '2025-01-01', '--via', 'push', '--yes', '--config', path]),
      runCli(['sync', 'orders', '--config', path]),
    ]);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(sync.code, sync.stderr).toBe(0);
    expect(env.sandbox.purchases.size).toBe(1200);
    expect(duplicates()).toBe(0);
  });

  it('four shard processes share one backfill: together they send every order exactly once', async () => {
    await yearOfOrders();
    const path = config();
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        runCli(['backfill', 'orders', '--from', '2024-01-01', '--to', '2025-01-01', '--via', 'push', '--yes', '--shard', `${i}/4`, '--config', path]),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(env.sandbox.purchases.size).toBe(1200);
    expect(duplicates()).toBe(0);
    const perShard = results.map((r) => JSON.parse(r.stderr.split('\n').find((l) => l.includes('"run finished"')) ?? '{}') as { sent: number });
    expect(perShard.reduce((n, s) => n + s.sent, 0)).toBe(1200);
    for (const s of perShard) expect(s.sent).toBeGreaterThan(150); // the hash spreads the work
    // The Kubernetes Indexed Job form: --shards N with JOB_COMPLETION_INDEX names the same shards.
    const k8s = await runCli(
      ['backfill', 'orders', '--from', '2024-01-01', '--to', '2025-01-01', '--via', 'push', '--yes', '--shards', '4', '--config', path],
      { env: { JOB_COMPLETION_INDEX: '2' } },
    );
    expect(k8s.code).toBe(0);
    expect(k8s.stderr).toContain('"shard":"2/4"');
    expect(env.sandbox.stats().accepted).toBe(1200);
  });
});

describe('replay', () => {
  it('re-reads failed rows from the source and resolves the ones that now go through', async () => {
    await insertOrders(env.db, 1, 30);
    await env.db.query(`DELETE FROM shop.order_lines WHERE order_id = 3`);
    env.sandbox.setFaults({ reject: [{ field: 'order_id', equals: '9', status: 422, message: 'Unknown device' }] });
    const path = config();
    expect((await runCli(['sync', 'orders', '--config', path])).code).toBe(0);
    const status = JSON.parse((await runCli(['status', '--json', '--config', path])).stdout) as { openFailures: { class: string; count: number }[] };
    expect(status.openFailures).toEqual([
      { job: 'orders', class: 'invalid', count: 1 },
      { job: 'orders', class: 'rejected', count: 1 },
    ]);
    // Still broken: replay leaves both open.
    const stillBroken = await runCli(['replay', '--config', path]);
    expect(stillBroken.code).toBe(0);
    expect(env.sandbox.purchases.has('3') || env.sandbox.purchases.has('9')).toBe(false);
    // Fix the data (and the API side), then replay only the invalid class first.
    await env.db.query(`INSERT INTO shop.order_lines VALUES (3, 'P3', 1, 9.99)`);
    env.sandbox.setFaults({});
    expect((await runCli(['replay', '--class', 'invalid', '--config', path])).code).toBe(0);
    expect(env.sandbox.purchases.get('3')).toBe(1);
    expect(env.sandbox.purchases.has('9')).toBe(false);
    expect((await runCli(['replay', '--job', 'orders', '--since', '2000-01-01', '--config', path])).code).toBe(0);
    expect(env.sandbox.purchases.get('9')).toBe(1);
    const after = JSON.parse((await runCli(['status', '--json', '--config', path])).stdout) as { openFailures: unknown[] };
    expect(after.openFailures).toEqual([]);
    expect(duplicates()).toBe(0);
  });
});

describe('one runner per job', () => {
  it('a second runner exits 75 naming the holder; kill -9 of the holder frees the lock', async () => {
    await insertOrders(env.db, 1, 400);
    env.sandbox.setFaults({ latencyMs: 20 });
    const path = config({ concurrency: 1 });
    const holder = startCli(['sync', 'orders', '--config', path]);
    await holder.waitFor(/"run started"/);
    const second = await runCli(['sync', 'orders', '--config', path]);
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/already running: its lock is held by personaclick-sync lock orders/);
    // A different job (or a dry run) is not blocked.
    expect((await runCli(['sync', 'orders', '--dry-run', '--limit', '1', '--config', path])).code).toBe(0);
    holder.child.kill('SIGKILL');
    await holder.done;
    env.sandbox.setFaults({});
    const next = await runCli(['sync', 'orders', '--config', path]);
    expect(next.code, next.stderr).toBe(0);
    expect(env.sandbox.purchases.size).toBe(400);
  });
});

describe('shutdown', () => {
  it('SIGTERM mid-run: exit 143 within the deadline, books consistent, and the next run finishes the job without repeats', async () => {
    await insertOrders(env.db, 1, 600);
    env.sandbox.setFaults({ latencyMs: 10 });
    const path = config({ concurrency: 4, shutdownDeadlineMs: 3000 });
    const run = startCli(['sync', 'orders', '--config', path]);
    await waitUntil('100 orders accepted', () => env.sandbox.stats().accepted >= 100);
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(143);
    expect(Date.now() - signalled).toBeLessThan(3000 + 1500);
    const runs = await env.db.query<{ status: string }>(`SELECT status FROM personaclick_sync.runs`);
    expect(runs).toEqual([{ status: 'interrupted' }]);
    // Everything at or before the watermark is in the ledger, and the ledger holds only what PersonaClick got.
    const [mark] = await env.db.query<{ cursor_key: string }>(`SELECT cursor_key FROM personaclick_sync.watermarks WHERE name = 'orders'`);
    const ledger = (await env.db.query<{ key: string }>(`SELECT key FROM personaclick_sync.ledger`)).map((r) => r.key);
    const upTo = Number(mark?.cursor_key ?? 0);
    expect(upTo).toBeGreaterThanOrEqual(100);
    for (let id = 1; id <= upTo; id++) expect(ledger).toContain(String(id));
    for (const key of ledger) expect(env.sandbox.purchases.has(key)).toBe(true);
    env.sandbox.setFaults({});
    const next = await runCli(['sync', 'orders', '--config', path]);
    expect(next.code).toBe(0);
    expect(env.sandbox.purchases.size).toBe(600);
    expect(duplicates()).toBe(0);
  });
});
