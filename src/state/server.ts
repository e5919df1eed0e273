/** What `check` asks the state database: what server it is and whether the connector can write there. */
import type { StateDb } from './db.js';

export interface StateServer {
  version: string;
  /** A standby, or a session whose transactions are read-only by default: the connector could not keep its books. */
  readOnly: boolean;
  standby: boolean;
}

export async function stateServer(db: StateDb): Promise<StateServer> {
  const result = await db.knex.raw<{ rows: { version: string; recovery: boolean; read_only: string }[] }>(
    `SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS recovery, current_setting('default_transaction_read_only') AS read_only`,
  );
  const row = result.rows[0];
  if (!row) throw new Error('the version query returned no row');
  return { version: row.version.split(' ')[0] ?? row.version, standby: row.recovery, readOnly: row.recovery || row.read_only === 'on' };
}
