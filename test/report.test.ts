/** `report` over real books: made by real runs, checked against SQL that joins the shop's tables with the state's. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import type { ReportData } from '../src/report/model.js';
import { after, DayTally, fateOf } from '../src/report/model.js';
import { niceScale } from '../src/report/html.js';
import { reportRange } from '../src/cli/report.js';
import type { VerifyResult } from '../src/report/verify.js';
import { EvenSample } from '../src/report/verify.js';
import { ordersOf } from '../src/report/read-back.js';
import { writeConfig } from './support/cli.js';
import { runMain } from './support/main.js';
import { createMigratedDatabase, type TestDatabase } from './support/pg.js';
import { CARTS_QUERY, emptyDay, expectedDays, expectedMirror, ORDERS_QUERY, reportShop, WISHLISTS_QUERY } from './support/report.js';

let db: TestDatabase;
let sandbox: Sandbox;
let config: string;

beforeAll(async () => {
  sandbox = await startSandbox({ recordBodies: false });
  db = await createMigratedDatabase('pcs_report');
  config = await reportShop(db, sandbox);
});
afterAll(async () => {
  await sandbox.close();
  await db.drop();
});

describe('report', () => {
  it('--json: each day of the range equals what the tables say, and carts and wishlists equal the shop against the ledger', async () => {
    const result = await runMain(['report', '--from', '2024-02-28', '--to', '2024-03-07', '--json', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const data = JSON.parse(result.stdout) as ReportData;
    expect(data.days.map((d) => d.day)).toEqual([
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
      '2024-03-02',
      '2024-03-03',
      '2024-03-04',
      '2024-03-05',
      '2024-03-06',
    ]);
    const expected = await expectedDays(db, ORDERS_QUERY, '2024-02-28', '2024-03-07');
    for (const day of data.days) {
      const want = expected.find((e) => e.day === day.day) ?? emptyDay(day.day);
      expect(day).toEqual(want);
    }
    // The story the fixture tells, in numbers (so the SQL above is not the only judge).
    const byDay = Object.fromEntries(data.days.map((d) => [d.day, d]));
    expect(byDay['2024-03-01']).toMatchObject({ shop: 10, delivered: 8, push: 8, sync: 0, warned: 1, invalid: 1, rejected: 1, pending: 0, missing: 0 });
    expect(byDay['2024-03-02']).toMatchObject({ shop: 10, delivered: 5, push: 0, sync: 5, missing: 5 });
    expect(byDay['2024-03-04']).toMatchObject({ shop: 10, delivered: 5, pending: 5, missing: 0 });
    expect(byDay['2024-03-05']).toMatchObject({ shop: 10, pending: 10 });
    expect(data.watermark?.key).toBe('35');

    const carts = data.mirrors.find((m) => m.job === 'carts');
    const wantCarts = await expectedMirror(db, 'carts', CARTS_QUERY);
    expect(carts).toEqual({ job: 'carts', ...wantCarts, shopOnly: wantCarts.shop - wantCarts.both, ledgerOnly: wantCarts.ledger - wantCarts.both });
    expect(carts).toMatchObject({ shop: 20, ledger: 20, both: 19, shopOnly: 1, ledgerOnly: 1 });
    const wishlists = data.mirrors.find((m) => m.job === 'wishlists');
    const wantWishlists = await expectedMirror(db, 'wishlists', WISHLISTS_QUERY);
    expect(wishlists).toMatchObject({ shop: wantWishlists.shop, ledger: 0, both: 0, shopOnly: wantWishlists.shop, ledgerOnly: 0 });
  });

  it('in the terminal: one line a day, the day that does not add up marked, then carts and wishlists', async () => {
    const result = await runMain(['report', '--from', '2024-03-01', '--to', '2024-03-06', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('Orders by day of updated_at (UTC), 2024-03-01 to 2024-03-06 (exclusive); incremental watermark 2024-03-04T04:00:00.000000Z');
    expect(lines[1]).toMatch(/^ {2}day +shop +delivered +purchase +order-sync +warned +invalid +rejected +held +pending +missing$/);
    expect(lines.find((l) => l.startsWith('  2024-03-01'))).toMatch(/^ {2}2024-03-01 +10 +8 +8 +0 +1 +1 +1 +0 +0 +0 +✓$/);
    expect(lines.find((l) => l.startsWith('  2024-03-02'))).toMatch(/^ {2}2024-03-02 +10 +5 +0 +5 +0 +0 +0 +0 +0 +5 +✗ 5 missing$/);
    expect(lines.find((l) => l.startsWith('  total'))).toMatch(/^ {2}total +50 +28 +23 +5 +1 +1 +1 +0 +15 +5$/);
    expect(result.stdout).toContain('1 day(s) do not add up: 5 orders are neither delivered nor failed, behind the watermark.');
    expect(lines.find((l) => l.startsWith('  carts'))).toMatch(/^ {2}carts +20 +20 +19 +1 +1 +✗/);
  });

  it('refuses a bad range, and --html on another command, with exit 2', async () => {
    expect((await runMain(['report', '--from', '2024-03-05', '--to', '2024-03-01', '--config', config])).code).toBe(2);
    expect((await runMain(['report', '--from', '2024-02-30', '--config', config])).stderr).toMatch(/--from: must be a date, YYYY-MM-DD \(got "2024-02-30"\)/);
    expect((await runMain(['sync', 'orders', '--html', 'x.html', '--config', config])).code).toBe(2);
  });
});

describe('report --verify: what PersonaClick really holds', () => {
  const SECRET = 'sandbox-shop-secret';
  const range = ['--from', '2024-03-01', '--to', '2024-03-06'];
  const noSecretIn = (text: string): void => {
    for (const spelling of [SECRET, encodeURIComponent(SECRET)]) expect(text).not.toContain(spelling);
  };
  /** The fixture's config with some keys replaced. */
  const variant = (edit: (cfg: { personaclick: Record<string, unknown> }) => void): string => {
    const cfg = parse(readFileSync(config, 'utf8')) as { personaclick: Record<string, unknown> };
    edit(cfg);
    return writeConfig(cfg);
  };

  it('after the runs, every delivered order of both roads is held as the connector would send it: exit 0', async () => {
    const before = sandbox.events.get('/orders/by_user') ?? 0;
    const result = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    const verify = (JSON.parse(result.stdout) as { verify: VerifyResult }).verify;
    // 28 delivered in the range (23 live purchases, 5 through the order-sync API): all read back, one GET per customer.
    expect(verify).toMatchObject({
      requested: 100,
      delivered: 28,
      checked: 28,
      equal: 28,
      missing: 0,
      different: 0,
      changed: 0,
      unchecked: 0,
      requests: 28,
      lines: [],
    });
    expect((sandbox.events.get('/orders/by_user') ?? 0) - before).toBe(28);
    noSecretIn(result.stdout + result.stderr);

    const text = await runMain(['report', ...range, '--verify', '5', '--config', config]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain('Read back from PersonaClick (GET /orders/by_user, 5 request(s)): 5 of 28 delivered orders, evenly spaced (--verify 5)');
    expect(lines).toContain('  checked 5  equal 5  missing 0  different 0  changed since told 0  not checked 0');
    expect(text.stdout).toContain('PersonaClick holds every order read back as the connector would send it now.');
  });

  it('reads the orders under payload (as REES46 announces) or data, preferring payload: the same verdict either way', async () => {
    for (const key of ['payload', 'alternate'] as const) {
      sandbox.setByUserKey(key);
      try {
        const result = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
        expect(result.code, `${key}: ${result.stderr}`).toBe(0);
        expect((JSON.parse(result.stdout) as { verify: VerifyResult }).verify).toMatchObject({
          delivered: 28,
          checked: 28,
          equal: 28,
          missing: 0,
          different: 0,
          unchecked: 0,
        });
      } finally {
        sandbox.setByUserKey('data');
      }
    }
  });

  it('an answer with both keys is read from payload', () => {
    const order = (id: string) => ({ id, order_status: 'paid', value: '10.0', items: [{ amount: '1', item: { id: 'P1' } }] });
    expect(ordersOf({ status: 'success', data: { orders: [order('old')] }, payload: { orders: [order('new')] } })?.map((o) => o.id)).toEqual(['new']);
    expect(ordersOf({ status: 'success', data: { orders: [order('old')] } })?.map((o) => o.id)).toEqual(['old']);
    expect(ordersOf({ status: 'success', payload: { message: 'x' } })).toBeUndefined();
  });

  it('an order PersonaClick lost is missing, one it holds otherwise is different, a change not yet told is set apart: exit 5', async () => {
    // The sandbox loses live purchase 3 and order-sync order 12 has another status and lines; purchase 22 another total.
    expect(sandbox.alterOrder('3', { drop: true })).toBe(true);
    expect(sandbox.alterOrder('12', { status: 'cancelled', items: [{ id: 'P1', quantity: 9 }] })).toBe(true);
    expect(sandbox.alterOrder('22', { total: 1.5 })).toBe(true);
    // Order 14 (order-sync) changed in the shop after it was told: a line's quantity, and a newer updated_at of its day.
    await db.query(`UPDATE shop.order_lines SET qty = qty + 1 WHERE order_id = 14`);
    await db.query(`UPDATE shop.orders SET updated_at = '2024-03-02 04:30:00+00' WHERE id = 14`);
    const result = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
    expect(result.code, result.stderr).toBe(5);
    const verify = (JSON.parse(result.stdout) as { verify: VerifyResult }).verify;
    expect(verify).toMatchObject({ checked: 28, equal: 24, missing: 1, different: 2, changed: 1, unchecked: 0, filed: 3, resolved: 0 });
    const [t22] = await db.query<{ total: string }>(`SELECT total::text FROM shop.orders WHERE id = 22`);
    expect(verify.lines.map((l) => [l.id, l.road, l.outcome, l.by])).toEqual([
      ['3', 'push', 'missing', 'did'],
      ['12', 'sync', 'different', 'email'],
      ['22', 'push', 'different', 'did'],
      ['14', 'sync', 'changed', 'email'],
    ]);
    const reason = (id: string): string => verify.lines.find((l) => l.id === id)?.reason ?? '';
    expect(reason('3')).toBe('PersonaClick holds no order 3 for this did');
    expect(reason('12')).toMatch(/^status paid \(PersonaClick: cancelled\); items P\d+ ×\d \(PersonaClick: none\), /);
    expect(reason('12')).toContain('P1 none (PersonaClick: ×9)');
    expect(reason('22')).toBe(`total ${Number(t22?.total).toFixed(2).replace(/\.00$/, '')} (PersonaClick: 1.50)`);
    // Each line of 14 is one more than told.
    expect(reason('14')).toMatch(/^items (P\d+ ×(\d) \(PersonaClick: ×\d\)(, )?)+ \(changed in the shop since it was last told: the next sync sends it\)$/);
    noSecretIn(result.stdout + result.stderr);

    const text = await runMain(['report', ...range, '--verify', '100', '--config', config]);
    expect(text.code).toBe(5);
    const lines = text.stdout.split('\n');
    expect(lines).toContain('  checked 28  equal 24  missing 1  different 2  changed since told 1  not checked 0');
    expect(lines.find((l) => l.startsWith('  3 '))).toBe('  3   purchase    missing (by did): PersonaClick holds no order 3 for this did');
    expect(lines.find((l) => l.startsWith('  12 '))).toMatch(
      /^ {2}12 {2}order-sync {2}different \(by email\): status paid \(PersonaClick: cancelled\); items /,
    );
    expect(text.stdout).toContain('PersonaClick is missing 1 and holds 2 different');
    noSecretIn(text.stdout + text.stderr);
  });

  it('without a shop secret: exit 2 and one line saying where the secret comes from; a bad N or another command: exit 2', async () => {
    const noSecret = variant((cfg) => delete cfg.personaclick.shopSecret);
    const result = await runMain(['report', '--verify', '10', '--config', noSecret]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'personaclick-sync: report --verify: reading orders back (GET /orders/by_user) needs the shop secret: set personaclick.shopSecret (the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET})',
    ]);
    expect((await runMain(['report', '--verify', '0', '--config', config])).stderr).toBe(
      'personaclick-sync: --verify: must be a whole number of at least 1 (got "0")\n',
    );
    expect((await runMain(['report', '--verify', 'ten', '--config', config])).code).toBe(2);
    expect((await runMain(['sync', 'orders', '--verify', '3', '--config', config])).stderr).toBe('personaclick-sync: --verify: only report takes it\n');
  });

  it('the secret stays out of every line, whatever the answer echoes; a redirect is never followed (exit 3); a refused read leaves its orders unchecked', async () => {
    const secret = 'se/cr et+7&x=ü';
    const seen: string[] = [];
    let mode: 'echo' | 'redirect' = 'echo';
    const hostile: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (mode === 'redirect') {
        res.writeHead(302, { location: `https://elsewhere.example${req.url ?? ''}` }).end();
        return;
      }
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'error', payload: { message: `bad query ${req.url ?? ''} (${decodeURIComponent(req.url ?? '')})` } }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      const cfg = variant((c) => Object.assign(c.personaclick, { url, shopSecret: secret }));
      const echo = await runMain(['report', ...range, '--verify', '3', '--config', cfg]);
      expect(echo.code, echo.stderr).toBe(5); // nothing confirmed
      expect(seen).toHaveLength(3);
      expect(seen[0]).toContain(`shop_secret=${new URLSearchParams({ s: secret }).toString().slice(2)}`); // the server did get it
      expect(echo.stdout).toContain('not checked 3 (3 for a refused read)');
      expect(echo.stdout).toContain('3 order(s) could not be read back: PersonaClick refused the read (see the lines above).');
      expect(echo.stdout).toMatch(/unchecked \(by (did|email)\): the read failed: GET \/orders\/by_user: HTTP 400: bad query .*shop_secret=\*\*\*/);
      for (const spelling of [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)]) {
        expect(echo.stdout + echo.stderr).not.toContain(spelling);
      }
      mode = 'redirect';
      seen.length = 0;
      const moved = await runMain(['report', ...range, '--verify', '3', '--config', cfg]);
      expect(moved.code).toBe(3);
      expect(moved.stderr).toMatch(
        /^personaclick-sync: WrongUrlError: PersonaClick answered GET \/orders\/by_user with HTTP 302 to https:\/\/elsewhere\.example\/orders\/by_user: personaclick\.url is wrong; set it to https:\/\/elsewhere\.example\n$/,
      );
      expect(seen.length).toBeLessThanOrEqual(3); // not followed: elsewhere.example was never asked
      for (const spelling of [secret, encodeURIComponent(secret)]) expect(moved.stdout + moved.stderr).not.toContain(spelling);
    } finally {
      hostile.closeAllConnections();
      await new Promise((resolve) => hostile.close(resolve));
    }
  });

  it('the missing and different are filed as unconfirmed failures; replay --class unconfirmed sends them whole through the order-sync API, then the read-back is clean', async () => {
    // Left by the test above: 3 (a live purchase) missing, 12 (order-sync) and 22 (a live purchase) different; 14 changed since told.
    const unconfirmed = async () =>
      db.query<{ key: string; road: string | null; reason: string; occurrences: number }>(
        `SELECT key, road, reason, occurrences FROM personaclick_sync.failures WHERE job = 'orders' AND class = 'unconfirmed' AND resolved_at IS NULL ORDER BY key::int`,
      );
    expect((await unconfirmed()).map((r) => [r.key, r.road])).toEqual([
      ['3', 'sync'],
      ['12', 'sync'],
      ['22', 'sync'],
    ]);
    expect((await unconfirmed()).find((r) => r.key === '3')?.reason).toBe('report --verify: PersonaClick holds no order 3 for this did');
    expect((await unconfirmed()).find((r) => r.key === '12')?.reason).toMatch(/^report --verify: status paid \(PersonaClick: cancelled\); items /);

    // PersonaClick holds 22 right again: the next read-back resolves its row; 3 and 12 stay filed (one occurrence a read-back: the third).
    const [t22] = await db.query<{ total: string }>(`SELECT total::text FROM shop.orders WHERE id = 22`);
    expect(sandbox.alterOrder('22', { total: Number(t22?.total) })).toBe(true);
    const again = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
    expect(again.code, again.stderr).toBe(5);
    expect((JSON.parse(again.stdout) as { verify: VerifyResult }).verify).toMatchObject({
      equal: 25,
      missing: 1,
      different: 1,
      changed: 1,
      filed: 2,
      resolved: 1,
    });
    expect((await unconfirmed()).map((r) => [r.key, r.occurrences])).toEqual([
      ['3', 3],
      ['12', 3],
    ]);
    const text = await runMain(['report', ...range, '--verify', '100', '--config', config]);
    expect(text.code).toBe(5);
    expect(text.stdout).toContain(
      '2 filed as unconfirmed failure(s); personaclick-sync replay --class unconfirmed sends them again, whole, through the order-sync API',
    );

    // status counts them, by class.
    const status = await runMain(['status', '--json', '--config', config]);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { openFailures: { job: string; class: string; count: number }[] }).openFailures).toContainEqual({
      job: 'orders',
      class: 'unconfirmed',
      count: 2,
    });
    const statusText = await runMain(['status', '--config', config]);
    expect(statusText.stdout.split('\n')).toContain(
      '  orders       unconfirmed 2   (report --verify found them missing or different at PersonaClick; replay --class unconfirmed sends them again)',
    );

    // Without the shop secret: one line, exit 2, nothing sent.
    const noSecret = variant((cfg) => delete cfg.personaclick.shopSecret);
    const syncsBefore = sandbox.events.get('/sync/orders') ?? 0;
    for (const args of [['replay', '--class', 'unconfirmed'], ['replay']]) {
      const refused = await runMain([...args, '--config', noSecret]);
      expect(refused.code).toBe(2);
      // The log's JSON lines aside (this test's role is the opted-in superuser, warned of each run), one line.
      expect(
        refused.stderr
          .trimEnd()
          .split('\n')
          .filter((line) => !line.startsWith('{')),
      ).toEqual([
        'personaclick-sync: replay: unconfirmed orders go out again through the order-sync API, which needs the shop secret: set personaclick.shopSecret (the secret key of the shop in the PersonaClick account; keep it in the environment, e.g. shopSecret: ${PERSONACLICK_SHOP_SECRET}), or replay the other classes alone (--class invalid, rejected, warning or held)',
      ]);
    }
    expect(sandbox.events.get('/sync/orders') ?? 0).toBe(syncsBefore);
    expect((await runMain(['replay', '--class', 'unknown', '--config', config])).stderr).toBe(
      'personaclick-sync: --class: must be invalid, rejected, warning, unconfirmed or held (got "unknown")\n',
    );

    // A refused resend stays unconfirmed, with the new reason; the other is delivered and resolved.
    const purchasesOf3 = sandbox.purchases.get('3');
    sandbox.setFaults({ reject: [{ field: 'id', equals: '12', status: 422, message: 'Order 12 refused' }] });
    const refused = await runMain(['replay', '--class', 'unconfirmed', '--config', config]);
    sandbox.setFaults({});
    expect(refused.code, refused.stderr).toBe(0);
    expect((await unconfirmed()).map((r) => [r.key, r.road])).toEqual([['12', 'sync']]);
    expect((await unconfirmed())[0]?.reason).toContain('Order 12 refused');
    // 3 went out through the order-sync API, with its real date: not a second live purchase.
    expect(sandbox.purchases.get('3')).toBe(purchasesOf3);
    const held3 = sandbox.syncOrders.get('3');
    const [placed3] = await db.query<{ placed: string }>(`SELECT floor(extract(epoch FROM created_at))::bigint::text AS placed FROM shop.orders WHERE id = 3`);
    expect(held3?.date).toBe(Number(placed3?.placed));
    const [road3] = await db.query<{ road: string }>(`SELECT road FROM personaclick_sync.ledger WHERE job = 'orders' AND key = '3'`);
    expect(road3?.road).toBe('sync'); // PersonaClick's copy is now the order-sync one: the read-back looks for it there

    const replayed = await runMain(['replay', '--class', 'unconfirmed', '--config', config]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await unconfirmed()).toEqual([]);
    expect(sandbox.syncOrders.get('12')?.status).toBe('paid');

    // Read back again: all held as the connector would send them (14 is still a change the next sync tells).
    const clean = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
    expect(clean.code, clean.stderr).toBe(0);
    expect((JSON.parse(clean.stdout) as { verify: VerifyResult }).verify).toMatchObject({
      checked: 28,
      equal: 27,
      missing: 0,
      different: 0,
      changed: 1,
      filed: 0,
      resolved: 0,
    });
    // Other failures (order 5 rejected, 2 invalid, 7 warning) were left alone by --class unconfirmed.
    const others = await db.query<{ key: string; class: string }>(
      `SELECT key, class FROM personaclick_sync.failures WHERE job = 'orders' AND resolved_at IS NULL ORDER BY key::int`,
    );
    expect(others.map((r) => `${r.key}:${r.class}`)).toEqual(['2:invalid', '5:rejected', '7:warning']);
  });

  it('a read-back answered with an empty list for every customer is not believed: one line, exit 4, nothing filed', async () => {
    const open = async () => db.query<{ n: string }>(`SELECT count(*)::text AS n FROM personaclick_sync.failures WHERE resolved_at IS NULL`);
    const before = await open();
    sandbox.setFaults({ byUserEmpty: true });
    try {
      const json = await runMain(['report', ...range, '--verify', '100', '--json', '--config', config]);
      expect(json.code, json.stderr).toBe(4);
      const verify = (JSON.parse(json.stdout) as { verify: VerifyResult }).verify;
      expect(verify).toMatchObject({
        requests: 28,
        checked: 0,
        equal: 0,
        missing: 0,
        different: 0,
        unchecked: 28,
        emptyForAll: true,
        filed: 0,
        resolved: 0,
        lines: [],
      });

      const text = await runMain(['report', ...range, '--verify', '100', '--config', config]);
      expect(text.code, text.stderr).toBe(4);
      const lines = text.stdout.split('\n');
      expect(lines).toContain(
        'PersonaClick answered every one of the 28 read(s) with an empty order list: not one order sent to these customers is held. Not believed: check personaclick.shopId (another shop answers empty) and try again later; nothing was filed as unconfirmed (exit 4).',
      );
      expect(lines.filter((l) => /missing \(by /.test(l))).toEqual([]);
      expect(text.stdout).not.toContain('replay --class unconfirmed');
      expect(await open()).toEqual(before);
    } finally {
      sandbox.setFaults({});
    }
  });

  it('the sample is evenly spaced over the stream, in one pass, whatever its length', () => {
    const pick = (n: number, total: number): number[] => {
      const sample = new EvenSample<number>(n);
      for (let i = 0; i < total; i++) sample.offer(i);
      return sample.result();
    };
    expect(pick(5, 3)).toEqual([0, 1, 2]);
    expect(pick(4, 8)).toEqual([0, 2, 4, 6]);
    expect(pick(3, 1000)).toEqual([0, 512, 768]); // kept: every 256th; from each third of them, the middle one
    const gaps = pick(10, 12_345)
      .map((v, i, a) => (i === 0 ? 0 : v - (a[i - 1] ?? 0)))
      .slice(1);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1024); // one stride at most
  });
});

