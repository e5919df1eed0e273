/** The shop's database: read-only sessions, a small pool, a statement timeout, and UTC so cursors compare exactly. */
import pg from 'pg';
import { withConnectionRetry } from '../db-retry.js';

export interface SourceOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
  /** Told about each retry of a lost connection (for the log). */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

export interface Source {
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export function openSource(options: SourceOptions): Source {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName,
    statement_timeout: options.statementTimeoutMs > 0 ? options.statementTimeoutMs : undefined,
    options: '-c default_transaction_read_only=on -c TimeZone=UTC',
    idleTimeoutMillis: 10_000,
  });
  // An idle client that loses its connection must not crash the process; the next query reports the problem.
  pool.on('error', () => undefined);
  return {
    async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      // Every source statement is a read on its own (no transaction spans two), so repeating one is safe.
      const result = await withConnectionRetry(() => pool.query<R>(sql, params), { onRetry: options.onRetry });
      return result.rows;
    },
    close: () => pool.end(),
  };
}
