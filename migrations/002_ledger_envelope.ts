/**
 * The ledger remembers the stream and segment of each mirrored device's last full request, so that the request
 * clearing its cart or wishlist goes out on them; runs count the requests sent with warnings. Written so that
 * running it twice (or over a schema that already has the columns) is harmless.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex, schema: string): Promise<void> {
  await knex.raw('ALTER TABLE ??.ledger ADD COLUMN IF NOT EXISTS stream text, ADD COLUMN IF NOT EXISTS segment text', [schema]);
  await knex.raw('ALTER TABLE ??.runs ADD COLUMN IF NOT EXISTS warnings bigint NOT NULL DEFAULT 0', [schema]);
}

export async function down(knex: Knex, schema: string): Promise<void> {
  await knex.raw('ALTER TABLE ??.ledger DROP COLUMN IF EXISTS stream, DROP COLUMN IF EXISTS segment', [schema]);
  await knex.raw('ALTER TABLE ??.runs DROP COLUMN IF EXISTS warnings', [schema]);
}
