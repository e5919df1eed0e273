/**
 * Two roads for orders, one ledger: the ledger says by which road an order went out (`push`: a live purchase event;
 * `sync`: the order-sync API) and the model's updated_at of the order state PersonaClick was last told (`state_ts`,
 * cursor text), so a status never goes backwards; its `hash` holds that state's digest. A failure says which road
 * it failed on, so replay sends it again the same way. Running it twice is harmless.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex, schema: string): Promise<void> {
  await knex.raw('ALTER TABLE ??.ledger ADD COLUMN IF NOT EXISTS road text, ADD COLUMN IF NOT EXISTS state_ts text', [schema]);
  await knex.raw('ALTER TABLE ??.failures ADD COLUMN IF NOT EXISTS road text', [schema]);
}

export async function down(knex: Knex, schema: string): Promise<void> {
  await knex.raw('ALTER TABLE ??.ledger DROP COLUMN IF EXISTS road, DROP COLUMN IF EXISTS state_ts', [schema]);
  await knex.raw('ALTER TABLE ??.failures DROP COLUMN IF EXISTS road', [schema]);
}
