/** Catalogue rows → import items: the documented rules, one line naming the column and the rule, nulls left out. */
import { describe, expect, it } from 'vitest';
import { buildCategoryItem, buildProductItem, catalogueRequest, type CatalogueContext } from '../src/payloads/index.js';

const ctx: CatalogueContext = {
  shopId: 's',
  shopSecret: 'x',
  zeroPrices: false,
  currency: 'EUR',
  categories: new Map([
    ['leaf', false],
    ['top', true],
  ]),
};
const row = (extra: Record<string, unknown> = {}) => ({
  id: 42,
  name: 'Bike',
  price: '13000.50',
  url: 'https://shop.example/p/42',
  picture: 'https://shop.example/i/42.jpg',
  available: true,
  categories: ['leaf'],
  brand: null,
  updated_at: new Date(),
  ...extra,
});

describe('catalogue payloads', () => {
  it('builds the documented item: ids as text, numbers from numeric text, the default currency, nulls and unknown columns left out', () => {
    const built = buildProductItem(row({ params: [{ name: 'colour', value: ['red'] }], stock_quantity: '3' }), ctx);
    expect(built).toMatchObject({
      ok: true,
      item: {
        id: '42',
        name: 'Bike',
        price: 13000.5,
        currency: 'EUR',
        url: 'https://shop.example/p/42',
        picture: 'https://shop.example/i/42.jpg',
        available: true,
        categories: ['leaf'],
        stock_quantity: 3,
        params: [{ name: 'colour', value: ['red'] }],
      },
    });
    if (built.ok) expect(Object.keys(built.item)).not.toContain('brand');
    if (built.ok) expect(Object.keys(built.item)).not.toContain('updated_at');
  });

  it('the digest changes with availability and price, not with updated_at', () => {
    const hash = (extra: Record<string, unknown>) => {
      const b = buildProductItem(row(extra), ctx);
      return b.ok ? b.hash : b.reason;
    };
    expect(hash({ updated_at: new Date(0) })).toBe(hash({}));
    expect(hash({ available: false })).not.toBe(hash({}));
    expect(hash({ price: 1 })).not.toBe(hash({}));
  });

  it.each([
    [{ name: '' }, /^name: must be a non-empty text/],
    [{ price: -1 }, /^price: must be greater than 0/],
    [{ available: null }, /^available: is required \(true or false\)/],
    [{ available: 'yes' }, /^available: must be true or false/],
    [{ url: 'shop.example/p' }, /^url: must be an http\(s\) URL/],
    [{ categories: [] }, /^categories: must be a non-empty array/],
    [{ categories: ['nope'] }, /^categories\[0\]: must be a category of the categories model/],
    [{ categories: ['top'] }, /^categories\[0\]: must be a leaf category/],
    [{ brand: '' }, /^brand: must be a non-empty text/],
    [{ params: [{ value: ['x'] }] }, /^params\[0\]\.name: is required/],
    [{ rating: 9 }, /^rating: must be a whole number from 1 to 5/],
  ])('refuses %j with the column and the rule', (extra, reason) => {
    const built = buildProductItem(row(extra), ctx);
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.reason).toMatch(reason);
  });

  it('requires a currency when neither the row nor the config gives one', () => {
    const built = buildProductItem(row(), { ...ctx, currency: undefined });
    expect(built).toEqual({ ok: false, reason: 'currency: is required' });
  });

  it('categories: id, name, parent (null at the top), never their own parent', () => {
    expect(buildCategoryItem({ id: 7, name: 'Tea', parent: null, url: null })).toMatchObject({ ok: true, item: { id: '7', name: 'Tea' } });
    expect(buildCategoryItem({ id: 'a', name: 'A', parent: 'a' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^parent: must not be the category itself/) as unknown,
    });
  });

  it('requests carry the secret, the method, and the docs list names (items, categories)', () => {
    expect(catalogueRequest('products', 'DELETE', ['1'], ctx)).toEqual({
      path: '/import/products',
      method: 'DELETE',
      body: { shop_id: 's', shop_secret: 'x', items: ['1'] },
    });
    expect(catalogueRequest('categories', 'PUT', [], ctx).body).toHaveProperty('categories', []);
  });
});
