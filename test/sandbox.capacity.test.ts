/**
 * The sandbox's capacity model over real HTTP: K requests served at once in L ms and the rest queued in arrival
 * order; 429 + Retry-After to a request arriving when R have been admitted in the last second; set through the
 * options or the control endpoint like any fault.
 */
import { Agent, request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';

const SHOP = '0d42fd8b713d0752776ca589cc0056';
const purchase = (orderId: number) => ({
  shop_id: SHOP,
  did: '7rjVGhMykT',
  seance: 'R5eQXkrKCf',
  stream: 'web',
  event: 'purchase',
  order_id: String(orderId),
  items: [{ id: '100500', amount: 1, price: 100 }],
});

const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000 });
const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sb) => sb.close()));
});
afterAll(async () => {
  await agent.close();
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  /** ms from the batch's start to the answer. */
  ms: number;
}

/** `n` purchases sent at once; each answer with when it came. */
async function burst(sb: Sandbox, first: number, n: number): Promise<Answer[]> {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await request(`${sb.url}/push`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(purchase(first + i)),
      });
      await res.body.text();
      const retryAfter = res.headers['retry-after'];
      return { status: res.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, ms: performance.now() - started };
    }),
  );
}

describe('sandbox capacity model', () => {
  it('serves K at once in L ms and queues the rest in order: 3K at once come back in three waves', async () => {
    const sb = await startSandbox({ recordBodies: false, faults: { capacity: { slots: 8, serviceMs: 100 } } });
    open.push(sb);
    await burst(sb, 1, 8); // open the connections first
    const answers = await burst(sb, 100, 24);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const waves = answers.map((a) => Math.round(a.ms / 100));
    // 8 in each wave of 100 ms (a busy machine may push an answer a little late, never early).
    expect(answers.filter((a) => a.ms < 95)).toEqual([]);
    expect(waves.filter((w) => w <= 1).length).toBeLessThanOrEqual(8);
    expect(waves.filter((w) => w <= 2).length).toBeLessThanOrEqual(16);
    expect(Math.max(...answers.map((a) => a.ms))).toBeGreaterThanOrEqual(290);
    expect(sb.stats().accepted).toBe(32);
  });

  it('answers 429 with Retry-After to what arrives past R in a sliding second, and admits again as the second slides', async () => {
    const sb = await startSandbox({ recordBodies: false });
    open.push(sb);
    // Set through the control endpoint, as the benchmark's sandbox process is.
    const put = await request(`${sb.url}/__sandbox/faults`, {
      method: 'PUT',
      dispatcher: agent,
      body: JSON.stringify({ capacity: { slots: 64, serviceMs: 5, ratePerSecond: 50, retryAfterSeconds: 2 } }),
    });
    expect(put.statusCode).toBe(200);
    await put.body.text();
    const first = await burst(sb, 1, 60);
    expect(first.filter((a) => a.status === 200)).toHaveLength(50);
    const refused = first.filter((a) => a.status === 429);
    expect(refused).toHaveLength(10);
    expect(refused.every((a) => a.retryAfter === '2')).toBe(true);
    // Refused requests do not count in the window: still full, so every one is refused.
    expect((await burst(sb, 100, 5)).every((a) => a.status === 429)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await burst(sb, 200, 50)).every((a) => a.status === 200)).toBe(true);
    const stats = sb.stats();
    expect(stats.accepted).toBe(100);
    expect(stats.byStatus['429']).toBe(15);
    expect(stats.faults.rate429).toBe(15);
  });

  it('refuses a capacity config that makes no sense, naming the key', async () => {
    const sb = await startSandbox({ recordBodies: false });
    open.push(sb);
    expect(() => sb.setFaults({ capacity: { slots: 0, serviceMs: 20 } })).toThrow(/capacity\.slots/);
    const put = await request(`${sb.url}/__sandbox/faults`, {
      method: 'PUT',
      dispatcher: agent,
      body: JSON.stringify({ capacity: { slots: 4, serviceMs: 20, ratePerSecond: -1 } }),
    });
    expect(put.statusCode).toBe(400);
    expect(await put.body.text()).toContain('capacity.ratePerSecond');
  });
});
