/**
 * Which database a failed connection was to: knex's connection acquisition (the one place every statement of a
 * database passes through to get a connection) is wrapped so that its failures name their setting, `source.url` or
 * `state.url`, and where it points (never the password). knex's own warnings (with stacks) go to the given sink.
 */
import type { Knex } from 'knex';
import { redactUrl } from './config/secrets.js';
import { DatabaseUnreachableError, toError } from './errors.js';
import { isConnectionError } from './db-retry.js';

interface Pool {
  acquireConnection(): Promise<unknown>;
}

/** `user@host:port/database` of a postgres URL, never its password. */
export function whereOf(url: string): string {
  try {
    const u = new URL(url);
    const user = decodeURIComponent(u.username);
    const host = u.hostname !== '' ? u.hostname : (u.searchParams.get('host') ?? 'localhost');
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return `${user === '' ? '' : `${user}@`}${host}:${u.port === '' ? '5432' : u.port}/${database === '' ? user : database}`;
  } catch {
    return redactUrl(url);
  }
}

export function nameUnreachable(knex: Knex, setting: 'source.url' | 'state.url', url: string): void {
  const pool = knex.client as Pool;
  const acquire = pool.acquireConnection.bind(pool);
  pool.acquireConnection = async () => {
    try {
      return await acquire();
    } catch (caught) {
      const error = toError(caught);
      if (error instanceof DatabaseUnreachableError || !isUnreachable(error)) throw caught;
      throw new DatabaseUnreachableError(setting, whereOf(url), error);
    }
  };
}

/** A failure to get a connection at all: refused, unknown host, timed out, or refused at login (password, role, database). */
function isUnreachable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (isConnectionError(error)) return true;
  if (error.name === 'KnexTimeoutError') return true;
  // 28P01 password, 28000 no such role / pg_hba, 3D000 no such database: the URL is wrong.
  return code === '28P01' || code === '28000' || code === '3D000';
}
