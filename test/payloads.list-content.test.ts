/**
 * The nightly diff's hash-first path: listContent / listEnvelopeProblem / buildFullList must agree with the
 * builders they short-cut, and listContentHash must keep the digests earlier ledgers hold.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildFullCart,
  buildFullList,
  buildFullWish,
  listContentHash,
  listContent,
  listEnvelopeProblem,
  type BuildContext,
  type ListKind,
  type Row,
} from '../src/payloads/index.js';
import { ctx } from './support/payloads.js';

/** The hash as it was first written: merge in a Map, sort the entries, sha256 of their JSON. */
function referenceHash(items: readonly { id: string; quantity?: number }[]): string {
  const merged = new Map<string, number | null>();
  for (const { id, quantity } of items) {
    const seen = merged.get(id);
    merged.set(id, quantity === undefined ? (seen ?? null) : (seen ?? 0) + quantity);
  }
  const sorted = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const ODD_IDS = ['a"b', 'a\\b', 'tab\there', 'nl\n', '\u0001', 'é', '日本', '😀', '\ud800', 'ok', 'P1', 'P10', 'P2', ''];

describe('listContentHash', () => {
  it('gives the digests of the first implementation, for carts, wishlists, duplicates and odd ids', () => {
    const next = random(7);
    for (let n = 0; n < 2000; n++) {
      const wish = next() < 0.3;
      const count = Math.floor(next() * 7);
      const items = Array.from({ length: count }, () => {
        const id = next() < 0.5 ? (ODD_IDS[Math.floor(next() * ODD_IDS.length)] ?? 'x') : `P${Math.floor(next() * 6)}`;
        return wish ? { id } : { id, quantity: 1 + Math.floor(next() * 5) };
      });
      expect(listContentHash(items)).toBe(referenceHash(items));
    }
  });

  it('is the sha256 of the JSON text [["id",quantity],…] (what the bench seeds its ledger with in SQL)', () => {
    const text = '[["A",2],["B",1]]';
    expect(
      listContentHash([
        { id: 'B', quantity: 1 },
        { id: 'A', quantity: 2 },
      ]),
    ).toBe(createHash('sha256').update(text).digest('hex'));
    expect(listContentHash([{ id: 'w' }])).toBe(createHash('sha256').update('[["w",null]]').digest('hex'));
  });
});

describe('listContent', () => {
  const cases: [ListKind, Row[]][] = [
    [
      'cart',
      [
        { id: 'b', quantity: 1 },
        { id: 'a', quantity: '2' },
        { id: 'b', quantity: 3 },
      ],
    ],
    ['cart', [{ id: 7, quantity: 1 }]],
    ['cart', Array.from({ length: 40 }, (_, i) => ({ id: `P${i % 23}`, quantity: 1 + (i % 3) }))],
    ['wish', [{ id: 'z' }, { id: 'a' }, { id: 'z' }]],
    ['wish', Array.from({ length: 30 }, (_, i) => ({ id: `W${(i * 7) % 19}` }))],
  ];

  it('merges duplicates, ignores line order, and hashes what the full request carries', () => {
    for (const [kind, lines] of cases) {
      const content = listContent(kind, lines);
      if (!content.ok) throw new Error(content.reason);
      const reversed = listContent(kind, [...lines].reverse());
      expect(reversed.ok && reversed.value.hash).toBe(content.value.hash);
      const built = kind === 'cart' ? buildFullCart('D1', lines, {}, ctx) : buildFullWish('D1', lines, {}, ctx);
      if (!built.ok) throw new Error(built.reason);
      expect(content.value.items).toEqual(built.request.body.items);
      expect(content.value.hash).toBe(listContentHash(built.request.body.items as { id: string; quantity?: number }[]));
      const fast = buildFullList(kind, 'D1', content.value, {}, ctx);
      expect(fast.ok && { ...fast.request.body }).toEqual(built.request.body);
    }
  });

  it('adds the quantities of split lines', () => {
    const split = listContent('cart', [
      { id: 'a', quantity: 1 },
      { id: 'a', quantity: 2 },
    ]);
    const whole = listContent('cart', [{ id: 'a', quantity: 3 }]);
    expect(split.ok && split.value.hash).toBe(whole.ok && whole.value.hash);
  });

  it('refuses a line with the same reason as the builders', () => {
    const bad: [ListKind, Row[]][] = [
      [
        'cart',
        [
          { id: 'a', quantity: 1 },
          { id: null, quantity: 1 },
        ],
      ],
      ['cart', [{ id: 'a', quantity: 0 }]],
      ['cart', [{ id: 'a\\b', quantity: 1 }]],
      [
        'cart',
        [
          { id: 'a', quantity: 600 },
          { id: 'a', quantity: 600 },
        ],
      ],
      ['cart', Array.from({ length: 20 }, () => ({ id: 'a', quantity: 100 }))],
      ['wish', [{ id: 'a' }, { id: '  ' }]],
    ];
    for (const [kind, lines] of bad) {
      const content = listContent(kind, lines);
      const built = kind === 'cart' ? buildFullCart('D1', lines, {}, ctx) : buildFullWish('D1', lines, {}, ctx);
      expect(content.ok).toBe(false);
      expect(built.ok).toBe(false);
      expect(!content.ok && content.reason).toBe(!built.ok && built.reason);
    }
  });
});

describe('listEnvelopeProblem', () => {
  it('reports what the builder would, and nothing when the builder succeeds', () => {
    const lines = [{ id: 'a', quantity: 1 }];
    const envelopes: [string, Row, BuildContext][] = [
      ['D1', {}, ctx],
      ['D1', { stream: 'app', segment: 'A', referer: 'https://x', seance: 'S1' }, ctx],
      ['  ', {}, ctx],
      ['x'.repeat(300), {}, ctx],
      ['D1', { stream: 'no spaces' }, ctx],
      ['D1', { segment: 'C' }, ctx],
      ['D1', { seance: 'x'.repeat(300) }, ctx],
      ['D1', { referer: { a: 1 } }, ctx],
      ['D1', {}, { ...ctx, shopId: ' ' }],
      ['D1', {}, { ...ctx, defaultStream: 'bad stream' }],
      ['D1', { stream: 'app' }, { ...ctx, defaultStream: 'bad stream' }],
      ['D1', { stream: 'no spaces' }, { ...ctx, defaultStream: 'bad stream' }],
    ];
    for (const [did, row, context] of envelopes) {
      const built = buildFullCart(did, lines, row, context);
      const problem = listEnvelopeProblem(did, row, context);
      expect(problem?.reason).toBe(built.ok ? undefined : built.reason);
    }
  });
});
