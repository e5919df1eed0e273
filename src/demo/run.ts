/**
 * `personaclick-sync demo` (`npm run demo`): the whole pipeline on one machine with nothing to install. An
 * in-memory shop database (PGlite) with about 200 orders, the connector's own tables in the same instance, and the
 * PersonaClick sandbox in-process on a random port. It syncs the orders, prints what happened, syncs again to show
 * that nothing goes out twice; then the shop gains carts and wishlists and three nights of reconciliation mirror
 * them (everything, nothing, exactly what changed); older orders go through the order-sync API with their real dates,
 * and a cancellation and a partial return reach PersonaClick. It exits 0 when everything went as expected.
 */
import type { Writable } from 'node:stream';
import { stringify as stringifyYaml } from 'yaml';
import { ORDERS_LEDGER, syncOrders } from '../../jobs/orders.js';
import { formatStatus, statusReport } from '../cli/status.js';
import { parseConfig, type Config } from '../config/index.js';
import { PersonaClickClient } from '../delivery/client.js';
import { maxInFlight } from '../delivery/queue.js';
import { toError } from '../errors.js';
import { createLogger, silentLogger, type Logger } from '../log.js';
import type { Services } from '../run/services.js';
import type { RunSummary } from '../run/summary.js';
import { SANDBOX_SHOP_SECRET, startSandbox, type AcceptedRequest, type Sandbox } from '../sandbox/index.js';
import { fromKnex } from '../state/db.js';
import { listOpenFailures, type OpenFailure } from '../state/failures.js';
import { migrate } from '../state/migrate.js';
import { CARTS_QUERY, WISHLISTS_QUERY } from './carts.js';
import { CATEGORIES_QUERY, catalogueChecks, printCatalogue, PRODUCTS_QUERY, runCatalogueDemo } from './catalogue.js';
import { openEmbeddedDb, type EmbeddedDb } from './embedded.js';
import { historyChecks, printHistory, runHistoryDemo } from './history-demo.js';
import { mirrorChecks, printMirror, runMirrorDemo } from './mirror.js';
import { indent, pad, type Check, type Print } from './print.js';
import { buildShop, DEVICE_NOT_FOUND, ITEMS_QUERY, ORDERS_QUERY, shipOrders, UNKNOWN_DEVICE, type ShopFacts } from './shop.js';

export const DEMO_SHOP_ID = 'demo0shop0a1b2c3d4e5f6a7b8c9d0e1';
const STATE_SCHEMA = 'personaclick_sync';

export interface DemoOptions {
  /** Where the report goes. */
  out: Writable;
  /** Default: silent, or a logger at $LOG_LEVEL on stderr when that is set. */
  log?: Logger;
  /** Seed of the sample shop (default 42). */
  seed?: number;
}

