/**
 * The import budget: PersonaClick's secret-bearing imports (the order-sync API, the catalogue imports) share one
 * documented rate of 40 requests a minute per shop. Every job, shard and process claims its next slot here, so that
 * together they never exceed it (src/state/budget.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex, schema: string): Promise<void> {
  await knex.schema.withSchema(schema).createTable('import_budget', (t) => {
    t.text('shop').primary(); // the shop id the requests are for
    t.timestamp('next_at', { useTz: true }).notNullable(); // the earliest time the next request may start
  });
}

export async function down(knex: Knex, schema: string): Promise<void> {
  await knex.schema.withSchema(schema).dropTableIfExists('import_budget');
}
