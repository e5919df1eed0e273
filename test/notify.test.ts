/**
 * Volume alerts and the webhook, as an operator meets them: runs of the real command line against the sandbox,
 * history in the runs table, and a webhook receiver over HTTP that keeps every message.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { assessVolume, median } from '../src/monitor/volume.js';
import { messageFor, stateAfter, type RunOutcome } from '../src/monitor/notify.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { createMigratedDatabase, PG_HOST, PG_PORT, type TestDatabase } from './support/pg.js';
import { createShop, insertOrders, ITEMS_QUERY, ORDERS_QUERY } from './support/shop.js';
import { SHOP_ID } from './support/harness.js';

let db: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let next = 1;

beforeAll(async () => {
  sandbox = await startSandbox({ recordBodies: false });
  receiver = await startReceiver();
});
afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});

function config(notify: Record<string, unknown> = {}): string {
  return writeConfig({
    personaclick: { url: sandbox.url, shopId: SHOP_ID, timeoutMs: 2000 },
    delivery: { concurrency: 4, retries: 1, retryMinMs: 5, retryMaxMs: 10, checkpointMs: 200 },
    source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}` },
    notify: { webhook: `${receiver.url}/hooks/T000/B000/secret-token-123`, ...notify },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

/** `count` new orders (ids go on from the last ones). */
async function newOrders(count: number): Promise<void> {
  await insertOrders(db, next, count);
  next += count;
}

async function sync(path: string): Promise<{ code: number | null; stderr: string }> {
  const r = await runMain(['sync', 'orders', '--config', path]);
  return { code: r.code, stderr: r.stderr };
}

/** Done runs of the orders sync on this weekday at this hour, 1 to `weeks` weeks ago, each reading `read` orders. */
async function history(read: number, weeks = 3): Promise<void> {
  for (let w = 1; w <= weeks; w++) {
    await db.query(
      `INSERT INTO personaclick_sync.runs (id, job, mode, status, started_at, finished_at, read, sent, skipped, invalid, rejected, retries)
       VALUES ($1, 'orders', 'sync', 'done', now() - make_interval(days => $2 * 7), now() - make_interval(days => $2 * 7) + interval '2 seconds', $3, $3, 0, 0, 0, 0)`,
      [`history-${w}`, w, read],
    );
  }
}

