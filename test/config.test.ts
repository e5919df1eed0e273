import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { cronProblem, interpolateString, loadConfig, parseConfig, redactUrl, resolveStartFrom, secretsOf, type Config } from '../src/config/index.js';

const EXAMPLE = fileURLToPath(new URL('../config/personaclick-sync.example.yaml', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'personaclick-sync-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MINIMAL = `
personaclick:
  shopId: 0d42fd8b713d0752776ca589cc0056
source:
  url: postgres://shop:s3cret@db.internal:5432/shop
jobs:
  carts:
    query: SELECT device_id AS did, product_id AS id, qty AS quantity FROM cart_lines
`;

/** Load from text and return the ConfigError it throws (failing the test when it does not throw). */
function errorOf(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig({ text, env, path: 'test.yaml' });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const problemsOf = (text: string, env: NodeJS.ProcessEnv = {}): readonly string[] => errorOf(text, env).problems;

describe('defaults', () => {
  it('fills in every default and resolves state.url to source.url', () => {
    const config = loadConfig({ text: MINIMAL, env: {} });
    const expected: Config = {
      personaclick: {
        url: 'https://api.personaclick.com',
        shopId: '0d42fd8b713d0752776ca589cc0056',
        stream: 'web',
        timeoutMs: 10_000,
        allowInsecureUrl: false,
      },
      delivery: {
        concurrency: 16,
        maxConcurrency: 256,
        maxRequestsPerSecond: 0,
        retries: 6,
        retryMinMs: 500,
        retryMaxMs: 30_000,
        checkpointMs: 2_000,
        shutdownDeadlineMs: 25_000,
        orderSyncPerMinute: 40,
      },
      source: {
        url: 'postgres://shop:s3cret@db.internal:5432/shop',
        statementTimeoutMs: 60_000,
        poolSize: 2,
        applicationName: 'personaclick-sync',
        pageBytes: 16 * 1024 * 1024,
        allowPrivilegedRole: false,
      },
      state: { url: 'postgres://shop:s3cret@db.internal:5432/shop', schema: 'personaclick_sync' },
      schedule: { timezone: 'UTC' },
      metrics: { host: '127.0.0.1' },
      notify: { lowVolumeRatio: 0.2, rejectedShareJump: 0.1, openFailures: 100 },
      jobs: {
        carts: { query: 'SELECT device_id AS did, product_id AS id, qty AS quantity FROM cart_lines', pageSize: 5_000 },
      },
    };
    expect(config).toEqual(expected);
  });

  it('applies per-job defaults and keeps an explicit state.url', () => {
    const config = loadConfig({
      env: {},
      text: `${MINIMAL}
  wishlists: { query: SELECT 1 }
  events: { query: SELECT 1 }
  orders:
    query: SELECT 1
    itemsQuery: SELECT * FROM order_lines WHERE order_id = ANY(:order_ids)
state:
  url: postgresql://state@state-db/books
delivery:
`,
    });
    expect(config.jobs.orders).toEqual({
      query: 'SELECT 1',
      itemsQuery: 'SELECT * FROM order_lines WHERE order_id = ANY(:order_ids)',
      pageSize: 1_000,
      settleSeconds: 5,
      startFrom: 'now',
      batchSize: 1_000,
      skipStatuses: [],
      newPurchaseHours: 48,
      historyAfterDays: 60,
      closedStatuses: ['cancelled', 'canceled', 'refunded', 'returned'],
    });
    expect(config.jobs.wishlists?.pageSize).toBe(5_000);
    expect(config.jobs.events?.pageSize).toBe(1_000);
    expect(config.state).toEqual({ url: 'postgresql://state@state-db/books', schema: 'personaclick_sync' });
    // `delivery:` with nothing after it reads as not set: all defaults.
    expect(config.delivery.concurrency).toBe(16);
  });

  it('trims queries and strips a trailing slash from the API URL', () => {
    const config = loadConfig({
      env: {},
      text: MINIMAL.replace('shopId:', 'url: https://api.rees46.ru/\n  shopId:').replace('query: SELECT device_id', 'query: |\n      SELECT device_id'),
    });
    expect(config.personaclick.url).toBe('https://api.rees46.ru');
    expect(config.jobs.carts?.query.startsWith('SELECT device_id')).toBe(true);
    expect(config.jobs.carts?.query.endsWith('\n')).toBe(false);
  });
});

describe('environment interpolation', () => {
  const text = `
personaclick:
  shopId: \${SHOP_ID}
  url: \${PC_URL:-https://api.personaclick.com}
  stream: \${STREAM:-ios}
source:
  url: postgres://\${DB_USER}:\${DB_PASSWORD}@\${DB_HOST:-localhost}/shop
  applicationName: cost $$5 and $\${literal}
jobs:
  carts: { query: SELECT 1 }
`;

  it('replaces ${VAR}, uses ${VAR:-default} when unset or empty, and keeps $${ literal', () => {
    const config = loadConfig({ text, env: { SHOP_ID: 'abc', DB_USER: 'ro', DB_PASSWORD: 'pw', STREAM: '' } });
    expect(config.personaclick.shopId).toBe('abc');
    expect(config.personaclick.url).toBe('https://api.personaclick.com');
    expect(config.personaclick.stream).toBe('ios');
    expect(config.source.url).toBe('postgres://ro:pw@localhost/shop');
    expect(config.source.applicationName).toBe('cost $$5 and ${literal}');
  });

  it('reports every unset variable under its dotted key, and nothing else about those keys', () => {
    const problems = problemsOf(text, { DB_USER: 'ro' });
    expect(problems).toEqual(['personaclick.shopId: environment variable SHOP_ID is not set', 'source.url: environment variable DB_PASSWORD is not set']);
  });

  it('rejects a malformed reference', () => {
    expect(interpolateString('a ${not valid} b', {}).problems).toEqual([
      '"${not valid}" is not a reference: write ${NAME} or ${NAME:-default} ("$${" for a literal "${")',
    ]);
    expect(interpolateString('open ${NAME', {}).problems).toEqual(['unterminated "${" (write "$${" for a literal "${")']);
    expect(interpolateString('$HOME and ${A}${B:-x}', { A: '1' })).toEqual({ value: '$HOME and 1x', problems: [] });
  });

  it('coerces numbers that come from the environment as strings', () => {
    const config = loadConfig({
      env: { CONCURRENCY: '64', RPS: '2.5', POOL: ' 4 ', TIMEOUT: '1e4', SHOP: '12345' },
      text: `
personaclick:
  shopId: \${SHOP}
  timeoutMs: \${TIMEOUT}
delivery:
  concurrency: \${CONCURRENCY}
  maxRequestsPerSecond: \${RPS}
  retries: "0"
source:
  url: postgres://h/db
  poolSize: \${POOL}
jobs:
  carts: { query: SELECT 1, pageSize: "250" }
`,
    });
    expect(config.delivery.concurrency).toBe(64);
    expect(config.delivery.maxRequestsPerSecond).toBe(2.5);
    expect(config.delivery.retries).toBe(0);
    expect(config.source.poolSize).toBe(4);
    expect(config.personaclick.timeoutMs).toBe(10_000);
    expect(config.personaclick.shopId).toBe('12345');
    expect(config.jobs.carts?.pageSize).toBe(250);
  });

  it('keeps id-like values exactly as written, even where YAML sees a number', () => {
    const load = (shopId: string) => loadConfig({ env: {}, text: MINIMAL.replace('0d42fd8b713d0752776ca589cc0056', shopId) });
    expect(load('0042').personaclick.shopId).toBe('0042');
    expect(load('123e45').personaclick.shopId).toBe('123e45');
    expect(load('12345').personaclick.shopId).toBe('12345');
    const config = loadConfig({ env: {}, text: `${MINIMAL}delivery:\n  concurrency: 016\n  maxRequestsPerSecond: 1.50\n` });
    expect(config.delivery.concurrency).toBe(16);
    expect(config.delivery.maxRequestsPerSecond).toBe(1.5);
  });

  it('takes concurrency auto (any case, from the environment too) with its ceiling, and rejects a bad ceiling', () => {
    const auto = loadConfig({ env: { C: ' Auto ' }, text: `${MINIMAL}delivery:\n  concurrency: \${C}\n  maxConcurrency: "64"\n` });
    expect(auto.delivery.concurrency).toBe('auto');
    expect(auto.delivery.maxConcurrency).toBe(64);
    expect(loadConfig({ env: {}, text: `${MINIMAL}delivery:\n  concurrency: auto\n` }).delivery.maxConcurrency).toBe(256);
    expect(problemsOf(`${MINIMAL}delivery:\n  concurrency: automatic\n  maxConcurrency: 2000\n`)).toEqual([
      'delivery.concurrency: must be an integer from 1 to 1024, or auto (adaptive, up to maxConcurrency) (got "automatic")',
      'delivery.maxConcurrency: must be an integer from 1 to 1024 (the ceiling of concurrency: auto; unused otherwise) (got 2000)',
    ]);
  });

  it('rejects a non-numeric string for a numeric key, showing what it got', () => {
    expect(problemsOf(`${MINIMAL}delivery:\n  concurrency: \${C}\n  poolSize: 3\n`, { C: 'lots' })).toEqual([
      'delivery.concurrency: must be an integer from 1 to 1024, or auto (adaptive, up to maxConcurrency) (got "lots")',
      'delivery.poolSize: unknown key',
    ]);
  });
});

describe('validation', () => {
  it('lists several bad keys at once, each with its rule and the value it got', () => {
    const error = errorOf(`
personaclick:
  stream: "web app"
  timeoutMs: 50
delivery:
  concurrency: 0
  maxRequestsPerSecond: -1
  retries: 2.5
  retryMinMs: 1000
  retryMaxMs: 100
source:
  url: mysql://root:hunter2@db/shop
  poolSize: 99
state:
  schema: Personaclick-Sync
jobs:
  orders:
    query: "SELECT * FROM orders;"
    pageSize: 100000
    settleSeconds: -5
    startFrom: 2024-02-30
    schedule: "* * *"
  carts:
    query: ""
`);
    expect(error.message.split('\n')[0]).toBe('Invalid configuration in test.yaml');
    expect(error.problems).toEqual([
      'personaclick.shopId: is required',
      'personaclick.stream: must be 1 to 16 letters or digits (got "web app")',
      'personaclick.timeoutMs: must be an integer from 100 to 120000 (got 50)',
      'delivery.concurrency: must be an integer from 1 to 1024, or auto (adaptive, up to maxConcurrency) (got 0)',
      'delivery.maxRequestsPerSecond: must be a number of at least 0 (got -1)',
      'delivery.retries: must be an integer from 0 to 20 (got 2.5)',
      'delivery.retryMaxMs: must be an integer of at least retryMinMs (1000) (got 100)',
      'source.url: must be a postgres:// or postgresql:// URL (got "mysql://root:***@db/shop")',
      'source.poolSize: must be an integer from 1 to 20 (got 99)',
      'state.schema: must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters) (got "Personaclick-Sync")',
      'jobs.orders.query: must not end with ";" (the connector wraps the query) (got "SELECT * FROM orders;")',
      'jobs.orders.itemsQuery: is required',
      'jobs.orders.schedule: must be a cron expression node-cron runs (5 fields: minute hour day-of-month month day-of-week, or 6 with seconds first): expected 5 or 6 fields but got 3 (got "* * *")',
      'jobs.orders.pageSize: must be an integer from 1 to 50000 (got 100000)',
      'jobs.orders.settleSeconds: must be an integer from 0 to 604800 (got -5)',
      'jobs.orders.startFrom: must be \'now\' or an ISO date or datetime (2024-01-31, 2024-01-31T00:00:00Z) (got "2024-02-30")',
      'jobs.carts.query: must not be empty (got "")',
    ]);
    // The message carries every problem too, one per line.
    expect(error.message.split('\n')).toHaveLength(error.problems.length + 1);
    expect(error.message).not.toContain('hunter2');
  });

  it('reports unknown keys at every level, with a hint for near misses', () => {
    expect(
      problemsOf(`${MINIMAL}
  orders:
    query: SELECT 1
    itemsQuery: SELECT 1 WHERE x = ANY(:order_ids)
    foo: 1
    page_size: 10
  cart: { query: SELECT 1 }
delivery:
  concurency: 4
logging: debug
`),
    ).toEqual([
      'delivery.concurency: unknown key (did you mean concurrency?)',
      'jobs.orders.foo: unknown key',
      'jobs.orders.page_size: unknown key (did you mean pageSize?)',
      'jobs.cart: unknown key (did you mean carts?)',
      'logging: unknown key',
    ]);
  });

  it('requires :order_ids in itemsQuery (a ::cast does not count)', () => {
    const orders = (items: string) => `${MINIMAL}\n  orders:\n    query: SELECT 1\n    itemsQuery: "${items}"\n`;
    expect(problemsOf(orders('SELECT * FROM order_lines WHERE order_id IN (1, 2)'))).toEqual([
      'jobs.orders.itemsQuery: must use the named parameter :order_ids (the page of order ids), outside string literals and comments (got "SELECT * FROM order_lines WHERE order_id IN (1, 2)")',
    ]);
    expect(problemsOf(orders('SELECT x::order_ids FROM t'))).toHaveLength(1);
    expect(problemsOf(orders("SELECT * FROM order_lines WHERE note = ':order_ids' -- :order_ids"))).toHaveLength(1);
    expect(loadConfig({ env: {}, text: orders('SELECT * FROM order_lines WHERE order_id = ANY(:order_ids)') }).jobs.orders?.itemsQuery).toContain(':order_ids');
  });

  it('checks the time zone with Intl', () => {
    expect(problemsOf(`${MINIMAL}schedule:\n  timezone: Europe/Atlantis\n`)).toEqual([
      'schedule.timezone: must be an IANA time zone name such as Europe/Berlin (got "Europe/Atlantis")',
    ]);
    expect(loadConfig({ env: {}, text: `${MINIMAL}schedule:\n  timezone: Europe/Berlin\n` }).schedule.timezone).toBe('Europe/Berlin');
  });

  it('requires at least one job, and the required sections', () => {
    expect(problemsOf(MINIMAL.replace(/jobs:[\s\S]*$/, 'jobs: {}\n'))).toEqual([
      'jobs: must define at least one job: orders, carts, wishlists, events, categories, products (got an empty mapping)',
    ]);
    expect(problemsOf('delivery:\n  retries: 3\n')).toEqual(['personaclick: is required', 'source: is required', 'jobs: is required']);
    expect(problemsOf('')).toEqual(['the file is empty: it needs at least the sections personaclick, source and jobs']);
  });

  it('bounds every duration below what a timer can hold, and refuses system schemas for the state', () => {
    // setTimeout fires at once above 2^31-1 ms: no duration may get near it.
    const base = (extra: string) => `personaclick:\n  shopId: s\n${extra}source:\n  url: postgres://u@h/db\njobs:\n  carts:\n    query: SELECT 1\n`;
    expect(problemsOf(base('delivery:\n  retryMinMs: 2147483648\n  retryMaxMs: 2147483648\n'))).toEqual([
      'delivery.retryMinMs: must be an integer from 1 to 60000 (got 2147483648)',
      'delivery.retryMaxMs: must be an integer from 1 to 600000 (got 2147483648)',
    ]);
    expect(problemsOf(base('delivery:\n  shutdownDeadlineMs: 9999999999\n'))).toEqual([
      'delivery.shutdownDeadlineMs: must be an integer from 1000 to 600000 (got 9999999999)',
    ]);
    for (const schema of ['pg_catalog', 'information_schema', 'pg_toast']) {
      expect(problemsOf(base(`state:\n  schema: ${schema}\n`))).toEqual([
        `state.schema: must not be a system schema (pg_*, information_schema): the connector creates its own tables there (got "${schema}")`,
      ]);
    }
  });

  it('validates cron expressions and startFrom values', () => {
    expect(cronProblem('*/5 * * * *')).toBeUndefined();
    expect(cronProblem('0 30 2 * * mon-fri')).toBeUndefined();
    expect(cronProblem('0 0 1 jan,jul *')).toBeUndefined();
    expect(cronProblem('0 24 * * *')).toContain('24 is a invalid expression for hour'); // node-cron's own words
    expect(cronProblem('0 0 * * 8')).toContain('week day');
    expect(cronProblem('0 0 31 2 *')).toContain('impossible day of month'); // fields valid each, but never a day
    expect(resolveStartFrom('2024-01-31').toISOString()).toBe('2024-01-31T00:00:00.000Z');
    expect(resolveStartFrom('2024-01-31T10:00:00+02:00').toISOString()).toBe('2024-01-31T08:00:00.000Z');
    expect(resolveStartFrom('2024-01-31 10:00').toISOString()).toBe('2024-01-31T10:00:00.000Z');
    const now = new Date();
    expect(resolveStartFrom('now', now)).toBe(now);
  });
});

