import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { FaultConfig, Sandbox } from '../src/sandbox/index.js';
import { sandboxClient } from './support/sandbox-client.js';

const SHOP = '0d42fd8b713d0752776ca589cc0056';
const DID = '7rjVGhMykT';
const envelope = { shop_id: SHOP, did: DID, seance: 'R5eQXkrKCf', stream: 'web' };

const purchase = (orderId: string, did = DID) => ({
  ...envelope,
  did,
  event: 'purchase',
  order_id: orderId,
  items: [{ id: '100500', amount: 2, price: 100 }],
});
const fullCart = (did: string, items?: { id: string | number; quantity: number }[]) => ({
  ...envelope,
  did,
  event: 'cart',
  full_cart: true,
  ...(items === undefined ? {} : { items }),
});
const fullWish = (did: string, items?: { id: string | number }[]) => ({
  ...envelope,
  did,
  event: 'wish',
  full_wish: true,
  ...(items === undefined ? {} : { items }),
});
const custom = { ...envelope, event: 'my_event', category: 'my_category', label: 'my_label', value: 100500 };
const track = { shop_id: SHOP, code: '731d5e0c-e3b1-11eb-ba80-0242ac130004', type: 'chain', stream: 'android' };

const { sandbox, call, post } = sandboxClient();

async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('answers as the API does', () => {
  it('accepts a valid purchase with 200 success and records it', async () => {
    const sb = await sandbox();
    const before = Date.now();
    const res = await post(sb, '/push', purchase('N100500'));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'success' });
    expect(sb.accepted).toHaveLength(1);
    expect(sb.accepted[0]).toMatchObject({ path: '/push', body: purchase('N100500') });
    expect(sb.accepted[0]?.at).toBeGreaterThanOrEqual(before);
    expect(sb.purchases.get('N100500')).toBe(1);
    expect(sb.events.get('/push purchase')).toBe(1);
    expect(sb.stats()).toMatchObject({ received: 1, accepted: 1, rejected: 0, invalid: 0, byStatus: { '200': 1 } });
  });

  it('accepts a repeated order_id again and counts it', async () => {
    const sb = await sandbox();
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
    expect(sb.purchases.get('N1')).toBe(2);
  });

  it('answers 400 with a message for bad JSON and for a body validation refuses', async () => {
    const sb = await sandbox();
    const bad = await call(sb, '/push', { raw: '{"event":' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ status: 'error', message: expect.any(String) as unknown });

    const { items: _items, ...noItems } = purchase('N2');
    const refused = await post(sb, '/push', noItems);
    expect(refused.status).toBe(400);
    const body = refused.json() as { status: string; message: string };
    expect(body.status).toBe('error');
    expect(body.message).toMatch(/items/);

    const notObject = await post(sb, '/push', [purchase('N3')]);
    expect(notObject.status).toBe(400);
    expect(sb.accepted).toHaveLength(0);
    expect(sb.purchases.size).toBe(0);
    expect(sb.stats()).toMatchObject({ received: 3, accepted: 0, invalid: 3, byStatus: { '400': 3 } });
  });

  it('answers 401 when shop_id or did is missing (did only where required)', async () => {
    const sb = await sandbox();
    const { shop_id: _shop, ...noShop } = purchase('N1');
    const { did: _did, ...noDid } = purchase('N1');
    expect((await post(sb, '/push', noShop)).status).toBe(401);
    expect((await post(sb, '/push', noDid)).status).toBe(401);
    const { did: _d, ...customNoDid } = custom;
    expect((await post(sb, '/push/custom', customNoDid)).status).toBe(401);
    const { shop_id: _s, ...trackNoShop } = track;
    expect((await post(sb, '/track/clicked', trackNoShop)).status).toBe(401);
    expect((await post(sb, '/track/clicked', track)).status).toBe(200);
    expect(sb.stats().invalid).toBe(4);
  });

  it('answers 204 with no body for a custom event', async () => {
    const sb = await sandbox();
    const res = await post(sb, '/push/custom', custom);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(sb.events.get('/push/custom my_event')).toBe(1);
  });

  it('answers 200 with an empty body on /track/received, clicked and closed', async () => {
    const sb = await sandbox();
    for (const what of ['received', 'clicked', 'closed']) {
      const res = await post(sb, `/track/${what}`, track);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(sb.events.get(`/track/${what}`)).toBe(1);
    }
    expect(sb.accepted.map((a) => a.path)).toEqual(['/track/received', '/track/clicked', '/track/closed']);
  });

  it('answers 404 "Shop not found" for a shop it does not know (the error matrix of events-errors.md)', async () => {
    const sb = await sandbox({ shopIds: [SHOP] });
    const unknown = await post(sb, '/push', { ...purchase('N1'), shop_id: 'ffffffffffffffffffffffffffffff' });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 'error', message: 'Shop not found' });
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
    expect(sb.stats()).toMatchObject({ rejected: 1, accepted: 1 });
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const sb = await sandbox();
    expect((await post(sb, '/nope', purchase('N1'))).status).toBe(404);
    const wrong = await call(sb, '/push', { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(sb.stats().byStatus).toEqual({ '404': 1, '405': 1 });
  });
});