describe('report model', () => {
  it('the default range is the last 30 days, today included; --to is exclusive', () => {
    expect(reportRange(undefined, undefined, new Date('2024-03-10T15:00:00Z'))).toEqual({ from: '2024-02-10', to: '2024-03-11' });
    expect(reportRange('2024-03-01', undefined, new Date('2024-03-10T15:00:00Z'))).toEqual({ from: '2024-03-01', to: '2024-03-11' });
  });

  it('an order is delivered, failed, pending (after the watermark) or missing (behind it, or no sync yet)', () => {
    const mark = { ts: '2024-03-04T04:00:00.000000Z', key: '35' };
    expect(fateOf({ key: '1', ts: '2024-03-01T00:00:00.000000Z' }, true, 'warning', mark)).toEqual({ fate: 'delivered', warned: true });
    expect(fateOf({ key: '2', ts: '2024-03-01T00:00:00.000000Z' }, false, 'invalid', mark).fate).toBe('invalid');
    // Held for the shop secret: accounted for with its reason, not missing.
    expect(fateOf({ key: '4', ts: '2024-03-01T00:00:00.000000Z' }, false, 'held', mark).fate).toBe('held');
    expect(fateOf({ key: '3', ts: '2024-03-01T00:00:00.000000Z' }, false, undefined, mark).fate).toBe('missing');
    expect(fateOf({ key: '36', ts: '2024-03-04T05:00:00.000000Z' }, false, undefined, mark).fate).toBe('pending');
    expect(fateOf({ key: '36', ts: '2024-03-04T05:00:00.000000Z' }, false, undefined, undefined).fate).toBe('missing');
    // Same timestamp: the key decides, as numbers when both are (keyset order on a bigint id).
    expect(after({ key: '100', ts: mark.ts }, mark)).toBe(true);
    expect(after({ key: '4', ts: mark.ts }, mark)).toBe(false);
    const tally = new DayTally('2024-03-01', '2024-03-03');
    tally.add('2024-03-02', 'missing', false);
    expect(tally.result().map((d) => [d.day, d.shop, d.missing])).toEqual([
      ['2024-03-01', 0, 0],
      ['2024-03-02', 1, 1],
    ]);
    expect(niceScale(87)).toEqual({ top: 100, step: 20 });
    expect(niceScale(0)).toEqual({ top: 1, step: 1 });
  });
});
