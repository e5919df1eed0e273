/**
 * Monitoring: what a run's end adds to its runs row (the answers by status class, a volume notice) and the last
 * state the webhook was told of, per job.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex, schema: string): Promise<void> {
  await knex.schema.withSchema(schema).alterTable('runs', (t) => {
    t.jsonb('answers'); // API answers of the run by status class: {"2xx": 120, "5xx": 3, "network": 1}
    t.text('notice'); // the run's volume alerts, one sentence each, for `status`; null when none
  });
  await knex.schema.withSchema(schema).createTable('notify_state', (t) => {
    t.text('key').primary(); // job, mode and shard: "orders sync", "orders backfill 0/4"
    t.text('state').notNullable(); // the state the webhook was last told of: ok | failing | halted | volume | failures
    t.text('detail'); // what the message said about it
    t.timestamp('since', { useTz: true }).notNullable().defaultTo(knex.fn.now()); // when that state began
    t.text('run_id'); // the run that changed it
  });
}

export async function down(knex: Knex, schema: string): Promise<void> {
  await knex.schema.withSchema(schema).dropTableIfExists('notify_state');
  await knex.schema.withSchema(schema).alterTable('runs', (t) => {
    t.dropColumn('notice');
    t.dropColumn('answers');
  });
}
