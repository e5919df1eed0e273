/**
 * Issue 20 §5: terminal control sequences in shop data (an order id) and in API answers (error messages, a read-back's
 * order status) never reach a terminal raw. The CLI runs as a child process; its stdout and stderr are searched, byte
 * for byte, for ESC, BEL and the C1 introducers (CSI, OSC, DCS as single characters): `sync orders` lines, the CLI's
 * error line (a 403 whose message clears the screen), `report --verify` lines, and `status`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig, type CliResult } from '../support/cli.js';
import { createDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders } from '../support/shop.js';
import { SHOP_ID } from '../support/harness.js';
import { report } from './support/figures.js';

/** Clear the screen, set the window title (OSC 0), a hyperlink (OSC 8) to elsewhere, red text (CSI), a C1 CSI. */
const HOSTILE = '\u001b[2J\u001b[H\u001b]0;pwned-title\u0007\u001b]8;;https://evil.example\u001b\\click-me\u001b]8;;\u001b\\\u001b[31mRED\u009b0m';
/** What a terminal acts on: ESC, BEL, and the C1 CSI, OSC, DCS (U+009B, U+009D, U+0090). */
const RAW = new Set([0x1b, 0x07, 0x9b, 0x9d, 0x90]);
const hasRaw = (line: string): boolean => [...line].some((c) => RAW.has(c.charCodeAt(0)));
/** Orders whose id (the model's key) carries the sequences: 3 (refused) and 20 (delivered, the watermark's key). */
const KEYED = [3, 20];

type Mode = 'reject' | 'accept' | 'forbidden';
let mode: Mode = 'reject';
let api: Server;
let apiUrl = '';
let db: TestDatabase;

const keyOf = (id: number): string => (KEYED.includes(id) ? `${id}${HOSTILE}` : String(id));
const keySql = (column: string): string =>
  `CASE WHEN ${column} IN (${KEYED.join(', ')}) THEN ${column}::text || convert_from('\\x${Buffer.from(HOSTILE).toString('hex')}'::bytea, 'UTF8') ELSE ${column}::text END`;
const ORDERS = `SELECT ${keySql('o.id')} AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at, 'paid' AS status, o.total AS order_price FROM shop.orders o`;
const ITEMS = `SELECT k.key AS order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price
  FROM shop.order_lines l CROSS JOIN LATERAL (SELECT ${keySql('l.order_id')} AS key) k WHERE k.key = ANY(:order_ids)`;

function answer(req: IncomingMessage, res: ServerResponse): void {
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if ((req.url ?? '').includes('/orders/by_user')) {
    // Every order 1..30 held, each with a status that would take over the terminal.
    const orders = Array.from({ length: 30 }, (_, i) => ({ id: keyOf(i + 1), order_status: `paid${HOSTILE}`, value: '1.00', items: [] }));
    json(200, { status: 'success', data: { orders } });
    return;
  }
  if (mode === 'accept') json(200, { status: 'success' });
  else if (mode === 'forbidden') json(403, { status: 'error', message: `Shop is inactive ${HOSTILE}` });
  else json(400, { status: 'error', message: `Refused ${HOSTILE}` });
}

beforeAll(async () => {
  api = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  db = await createDatabase('pcs_escapes');
  await createShop(db);
});
afterAll(async () => {
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
  await db.drop();
});

describe('terminal control sequences from the shop and from the API', () => {
  it('never reach stdout or stderr raw: sync lines, the CLI error line, report --verify, status', async () => {
    const config = writeConfig({
      personaclick: { url: apiUrl, shopId: SHOP_ID, shopSecret: 'escape-test-secret', timeoutMs: 2000 },
      delivery: { concurrency: 2, retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200 },
      source: { url: db.url },
      jobs: { orders: { query: ORDERS, itemsQuery: ITEMS, pageSize: 50, settleSeconds: 0, startFrom: '2000-01-01' } },
    });
    const outputs: { what: string; result: CliResult }[] = [];
    const cli = async (what: string, args: string[]): Promise<CliResult> => {
      const result = await runCli([...args, '--config', config], { env: { LOG_LEVEL: 'debug' }, timeoutMs: 60_000 });
      outputs.push({ what, result });
      return result;
    };
    expect((await cli('migrate', ['migrate'])).code).toBe(0);
    // 1-10 refused with a hostile message (order 3's id is hostile too), 11-20 delivered (20 the last: the watermark's key).
    await insertOrders(db, 1, 10, `now() - interval '2 hours' + (i * interval '1 millisecond')`);
    mode = 'reject';
    expect((await cli('sync, refused', ['sync', 'orders'])).code).toBe(0);
    await insertOrders(db, 11, 10);
    mode = 'accept';
    expect((await cli('sync, delivered', ['sync', 'orders'])).code).toBe(0);

    // The read-back: every order held "different", its status from the answer.
    const verify = await cli('report --verify', ['report', '--verify', '10']);
    expect(verify.code, verify.stderr).toBe(5);
    expect(verify.stdout).toMatch(/different \(by did\): status paid \(PersonaClick: paid.*pwned-title.*click-me.*RED/);
    await cli('report --verify --json', ['report', '--verify', '10', '--json']);

    // A 403 whose message would clear the screen: the CLI's one error line.
    await insertOrders(db, 21, 2);
    mode = 'forbidden';
    const stopped = await cli('sync, 403', ['sync', 'orders']);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toMatch(/^personaclick-sync: .*Shop is inactive .*pwned-title/m);

    mode = 'accept';
    const status = await cli('status', ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/after 20.*pwned-title/); // the watermark's key, from the shop
    expect(status.stdout).toMatch(/\[unconfirmed\] report --verify: status paid \(PersonaClick: paid.*pwned-title/); // a failure's reason, from the API
    await cli('status --json', ['status', '--json']);

    const raw = outputs.flatMap(({ what, result }) =>
      (['stdout', 'stderr'] as const).flatMap((stream) =>
        result[stream]
          .split('\n')
          .filter(hasRaw)
          .map((line) => `${what} (${stream}): ${JSON.stringify(line.slice(0, 200))}`),
      ),
    );
    const longest = Math.max(...outputs.flatMap(({ result }) => [...result.stdout.split('\n'), ...result.stderr.split('\n')].map((l) => l.length)));
    report('terminal escapes', {
      cliRuns: outputs.length,
      bytesSearched: outputs.reduce((n, o) => n + o.result.stdout.length + o.result.stderr.length, 0),
      linesWithRawControls: raw.length,
      longestLine: longest,
    });
    expect(raw.slice(0, 10)).toEqual([]);
    expect(longest).toBeLessThan(20_000);
  }, 180_000);
});
