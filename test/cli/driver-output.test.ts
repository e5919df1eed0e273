/**
 * Issue 20 §5: knex's own messages ("Acquire connection error: …" with a stack) go through the logger to stderr,
 * never to stdout, so that `--dry-run` NDJSON and `--json` output stay parseable whatever the databases do.
 */
import { describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../support/cli.js';
import { PG_HOST, PG_PORT } from '../support/pg.js';
import { ITEMS_QUERY, ORDERS_QUERY } from '../support/shop.js';

const gone = `postgres://postgres@${PG_HOST}:${PG_PORT}/pcs_no_such_database_${process.pid}`;

function config(source: string, state: string): string {
  return writeConfig({
    personaclick: { url: 'http://127.0.0.1:9', shopId: 's' },
    source: { url: source },
    state: { url: state },
    jobs: { orders: { query: ORDERS_QUERY, itemsQuery: ITEMS_QUERY, settleSeconds: 0, startFrom: '2000-01-01' } },
  });
}

describe("the database driver's own messages", () => {
  it('never reach stdout: --dry-run and status --json print nothing there but their output', async () => {
    const postgres = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;
    for (const [args, path] of [
      [['sync', 'orders', '--dry-run'], config(gone, postgres)],
      [['status', '--json'], config(postgres, gone)],
    ] as const) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr).toContain('does not exist');
      for (const line of result.stderr.split('\n').filter((l) => l !== '')) expect(line.startsWith('{') || line.startsWith('personaclick-sync: ')).toBe(true);
    }
  });
});