/** Run the demo; answers the exit code: 0 when every check passed, 1 otherwise. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const print = (text = ''): void => {
    opts.out.write(`${text}\n`);
  };
  const log = opts.log ?? demoLogger();
  let sandbox: Sandbox | undefined;
  let db: EmbeddedDb | undefined;
  let client: PersonaClickClient | undefined;
  try {
    sandbox = await startSandbox({
      shopIds: [DEMO_SHOP_ID],
      faults: { reject: [{ field: 'did', equals: UNKNOWN_DEVICE, status: 404, message: DEVICE_NOT_FOUND }] },
    });
    db = await openEmbeddedDb();
    const shop = await buildShop(db.pglite, { seed: opts.seed });
    const config = demoConfig(sandbox.url);
    const state = fromKnex(db.knex, config.state.schema);
    client = new PersonaClickClient({ url: config.personaclick.url, timeoutMs: config.personaclick.timeoutMs, connections: maxInFlight(config.delivery) });
    // One thing at a time, on an embedded database with no server to lock through: no job locks.
    const services: Services = { config, source: db.source, state, client, takeLock: () => Promise.resolve(undefined), close: () => Promise.resolve() };

    print(`personaclick-sync demo: a sample shop in an in-memory Postgres (PGlite), the connector, and the`);
    print(`PersonaClick sandbox at ${sandbox.url}. No database server, nothing leaves this machine.`);
    print();
    printShop(print, shop);
    print('The config it runs with (the models are the contract of docs/models.md; copy it and adapt the SQL to your tables):');
    print(indent(demoConfigYaml(sandbox.url).trimEnd()));
    print();

    const migrated = await migrate(state, { lock: false });
    print(`State schema "${state.schema}" (watermarks, delivered ledger, failures, runs), in the same database:`);
    print(`  migrations applied: ${migrated.applied.length > 0 ? migrated.applied.join(', ') : 'none (up to date)'}`);
    print();

    const first = await syncOrders(services, { dryRun: false, out: opts.out, log });
    const acceptedAfterFirst = sandbox.purchases.size;
    const invalid = await listOpenFailures(state, { job: ORDERS_LEDGER, class: 'invalid' });
    const rejected = await listOpenFailures(state, { job: ORDERS_LEDGER, class: 'rejected' });
    const purchases = sandbox.accepted.filter(isPurchase);

    print(`First run: sync orders  (${first.status}, ${first.durationMs} ms)`);
    print(`  orders read       ${pad(first.read)}`);
    print(`  sent              ${pad(first.sent)}`);
    print(`  invalid           ${pad(first.invalid)}   caught before sending, never sent`);
    print(`  rejected          ${pad(first.rejected)}   refused by the API; recorded, not retried`);
    print(`  sandbox accepted  ${pad(acceptedAfterFirst)}   purchases (${duplicates(sandbox)} accepted more than once)`);
    if (first.error) print(`  error: ${first.error.message}`);
    print();

    const sample = pickSample(purchases);
    if (sample) {
      print(`One request as it was sent: POST ${sample.path}`);
      print(indent(JSON.stringify(sample.body, null, 2)));
      print();
    }

    print(`Invalid rows (in ${state.schema}.failures; fix the data, then \`personaclick-sync replay\`)`);
    printFailures(print, invalid);
    print();
    print('Rejected by the API');
    printFailures(print, rejected);
    print();

    print('`personaclick-sync status` now says:');
    print(indent(formatStatus(await statusReport(state))));
    print();

    // Some delivered orders change afterwards (shipped): their updated_at passes the watermark, the next run reads
    // them again, and the delivered ledger keeps them from going out a second time.
    await shipOrders(db.pglite, shop.shippedLater);
    const second = await syncOrders(services, { dryRun: false, out: opts.out, log });
    print(`Second run: ${shop.shippedLater.length} delivered orders were shipped since, so their updated_at moved past the watermark`);
    print(`  orders read       ${pad(second.read)}   only what changed: the watermark is past everything else`);
    print(`  skipped           ${pad(second.skipped)}   already in the delivered ledger`);
    print(`  sent              ${pad(second.sent)}`);
    print(`  sandbox accepted  ${pad(sandbox.purchases.size)}   purchases in all (${duplicates(sandbox)} accepted more than once)`);
    if (second.error) print(`  error: ${second.error.message}`);
    print();

    // History with its real dates, and the order lifecycle: the order-sync API.
    const history = await runHistoryDemo({ services, sandbox, pglite: db.pglite, out: opts.out, log, shop });
    printHistory(print, history);

    // The nightly mirror: the shop gains carts and wishlists, and three nights of reconciliation follow.
    const mirror = await runMirrorDemo({ services, sandbox, pglite: db.pglite, out: opts.out, log, seed: opts.seed });
    printMirror(print, mirror);

    // What PersonaClick's trigger chains would have mailed for all of the above (the sandbox counts, mails no one).
    const triggers = sandbox.triggers();
    print(`Trigger chains the sandbox counted (what PersonaClick would have mailed; nobody was mailed):`);
    print(`  after purchase    ${pad(triggers.afterPurchase)}   one per live purchase`);
    print(`  status changed    ${pad(triggers.orderStatusChanged)}   one per order told through the order-sync API with a status PersonaClick did not hold`);
    print(`                           (why a first backfill asks for a yes: --yes, or yes typed at a terminal)`);
    print(`  customers         ${pad(triggers.customers)}   reached by either chain`);
    print();

    // The catalogue: products and categories mirrored onto the catalogue imports; one sells out, one is deleted.
    const catalogue = await runCatalogueDemo({ services, sandbox, pglite: db.pglite, out: opts.out, log });
    printCatalogue(print, catalogue);

    const checks = [
      ...demoChecks({ shop, first, second, invalid, rejected, purchases, sandbox, acceptedAfterFirst }),
      ...historyChecks(history),
      ...mirrorChecks(mirror),
      ...catalogueChecks(catalogue),
    ];
    print('Checks');
    for (const check of checks) print(`  ${check.ok ? 'ok    ' : 'FAILED'}  ${check.text}`);
    const failed = checks.filter((c) => !c.ok).length;
    print();
    print(failed === 0 ? 'Everything went as expected.' : `${failed} check(s) failed.`);
    return failed === 0 ? 0 : 1;
  } catch (caught) {
    const error = toError(caught);
    print(`demo failed: ${error.message}`);
    log.error({ err: error }, 'demo failed');
    return 1;
  } finally {
    await client?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
  }
}

/** The configuration a file would give; only the source and state connections are handed in by hand. */
/** The demo's config as a file would hold it (before validation): what `demoConfig` parses and the demo prints. */
export function demoConfigInput(apiUrl: string, now: Date = new Date()): Record<string, unknown> {
  const monthAgo = new Date(now.getTime() - 30 * 24 * 3_600_000).toISOString().slice(0, 10);
  return {
    // The sandbox's shop secret: in a real config it comes from the environment, e.g. ${PERSONACLICK_SHOP_SECRET}.
    personaclick: { url: apiUrl, shopId: DEMO_SHOP_ID, shopSecret: SANDBOX_SHOP_SECRET, stream: 'web', timeoutMs: 5_000 },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 50, retryMaxMs: 500, checkpointMs: 500, orderSyncPerMinute: 600 },
    // Never connected to: the demo opens its own source and state on the embedded database.
    // The embedded database has one role, a superuser, and holds nothing but the demo's own shop: allowed here.
    source: { url: 'postgres://embedded/demo-shop', allowPrivilegedRole: true },
    state: { schema: STATE_SCHEMA },
    jobs: {
      orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 50, settleSeconds: 1, startFrom: monthAgo },
      // Small pages, so the snapshot is read in several of them (a page never splits a device's lines).
      carts: { query: CARTS_QUERY, pageSize: 25 },
      wishlists: { query: WISHLISTS_QUERY, pageSize: 25 },
      categories: { query: CATEGORIES_QUERY },
      products: { query: PRODUCTS_QUERY, currency: 'USD', pageSize: 25, batchSize: 50 },
    },
  };
}

