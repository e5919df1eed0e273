/**
 * Where knex's own messages go. Left alone, knex prints warnings ("Acquire connection error: …" with a stack) with
 * console.log, on stdout, where they break `--dry-run` NDJSON and `--json` output. Here they go through the logger
 * (stderr), or, where there is none, as one line on stderr; always outward text (one bounded line, see outward.ts).
 */
import type { Knex } from 'knex';
import type { Logger } from './log.js';
import { outwardText } from './outward.js';

const none = (): void => undefined;

export function knexLog(opts: { log?: Logger | undefined; quiet?: boolean | undefined; what: string }): NonNullable<Knex.Config['log']> {
  if (opts.quiet === true) return { warn: none, error: none, deprecate: none, debug: none };
  const say = (level: 'warn' | 'error') => (message: unknown) => {
    const text = outwardText(typeof message === 'string' ? message : String(message), [], 500);
    if (opts.log) opts.log[level]({ source: 'knex' }, `${opts.what}: ${text}`);
    else process.stderr.write(`personaclick-sync: ${opts.what}: ${text}\n`);
  };
  return { warn: say('warn'), error: say('error'), deprecate: say('warn'), debug: none };
}
