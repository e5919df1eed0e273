/**
 * Issue 20 §5, the pretty log form (`LOG_PRETTY=1`, or stderr a terminal): terminal control sequences in logged
 * values (shop data, API answers, error messages) reach the terminal as escapes an operator can read, never raw, and
 * a line break in a value never starts a line that looks like a log line of its own. Through the logger and through
 * the command line (in-process: the pretty form is written to the logger's destination, in this thread).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { writeConfig } from './support/cli.js';
import { SHOP_ID } from './support/harness.js';
import { runMain } from './support/main.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { createShop, insertOrders } from './support/shop.js';

/** Clear the screen, an OSC 8 hyperlink to elsewhere ended by BEL, a carriage return, a C1 CSI and OSC, DEL, NUL, a line break posing as a log line. */
const HOSTILE = '\u001b[2J\u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007\rover\u009b2J\u009d0;title\u009c\u007f\u0000\n[12:00:00.000] INFO: all good';
/** The same as a Postgres text value can hold it (no NUL). */
const SHOP_HOSTILE = HOSTILE.replace('\u0000', '');
/** The colour codes pino-pretty itself adds (SGR, `ESC [ n m`): the only escape sequences a pretty line may hold. */
const COLOUR = new RegExp(`${String.fromCharCode(0x1b)}\\[\\d{1,2}m`, 'g');
/** Any control character but the line feed that ends a line. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** What a terminal would act on, line by line: control characters left once pino-pretty's own colours are taken out. */
function rawControls(output: string): string[] {
  return output
    .replace(COLOUR, '')
    .split('\n')
    .filter((line) => CONTROL.test(line))
    .map((line) => JSON.stringify(line.slice(0, 200)));
}

/** Lines that start where a log line starts (not indented) with the log line HOSTILE forges after its line break. */
function forgedLines(output: string): string[] {
  return output
    .replace(COLOUR, '')
    .split('\n')
    .filter((line) => line.startsWith('[12:00:00.000] INFO: all good'));
}

describe('the pretty log form', () => {
  it('shows every control character of a message, a value, a key and an error as its escape', () => {
    const out = new Capture();
    const log = createLogger({ pretty: true, destination: out, level: 'debug' });
    const err = new Error(`refused ${HOSTILE}`);
    log.warn({ key: `42${HOSTILE}`, row: { id: HOSTILE, lines: [HOSTILE] }, [`k${HOSTILE}`]: 1 }, `request rejected ${HOSTILE}`);
    log.error({ err }, 'the run failed');

    expect(out.text).toMatch(/WARN/);
    expect(forgedLines(out.text)).toEqual([]);
    expect(rawControls(out.text)).toEqual([]);
    // What was sent stays readable: the message, the shop's key and the error's message, escaped.
    const shown = String.raw`\u001b[2J\u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007\rover\u009b2J\u009d0;title\u009c\u007f\u0000\n[12:00:00.000] INFO: all good`;
    expect(out.text).toContain(`request rejected ${shown}`);
    expect(out.text).toContain(`"42${shown}"`);
    expect(out.text).toContain(`Error: refused ${shown.split(String.raw`\n`)[0]}`);
    // The stack keeps its lines, each indented under the error.
    expect(out.text).toMatch(/\n {10,}at /);
  });
});

describe('the pretty log form of a real command', () => {
  let db: TestDatabase;
  let api: Server;
  let apiUrl = '';

  beforeAll(async () => {
    api = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: `Refused ${HOSTILE}` })));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    db = await createMigratedDatabase('pcs_pretty');
    await createShop(db);
    await insertOrders(db, 1, 3);
  });
  afterAll(async () => {
    api.closeAllConnections();
    await new Promise((resolve) => api.close(resolve));
    await db.drop();
  });

  it('`sync orders` with LOG_PRETTY=1: order ids from the shop and an API refusal echoing them print no raw control character', async () => {
    // Every order's id carries the sequences (the shop's data), and the API's refusal repeats them.
    const hostile = `convert_from('\\x${Buffer.from(SHOP_HOSTILE).toString('hex')}'::bytea, 'UTF8')`;
    const config = writeConfig({
      personaclick: { url: apiUrl, shopId: SHOP_ID, shopSecret: 'pretty-test-secret', timeoutMs: 2000 },
      delivery: { concurrency: 1, retries: 0, checkpointMs: 200 },
      source: { url: db.url },
      jobs: {
        orders: {
          query: `SELECT o.id::text || ${hostile} AS order_id, o.updated_at, o.device_id AS did, o.created_at AS ordered_at, 'paid' AS status, o.total AS order_price FROM shop.orders o`,
          itemsQuery: `SELECT l.order_id::text || ${hostile} AS order_id, l.product_id AS id, l.qty AS amount, l.unit_price AS price
            FROM shop.order_lines l WHERE l.order_id::text || ${hostile} = ANY(:order_ids)`,
          pageSize: 50,
          settleSeconds: 0,
          startFrom: '2000-01-01',
        },
      },
    });
    const run = await runMain(['sync', 'orders', '--config', config], { env: { LOG_PRETTY: '1', LOG_LEVEL: 'debug' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/request rejected/);
    expect(run.stderr).toContain(String.raw`1\u001b[2J\u001b]8;;http://evil.example\u0007click`); // the shop's key, escaped
    expect(rawControls(run.stderr)).toEqual([]);
    expect(forgedLines(run.stderr)).toEqual([]);
  });
});