describe('faults', () => {
  it('forbidden: every request answers 403 Shop is inactive', async () => {
    const sb = await sandbox({ faults: { forbidden: true } });
    for (let i = 0; i < 2; i++) {
      const res = await post(sb, '/push', purchase(`N${i}`));
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ status: 'error', message: 'Shop is inactive' });
    }
    expect(sb.stats().faults.forbidden).toBe(2);
    expect(sb.purchases.size).toBe(0);
  });

  it('down: every request answers 503, before validation', async () => {
    const sb = await sandbox({ faults: { down: true } });
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(503);
    expect((await call(sb, '/push', { raw: 'not json' })).status).toBe(503);
    expect(sb.stats().faults.down).toBe(2);
    sb.setFaults({});
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
  });

  it('failNext: the next requests answer the status, then normal service resumes', async () => {
    const sb = await sandbox({ faults: { failNext: { count: 2, status: 500, retryAfterSeconds: 3 } } });
    const first = await post(sb, '/push', purchase('N1'));
    expect(first.status).toBe(500);
    expect(first.headers['retry-after']).toBe('3');
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(500);
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
    expect(sb.purchases.get('N1')).toBe(1);
    expect(sb.stats().faults.failNext).toBe(2);
  });

  it('failNext with a 2xx answers a non-success status body', async () => {
    const sb = await sandbox({ faults: { failNext: { count: 1, status: 200 } } });
    const res = await post(sb, '/push', purchase('N1'));
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'error' });
    expect(sb.purchases.size).toBe(0);
  });

  it('429 carries Retry-After (default 1, or as configured)', async () => {
    const sb = await sandbox({ faults: { rate429: 1 } });
    const res = await post(sb, '/push', purchase('N1'));
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    sb.setFaults({ rate429: 1, retryAfterSeconds: 7 });
    expect((await post(sb, '/push', purchase('N1'))).headers['retry-after']).toBe('7');
    expect(sb.stats().faults.rate429).toBe(2);
  });

  it('5xx: 503 by default, status5xx when set; Retry-After on 503 only when configured', async () => {
    const sb = await sandbox({ faults: { error5xxRate: 1 } });
    const plain = await post(sb, '/push', purchase('N1'));
    expect(plain.status).toBe(503);
    expect(plain.headers['retry-after']).toBeUndefined();
    sb.setFaults({ error5xxRate: 1, retryAfterSeconds: 2 });
    expect((await post(sb, '/push', purchase('N1'))).headers['retry-after']).toBe('2');
    sb.setFaults({ error5xxRate: 1, status5xx: 502 });
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(502);
    expect(sb.stats().faults.error5xx).toBe(3);
    expect(sb.stats().byStatus).toEqual({ '503': 2, '502': 1 });
  });

  it('reset destroys the socket without an answer', async () => {
    const sb = await sandbox({ faults: { resetRate: 1 } });
    await expect(post(sb, '/push', purchase('N1'))).rejects.toThrow();
    expect(sb.stats().faults.reset).toBe(1);
    expect(sb.purchases.size).toBe(0);
  });

  it('hang never answers: a client with a short headersTimeout errors', async () => {
    const sb = await sandbox({ faults: { hangRate: 1 } });
    const impatient = new Agent({ headersTimeout: 200 });
    try {
      const started = Date.now();
      await expect(call(sb, '/push', { body: purchase('N1'), dispatcher: impatient })).rejects.toMatchObject({
        code: 'UND_ERR_HEADERS_TIMEOUT',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(sb.stats().faults.hang).toBe(1);
    } finally {
      await impatient.destroy();
    }
  });

  it.each([
    { held: 'a request hangs', faults: { hangRate: 1 }, arrived: (sb: Sandbox) => sb.stats().faults.hang === 1 },
    { held: 'an answer waits out its latency', faults: { latencyMs: 5_000 }, arrived: (sb: Sandbox) => sb.stats().received === 1 },
  ])('close() returns promptly while $held, and the client sees an error', async ({ faults, arrived }) => {
    const sb = await sandbox({ faults });
    const settled = post(sb, '/push', purchase('N1')).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => arrived(sb));
    const started = Date.now();
    await sb.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await settled).toBe('failed');
  });

  it('latency delays every answer', async () => {
    const sb = await sandbox({ faults: { latencyMs: 150 } });
    let started = Date.now();
    expect((await post(sb, '/push', purchase('N1'))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    started = Date.now();
    expect((await call(sb, '/push', { raw: '{' })).status).toBe(400);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    sb.setFaults({ latencyMs: [60, 90], seed: 3 });
    started = Date.now();
    await post(sb, '/push', purchase('N2'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('reject rules answer with the message in message or in payload.message', async () => {
    const sb = await sandbox({
      faults: {
        reject: [
          { field: 'order_id', equals: 'BAD1', message: 'Order is broken' },
          { field: 'did', equals: 'ghost', status: 404, message: 'Unknown device', messageIn: 'payload' },
          { field: 'order_id', equals: 42, status: 422, message: 'Numeric order refused' },
        ],
      },
    });
    const inMessage = await post(sb, '/push', purchase('BAD1'));
    expect(inMessage.status).toBe(400);
    expect(inMessage.json()).toEqual({ status: 'error', message: 'Order is broken' });

    const inPayload = await post(sb, '/push', purchase('N1', 'ghost'));
    expect(inPayload.status).toBe(404);
    expect(inPayload.json()).toEqual({ status: 'error', payload: { message: 'Unknown device' } });

    const numeric = await post(sb, '/push', purchase('42'));
    expect(numeric.status).toBe(422);

    expect((await post(sb, '/push', purchase('GOOD'))).status).toBe(200);
    expect([...sb.purchases.keys()]).toEqual(['GOOD']);
    expect(sb.stats()).toMatchObject({ rejected: 3, accepted: 1 });
  });

  it('seeded faults are reproducible', async () => {
    const faults: FaultConfig = { seed: 1234, error5xxRate: 0.3, rate429: 0.2 };
    const run = async (sb: Sandbox): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await post(sb, '/push', purchase(`N${i}`))).status);
      return statuses;
    };
    const a = await sandbox({ faults });
    const b = await sandbox({ faults });
    const first = await run(a);
    expect(await run(b)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 503]));
    a.setFaults(faults); // re-seeds
    expect(await run(a)).toEqual(first);
    a.setFaults({ ...faults, seed: 99 });
    expect(await run(a)).not.toEqual(first);
  });

  it('setFaults refuses an invalid config', async () => {
    const sb = await sandbox();
    expect(() => sb.setFaults({ error5xxRate: 2 })).toThrow(/error5xxRate/);
    expect(() => sb.setFaults({ latencyMs: [90, 10] })).toThrow(/latencyMs/);
  });
});