describe('secrets', () => {
  it('secretsOf finds URL passwords (as written and decoded) and the shop secret', () => {
    const config = loadConfig({
      env: { SECRET: 'shop-secret-value' },
      text: `${MINIMAL.replace('s3cret', 'p%40ss%2Fw0rd')}
state:
  url: postgres://books:other-pass@state-db/books?sslmode=require
`.replace('shopId:', 'shopSecret: ${SECRET}\n  shopId:'),
    });
    const secrets = secretsOf(config);
    expect(secrets).toEqual(expect.arrayContaining(['p%40ss%2Fw0rd', 'p@ss/w0rd', 'other-pass', 'shop-secret-value']));
    expect(secrets).not.toContain('');
    expect(secrets).not.toContain('shop');
  });

  it('secretsOf is empty when nothing is secret; an empty shopSecret counts as unset', () => {
    const config = loadConfig({
      env: {},
      text: MINIMAL.replace('shop:s3cret@', 'shop@').replace('shopId:', 'shopSecret: ${SECRET:-}\n  shopId:'),
    });
    expect(config.personaclick.shopSecret).toBeUndefined();
    expect(secretsOf(config)).toEqual([]);
  });

  it('redactUrl masks the password and nothing else', () => {
    expect(redactUrl('postgres://user:s3cret@db.internal:5432/shop')).toBe('postgres://user:***@db.internal:5432/shop');
    expect(redactUrl('postgresql://user:p@ss/word@host/db?sslmode=require')).toBe('postgresql://user:***@host/db?sslmode=require');
    expect(redactUrl('postgres://user@host/db')).toBe('postgres://user@host/db');
    expect(redactUrl('postgres://host/db?user=u&password=secret&x=1')).toBe('postgres://host/db?user=u&password=***&x=1');
    expect(redactUrl('not a url')).toBe('not a url');
    // an unescaped '#' or '?' in the password: URL parsing would take it for the fragment or query
    expect(redactUrl('postgres://app:pa#ss@db/shop')).toBe('postgres://app:***@db/shop');
    expect(redactUrl('postgres://app:pa?ss@db/shop?sslmode=require')).toBe('postgres://app:***@db/shop?sslmode=require');
    expect(redactUrl('postgres://app:pw@db/shop?application_name=a@b')).toBe('postgres://app:***@db/shop?application_name=a@b');
  });
});

