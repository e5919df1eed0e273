/**
 * Watching the watermark of an orders stream while the connector runs (and dies): every few milliseconds the
 * persisted watermark is read together with the failures, in one statement (one snapshot), and every order at or
 * before it, by (updated_at, order_id), must by then have been accepted by the sandbox or be recorded as a failure.
 * Acceptance is also timed: an order first accepted after the watermark row was written (its updated_at is the
 * start of the checkpoint transaction) means the watermark was written before the order was delivered.
 */
import type pg from 'pg';
import { ORDERS_QUERY } from '../../support/shop.js';
import type { TestDatabase } from '../../support/pg.js';
import type { AcceptLog } from './spy.js';

/** The connector's cursor text: UTC, microseconds. */
const TS_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export interface OrderPosition {
  ts: string;
  key: string;
}

/** The orders of the model in the connector's keyset order, optionally only those with updated_at in [from, to). */
export async function orderIndex(db: TestDatabase, range?: { from: string; to: string }): Promise<OrderPosition[]> {
  const where = range ? `WHERE q.updated_at >= $1::timestamptz AND q.updated_at < $2::timestamptz` : '';
  const rows = await db.query<OrderPosition>(
    `SELECT to_char(q.updated_at::timestamptz AT TIME ZONE 'UTC', ${TS_FORMAT}) AS ts, q.order_id::text AS key
       FROM (${ORDERS_QUERY}) AS q ${where} ORDER BY q.updated_at, q.order_id`,
    range ? [range.from, range.to] : [],
  );
  return rows;
}

function compareKeys(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Index of the last order at or before the cursor (-1 when none); a cursor without key passes nothing at its ts. */
export function positionOf(index: readonly OrderPosition[], cursor: { ts: string; key: string | null }): number {
  let lo = 0;
  let hi = index.length; // first index after the cursor
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const o = index[mid];
    if (!o) break;
    const after = o.ts > cursor.ts || (o.ts === cursor.ts && (cursor.key === null || compareKeys(o.key, cursor.key) > 0));
    if (after) hi = mid;
    else lo = mid + 1;
  }
  return lo - 1;
}

export interface WatermarkViolation {
  key: string;
  kind: 'not accepted' | 'accepted after the watermark was written';
  watermark: { ts: string; key: string | null };
  writtenAt: string;
  acceptedAt?: string;
}

export interface WatermarkWatch {
  samples: number;
  /** Samples at which the watermark had moved since the previous one. */
  moves: number;
  /** Times the watermark was seen behind an earlier sample. */
  backwards: number;
  violations: WatermarkViolation[];
  /** Orders checked so far (the prefix at or before the highest watermark seen). */
  checked: number;
  /** Stop sampling, take one last sample, and return the totals. */
  stop(): Promise<WatermarkWatch>;
}

interface Sample {
  cursor_ts: string;
  cursor_key: string | null;
  updated_at: Date;
  failed: string[];
}

/**
 * Sample the watermark `name` every `everyMs` ms on a connection of its own. `failuresJob` is the ledger namespace of
 * the failures that may stand for an order (recorded failures of any state count: resolved ones were delivered later).
 */
export async function watchWatermark(
  db: TestDatabase,
  opts: { name: string; index: readonly OrderPosition[]; accepted: AcceptLog; everyMs?: number; failuresJob?: string },
): Promise<WatermarkWatch> {
  const client: pg.Client = await db.connect();
  const everyMs = opts.everyMs ?? 3;
  const reported = new Set<string>();
  let verified = -1; // every index <= verified has been checked
  let last: { ts: string; key: string | null } | undefined;
  let running = true;
  let failure: Error | undefined;
  const watch: WatermarkWatch = {
    samples: 0,
    moves: 0,
    backwards: 0,
    violations: [],
    checked: 0,
    stop: async () => {
      running = false;
      await loop;
      try {
        await sample();
      } finally {
        await client.end();
      }
      if (failure) throw failure;
      return watch;
    },
  };

  async function sample(): Promise<void> {
    const result = await client.query<Sample>(
      `SELECT w.cursor_ts, w.cursor_key, w.updated_at,
              coalesce((SELECT array_agg(f.key) FROM personaclick_sync.failures f WHERE f.job = $2), '{}') AS failed
         FROM personaclick_sync.watermarks w WHERE w.name = $1`,
      [opts.name, opts.failuresJob ?? 'orders'],
    );
    // Checked synchronously from here on: the sandbox lives in this process, so nothing is accepted meanwhile.
    const row = result.rows[0];
    watch.samples += 1;
    if (!row) return;
    const cursor = { ts: row.cursor_ts, key: row.cursor_key };
    if (last && (cursor.ts !== last.ts || cursor.key !== last.key)) {
      watch.moves += 1;
      if (positionOf(opts.index, cursor) < positionOf(opts.index, last) || cursor.ts < last.ts) watch.backwards += 1;
    }
    last = cursor;
    const upTo = positionOf(opts.index, cursor);
    if (upTo <= verified) return;
    const failed = new Set(row.failed);
    const writtenAt = row.updated_at.getTime();
    for (let i = verified + 1; i <= upTo; i++) {
      const order = opts.index[i];
      if (!order || failed.has(order.key) || reported.has(order.key)) continue;
      const acceptedAt = opts.accepted.first.get(order.key);
      if (acceptedAt !== undefined && acceptedAt <= writtenAt) continue;
      reported.add(order.key);
      watch.violations.push({
        key: order.key,
        kind: acceptedAt === undefined ? 'not accepted' : 'accepted after the watermark was written',
        watermark: cursor,
        writtenAt: row.updated_at.toISOString(),
        ...(acceptedAt === undefined ? {} : { acceptedAt: new Date(acceptedAt).toISOString() }),
      });
    }
    verified = upTo;
    watch.checked = upTo + 1;
  }

  const loop = (async () => {
    while (running) {
      try {
        await sample();
      } catch (caught) {
        failure ??= caught instanceof Error ? caught : new Error(String(caught));
        running = false;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return watch;
}
