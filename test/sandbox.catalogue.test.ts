/**
 * The sandbox's catalogue imports, judged by its own rules (written from REES46's import pages), over real HTTP:
 * the methods each path takes, 400 for wrong credentials, 204 with no body once queued, bad products kept as the
 * errors the real API would mail (not stored), DELETE marking products out of stock, PATCH marking the unlisted ones,
 * POST replacing the category tree, and the account's pace shared with the order-sync API.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';

const SHOP = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5';
const SECRET = 'catalogue-secret';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ shopIds: [SHOP], shopSecret: SECRET, syncOrdersPerMinute: 5 });
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => {
  sandbox.reset();
});

async function send(method: string, path: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ shop_id: SHOP, shop_secret: SECRET, ...body }),
  });
  return { status: res.status, text: await res.text() };
}

const product = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Product ${id}`,
  price: 10,
  currency: 'USD',
  url: `https://shop.example/p/${id}`,
  picture: `https://shop.example/i/${id}.jpg`,
  categories: ['1'],
  available: true,
  ...extra,
});

describe('sandbox catalogue imports', () => {
  it('answers 204 with no body once queued, 400 for a wrong secret, 405 for a method the path does not take', async () => {
    expect(await send('PUT', '/import/products', { items: [product('a')] })).toEqual({ status: 204, text: '' });
    expect((await send('PUT', '/import/products', { items: [product('b')], shop_secret: 'wrong' })).status).toBe(400);
    expect((await send('POST', '/import/products', { items: [product('c')] })).status).toBe(405);
    expect((await send('PATCH', '/import/categories', { categories: [] })).status).toBe(405);
    expect([...sandbox.catalogue.products.keys()]).toEqual(['a']);
  });

  it('keeps bad products as the errors it would mail, stores the good ones', async () => {
    const long = `https://shop.example/${'x'.repeat(500)}`;
    const answer = await send('PUT', '/import/products', {
      items: [
        product('ok'),
        product('zero', { price: 0 }),
        product('pic', { picture: long }),
        product('nocur', { currency: undefined }),
        product('x'.repeat(256)),
      ],
    });
    expect(answer.status).toBe(204);
    expect([...sandbox.catalogue.products.keys()]).toEqual(['ok']);
    expect(sandbox.catalogue.errors).toEqual([
      'items[1].price: required, > 0',
      'items[2].picture: required, a URL of at most 500 characters',
      'items[3].currency: required (the currency of the price)',
      'items[4].id: required, a non-empty string of at most 255 characters or a whole number',
    ]);
  });

  it('DELETE marks products out of stock; PATCH marks every unlisted product out of stock; POST replaces the tree', async () => {
    await send('PUT', '/import/products', { items: [product('a'), product('b'), product('c')] });
    await send('DELETE', '/import/products', { items: ['a'] });
    expect(sandbox.catalogue.products.get('a')).toMatchObject({ available: false, removed: true });
    await send('PATCH', '/import/products', { items: ['b'] });
    expect(sandbox.catalogue.inStock()).toEqual(['b']);
    await send('PUT', '/import/categories', {
      categories: [
        { id: '1', name: 'A', parent: null },
        { id: '2', name: 'B', parent: '1' },
      ],
    });
    await send('POST', '/import/categories', { categories: [{ id: '3', name: 'C', parent: null }] });
    expect([...sandbox.catalogue.categories.keys()]).toEqual(['3']);
  });

  it('shares the account pace with the order-sync API: 429 with Retry-After past it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await send('PUT', '/import/categories', { categories: [{ id: String(i), name: 'C' }] })).status);
    expect(statuses).toEqual([204, 204, 204, 204, 204, 429]);
  });
});