describe('files', () => {
  it('reports a missing file with the way to point at another', () => {
    const path = join(tmp, 'nope.yaml');
    expect(() => loadConfig({ path, env: {} })).toThrow(new ConfigError(`Config file not found: ${path} (set --config or PERSONACLICK_SYNC_CONFIG)`));
    const viaEnv = join(tmp, 'also-missing.yaml');
    expect(() => loadConfig({ env: { PERSONACLICK_SYNC_CONFIG: viaEnv } })).toThrow(`Config file not found: ${viaEnv}`);
  });

  it('reads the file named by PERSONACLICK_SYNC_CONFIG', () => {
    const path = join(tmp, 'real.yaml');
    writeFileSync(path, MINIMAL);
    expect(loadConfig({ env: { PERSONACLICK_SYNC_CONFIG: path } }).personaclick.shopId).toBe('0d42fd8b713d0752776ca589cc0056');
    // A file that fails validation is named in the error.
    writeFileSync(path, MINIMAL.replace('postgres://', 'http://'));
    expect(() => loadConfig({ path, env: {} })).toThrow(`Invalid configuration in ${path}`);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const error = errorOf('personaclick:\n  shopId: abc\nsource: [postgres://h/db\njobs:\n  carts: {query: SELECT 1}\n');
    expect(error.message.split('\n')[0]).toBe('YAML syntax error in test.yaml');
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]).toMatch(/^line \d+, column \d+: \S/);
    expect(errorOf('a: 1\na: 2\n').problems).toEqual(['line 2, column 1: Map keys must be unique']);
  });

  it('loads and validates the example file in config/', () => {
    const env = { PERSONACLICK_SHOP_ID: '0d42fd8b713d0752776ca589cc0056', SHOP_DATABASE_URL: 'postgres://personaclick_ro:pw@db:5432/shop' };
    const config = loadConfig({ path: EXAMPLE, env });
    expect(config.personaclick).toEqual({
      url: 'https://api.personaclick.com',
      shopId: '0d42fd8b713d0752776ca589cc0056',
      stream: 'web',
      timeoutMs: 10_000,
      allowInsecureUrl: false,
    });
    expect(config.delivery.concurrency).toBe(16);
    expect(config.state).toEqual({ url: env.SHOP_DATABASE_URL, schema: 'personaclick_sync' });
    expect(Object.keys(config.jobs).sort()).toEqual(['carts', 'orders', 'wishlists']);
    expect(config.jobs.orders?.itemsQuery).toContain(':order_ids');
    expect(config.jobs.orders?.schedule).toBe('*/5 * * * *');
    expect(secretsOf(config)).toEqual(['pw']);
    // Without its environment it says exactly which variables are missing.
    expect(problemsOfFile(EXAMPLE)).toEqual([
      'personaclick.shopId: environment variable PERSONACLICK_SHOP_ID is not set',
      'source.url: environment variable SHOP_DATABASE_URL is not set',
    ]);
    // Optional variables are honoured, numbers included.
    const tuned = loadConfig({ path: EXAMPLE, env: { ...env, PERSONACLICK_SYNC_CONCURRENCY: '32', PERSONACLICK_SYNC_STATE_URL: 'postgres://state/books' } });
    expect(tuned.delivery.concurrency).toBe(32);
    expect(tuned.state.url).toBe('postgres://state/books');
    // Monitoring: schedule serves metrics on 9464 unless told otherwise; no push and no webhook unless set.
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.notify).toEqual({ lowVolumeRatio: 0.2, rejectedShareJump: 0.1, openFailures: 100 });
    const hooked = loadConfig({
      path: EXAMPLE,
      env: { ...env, PERSONACLICK_SYNC_WEBHOOK: 'https://hooks.slack.com/services/T0/B0/XyZ123secret', PERSONACLICK_SYNC_PUSHGATEWAY: 'http://pg:9091' },
    });
    expect(hooked.notify.webhook).toBe('https://hooks.slack.com/services/T0/B0/XyZ123secret');
    expect(hooked.metrics.pushgateway).toBe('http://pg:9091');
    expect(secretsOf(hooked)).toEqual(expect.arrayContaining(['https://hooks.slack.com/services/T0/B0/XyZ123secret', '/services/T0/B0/XyZ123secret']));
  });
});

