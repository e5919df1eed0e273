/** Config files for the fault tests' command-line runs (the real CLI in a child process). */
import { writeConfig } from '../../support/cli.js';
import { SHOP_ID } from '../../support/harness.js';
import { PG_HOST, PG_PORT } from '../../support/pg.js';
import { ITEMS_QUERY, ORDERS_QUERY } from '../../support/shop.js';

export interface CliConfigOptions {
  database: string;
  apiUrl: string;
  /** Put into both database URLs (trust auth ignores it). */
  password?: string;
  /** host:port of the state database, when it is not the source's (a proxy). */
  stateHostPort?: string;
  personaclick?: Record<string, unknown>;
  delivery?: Record<string, unknown>;
  source?: Record<string, unknown>;
  orders?: Record<string, unknown>;
}

export function pgUrl(database: string, password?: string, hostPort = `${PG_HOST}:${PG_PORT}`): string {
  return `postgres://postgres${password === undefined ? '' : `:${encodeURIComponent(password)}`}@${hostPort}/${database}`;
}

/** A YAML config for `sync orders` against a test database and a sandbox; returns its path. */
export function cliConfig(o: CliConfigOptions): string {
  return writeConfig({
    personaclick: { url: o.apiUrl, shopId: SHOP_ID, timeoutMs: 2000, ...o.personaclick },
    delivery: { concurrency: 4, retries: 2, retryMinMs: 10, retryMaxMs: 20, checkpointMs: 200, shutdownDeadlineMs: 5000, ...o.delivery },
    source: { url: pgUrl(o.database, o.password), ...o.source },
    ...(o.stateHostPort === undefined ? {} : { state: { url: pgUrl(o.database, o.password, o.stateHostPort) } }),
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, pageSize: 100, settleSeconds: 0, startFrom: '2000-01-01', ...o.orders } },
  });
}

/** The lines of a CLI's stderr that are not JSON log lines: what the operator reads as the error message. */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

/** The JSON log lines of a CLI's stderr. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
