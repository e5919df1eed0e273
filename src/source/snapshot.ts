/**
 * Cart and wishlist snapshots: the operator's one-row-per-line SELECT, read in pages keyed on did in byte order
 * (COLLATE "C", the same order as the ledger), one device's lines always together. No transaction spans pages.
 */
import type { Row } from '../payloads/index.js';
import type { Source } from './db.js';

export interface DeviceLines {
  did: string;
  /** The device's rows, as the page query gave them: they may hold its own columns `__pcs_did` and `__pcs_did_type`. */
  lines: Row[];
}

type SnapshotRow = Row & { __pcs_did: string };

interface Page {
  devices: DeviceLines[];
  /** Where the next page starts (after this did); undefined when this page was the last. */
  after: string | undefined;
}

/**
 * Every device of the snapshot in did byte order, its lines grouped. A page ends at `pageSize` lines; the last
 * device of a full page may be cut, so it is dropped and read again at the start of the next page (a device with
 * more lines than a page is read on its own).
 */
export async function* snapshotDevices(source: Source, query: string, pageSize: number, shard?: { index: number; count: number }): AsyncGenerator<DeviceLines> {
  for await (const page of snapshotPages(source, query, pageSize, shard)) yield* page;
}

/**
 * The snapshot page by page (each a run of whole devices in did byte order, never empty). The next page is read
 * while the consumer works on this one: its start is known as soon as this one arrives, and the query runs in the
 * database while this process groups, hashes and compares (a page query is a read on its own, so reading it early
 * changes nothing but the time).
 */
export async function* snapshotPages(source: Source, query: string, pageSize: number, shard?: { index: number; count: number }): AsyncGenerator<DeviceLines[]> {
  const shardParams = (offset: number) =>
    shard && shard.count > 1 ? { sql: ` AND mod(abs(hashtext(q.did::text)::bigint), $${offset}) = $${offset + 1}`, params: [shard.count, shard.index] } : { sql: '', params: [] };

  // Where a row's did text is. The first page also asks for the type of did: when it is text or varchar, the
  // value node-postgres gives is its ::text already, and later pages leave out the second copy (one string less
  // to decode per line). Other types (integers, uuid, char(n), …) keep the "__pcs_did" column.
  let didColumn: 'did' | '__pcs_did' = '__pcs_did';
  const readPage = async (after: string | null): Promise<Page> => {
    const base: unknown[] = after === null ? [pageSize] : [pageSize, after];
    const s = shardParams(base.length + 1);
    const columns = after === null ? `q.*, q.did::text AS "__pcs_did", pg_typeof(q.did)::text AS "__pcs_did_type"` : didColumn === 'did' ? 'q.*' : `q.*, q.did::text AS "__pcs_did"`;
    const sql = `SELECT ${columns} FROM (
${query}
) AS q WHERE q.did IS NOT NULL${after === null ? '' : ` AND q.did::text COLLATE "C" > $2`}${s.sql} ORDER BY q.did::text COLLATE "C" LIMIT $1`;
    const key = didColumn;
    const rows = await source.query<SnapshotRow>(sql, [...base, ...s.params]);
    if (rows.length === 0) return { devices: [], after: undefined };
    if (after === null && TEXT_TYPES.has(String(rows[0]?.__pcs_did_type))) didColumn = 'did';
    const groups = group(rows, key);
    if (rows.length === pageSize) {
      const last = groups.pop();
      if (groups.length === 0 && last) {
        // One device fills the whole page: read all of its lines at once.
        const s2 = shardParams(2);
        const all = await source.query<SnapshotRow>(
          `SELECT q.*, q.did::text AS "__pcs_did" FROM (
${query}
) AS q WHERE q.did::text COLLATE "C" = $1${s2.sql}`,
          [last.did, ...s2.params],
        );
        groups.push(...group(all, '__pcs_did'));
      }
    }
    const tail = groups[groups.length - 1];
    return { devices: groups, after: !tail || rows.length < pageSize ? undefined : tail.did };
  };

  let next: Promise<Page> | undefined = readPage(null);
  while (next !== undefined) {
    const page: Page = await next;
    next = page.after === undefined ? undefined : readPage(page.after);
    // Should the consumer stop before it awaits this read, its failure must not surface as an unhandled rejection.
    next?.catch(() => undefined);
    if (page.devices.length > 0) yield page.devices;
  }
}

/** Types whose node-postgres value is the same string as their ::text. */
const TEXT_TYPES: ReadonlySet<string> = new Set(['text', 'character varying']);

/**
 * Consecutive rows of one did as one device, the did text taken from `key` (a string there: `__pcs_did`, or `did`
 * when the model's did is text). The rows are kept as they are (no copy without `__pcs_did`).
 */
function group(rows: Row[], key: 'did' | '__pcs_did'): DeviceLines[] {
  const out: DeviceLines[] = [];
  let current: DeviceLines | undefined;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Row;
    const did = row[key] as string;
    if (current === undefined || current.did !== did) {
      current = { did, lines: [row] };
      out.push(current);
    } else current.lines.push(row);
  }
  return out;
}

/** Compare two strings in Postgres "C" collation order (UTF-8 bytes, i.e. code points), not UTF-16 units. */
export function compareC(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb && (sa ? cb >= 0xe000 : ca >= 0xe000)) return sa ? 1 : -1; // a surrogate pair is a code point above U+FFFF
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}

/** The lines of these devices, fresh from the model (replay); a device with no lines is absent from the result. */
export async function devicesByDid(source: Source, query: string, dids: readonly string[]): Promise<Map<string, Row[]>> {
  const out = new Map<string, Row[]>();
  if (dids.length === 0) return out;
  const rows = await source.query<SnapshotRow>(
    `SELECT q.*, q.did::text AS "__pcs_did" FROM (
${query}
) AS q WHERE q.did::text = ANY($1::text[])`,
    [dids],
  );
  for (const { __pcs_did: did, ...row } of rows) {
    const lines = out.get(did);
    if (lines === undefined) out.set(did, [row]);
    else lines.push(row);
  }
  return out;
}
