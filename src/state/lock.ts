/**
 * One runner per job (and shard): a Postgres session advisory lock held on a dedicated connection (never a pool
 * connection, which could hand the lock to someone else). It dies with its holder, kill -9 included.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { DatabaseUnreachableError, LockedError, toError } from '../errors.js';
import { isConnectionError } from '../db-retry.js';
import { whereOf } from '../db-unreachable.js';
import { STATE_DEADLINES } from './db.js';

const LOCK_CLASS = 4242; // first key of the two-key advisory lock: "personaclick-sync"

export interface JobLock {
  name: string;
  /** Aborted if the lock's connection is lost: exclusivity is no longer guaranteed, so the run should stop. */
  lost: AbortSignal;
  release(): Promise<void>;
}

/** A failure to connect for the lock, named as the state database's (state.url); anything else as it is. */
function unreachableState(caught: unknown, url: string): unknown {
  const error = toError(caught);
  const code = (error as { code?: unknown }).code;
  const refusedLogin = code === '28P01' || code === '28000' || code === '3D000';
  return isConnectionError(error) || refusedLogin ? new DatabaseUnreachableError('state.url', whereOf(url), error) : caught;
}

export async function acquireJobLock(url: string, schema: string, name: string): Promise<JobLock> {
  const key = `${schema}:${name}`;
  // The state database's deadlines (db.ts): a server that accepts and never answers cannot hold the run at its start.
  const client = new pg.Client({
    connectionString: url,
    application_name: `personaclick-sync lock ${name} ${hostname()}:${process.pid}`.slice(0, 63),
    connectionTimeoutMillis: STATE_DEADLINES.connectMs,
    statement_timeout: STATE_DEADLINES.statementMs,
    query_timeout: STATE_DEADLINES.statementMs + STATE_DEADLINES.answerGraceMs,
    lock_timeout: STATE_DEADLINES.lockMs,
    keepAlive: true,
  });
  const lost = new AbortController();
  let released = false;
  client.on('error', (error) => {
    if (!released) lost.abort(toError(error));
  });
  client.on('end', () => {
    if (!released) lost.abort(new Error(`the connection holding the lock "${name}" ended`));
  });
  await client.connect().catch((caught: unknown) => {
    throw unreachableState(caught, url);
  });
  try {
    const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS, key]);
    if (got.rows[0]?.ok !== true) {
      const holder = await client.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: Date }>(
        `SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid::bigint = (hashtext($2)::bigint & 4294967295) AND l.objsubid = 2`,
        [LOCK_CLASS, key],
      );
      const h = holder.rows[0];
      const who = h
        ? `${h.application_name || 'unknown'} (backend pid ${h.pid}${h.client_addr ? ` from ${h.client_addr}` : ''}, since ${h.backend_start.toISOString()})`
        : 'another session';
      throw new LockedError(`job "${name}" is already running: its lock is held by ${who}`);
    }
  } catch (caught) {
    released = true;
    await client.end().catch(() => undefined);
    throw caught;
  }
  return {
    name,
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, key]);
      } finally {
        await client.end(); // closing the session frees the lock even if the unlock failed
      }
    },
  };
}
