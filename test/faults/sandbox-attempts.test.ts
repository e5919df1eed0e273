/** The sandbox's attempt record (`recordAttempts`), which the fault suite judges retries and rate limits by. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSandbox, type AttemptRecord, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

const SHOP = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5';
const opened: Sandbox[] = [];
const agent = new Agent({ headersTimeout: 300 });

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await agent.close();
});

async function sandbox(opts: SandboxOptions): Promise<Sandbox> {
  const sb = await startSandbox(opts);
  opened.push(sb);
  return sb;
}

async function post(sb: Sandbox, path: string, body: unknown, headers: Record<string, string> = {}): Promise<number | 'error'> {
  try {
    const res = await request(`${sb.url}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    await res.body.text();
    return res.statusCode;
  } catch {
    return 'error';
  }
}

const purchase = (orderId: string) => ({
  event: 'purchase',
  shop_id: SHOP,
  did: 'dev1',
  seance: 'abcdefghij',
  stream: 'web',
  order_id: orderId,
  items: [{ id: 'P1', amount: 1 }],
});

describe('sandbox attempt record', () => {
  it('is empty unless recordAttempts is set', async () => {
    const sb = await sandbox({});
    await post(sb, '/push', purchase('1'));
    expect(sb.attempts()).toEqual([]);
  });

  it('keeps every attempt in arrival order with its key, answer, Retry-After and headers', async () => {
    const sb = await sandbox({ recordAttempts: true, faults: { failNext: { count: 1, status: 429, retryAfterSeconds: 3 } } });
    const before = Date.now();
    expect(await post(sb, '/push', purchase('A1'), { 'x-trace': 't1' })).toBe(429);
    expect(await post(sb, '/push', purchase('A1'))).toBe(200);
    expect(await post(sb, '/push', { ...purchase('A2'), items: [] })).toBe(400);
    expect(await post(sb, '/push/custom', { event: 'e', shop_id: SHOP, did: 'dev9', seance: 'abcdefghij', stream: 'web' })).toBe(204);
    expect(await post(sb, '/track/clicked', { shop_id: SHOP, code: 'C7', type: 'mail', stream: 'web' })).toBe(200);
    expect(await post(sb, '/nope', {})).toBe(404);
    const attempts = sb.attempts();
    expect(attempts.map((a) => [a.path, a.key, a.outcome, a.retryAfterSeconds])).toEqual([
      ['/push', 'A1', 429, 3],
      ['/push', 'A1', 200, undefined],
      ['/push', 'A2', 400, undefined],
      ['/push/custom', 'dev9', 204, undefined],
      ['/track/clicked', 'C7', 200, undefined],
      ['/nope', undefined, 404, undefined],
    ]);
    expect(attempts[0]?.headers['x-trace']).toBe('t1');
    for (const a of attempts) expect(a.at).toBeGreaterThanOrEqual(before);
    expect(attempts.map((a) => a.at)).toEqual([...attempts.map((a) => a.at)].sort((x, y) => x - y));
  });

  it('records resets and hangs, and is served at /__sandbox/attempts; reset() clears it', async () => {
    const sb = await sandbox({ recordAttempts: true, faults: { resetRate: 1 } });
    expect(await post(sb, '/push', purchase('R1'))).toBe('error');
    sb.setFaults({ hangRate: 1 });
    expect(await post(sb, '/push', purchase('H1'))).toBe('error');
    sb.setFaults({});
    const res = await request(`${sb.url}/__sandbox/attempts`, { method: 'GET', dispatcher: agent });
    const served = (await res.body.json()) as AttemptRecord[];
    expect(served.map((a) => [a.key, a.outcome])).toEqual([
      ['R1', 'reset'],
      ['H1', 'hang'],
    ]);
    expect(sb.attempts()).toEqual(served);
    sb.reset();
    expect(sb.attempts()).toEqual([]);
  });
});