describe('cart and wishlist mirror', () => {
  it('full_cart replaces the cart with absolute quantities and clears it without items', async () => {
    const sb = await sandbox();
    await post(
      sb,
      '/push',
      fullCart('d1', [
        { id: 'A', quantity: 2 },
        { id: 100123, quantity: 1 },
      ]),
    );
    expect(sb.carts.get('d1')).toEqual(
      new Map([
        ['A', 2],
        ['100123', 1],
      ]),
    );
    await post(sb, '/push', fullCart('d1', [{ id: 'B', quantity: 5 }]));
    expect(sb.carts.get('d1')).toEqual(new Map([['B', 5]]));
    await post(sb, '/push', fullCart('d2', [{ id: 'A', quantity: 1 }]));
    const cleared = await post(sb, '/push', fullCart('d1'));
    expect(cleared.status).toBe(200);
    expect(sb.carts.has('d1')).toBe(false);
    expect([...sb.carts.keys()]).toEqual(['d2']);
  });

  it('full_wish replaces the wishlist and clears it without items', async () => {
    const sb = await sandbox();
    await post(sb, '/push', fullWish('d1', [{ id: 'A' }, { id: 'B' }]));
    expect(sb.wishlists.get('d1')).toEqual(new Set(['A', 'B']));
    await post(sb, '/push', fullWish('d1', [{ id: 'C' }]));
    expect(sb.wishlists.get('d1')).toEqual(new Set(['C']));
    await post(sb, '/push', fullWish('d1'));
    expect(sb.wishlists.has('d1')).toBe(false);
  });

  it('recordBodies false keeps counts and the mirror but no bodies', async () => {
    const sb = await sandbox({ recordBodies: false });
    await post(sb, '/push', purchase('N1'));
    await post(sb, '/push', fullCart('d1', [{ id: 'A', quantity: 3 }]));
    expect(sb.accepted).toHaveLength(0);
    expect(sb.purchases.get('N1')).toBe(1);
    expect(sb.carts.get('d1')?.get('A')).toBe(3);
    expect(sb.stats().accepted).toBe(2);
  });
});