export function demoConfig(apiUrl: string, now: Date = new Date()): Config {
  return parseConfig(demoConfigInput(apiUrl, now), {}, '<demo>');
}

/**
 * The demo's config as YAML to copy: its models and settings as they ran, with the sandbox's address, the embedded
 * database and the sandbox's secret replaced by the environment variables a real config names instead.
 */
export function demoConfigYaml(apiUrl: string, now: Date = new Date()): string {
  const input = demoConfigInput(apiUrl, now) as { personaclick: Record<string, unknown>; source: Record<string, unknown> };
  const copyable = {
    ...input,
    personaclick: {
      ...input.personaclick,
      url: '${PERSONACLICK_URL:-https://api.personaclick.com}',
      shopId: '${PERSONACLICK_SHOP_ID}',
      shopSecret: '${PERSONACLICK_SHOP_SECRET}',
    },
    source: { ...input.source, url: '${SHOP_DATABASE_URL}' },
  };
  return stringifyYaml(copyable, { lineWidth: 0 });
}

function demoLogger(): Logger {
  const level = process.env.LOG_LEVEL;
  if (level === undefined || level === '' || level === 'silent') return silentLogger();
  return createLogger({ level, destination: process.stderr });
}

function printShop(print: Print, shop: ShopFacts): void {
  print(
    `The shop: ${shop.orders} orders with ${shop.lines} lines placed over the last 40 hours (new purchases,\n  within jobs.orders.newPurchaseHours), some made to go wrong on purpose:`,
  );
  for (const bad of shop.invalid) print(`  - order ${bad.orderId}: ${bad.why} (invalid: the connector refuses to send it)`);
  print(`  - order ${shop.rejected.orderId}: device ${shop.rejected.did}, which the API does not know (rejected: 404)`);
  print(`  - ${shop.freshClicks.length} orders with a campaign click at most 48 h before the order (sent with \`source\`),`);
  print(`    ${shop.staleClicks.length} with an older click (sent without)`);
  print();
}

