/**
 * The demo's second part: the nightly cart and wishlist mirror. The sample shop gains carts and wishlists; three
 * nights of `reconcile carts` + `reconcile wishlists` run against the sandbox: the first sends everything, the
 * second nothing (unchanged), the third exactly what changed during the day, clearing requests included. After every
 * night the sandbox's mirror is compared with the shop's tables.
 */
import type { Writable } from 'node:stream';
import type { PGlite } from '@electric-sql/pglite';
import { reconcile } from '../../jobs/mirror.js';
import type { Logger } from '../log.js';
import type { Services } from '../run/services.js';
import type { RunSummary } from '../run/summary.js';
import type { AcceptedRequest, Sandbox } from '../sandbox/index.js';
import { buildCarts, changeCarts, differingDevices, shopCarts, shopWishlists, type CartFacts } from './carts.js';
import { compactJson, indent, pad, wrap, type Check, type Print } from './print.js';

export interface MirrorDemoContext {
  services: Services;
  sandbox: Sandbox;
  /** The shop database, written to directly (the connector only reads it). */
  pglite: PGlite;
  out: Writable;
  log: Logger;
  /** Seed of the sample carts (default 42). */
  seed?: number | undefined;
}

export interface Night {
  carts: RunSummary;
  wishlists: RunSummary;
  /** The requests the sandbox accepted this night, carts first, each kind in did order. */
  requests: AcceptedRequest[];
  /** Carts and wishlists in the shop's tables after the night. */
  shopCarts: number;
  shopWishlists: number;
  /** Carts and wishlists the sandbox holds after the night. */
  sandboxCarts: number;
  sandboxWishlists: number;
  /** Devices whose cart / wishlist differs between the sandbox and the shop (empty: equal). */
  cartsDiffer: string[];
  wishlistsDiffer: string[];
}

export interface MirrorOutcome {
  facts: CartFacts;
  first: Night;
  second: Night;
  third: Night;
}

/** Build the carts, run the three nights, and answer what happened (nothing is printed here). */
export async function runMirrorDemo(ctx: MirrorDemoContext): Promise<MirrorOutcome> {
  const facts = await buildCarts(ctx.pglite, { seed: ctx.seed });
  const first = await night(ctx);
  const second = await night(ctx);
  await changeCarts(ctx.pglite, facts.day);
  const third = await night(ctx);
  return { facts, first, second, third };
}

async function night(ctx: MirrorDemoContext): Promise<Night> {
  const { services, sandbox } = ctx;
  const from = sandbox.accepted.length;
  const opts = { dryRun: false, out: ctx.out, log: ctx.log };
  const carts = await reconcile(services, 'carts', false, opts);
  const wishlists = await reconcile(services, 'wishlists', false, opts);
  const requests = sandbox.accepted.slice(from).sort((a, b) => kindOf(a).localeCompare(kindOf(b)) || didOf(a).localeCompare(didOf(b)));
  const [inShopCarts, inShopWishlists] = [await shopCarts(services.source), await shopWishlists(services.source)];
  return {
    carts,
    wishlists,
    requests,
    shopCarts: inShopCarts.size,
    shopWishlists: inShopWishlists.size,
    sandboxCarts: sandbox.carts.size,
    sandboxWishlists: sandbox.wishlists.size,
    cartsDiffer: differingDevices(inShopCarts, sandbox.carts),
    wishlistsDiffer: differingDevices(inShopWishlists, sandbox.wishlists),
  };
}

const kindOf = (r: AcceptedRequest): string => String(r.body.event);
const didOf = (r: AcceptedRequest): string => String(r.body.did);
const isCart = (r: AcceptedRequest): boolean => r.body.event === 'cart' && r.body.full_cart === true;
const isWish = (r: AcceptedRequest): boolean => r.body.event === 'wish' && r.body.full_wish === true;
/** A clearing request: the full flag and no `items` key at all. */
const isClearing = (r: AcceptedRequest): boolean => (isCart(r) || isWish(r)) && !('items' in r.body);

interface SentItem {
  id: string;
  quantity?: number;
}