describe('metrics and notify', () => {
  it('checks every key with a one-line rule', () => {
    const text = `${MINIMAL}
metrics:
  pushgateway: ftp://gateway
  port: 70000
  prot: 1
notify:
  webhook: not a url
  lowVolumeRatio: 2
  rejectedShareJump: -0.1
  openFailures: 1.5
`;
    expect(problemsOf(text)).toEqual(
      expect.arrayContaining([
        'metrics.pushgateway: must be an http(s) URL (got "ftp://gateway")',
        'metrics.port: must be an integer from 0 to 65535 (got 70000)',
        'notify.webhook: must be an http(s) URL (got "***")', // the webhook URL is its token: never shown
        'notify.lowVolumeRatio: must be a number from 0 to 1 (got 2)',
        'notify.rejectedShareJump: must be a number from 0 to 1 (got -0.1)',
        'notify.openFailures: must be an integer of at least 0 (got 1.5)',
      ]),
    );
    expect(problemsOf(text)).toContain('metrics.prot: unknown key');
  });
});

function problemsOfFile(path: string): readonly string[] {
  try {
    loadConfig({ path, env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('validates already-parsed data with a label', () => {
    expect(() => parseConfig({ personaclick: {}, source: {}, jobs: {} }, {}, 'inline')).toThrow(/^Invalid configuration in inline\n/);
    expect(
      parseConfig({ personaclick: { shopId: 'x' }, source: { url: 'postgres://h/db' }, jobs: { events: { query: 'SELECT 1' } } }, {}, 'x').jobs.events,
    ).toEqual({
      query: 'SELECT 1',
      pageSize: 1_000,
    });
  });
});
