/** Wiring for tests: a config pointing at a test database and a sandbox, and one-call runs of the orders sync. */
import { PassThrough } from 'node:stream';
import { parseConfig, type Config } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { openServices } from '../../src/run/services.js';
import type { RunSummary } from '../../src/run/summary.js';
import { syncOrders } from '../../jobs/orders.js';
import { ITEMS_QUERY, ORDERS_QUERY } from './shop.js';

export const SHOP_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5';

export interface ConfigOverrides {
  delivery?: Record<string, unknown>;
  orders?: Record<string, unknown>;
  personaclick?: Record<string, unknown>;
  state?: Record<string, unknown>;
}

export function testConfig(dbUrl: string, apiUrl: string, overrides: ConfigOverrides = {}): Config {
  return parseConfig(
    {
      personaclick: { url: apiUrl, shopId: SHOP_ID, timeoutMs: 2000, ...overrides.personaclick },
      delivery: { concurrency: 8, retries: 3, retryMinMs: 10, retryMaxMs: 50, checkpointMs: 200, shutdownDeadlineMs: 5000, ...overrides.delivery },
      source: { url: dbUrl },
      state: { ...overrides.state },
      jobs: {
        orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 500, settleSeconds: 0, startFrom: '2000-01-01', ...overrides.orders },
      },
    },
    {},
    '<test>',
  );
}

export interface SyncResult {
  summary: RunSummary;
  stdout: string;
}

export async function runSync(config: Config, opts: { dryRun?: boolean; limit?: number; signal?: AbortSignal } = {}): Promise<SyncResult> {
  const services = openServices(config, { dryRun: opts.dryRun ?? false });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    const summary = await syncOrders(services, { dryRun: opts.dryRun ?? false, limit: opts.limit, out, log: silentLogger(), signal: opts.signal });
    return { summary, stdout: Buffer.concat(chunks).toString('utf8') };
  } finally {
    await services.close();
  }
}
