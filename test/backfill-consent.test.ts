/**
 * History that cannot surprise customers (issue 17 §5): the order-sync API starts PersonaClick's "order status
 * changed" trigger chain, so before the first backfill of a range sends anything it says how many orders of how many
 * customers it will tell, and goes on only with an explicit yes: `--yes`, or `yes` typed at a terminal. Without either
 * (no terminal): exit 2, one line saying to pass --yes, nothing sent. A dry run and a resumed range need none.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { writeConfig } from './support/cli.js';
import { useFrame } from './support/frame.js';
import { SHOP_ID } from './support/harness.js';
import { createHistoryShop, HISTORY_ITEMS_QUERY, HISTORY_ORDERS_QUERY, insertHistory } from './support/history-shop.js';
import { runMain } from './support/main.js';

const SECRET = 'shop-secret-0c7d2e51';
const env = useFrame({ sandbox: { shopSecret: SECRET, syncOrdersPerMinute: 6000, syncOrdersMaxOrders: 5000 }, prefix: 'pcs_consent', shop: false });
const quiet = { env: { LOG_LEVEL: 'silent' } };
const RANGE = ['--from', '2000-01-01', '--to', '2100-01-01'];

function configFile(): string {
  return writeConfig({
    personaclick: { url: env.sandbox.url, shopId: SHOP_ID, shopSecret: SECRET, timeoutMs: 2000 },
    delivery: { retries: 1, retryMinMs: 5, retryMaxMs: 10, orderSyncPerMinute: 6000 },
    source: { url: env.db.url },
    jobs: { orders: { query: HISTORY_ORDERS_QUERY, itemsQuery: HISTORY_ITEMS_QUERY, settleSeconds: 0, startFrom: 'now' } },
  });
}

/** Six orders of a year ago, of five customers (H2 is c1's second order). */
async function shop(): Promise<void> {
  await createHistoryShop(env.db);
  await insertHistory(env.db, 1, 6, { ageDays: 365 });
  await env.db.query(`UPDATE hist.orders SET email = 'C1@example.com' WHERE id = 'H2'`);
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The CLI with a terminal on stdin that answers `answer` once asked. */
async function atTerminal(args: string[], answer: string): Promise<{ code: number; stderr: string }> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stderr = new Capture();
  const asked = new Promise<void>((resolve) => {
    const write = stderr._write.bind(stderr);
    stderr._write = (chunk, e, done) => {
      write(chunk, e, done);
      if (stderr.text.includes('Type yes to go on: ')) resolve();
    };
  });
  void asked.then(() => stdin.write(`${answer}\n`));
  const code = await main(args, { stdout: new Capture(), stderr, env: { PATH: process.env.PATH, LOG_LEVEL: 'silent' }, stdin });
  return { code, stderr: stderr.text };
}

const historyMarks = async (): Promise<number> =>
  Number((await env.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM personaclick_sync.watermarks WHERE name LIKE 'orders:history:%'`))[0]?.n);

describe('a first backfill asks for an explicit yes', () => {
  it('without --yes and without a terminal: exit 2, one line with the orders, the customers, the trigger chain and --yes; nothing sent', async () => {
    await shop();
    const run = await runMain(['backfill', 'orders', ...RANGE, '--config', configFile()], quiet);
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toEqual([
      expect.stringMatching(
        /^personaclick-sync: backfill orders 2000-01-01\.\.2100-01-01: 6 order\(s\) of 5 customer\(s\) will be told through the order-sync API, which starts PersonaClick's "order status changed" trigger chain .*: pass --yes to go on \(a dry run needs none\); nothing was sent$/,
      ),
    ]);
    expect(env.sandbox.syncArrivals()).toHaveLength(0);
    expect(await historyMarks()).toBe(0);
  });

  it('a dry run needs no yes; --yes sends, and says what it told; the same range resumed asks no more', async () => {
    await shop();
    const path = configFile();
    const dry = await runMain(['backfill', 'orders', ...RANGE, '--dry-run', '--config', path], quiet);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('"H1"');
    expect(env.sandbox.syncArrivals()).toHaveLength(0);

    const yes = await runMain(['backfill', 'orders', ...RANGE, '--yes', '--config', path], { env: { LOG_LEVEL: 'warn' } });
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stderr).toContain('6 order(s) of 5 customer(s) will be told');
    expect(env.sandbox.syncOrders.size).toBe(6);

    const again = await runMain(['backfill', 'orders', ...RANGE, '--config', path], quiet);
    expect(again.code, again.stderr).toBe(0); // the range has begun: a rerun resumes it
    expect(env.sandbox.syncOrders.size).toBe(6);
  });

  it('at a terminal: a typed yes goes on, anything else stops with exit 2', async () => {
    await shop();
    const path = configFile();
    const no = await atTerminal(['backfill', 'orders', ...RANGE, '--config', path], 'y');
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('6 order(s) of 5 customer(s) will be told');
    expect(no.stderr).toContain('backfill orders: not confirmed (type yes to go on, or pass --yes); nothing was sent');
    expect(env.sandbox.syncArrivals()).toHaveLength(0);

    const yes = await atTerminal(['backfill', 'orders', ...RANGE, '--config', path], 'yes');
    expect(yes.code, yes.stderr).toBe(0);
    expect(env.sandbox.syncOrders.size).toBe(6);
  });
});