function itemsOf(r: AcceptedRequest): SentItem[] {
  const items = r.body.items;
  if (!Array.isArray(items)) return [];
  return items.map((item: unknown) => {
    const { id, quantity } = (typeof item === 'object' && item !== null ? item : {}) as { id?: unknown; quantity?: unknown };
    return typeof quantity === 'number' ? { id: String(id), quantity } : { id: String(id) };
  });
}

/** A report line `  <label>  <n>   <note>`, aligned with the orders part's. */
const row = (label: string, n: number, note?: string): string => `  ${label.padEnd(18)}${pad(n)}${note === undefined ? '' : `   ${note}`}`;

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function printMirror(print: Print, o: MirrorOutcome): void {
  const { facts, first, second, third } = o;
  const { day } = facts;
  print(
    wrap(
      `Carts and wishlists. The shop also keeps ${facts.carts} carts (${facts.cartLines} lines) and ${facts.wishlists} wishlists ` +
        `(${facts.wishlistItems} items) of ${facts.devices} devices. The nightly \`reconcile carts|wishlists\` sends a device's whole ` +
        'cart (full_cart) or wishlist (full_wish) when it is new or changed, a clearing request (the flag, no items) ' +
        'when it is gone, and nothing when it is unchanged.',
    ),
  );
  print();

  print(`First night: reconcile carts, then wishlists  (${first.carts.status}, ${first.wishlists.status})`);
  print(row('carts sent', first.carts.sent, 'every cart and wishlist is new to the connector'));
  print(row('wishlists sent', first.wishlists.sent));
  printEquality(print, first, '');
  print();

  const dup = facts.duplicate;
  const dupSent = first.requests.find((r) => isCart(r) && didOf(r) === dup.did);
  const [q1, q2] = dup.quantities;
  if (dupSent) {
    print(`The cart of ${dup.did} has ${dup.productId} on two lines (${q1} and ${q2}); it went out as one item: POST ${dupSent.path}`);
    print(indent(compactJson(dupSent.body)));
  } else {
    print(`The cart of ${dup.did} has ${dup.productId} on two lines (${q1} and ${q2}); it was NOT sent.`);
  }
  print();

  print('Second night: nothing changed in the shop');
  print(row('carts sent', second.carts.sent));
  print(row('carts skipped', second.carts.skipped, 'unchanged: the same content hash as in the ledger'));
  print(row('wishlists sent', second.wishlists.sent));
  print(row('wishlists skipped', second.wishlists.skipped));
  print();

  print(`Third night: during the day ${day.emptied.length} carts were emptied, ${day.deleted.length} deleted, 1 changed, 1 started; 1 wishlist removed`);
  print(row('carts sent', third.carts.sent));
  print(row('carts skipped', third.carts.skipped, 'unchanged'));
  print(row('wishlists sent', third.wishlists.sent));
  print(row('wishlists skipped', third.wishlists.skipped));
  printEquality(print, third, ' again');
  print('  What went out, every one a POST /push:');
  const why = dayReasons(facts);
  const width = Math.max(0, ...third.requests.map((r) => describe(r).length));
  for (const r of third.requests) {
    print(`    ${kindOf(r).padEnd(4)}  ${didOf(r)}  ${describe(r).padEnd(width)}  ${why.get(`${kindOf(r)} ${didOf(r)}`) ?? 'NOT EXPECTED'}`);
  }
  const clearing = third.requests.find(isClearing);
  if (clearing) {
    print('  A clearing request as sent (the flag, and no "items" key at all):');
    print(`    ${JSON.stringify(clearing.body)}`);
  }
  print();
}

function printEquality(print: Print, n: Night, again: string): void {
  const say = (differ: readonly string[], shop: number, what: string): string =>
    differ.length === 0
      ? `equal to the shop's${again}: ${what}`
      : `DIFFERS from the shop's ${shop} for ${plural(differ.length, 'device')}: ${differ.slice(0, 4).join(', ')}${differ.length > 4 ? ', …' : ''}`;
  print(row('sandbox carts', n.sandboxCarts, say(n.cartsDiffer, n.shopCarts, 'the same devices, products and quantities')));
  print(row('sandbox wishlists', n.sandboxWishlists, say(n.wishlistsDiffer, n.shopWishlists, 'the same devices and products')));
}

