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
      const path = writeConfig({ personaclick: { url: 'http://127.0.0.1:9', shopId: 's' }, source: { url: 'postgres://u@127.0.0.1/db' }, notify, jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY } } });
      const result = await runMain(['check', '--config', path]);
      expect(result.code, JSON.stringify(notify)).toBe(2);
      expect(result.stderr).toContain('notify');
      for (const part of [TOKEN, 'xoxbSecretToken42', encodeURIComponent(TOKEN)]) expect(result.stderr + result.stdout).not.toContain(part);
    }
  });
});
