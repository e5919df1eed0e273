/** What a job run needs, opened from the config once: the shop's database, the state database, the API client. */
import type { Config } from '../config/index.js';
import type { JobLock } from '../state/lock.js';
import type { Logger } from '../log.js';
import { PersonaClickClient } from '../delivery/client.js';
import { maxInFlight } from '../delivery/queue.js';
import { openSource, sourceOptionsOf, type Source } from '../source/db.js';
import { openStateDb, type StateDb } from '../state/db.js';

export interface Services {
  config: Config;
  source: Source;
  state: StateDb;
  /** Absent in dry runs: nothing may be sent. */
  client: PersonaClickClient | undefined;
  /**
   * Takes another job's lock for a run that also does that job's work (products take the categories' lock); default: a
   * dedicated connection to `state.url`, as every run's own lock. The embedded demo, which has no server to connect
   * to and runs one thing at a time, takes none.
   */
  takeLock?: ((name: string) => Promise<JobLock | undefined>) | undefined;
  close(): Promise<void>;
}

export function openServices(config: Config, opts: { dryRun: boolean; log?: Logger }): Services {
  const log = opts.log;
  const source = openSource({
    ...sourceOptionsOf(config.source),
    onRetry: log ? (err, attempt, delayMs) => log.warn({ err: err.cause ?? err, attempt, delayMs }, 'shop database connection lost; query retried') : undefined,
    log,
  });
  const state = openStateDb(config.state.url, config.state.schema, { applicationName: config.source.applicationName, log });
  const client = opts.dryRun
    ? undefined
    : new PersonaClickClient({ url: config.personaclick.url, timeoutMs: config.personaclick.timeoutMs, connections: maxInFlight(config.delivery) });
  return {
    config,
    source,
    state,
    client,
    async close() {
      await Promise.allSettled([source.close(), state.close(), client?.close()]);
    },
  };
}