describe('recording and control', () => {
  it('keeps arrival times and the busiest second', async () => {
    const sb = await sandbox();
    const before = Date.now();
    await Promise.all(Array.from({ length: 5 }, (_, i) => post(sb, '/push', purchase(`N${i}`))));
    const arrivals = sb.arrivals();
    expect(arrivals).toHaveLength(5);
    for (const t of arrivals) expect(t).toBeGreaterThanOrEqual(before);
    expect(sb.stats().maxPerSecond).toBe(5);
  });

  it('reset() forgets what was recorded but keeps the faults', async () => {
    const sb = await sandbox({ faults: { reject: [{ field: 'order_id', equals: 'X', message: 'no' }] } });
    await post(sb, '/push', purchase('N1'));
    await post(sb, '/push', fullCart('d1', [{ id: 'A', quantity: 1 }]));
    sb.reset();
    expect(sb.accepted).toHaveLength(0);
    expect(sb.purchases.size).toBe(0);
    expect(sb.carts.size).toBe(0);
    expect(sb.arrivals()).toEqual([]);
    expect(sb.stats()).toMatchObject({ received: 0, accepted: 0, byStatus: {}, maxPerSecond: 0 });
    expect((await post(sb, '/push', purchase('X'))).status).toBe(400);
  });

  it('is driven over HTTP: faults, stats, purchases, carts, wishlists, reset', async () => {
    const sb = await sandbox();
    await post(sb, '/push', purchase('N1'));
    await post(sb, '/push', purchase('N1'));
    await post(sb, '/push', purchase('N2'));
    await post(sb, '/push', fullCart('d1', [{ id: 'A', quantity: 2 }]));
    await post(sb, '/push', fullWish('d1', [{ id: 'A' }, { id: 'B' }]));

    const stats = await call(sb, '/__sandbox/stats', { method: 'GET' });
    expect(stats.status).toBe(200);
    expect(stats.json()).toMatchObject({ received: 5, accepted: 5, purchases: 2, duplicates: 1, byStatus: { '200': 5 } });
    expect((await call(sb, '/__sandbox/purchases', { method: 'GET' })).json()).toEqual({ N1: 2, N2: 1 });
    expect((await call(sb, '/__sandbox/carts', { method: 'GET' })).json()).toEqual({ d1: { A: 2 } });
    expect((await call(sb, '/__sandbox/wishlists', { method: 'GET' })).json()).toEqual({ d1: ['A', 'B'] });

    const put = await call(sb, '/__sandbox/faults', { method: 'PUT', body: { down: true } });
    expect(put.status).toBe(200);
    expect((await post(sb, '/push', purchase('N3'))).status).toBe(503);
    expect((await call(sb, '/__sandbox/faults', { method: 'GET' })).json()).toEqual({ down: true });

    const badFaults = await call(sb, '/__sandbox/faults', { method: 'PUT', body: { rate429: 5, bogus: 1 } });
    expect(badFaults.status).toBe(400);
    expect((badFaults.json() as { message: string }).message).toMatch(/rate429/);
    expect((await call(sb, '/__sandbox/faults', { method: 'PUT', raw: '{' })).status).toBe(400);
    expect((await call(sb, '/__sandbox/faults', { method: 'PUT', body: {} })).status).toBe(200);

    expect((await call(sb, '/__sandbox/reset', { method: 'POST' })).status).toBe(200);
    expect((await call(sb, '/__sandbox/purchases', { method: 'GET' })).json()).toEqual({});
    expect((await call(sb, '/__sandbox/stats', { method: 'GET' })).json()).toMatchObject({ received: 0, purchases: 0, duplicates: 0 });
    expect(sb.carts.size).toBe(0);

    expect((await call(sb, '/__sandbox/nope', { method: 'GET' })).status).toBe(404);
    expect((await call(sb, '/__sandbox/reset', { method: 'GET' })).status).toBe(405);
    expect(sb.stats().received).toBe(0);
  });
});
