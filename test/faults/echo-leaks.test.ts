/**
 * Issue 20 §1: an API (or a gateway, a WAF) that echoes every request into its errors. The shop secret travels in the
 * order-sync requests (body) and the read-back (query string); the customers' e-mails and phones in every purchase
 * and order. Each road is driven into echoed errors of every kind (400 per row, 403 stopping the run, 503 halting it)
 * and every way out is searched for the secret in every spelling and for every customer's e-mail and phone: the CLI's
 * stdout and stderr (log lines at debug), the books (runs, failures, notify_state, the run notes), the webhook's
 * messages, `status` and `status --json`, `report --verify`, and `schedule`'s /healthz and /metrics. 0 found.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spellingsOf } from '../../src/config/secrets.js';
import { runCli, startCli, writeConfig, type CliResult } from '../support/cli.js';
import { createDatabase, type TestDatabase } from '../support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';
import { SHOP_ID } from '../support/harness.js';
import { report } from './support/figures.js';

/** Characters every encoding changes: URL (+ / & " %), form (+ and space), JSON (" and \). */
const SHOP_SECRET = 'Ech0 s3cret+/&"\\%9q';
const WEBHOOK_PATH = '/services/T0ECHO/B0ECHO/echoTokenXYZ123';

type Mode = 'accept' | 'reject' | 'forbidden' | 'down';

interface Echo {
  url: string;
  mode: Mode;
  requests: number;
  close(): Promise<void>;
}

/** Every e-mail, phone and secret field in a JSON body, so that the echo puts them first (the client keeps ~300 characters). */
function picked(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) picked(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (['shop_secret', 'email', 'phone'].includes(k) && typeof v === 'string') out.push(`${k}=${v}`);
      else picked(v, out);
    }
  }
  return out;
}

async function startEcho(): Promise<Echo> {
  const echo: Echo = { url: '', mode: 'accept', requests: 0, close: () => Promise.resolve() };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      echo.requests += 1;
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        json = undefined;
      }
      const isRead = (req.url ?? '').includes('/orders/by_user');
      const mode: Mode = isRead && echo.mode === 'accept' ? 'reject' : echo.mode;
      if (mode === 'accept') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
        return;
      }
      // What gateways do: the request, as they saw it, in the error. The secret-bearing parts first, then all of it.
      const text = `<!channel> <https://evil.example|PersonaClick> blocked: ${picked(json).slice(0, 3).join(' ')} ${req.method ?? ''} ${req.url ?? ''} ${raw}`;
      const status = mode === 'reject' ? 400 : mode === 'forbidden' ? 403 : 503;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: text }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  echo.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  echo.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return echo;
}

/** A webhook receiver keeping every message. */
async function startReceiver(): Promise<{ url: string; messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      messages.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: TestDatabase;
let echo: Echo;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  db = await createDatabase('pcs_echo');
  await createShop(db);
  echo = await startEcho();
  receiver = await startReceiver();
});
afterAll(async () => {
  await echo.close();
  await receiver.close();
  await db.drop();
});

const email = (id: number) => `buyer.${id}@shop-customers.example`;
const phone = (id: number) => `+7912${String(id).padStart(7, '0')}`;
/** Every order names its customer by e-mail and phone; the live road for recent orders, the order-sync API for old ones. */
const QUERY = `SELECT q.*, 'buyer.' || q.order_id || '@shop-customers.example' AS email, '+7912' || lpad(q.order_id::text, 7, '0') AS phone FROM (${ORDERS_QUERY}) q`;

function config(extra: Record<string, unknown> = {}, metrics?: Record<string, unknown>): string {
  return writeConfig({
    ...(metrics ? { metrics } : {}),
    personaclick: { url: echo.url, shopId: SHOP_ID, shopSecret: SHOP_SECRET, timeoutMs: 2000 },
    delivery: { concurrency: 2, retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, orderSyncPerMinute: 60_000 },
    source: { url: db.url },
    notify: { webhook: `${receiver.url}${WEBHOOK_PATH}` },
    jobs: { orders: { query: QUERY, itemsQuery: ITEMS_QUERY, pageSize: 50, settleSeconds: 0, startFrom: '2000-01-01', ...extra } },
  });
}

const seen: { what: string; text: string }[] = [];
const runs: { what: string; code: number | null }[] = [];
const ENV = { LOG_LEVEL: 'debug' };

async function cli(what: string, args: string[], path = config()): Promise<CliResult> {
  const result = await runCli([...args, '--config', path], { env: ENV, timeoutMs: 60_000 });
  seen.push({ what: `${what} (stdout)`, text: result.stdout }, { what: `${what} (stderr)`, text: result.stderr });
  runs.push({ what, code: result.code });
  return result;
}