describe('notify.webhook', () => {
  beforeEach(async () => {
    db = await createMigratedDatabase('pcs_notify');
    await createShop(db);
    sandbox.reset();
    sandbox.setFaults({});
    receiver.reset();
    next = 1;
  });
  afterEach(async () => {
    await db.drop();
  });

  it('gets exactly one message per change of state across a failing and recovering series of runs', async () => {
    const path = config();
    const expectCode = async (code: number) => {
      const r = await sync(path);
      expect(r.code, r.stderr).toBe(code);
      return r;
    };
    await newOrders(10);
    await expectCode(0); // ok from the start: nothing to say
    expect(receiver.accepted()).toEqual([]);

    sandbox.setFaults({ down: true });
    await newOrders(5);
    await expectCode(4); // halts: one message
    await expectCode(4); // still halted: none
    sandbox.setFaults({});
    await expectCode(0); // recovers: one message
    await expectCode(0);

    sandbox.setFaults({ forbidden: true });
    await newOrders(5);
    await expectCode(3); // fatal: failing
    await expectCode(3);
    sandbox.setFaults({});
    await expectCode(0);

    // Three weeks of history: this weekday and hour usually reads 100 orders.
    await history(100);
    await newOrders(5);
    const low = await expectCode(0); // 5 of a usual 100: volume alert
    expect(low.stderr).toMatch(
      /"level":"warn".*"alerts":\["low_volume"\].*"msg":"volume alert: read 5 rows, under 20% of the usual; the same weekday's runs at this hour usually read 100 \(median of 3\)"/,
    );
    await newOrders(100);
    await expectCode(0); // back to normal

    // Every order rejected: the rejected share jumps from the usual 0%.
    sandbox.setFaults({ reject: [{ field: 'payment_type', equals: 'card', status: 422, message: 'Unknown device' }] });
    await newOrders(40);
    await expectCode(0);
    await newOrders(40);
    await expectCode(0);
    sandbox.setFaults({});
    await newOrders(60);
    await expectCode(0);

    const texts = receiver.accepted();
    const expected = [
      /^personaclick-sync orders sync :large_orange_circle: halted: PersonaClick stayed unavailable after every retry: HTTP 503/,
      /^personaclick-sync orders sync :large_green_circle: recovered \(was halted since \d{4}-\d\d-\d\dT/,
      /^personaclick-sync orders sync :red_circle: is failing: run fatal: PersonaClick refused the shop \(HTTP 403\)/,
      /^personaclick-sync orders sync :large_green_circle: recovered \(was failing since /,
      /^personaclick-sync orders sync :warning: volume alert: read 5 rows, under 20% of the usual; the same weekday's runs at this hour usually read 100 \(median of 3\)\. Last run: read 5, sent 5/,
      /^personaclick-sync orders sync :large_green_circle: recovered \(was volume since .*Last run: read 100, sent 100/,
      /^personaclick-sync orders sync :warning: failure threshold crossed: 100% of the requests were rejected \(40 of 40\); usually 0%/,
      /^personaclick-sync orders sync :large_green_circle: recovered \(was failures since .*Last run: read 60, sent 60/,
    ];
    expect(texts).toHaveLength(expected.length);
    texts.forEach((text, i) => expect(text).toMatch(expected[i] as RegExp));
    // Slack-compatible: a JSON object whose `text` is the message.
    expect(receiver.bodies().every((b) => Object.keys(b).join() === 'text')).toBe(true);

    // The books: the last state told, and the volume notice in `status`.
    const status = JSON.parse((await runMain(['status', '--json', '--config', path])).stdout) as {
      notified: { key: string; state: string }[];
      runs: { read: number; notice: string | null }[];
    };
    expect(status.notified).toEqual([expect.objectContaining({ key: 'orders sync', state: 'ok' })]);
    const noticed = status.runs.filter((r) => r.notice !== null);
    expect(noticed.map((r) => r.notice)).toEqual([
      '100% of the requests were rejected (40 of 40); usually 0%',
      '100% of the requests were rejected (40 of 40); usually 0%',
      "read 5 rows, under 20% of the usual; the same weekday's runs at this hour usually read 100 (median of 3)",
    ]);
    const text = (await runMain(['status', '--config', path])).stdout;
    expect(text).toContain("volume alert: read 5 rows, under 20% of the usual; the same weekday's runs at this hour usually read 100 (median of 3)");
    expect(text).toMatch(/Webhook: the state last told\n {2}orders sync +ok/);
  });

  it('a message the webhook does not take is told on the next run (still once), and the webhook URL is never printed', async () => {
    const path = config();
    await newOrders(5);
    sandbox.setFaults({ down: true });
    receiver.answer(500);
    const first = await sync(path);
    expect(first.code).toBe(4);
    expect(receiver.attempts()).toBe(3); // tried three times, all refused
    expect(receiver.accepted()).toEqual([]);
    expect(first.stderr).toMatch(/"msg":"monitoring: the webhook failed; the run's outcome stands"/);
    expect(first.stderr).not.toContain('secret-token-123');

    receiver.answer(200);
    expect((await sync(path)).code).toBe(4); // still halted, and not yet told: told now
    expect((await sync(path)).code).toBe(4); // told already: nothing
    expect(receiver.accepted()).toHaveLength(1);
    expect(receiver.accepted()[0]).toMatch(/halted/);
  });

  it('links in an API answer reach the chat as text Slack does not link: bare URLs, domains and its markup', async () => {
    // A stand-in API refusing the shop with a message that points elsewhere (a phishing page, a "support" domain).
    const refusal =
      'Shop is inactive: sign in at https://evil.example/login?next=%2F or www.evil-support.com, mail help.evil.io, <https://evil.example|PersonaClick> <!channel>; mirror http://203.0.113.7/login';
    const api = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: refusal })));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const path = writeConfig({
        personaclick: { url: `http://127.0.0.1:${(api.address() as AddressInfo).port}`, shopId: SHOP_ID, timeoutMs: 2000 },
        delivery: { concurrency: 1, retries: 0, checkpointMs: 200 },
        source: { url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${db.name}` },
        notify: { webhook: `${receiver.url}/hooks/T000/B000/secret-token-123` },
        jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01' } },
      });
      await newOrders(3);
      expect((await sync(path)).code).toBe(3);
    } finally {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    }
    const [text, ...more] = receiver.accepted();
    expect(more).toEqual([]);
    // Still readable, and what it said is all there.
    expect(text).toMatch(/^personaclick-sync orders sync :red_circle: is failing: run fatal: PersonaClick refused the shop \(HTTP 403\)/);
    expect(text).toContain('sign in at https[:]//evil[.]example/login?next=%2F or www[.]evil-support[.]com, mail help[.]evil[.]io');
    expect(text).toContain('&lt;https[:]//evil[.]example|PersonaClick&gt; &lt;!channel&gt;; mirror http[:]//203[.]0[.]113[.]7/login');
    // Nothing Slack would link by itself: no scheme, no domain or address with its dots.
    for (const linkable of ['://', 'evil.example', 'www.evil', 'evil-support.com', 'help.evil.io', '203.0.113.7']) expect(text).not.toContain(linkable);
  });

  it('an open-failure count at the threshold is a state of its own, left when replay resolves enough of them', async () => {
    const path = config({ openFailures: 3 });
    await newOrders(10);
    await db.query(`DELETE FROM shop.order_lines WHERE order_id IN (2, 4, 6)`); // three invalid orders
    expect((await sync(path)).code).toBe(0);
    expect(receiver.accepted()).toHaveLength(1);
    expect(receiver.accepted()[0]).toMatch(/:warning: failure threshold crossed: 3 open failures \(threshold 3\); see `personaclick-sync status`/);
    await db.query(`INSERT INTO shop.order_lines VALUES (2, 'P2', 1, 9.99), (4, 'P4', 1, 9.99)`);
    expect((await runMain(['replay', '--config', path])).code).toBe(0);
    await newOrders(1);
    expect((await sync(path)).code).toBe(0);
    expect(receiver.accepted()).toHaveLength(2);
    expect(receiver.accepted()[1]).toMatch(/recovered \(was failures/);
  });
});

describe('volume analysis', () => {
  const t = { lowVolumeRatio: 0.2, rejectedShareJump: 0.1 };
  const runs = (...reads: number[]) => reads.map((read) => ({ read, sent: read, rejected: 0 }));

  it('warns of a run that reads nothing when this hour usually has rows, and of a snapshot that is empty', () => {
    expect(assessVolume({ read: 0, sent: 0, rejected: 0 }, runs(40, 50, 60), t).alerts.map((a) => a.reason)).toEqual(['nothing_read']);
    expect(assessVolume({ read: 0, sent: 0, rejected: 0 }, runs(0, 0, 0), t).alerts).toEqual([]); // a quiet hour
    expect(assessVolume({ read: 0, sent: 0, rejected: 0 }, [], t).alerts).toEqual([]); // no history: an orders sync says nothing
    expect(assessVolume({ read: 0, sent: 0, rejected: 0 }, [], t, { mirror: true }).alerts.map((a) => a.reason)).toEqual(['nothing_read']);
  });

  it('warns of far fewer rows than the median of at least three runs, not of small numbers', () => {
    expect(assessVolume({ read: 19, sent: 19, rejected: 0 }, runs(100, 100, 1000), t).alerts.map((a) => a.reason)).toEqual(['low_volume']);
    expect(assessVolume({ read: 20, sent: 20, rejected: 0 }, runs(100, 100, 1000), t).alerts).toEqual([]);
    expect(assessVolume({ read: 1, sent: 1, rejected: 0 }, runs(100, 100), t).alerts).toEqual([]); // two runs are not a history
    expect(assessVolume({ read: 1, sent: 1, rejected: 0 }, runs(10, 10, 10), t).alerts).toEqual([]); // 10 a run is too few to tell
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it('warns when the rejected share jumps above the usual one, not when it stays where it was', () => {
    const usual = [
      { read: 100, sent: 70, rejected: 30 },
      { read: 100, sent: 75, rejected: 25 },
      { read: 100, sent: 72, rejected: 28 },
    ];
    expect(assessVolume({ read: 100, sent: 70, rejected: 30 }, usual, t).alerts).toEqual([]);
    const jump = assessVolume({ read: 100, sent: 50, rejected: 50 }, usual, t);
    expect(jump.alerts.map((a) => a.message)).toEqual(['50% of the requests were rejected (50 of 100); usually 28%']);
    expect(assessVolume({ read: 8, sent: 4, rejected: 4 }, [], t).alerts).toEqual([]); // under 5 rejected: noise
  });

  it('stateAfter and messageFor: the worst condition wins, and the same state twice says nothing', () => {
    const base: RunOutcome = { status: 'done', read: 10, sent: 10, rejected: 0, invalid: 0, alerts: [], openFailures: 0 };
    expect(stateAfter({ ...base, status: 'interrupted' }, 100)).toBeUndefined();
    expect(stateAfter({ ...base, status: 'failed', error: 'x', alerts: [{ reason: 'low_volume', message: 'm' }] }, 100)?.state).toBe('failing');
    expect(
      stateAfter(
        {
          ...base,
          alerts: [
            { reason: 'rejected_share', message: 'r' },
            { reason: 'low_volume', message: 'm' },
          ],
        },
        100,
      )?.state,
    ).toBe('volume');
    expect(stateAfter({ ...base, openFailures: 100 }, 100)?.state).toBe('failures');
    expect(stateAfter({ ...base, openFailures: 100 }, 0)?.state).toBe('ok');
    const halted = { state: 'halted' as const, detail: 'down' };
    expect(messageFor('orders sync', undefined, halted, base)).toMatch(/halted: down/);
    expect(messageFor('orders sync', { state: 'halted', since: new Date(0) }, halted, base)).toBeUndefined();
    expect(messageFor('orders sync', undefined, { state: 'ok', detail: '' }, base)).toBeUndefined();
  });
});

interface Receiver {
  url: string;
  /** Texts of the messages answered 2xx, in order. */
  accepted(): string[];
  bodies(): Record<string, unknown>[];
  attempts(): number;
  answer(status: number): void;
  reset(): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let status = 200;
  let got: { body: Record<string, unknown>; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      got.push({ body: JSON.parse(text) as Record<string, unknown>, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => got.filter((g) => g.status < 300).map((g) => String(g.body.text)),
    bodies: () => got.map((g) => g.body),
    attempts: () => got.length,
    answer: (s) => (status = s),
    reset: () => {
      got = [];
      status = 200;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