/** `full_cart: true, items SKU-104 ×2, SKU-131 ×3` or `full_cart: true, no items`. */
function describe(r: AcceptedRequest): string {
  const flag = isCart(r) ? 'full_cart: true' : isWish(r) ? 'full_wish: true' : `event ${kindOf(r)}`;
  if (isClearing(r)) return `${flag}, no items`;
  const items = itemsOf(r).map((i) => (i.quantity === undefined ? i.id : `${i.id} ×${i.quantity}`));
  return `${flag}, items ${items.join(', ')}`;
}

/** Why each device was expected to go out on the third night, keyed by `<event> <did>`. */
function dayReasons(facts: CartFacts): Map<string, string> {
  const { day } = facts;
  const out = new Map<string, string>();
  for (const did of day.emptied) out.set(`cart ${did}`, 'clears: emptied (the cart row stays, its lines are gone)');
  for (const did of day.deleted) out.set(`cart ${did}`, 'clears: the cart was deleted');
  out.set(`cart ${day.changed.did}`, `${day.changed.productId} quantity ${day.changed.from} → ${day.changed.to}`);
  out.set(`cart ${day.added.did}`, 'a new cart');
  out.set(`wish ${day.wishlistRemoved}`, 'clears: the whole wishlist was removed');
  return out;
}

/** The checks of the mirror part, in the order a reader met them. */
export function mirrorChecks(o: MirrorOutcome): Check[] {
  const { facts, first, second, third } = o;
  const { day } = facts;
  const done = (n: Night): boolean => n.carts.status === 'done' && n.wishlists.status === 'done';
  const equal = (n: Night): boolean => n.cartsDiffer.length === 0 && n.wishlistsDiffer.length === 0;
  const failures = (n: Night): number => n.carts.invalid + n.carts.rejected + n.wishlists.invalid + n.wishlists.rejected;
  const keys = (requests: readonly AcceptedRequest[]): string =>
    requests
      .map((r) => `${kindOf(r)} ${didOf(r)}`)
      .sort()
      .join(',');

  const dup = facts.duplicate;
  const dupItems = itemsOf(first.requests.find((r) => isCart(r) && didOf(r) === dup.did) ?? { path: '', body: {}, at: 0 });
  const merged = dupItems.filter((i) => i.id === dup.productId);

  const expectedThird = [...dayReasons(facts).keys()].sort().join(',');
  const expectedClearing = [...day.emptied.map((d) => `cart ${d}`), ...day.deleted.map((d) => `cart ${d}`), `wish ${day.wishlistRemoved}`].sort().join(',');
  const clearing = third.requests.filter(isClearing);

  return [
    {
      ok: done(first) && failures(first) === 0 && first.carts.sent === facts.carts && first.wishlists.sent === facts.wishlists,
      text: `the first night sent every cart (${first.carts.sent} of ${facts.carts}) and every wishlist (${first.wishlists.sent} of ${facts.wishlists})`,
    },
    { ok: equal(first) && first.sandboxCarts === facts.carts, text: "after it the sandbox held exactly the shop's carts and wishlists" },
    {
      ok: merged.length === 1 && merged[0]?.quantity === dup.quantities[0] + dup.quantities[1],
      text: `the product on two lines of one cart went out as one item (quantity ${dup.quantities[0]} + ${dup.quantities[1]})`,
    },
    {
      ok: done(second) && second.requests.length === 0 && second.carts.skipped === facts.carts && second.wishlists.skipped === facts.wishlists,
      text: `the second night sent nothing: all ${facts.carts} carts and ${facts.wishlists} wishlists unchanged`,
    },
    {
      ok: done(third) && failures(third) === 0 && keys(third.requests) === expectedThird,
      text: `the third night sent exactly the ${third.carts.sent} changed carts and the removed wishlist, nothing else`,
    },
    {
      ok: keys(clearing) === expectedClearing,
      text: `the ${day.emptied.length} emptied and ${day.deleted.length} deleted carts and the removed wishlist went out as clearing requests (no items)`,
    },
    { ok: equal(third), text: `after it the sandbox equalled the shop again (${third.shopCarts} carts, ${third.shopWishlists} wishlists)` },
  ];
}
