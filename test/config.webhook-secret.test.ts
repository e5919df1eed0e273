/** Issue 20 §1: a config error never prints the webhook URL (its path is its token), whatever is wrong with it. */
import { describe, expect, it } from 'vitest';
import { runMain } from './support/main.js';
import { writeConfig } from './support/cli.js';
import { ITEMS_QUERY, ORDERS_QUERY } from './support/shop.js';

const TOKEN = 'T0AAA/B0BBB/xoxbSecretToken42';
const BROKEN: Record<string, unknown>[] = [
  { webhook: `hooks.slack.com/services/${TOKEN}` }, // no scheme
  { webhook: `ftp://hooks.slack.com/services/${TOKEN}` }, // not http(s)
  { webhook: `https://hooks.slack.com:99999/services/${TOKEN}` }, // no such port
  { webhook: ['a', `https://hooks.slack.com/services/${TOKEN}`] }, // a list
  { webhook: `https://hooks.slack.com/services/${TOKEN}`, lowVolumeRatio: 'x' }, // valid, beside a broken key
  { webhook: `https://hooks.slack.com/services/${TOKEN}`, openFailures: -1, bogus: `https://hooks.slack.com/services/${TOKEN}` },
];

describe('config errors and the webhook URL', () => {
  it('never print the webhook URL or its token, whatever is wrong', async () => {
    for (const notify of BROKEN) {
      const path = writeConfig({
        personaclick: { url: 'http://127.0.0.1:9', shopId: 's' },
        source: { url: 'postgres://u@127.0.0.1/db' },
        notify,
        jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY } },
      });
      const result = await runMain(['check', '--config', path]);
      expect(result.code, JSON.stringify(notify)).toBe(2);
      expect(result.stderr).toContain('notify');
      for (const part of [TOKEN, 'xoxbSecretToken42', encodeURIComponent(TOKEN)]) expect(result.stderr + result.stdout).not.toContain(part);
    }
  });
});

describe('identifiers and the shop secret on the wire', () => {
  const base = (personaclick: Record<string, unknown>, source: Record<string, unknown> = {}) =>
    writeConfig({
      personaclick: { shopId: 's', ...personaclick },
      source: { url: 'postgres://u@127.0.0.1/db', ...source },
      jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY } },
    });

  it('refuses NUL and control characters in identifiers', async () => {
    for (const [path, rule] of [
      [base({ url: 'https://api.example', shopId: 'ab\u0000c' }), 'personaclick.shopId: must not hold NUL or other control characters'],
      [base({ url: 'https://api.example', shopId: 'ab\u001b[31mc' }), 'personaclick.shopId: must not hold NUL or other control characters'],
      [base({ url: 'https://api.example' }, { applicationName: 'app\u0007' }), 'source.applicationName: must not hold NUL or other control characters'],
    ] as const) {
      const result = await runMain(['check', '--config', path]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(rule);
      expect(result.stderr).not.toContain('\u001b');
    }
  });

  it('refuses an http:// API on another machine with a shop secret, unless allowInsecureUrl', async () => {
    const refused = await runMain(['check', '--config', base({ url: 'http://api.example.com', shopSecret: 'sec-123456' })]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('personaclick.url: must be https:// when shopSecret is set');
    expect(refused.stderr).not.toContain('sec-123456');
    for (const personaclick of [
      { url: 'http://api.example.com', shopSecret: 'sec-123456', allowInsecureUrl: true },
      { url: 'http://127.0.0.1:9', shopSecret: 'sec-123456' },
      { url: 'https://api.example.com', shopSecret: 'sec-123456' },
      { url: 'http://api.example.com' },
    ]) {
      const result = await runMain(['check', '--json', '--config', base(personaclick)]);
      expect(result.stderr, JSON.stringify(personaclick)).not.toContain('personaclick.url');
      expect(result.code, JSON.stringify(personaclick)).not.toBe(2);
    }
  });
});
