/**
 * The README's first setup, followed to the letter on a shop kept the way Spree/Solidus keep it: its SQL block makes
 * the roles, its YAML block is the config, its commands are run as written (in-process), and the orders reach the
 * sandbox by the road the README promises. A README whose setup no longer works fails here.
 */
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHOP_ID } from './support/harness.js';
import { runMain } from './support/main.js';
import { adminQuery, createDatabase, urlFor, type TestDatabase } from './support/pg.js';
import { useSandbox } from './support/frame.js';
import { createSpreeShop, insertSpreeOrder } from './support/spree-shop.js';

const SECRET = 'readme-secret-7f3a';
const api = useSandbox({ shopSecret: SECRET, syncOrdersPerMinute: 6000 });
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The body of the README's first fenced block of `lang` after `heading`. */
function block(lang: string, heading: string): string {
  const from = README.indexOf(heading);
  expect(from, `README has "${heading}"`).toBeGreaterThan(-1);
  const start = README.indexOf('```' + lang + '\n', from);
  expect(start, `a ${lang} block after "${heading}"`).toBeGreaterThan(-1);
  const body = start + lang.length + 4;
  return README.slice(body, README.indexOf('```', body));
}

/** The `npx personaclick-sync …` lines of a shell block, as argument lists (comments dropped). */
function commands(sh: string): string[][] {
  return sh
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('npx personaclick-sync '))
    .map((line) => line.replace(/\|.*$/, '').trim().split(/\s+/).slice(2));
}

let db: TestDatabase | undefined;
const roles: string[] = [];
afterAll(async () => {
  await db?.drop();
  for (const role of roles) await adminQuery(`DROP ROLE IF EXISTS ${role}`);
});