function printFailures(print: Print, failures: readonly OpenFailure[]): void {
  if (failures.length === 0) print('  none');
  for (const f of failures) print(`  order ${f.key}  ${f.reason}`);
}

function isPurchase(request: AcceptedRequest): boolean {
  return request.path === '/push' && request.body.event === 'purchase';
}

function duplicates(sandbox: Sandbox): number {
  return [...sandbox.purchases.values()].filter((n) => n > 1).length;
}

/** The most telling request: the one that shows the most fields (a campaign source, custom properties, several lines). */
function pickSample(purchases: readonly AcceptedRequest[]): AcceptedRequest | undefined {
  const score = (p: AcceptedRequest): number =>
    Object.keys(p.body).length + (p.body.source === undefined ? 0 : 3) + (Array.isArray(p.body.items) ? Math.min(p.body.items.length, 3) : 0);
  let best: AcceptedRequest | undefined;
  for (const p of purchases) if (best === undefined || score(p) > score(best)) best = p;
  return best;
}

interface Outcomes {
  shop: ShopFacts;
  first: RunSummary;
  second: RunSummary;
  invalid: readonly OpenFailure[];
  rejected: readonly OpenFailure[];
  purchases: readonly AcceptedRequest[];
  sandbox: Sandbox;
  acceptedAfterFirst: number;
}

/** What a newcomer can rely on, each one checked against what the shop holds on purpose. */
function demoChecks(o: Outcomes): Check[] {
  const { shop, first, second } = o;
  const sameKeys = (got: readonly OpenFailure[], want: readonly string[]) =>
    got
      .map((f) => f.key)
      .sort()
      .join(',') === [...want].sort().join(',');
  const byOrder = new Map(o.purchases.map((p) => [String(p.body.order_id), p.body]));
  const withSource = (ids: readonly string[]) => ids.filter((id) => typeof byOrder.get(id)?.source === 'string').length;
  const rejection = o.rejected[0];
  return [
    { ok: first.status === 'done', text: `the first run finished (status ${first.status})` },
    { ok: first.read === shop.orders, text: `it read every order (${first.read} of ${shop.orders})` },
    { ok: first.sent === shop.expectedSent, text: `it sent every order with valid data but the rejected one (${first.sent}, expected ${shop.expectedSent})` },
    {
      ok:
        first.invalid === shop.invalid.length &&
        sameKeys(
          o.invalid,
          shop.invalid.map((i) => i.orderId),
        ),
      text: `the ${shop.invalid.length} bad orders are invalid failures and were never sent`,
    },
    {
      ok: first.rejected === 1 && sameKeys(o.rejected, [shop.rejected.orderId]) && rejection?.status === 404 && rejection.reason.includes(DEVICE_NOT_FOUND),
      text: `the unknown device's order is a rejected failure with the API's message ("${DEVICE_NOT_FOUND}")`,
    },
    {
      ok: o.acceptedAfterFirst === first.sent && duplicates(o.sandbox) === 0,
      text: `the sandbox accepted exactly the purchases sent, each once (${o.acceptedAfterFirst})`,
    },
    {
      ok: withSource(shop.freshClicks) === shop.freshClicks.length && withSource(shop.staleClicks) === 0,
      text: `\`source\` went out with the ${shop.freshClicks.length} clicks within 48 h and with none of the ${shop.staleClicks.length} older ones`,
    },
    {
      ok: second.status === 'done' && second.sent === 0 && second.skipped === shop.shippedLater.length,
      text: `the second run sent nothing: the ${second.skipped} changed orders it read were already delivered`,
    },
    { ok: o.sandbox.purchases.size === o.acceptedAfterFirst && duplicates(o.sandbox) === 0, text: 'no purchase reached the API twice' },
  ];
}
