/**
 * The baselines the connector is measured against: the bare undici sender (sender.ts, in a child process like the
 * connector) and psql streaming a query to /dev/null with \copy. Plus, to split the extract and diff figures into
 * reading and the rest, the connector's own source functions reading the same pages and building nothing.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openSource } from '../../src/source/db.js';
import { linesFor, ordersPage } from '../../src/source/orders.js';
import { snapshotDevices } from '../../src/source/snapshot.js';
import { CARTS_QUERY, ITEMS_QUERY, ORDERS_QUERY } from './data.js';
import type { SenderResult } from './sender.js';

const run = promisify(execFile);
const SENDER = fileURLToPath(new URL('./sender.js', import.meta.url));

/** Send the `{path, body}` lines of `ndjsonFile` to `apiUrl` with `concurrency` requests in flight. */
export async function bareSender(ndjsonFile: string, apiUrl: string, concurrency: number): Promise<SenderResult> {
  const { stdout } = await run(process.execPath, [SENDER, ndjsonFile, apiUrl, String(concurrency)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as SenderResult;
}

/** Wall time (ms) of `psql -c "\copy (query) TO '/dev/null'"`: the database streaming the rows, and nothing else. */
export async function psqlCopy(dbUrl: string, query: string): Promise<number> {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  const started = performance.now();
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', dbUrl, '-c', `\\copy (${oneLine}) TO '/dev/null'`]);
  return performance.now() - started;
}

/** Wall time (ms) of reading every order and its lines page by page as the sync does (1000 a page), building nothing. */
export async function readOrdersOnly(dbUrl: string): Promise<number> {
  const source = openSource({ url: dbUrl, poolSize: 2, statementTimeoutMs: 0, applicationName: 'bench' });
  const started = performance.now();
  try {
    let after: { ts: string; key: string | null } = { ts: '2000-01-01T00:00:00.000000Z', key: null };
    for (;;) {
      const page = (await ordersPage(source, ORDERS_QUERY, { after, before: '2100-01-01T00:00:00.000000Z', limit: 1000 })).orders;
      const last = page[page.length - 1];
      if (!last) break;
      await linesFor(
        source,
        ITEMS_QUERY,
        page.map((o) => o.key),
      );
      after = last.cursor;
    }
    return performance.now() - started;
  } finally {
    await source.close();
  }
}

/** Wall time (ms) of reading the carts snapshot device by device as the reconcile does (5000 lines a page). */
export async function readCartsOnly(dbUrl: string): Promise<number> {
  const source = openSource({ url: dbUrl, poolSize: 2, statementTimeoutMs: 0, applicationName: 'bench' });
  const started = performance.now();
  try {
    for await (const device of snapshotDevices(source, CARTS_QUERY, 5000, undefined)) void device;
    return performance.now() - started;
  } finally {
    await source.close();
  }
}