describe("the README's first setup", () => {
  it('roles, config and commands as written: check, migrate, a dry run, the first sync; a new purchase goes live, a phone order and the backfilled history by the order-sync API', async () => {
    db = await createDatabase('pcs_readme');
    await createSpreeShop(db);
    // History: an order of 200 days ago, last changed then (before 2026-12-01, the README's backfill bound).
    await insertSpreeOrder(db, {
      number: 'R100',
      completedHoursAgo: 24 * 200,
      did: 'dev-r100',
      email: 'r100@example.com',
      userId: 100,
      lines: [{ variant: 3, quantity: 1, price: 9 }],
    });
    await db.query(`UPDATE spree_orders SET updated_at = completed_at WHERE number = 'R100'`);
    const suffix = randomBytes(3).toString('hex');
    const ro = `personaclick_ro_${suffix}`;
    const owner = `personaclick_state_${suffix}`;
    roles.push(ro, owner);
    const sql = block('sql', '**2. A read-only role**')
      .replaceAll('personaclick_ro', ro)
      .replaceAll('personaclick_state', owner)
      .replaceAll('personaclick_sync_' + suffix, 'personaclick_sync') // the schema keeps its name
      .replace(/DATABASE shop\b/g, `DATABASE ${db.name}`)
      .replaceAll("'…'", "'pw'");
    for (const statement of sql
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== ''))
      await db.query(statement);

    const dir = mkdtempSync(join(tmpdir(), 'pcs-readme-'));
    const configFile = join(dir, 'shop.yaml');
    writeFileSync(configFile, block('yaml', '**3. The config.**'));
    const env = {
      PERSONACLICK_URL: api.sandbox.url,
      PERSONACLICK_SHOP_ID: SHOP_ID,
      PERSONACLICK_SHOP_SECRET: SECRET,
      SHOP_DATABASE_URL: urlFor(db.name).replace('://postgres@', `://${ro}@`),
      STATE_DATABASE_URL: urlFor(db.name).replace('://postgres@', `://${owner}@`),
      LOG_LEVEL: 'warn',
    };
    expect(env.SHOP_DATABASE_URL).toContain(ro);
    const run = (args: string[]) =>
      runMain(
        args.map((a) => (a === 'shop.yaml' ? configFile : a)),
        { env },
      );

    // Step 4 as written: check, migrate, a dry run.
    const step4 = commands(block('sh', '**4. Check, then migrate.**'));
    expect(step4.map((c) => c.slice(0, 2).join(' '))).toEqual(['check --config', 'migrate --config', 'sync orders']);
    for (const args of step4) {
      const result = await run(args);
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    }
    // Step 5: the first sync (startFrom: now) sends nothing and sets the watermark.
    const first = await run(['sync', 'orders', '--config', configFile]);
    expect(first.code, first.stderr).toBe(0);
    expect(api.sandbox.stats().accepted).toBe(0);

    // Then the shop takes a web order (with the tracker's did) and a phone order (none).
    await insertSpreeOrder(db, {
      number: 'R500',
      completedHoursAgo: 0,
      did: 'dev-r500',
      email: 'r500@example.com',
      userId: 500,
      lines: [{ variant: 1, quantity: 2, price: 20 }],
    });
    await insertSpreeOrder(db, {
      number: 'R501',
      completedHoursAgo: 0,
      email: 'r501@example.com',
      phone: '+15550501',
      userId: 501,
      createdBy: 1,
      lines: [{ variant: 2, quantity: 1, price: 12 }],
    });
    await new Promise((resolve) => setTimeout(resolve, 5_500)); // past the default settleSeconds (5)
    const second = await run(['sync', 'orders', '--config', configFile]);
    expect(second.code, second.stderr).toBe(0);
    expect([...api.sandbox.purchases.keys()]).toEqual(['R500']);
    expect([...api.sandbox.syncOrders.keys()]).toEqual(['R501']);

    // Step 6 as written: the dry run of the backfill, then the backfill with its yes; history goes with its real date.
    const step6 = commands(block('sh', '**6. The backfill of history**'));
    expect(step6.map((c) => c.slice(0, 2).join(' '))).toEqual(['backfill orders', 'backfill orders']);
    const dry = await run(step6[0] ?? []);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toHaveLength(1); // one order-sync request holding R100
    const backfill = await run(step6[1] ?? []);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect([...api.sandbox.syncOrders.keys()].sort()).toEqual(['R100', 'R501']);
    expect([...api.sandbox.purchases.keys()]).toEqual(['R500']);

    // Step 8 as written: the catalogue's models added to the config's jobs, check, then its command.
    const config = parse(readFileSync(configFile, 'utf8')) as { jobs: Record<string, unknown> };
    const catalogue = parse(`jobs:\n${block('yaml', '**8. The catalogue (optional).**')}`) as { jobs: Record<string, unknown> };
    writeFileSync(configFile, stringify({ ...config, jobs: { ...config.jobs, ...catalogue.jobs } }));
    const checked = await run(['check', '--config', configFile]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    const step8 = commands(block('sh', '**8. The catalogue (optional).**'));
    expect(step8.map((c) => c.slice(0, 2).join(' '))).toEqual(['reconcile products']);
    const products = () =>
      new Map([...api.sandbox.catalogue.products].map(([id, p]) => [id, { price: p.item.price, available: p.available, removed: p.removed }]));
    const reconciled = await run(step8[0] ?? []);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(api.sandbox.catalogue.categories.size).toBe(5);
    expect(products().size).toBe(20);
    expect(products().get('SKU-003')).toEqual({ price: 13, available: true, removed: false });
    expect(products().get('SKU-010')).toEqual({ price: 20, available: false, removed: false }); // none on hand
    expect(api.sandbox.catalogue.errors).toEqual([]);
    // The shop moves on: a product deleted (Spree's soft delete), one sold out, a price changed, a category moved (to
    // where it stays a leaf: a product's category that gained a child would be invalid, PersonaClick naming leaves only).
    await db.query(`UPDATE spree_products SET deleted_at = now() AT TIME ZONE 'UTC' WHERE id = 7;
      UPDATE spree_stock_items SET count_on_hand = 0, updated_at = now() AT TIME ZONE 'UTC' WHERE variant_id = 4;
      UPDATE spree_prices SET amount = 99, updated_at = now() AT TIME ZONE 'UTC' WHERE variant_id = 3;
      UPDATE spree_taxons SET parent_id = 1, updated_at = now() AT TIME ZONE 'UTC' WHERE id = 5`);
    const puts = api.sandbox.catalogue.requests.length;
    const again = await run(step8[0] ?? []);
    expect(again.code, again.stderr).toBe(0);
    expect(products().get('SKU-007')).toMatchObject({ available: false, removed: true });
    expect(products().get('SKU-004')).toEqual({ price: 14, available: false, removed: false });
    expect(products().get('SKU-003')).toEqual({ price: 99, available: true, removed: false });
    expect(api.sandbox.catalogue.categories.get('5')?.parent).toBe('1'); // T-Shirts moved up, out of Clothing
    // Exactly the changes: one PUT of categories, one PUT of the two changed products, one DELETE.
    expect(api.sandbox.catalogue.requests.slice(puts).map((r) => `${r.method} ${r.path} ${r.count}`)).toEqual([
      'PUT /import/categories 1',
      'PUT /import/products 2',
      'DELETE /import/products 1',
    ]);
  });
});
