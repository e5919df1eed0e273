/**
 * Where knex's own messages go. Left alone, knex prints warnings ("Acquire connection error: …" with a stack) with
 * console.log, on stdout, where they break `--dry-run` NDJSON and `--json` output. Here they go through the logger
 * (stderr, JSON), always as outward text (one bounded line, see outward.ts); where there is no logger (a command's own
 * short-lived connection) nowhere: what went wrong reaches the operator as the command's one error line, which names
 * the database (source.url or state.url), never as knex's stack-bearing warning beside it.
 */
import type { Knex } from 'knex';
import type { Logger } from './log.js';
import { outwardText } from './outward.js';

const none = (): void => undefined;

export function knexLog(opts: { log?: Logger | undefined; quiet?: boolean | undefined; what: string }): NonNullable<Knex.Config['log']> {
  if (opts.quiet === true || opts.log === undefined) return { warn: none, error: none, deprecate: none, debug: none };
  const say = (level: 'warn' | 'error') => (message: unknown) => {
    const text = outwardText(typeof message === 'string' ? message : String(message), [], 500);
    opts.log?.[level]({ source: 'knex' }, `${opts.what}: ${text}`);
  };
  return { warn: say('warn'), error: say('error'), deprecate: say('warn'), debug: none };
}
