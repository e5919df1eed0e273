/**
 * Pages bounded by bytes as well as rows (`source.pageBytes`): what one read of the shop's database may bring into
 * this process. A row is measured in the database as the text node-postgres will decode (`octet_length(row::text)`),
 * plus a fixed allowance for the object it becomes here, so a page of ten thousand tiny lines counts too. A page
 * stops at the row that fills the budget (the first row always comes, so a page is never empty); an order with its
 * lines, a cart or a wishlist larger than the whole budget is never read: it is filed with its size instead.
 */

/** Bytes counted for each row on top of its text: the object, its keys and their strings' headers in this process. */
export const ROW_OVERHEAD_BYTES = 100;

/** The default `source.pageBytes`: 16 MiB of row text a read (two reads are in flight at most: one used, one ahead). */
export const DEFAULT_PAGE_BYTES = 16 * 1024 * 1024;

/**
 * The row limit of the next page. A page statement measures at most `limit` rows before it keeps those within the
 * budget, so after a page the budget cut at `rows`, the next asks for about twice that (not the configured page size:
 * pages of 1 MB rows would each make the database measure a thousand of them to keep eight); after a page the row
 * limit ended, the limit doubles back towards the page size.
 */
export function nextLimit(page: { limit: number; rows: number; byBytes: boolean }, pageSize: number): number {
  return Math.max(1, Math.min(pageSize, page.byBytes ? 2 * page.rows : 2 * page.limit));
}

/**
 * SQL: the rows of `inner` (a page's SELECT, ordered and limited, giving each row's size as "__pcs_size") up to the
 * one that fills `bytes` (a bound placeholder): a running total ("__pcs_bytes") in the page's own order, which
 * `orderBy(alias)` writes over the inner select's columns, so that the plan adds no sort.
 */
export function withinBytes(inner: string, orderBy: (alias: string) => string, bytes: string): string {
  return `SELECT s.* FROM (
  SELECT r.*, sum(r."__pcs_size") OVER (ORDER BY ${orderBy('r')} ROWS UNBOUNDED PRECEDING) AS "__pcs_bytes"
    FROM (${inner}) AS r
) AS s
 WHERE s."__pcs_bytes" - s."__pcs_size" < ${bytes}
 ORDER BY ${orderBy('s')}`;
}

/** Where a page of `withinBytes` ended: cut by bytes (its last row's running total reached the budget) or by rows. */
export function pageEnd(rows: readonly { __pcs_bytes?: unknown }[], limit: number, budget: number): { more: boolean; byBytes: boolean } {
  const byBytes = rows.length < limit && Number(rows[rows.length - 1]?.__pcs_bytes) >= budget;
  return { more: byBytes || rows.length === limit, byBytes };
}

/** SQL: the bytes a row of `alias` (a subquery's name) counts as. */
export function rowBytes(alias: string): string {
  return `(octet_length(${alias}::text) + ${ROW_OVERHEAD_BYTES})`;
}

/** How large a key's rows are: the order with its lines, or a cart's lines. */
export interface KeySize {
  rows: number;
  bytes: number;
}

/** A size for people: 1.5 MiB, 812 KiB, 640 B. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}

/** The reason a key too large to read is filed with (an invalid failure: it stays open until it is smaller or the budget larger). */
export function tooLargeReason(what: string, size: KeySize, budget: number): string {
  return (
    `${what}: ${size.rows} row(s), ${formatBytes(size.bytes)} as the model gives them, more than source.pageBytes ` +
    `(${formatBytes(budget)}) one read may hold; it is never read whole nor sent (raise source.pageBytes if the host has the memory; ` +
    'a request to PersonaClick carries at most 32 MB)'
  );
}

/**
 * Keys in the given order, cut into runs whose sizes together stay within the budget (a key within the budget is
 * never split, and a run always holds at least one); keys over the budget on their own are set apart.
 */
export function packWithin<K>(keys: readonly K[], sizeOf: (key: K) => number, budget: number): { runs: K[][]; over: K[] } {
  const runs: K[][] = [];
  const over: K[] = [];
  let run: K[] = [];
  let used = 0;
  for (const key of keys) {
    const size = sizeOf(key);
    if (size > budget) {
      over.push(key);
      continue;
    }
    if (run.length > 0 && used + size > budget) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(key);
    used += size;
  }
  if (run.length > 0) runs.push(run);
  return { runs, over };
}