describe('an API that echoes every request into its errors', () => {
  it('leaves no secret, no e-mail and no phone on any way out, on every road', async () => {
    expect((await cli('migrate', ['migrate'])).code).toBe(0);
    // 1-20 recent (the live road, /push), 21-40 placed in 2023 (the order-sync API, whose requests carry the secret).
    await insertOrders(db, 1, 40);
    await db.query(`UPDATE shop.orders SET created_at = '2023-06-01'::timestamptz + id * interval '1 minute' WHERE id > 20`);

    echo.mode = 'reject';
    const rejected = await cli('400 echo on both roads', ['sync', 'orders']);
    expect(rejected.code).toBe(0);

    await insertOrders(db, 41, 10);
    echo.mode = 'forbidden';
    expect((await cli('403 echo', ['sync', 'orders'])).code).toBe(3);
    echo.mode = 'down';
    expect((await cli('503 echo', ['sync', 'orders'])).code).toBe(4);
    echo.mode = 'accept';
    expect((await cli('recovered', ['sync', 'orders'])).code).toBe(0);

    // Read-back: every GET /orders/by_user (the secret and the customer in its query string) answered by an echo.
    await cli('report --verify (400 echo)', ['report', '--verify', '20']);
    await cli('report --verify --json (400 echo)', ['report', '--verify', '20', '--json']);
    echo.mode = 'forbidden';
    expect((await cli('report --verify (403 echo)', ['report', '--verify', '5'])).code).toBe(3);

    // schedule: its /healthz and /metrics after a run the echo stopped.
    await insertOrders(db, 51, 5);
    const running = startCli(['schedule', '--config', config({ schedule: '*/1 * * * * *' }, { port: 0 })], { env: ENV });
    try {
      const line = await running.waitFor(/"msg":"serving \/metrics and \/healthz"/);
      const url = (JSON.parse(line) as { url: string }).url;
      await running.waitFor(/"msg":"scheduled run (finished|failed)"/, 30_000);
      for (const path of ['/healthz', '/metrics']) {
        const res = await fetch(`${url}${path}`);
        seen.push({ what: `schedule ${path}`, text: await res.text() });
      }
    } finally {
      running.child.kill('SIGTERM');
    }
    const scheduled = await running.done;
    seen.push({ what: 'schedule (stdout)', text: scheduled.stdout }, { what: 'schedule (stderr)', text: scheduled.stderr });

    echo.mode = 'accept';
    const status = await cli('status', ['status']);
    expect(status.stdout).toContain('blocked'); // the echoes are shown …
    await cli('status --json', ['status', '--json']);

    // The books: every text column of every table that holds what happened (the ledger keeps keys and hashes).
    for (const table of ['runs', 'failures', 'notify_state', 'watermarks']) {
      const rows = await db.query<{ text: string }>(`SELECT row_to_json(t)::text AS text FROM personaclick_sync.${table} t`);
      for (const row of rows) seen.push({ what: `books: ${table}`, text: row.text });
    }
    expect(receiver.messages.length).toBeGreaterThanOrEqual(2); // failing, halted, recovered, …
    for (const m of receiver.messages) seen.push({ what: 'webhook message', text: m });
    // Slack markup from the API's text is shown, never acted on: no <!channel>, no disguised link (issue 20 §5).
    const markup = receiver.messages.filter((m) => /<!|<https?:/.test((JSON.parse(m) as { text: string }).text));
    expect(receiver.messages.some((m) => m.includes('&lt;!channel&gt;'))).toBe(true);
    expect(markup).toEqual([]);

    // What must never show: the shop secret and the webhook's token in every spelling, every customer's e-mail and
    // phone (as written, URL- and form-encoded, JSON-escaped).
    const secret = spellingsOf([SHOP_SECRET, WEBHOOK_PATH, `${receiver.url}${WEBHOOK_PATH}`]);
    const personal = spellingsOf(Array.from({ length: 55 }, (_, i) => [email(i + 1), phone(i + 1), phone(i + 1).slice(1)]).flat());
    const found = seen.flatMap(({ what, text }) => [...secret, ...personal].filter((s) => text.includes(s)).map((s) => ({ what, s })));
    const echoedBack = seen.filter(({ text }) => text.includes('blocked:')).length;
    report('echo leaks', {
      cliRuns: runs,
      requestsEchoed: echo.requests,
      waysOutSearched: new Set(seen.map((s) => s.what.replace(/ \(std(out|err)\)$/, ''))).size,
      textsSearched: seen.length,
      bytesSearched: seen.reduce((n, s) => n + s.text.length, 0),
      spellingsSearched: secret.length + personal.length,
      textsCarryingEchoes: echoedBack,
      found: found.length,
      foundByWay: Object.fromEntries([...new Set(found.map((f) => f.what))].map((w) => [w, found.filter((f) => f.what === w).length])),
    });
    expect(echoedBack, 'the echoes reached the ways out (else the search proves nothing)').toBeGreaterThan(5);
    expect(found.slice(0, 10)).toEqual([]);
  }, 240_000);

  it('leaves no secret on any way out on the catalogue road (the imports carry the shop secret in every body)', async () => {
    await db.query(`CREATE SCHEMA IF NOT EXISTS cat;
      CREATE TABLE cat.categories (id text PRIMARY KEY, name text NOT NULL, parent_id text);
      CREATE TABLE cat.products (id text PRIMARY KEY, name text NOT NULL, price numeric(12,2), category_id text, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 minute');
      INSERT INTO cat.categories VALUES ('root', 'Shop', NULL), ('bikes', 'Bikes', 'root');
      INSERT INTO cat.products SELECT 'P' || i, 'Product ' || i, 10 + i, 'bikes' FROM generate_series(1, 30) i;`);
    const path = writeConfig({
      personaclick: { url: echo.url, shopId: SHOP_ID, shopSecret: SHOP_SECRET, timeoutMs: 2000 },
      delivery: { concurrency: 2, retries: 1, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, orderSyncPerMinute: 60_000 },
      source: { url: db.url },
      notify: { webhook: `${receiver.url}${WEBHOOK_PATH}` },
      jobs: {
        categories: { query: `SELECT id, name, parent_id AS parent FROM cat.categories` },
        products: {
          query: `SELECT p.id, p.name, p.price, 'https://shop.example/p/' || p.id AS url, 'https://shop.example/i/' || p.id || '.jpg' AS picture,
                         true AS available, ARRAY[p.category_id] AS categories, p.updated_at FROM cat.products p`,
          currency: 'USD',
          settleSeconds: 0,
          batchSize: 10,
        },
      },
    });
    const out: { what: string; text: string }[] = [];
    const codes: Record<string, number | null> = {};
    const run = async (what: string, args: string[]): Promise<CliResult> => {
      const result = await runCli([...args, '--config', path], { env: ENV, timeoutMs: 60_000 });
      out.push({ what: `${what} (stdout)`, text: result.stdout }, { what: `${what} (stderr)`, text: result.stderr });
      codes[what] = result.code;
      return result;
    };
    expect((await run('migrate', ['migrate'])).code).toBe(0); // safe to repeat: this test may run alone
    const before = echo.requests;
    const messagesBefore = receiver.messages.length;
    // The imports answer 400 for a wrong shop_id/shop_secret (fatal), 403 refuses the shop, 503 halts after retries.
    echo.mode = 'reject';
    const refused = await run('400 echo', ['reconcile', 'products']);
    expect(refused.code, refused.stderr).toBe(3);
    echo.mode = 'forbidden';
    expect((await run('403 echo', ['reconcile', 'products'])).code).toBe(3);
    echo.mode = 'down';
    expect((await run('503 echo', ['reconcile', 'products'])).code).toBe(4);
    echo.mode = 'accept';
    expect((await run('recovered', ['reconcile', 'products'])).code).toBe(0);
    await run('status', ['status']);
    await run('status --json', ['status', '--json']);
    for (const table of ['runs', 'failures', 'notify_state', 'watermarks']) {
      const rows = await db.query<{ text: string }>(`SELECT row_to_json(t)::text AS text FROM personaclick_sync.${table} t`);
      for (const row of rows) out.push({ what: `books: ${table}`, text: row.text });
    }
    for (const m of receiver.messages.slice(messagesBefore)) out.push({ what: 'webhook message', text: m });

    const secret = spellingsOf([SHOP_SECRET, WEBHOOK_PATH, `${receiver.url}${WEBHOOK_PATH}`]);
    const found = out.flatMap(({ what, text }) => secret.filter((s) => text.includes(s)).map((s) => ({ what, s })));
    const echoedBack = out.filter(({ text }) => text.includes('blocked:')).length;
    report('echo leaks, catalogue', {
      cliRuns: codes,
      requestsEchoed: echo.requests - before,
      waysOutSearched: new Set(out.map((s) => s.what.replace(/ \(std(out|err)\)$/, ''))).size,
      textsSearched: out.length,
      spellingsSearched: secret.length,
      textsCarryingEchoes: echoedBack,
      found: found.length,
    });
    expect(echoedBack, 'the echoes reached the ways out (else the search proves nothing)').toBeGreaterThan(3);
    expect(found.slice(0, 10)).toEqual([]);
  }, 180_000);
});
