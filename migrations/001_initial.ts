/** The connector's own books: watermarks, the delivered ledger, failures, runs. */
import type { Knex } from 'knex';

export async function up(knex: Knex, schema: string): Promise<void> {
  await knex.schema.withSchema(schema).createTable('watermarks', (t) => {
    t.text('name').primary(); // job stream, e.g. "orders", "orders:backfill:2024-01-01..2024-02-01", "orders#2/4"
    t.text('cursor_ts').notNullable(); // updated_at of the last row passed, UTC, microseconds: 2026-01-02T03:04:05.123456Z
    t.text('cursor_key'); // its key; null = start at cursor_ts inclusive
    t.text('upper_bound'); // the frozen bound of the run that wrote it
    t.text('run_id');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.withSchema(schema).createTable('ledger', (t) => {
    t.text('job').notNullable(); // ledger namespace: orders, carts, wishlists, events
    // byte order ("C"), so mirror jobs can merge-join the ledger with a snapshot sorted the same way, by index
    t.specificType('key', 'text COLLATE "C"').notNullable(); // order id, device id, event key
    t.text('hash'); // content hash for mirrors (carts, wishlists)
    t.text('run_id');
    t.timestamp('delivered_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['job', 'key']);
  });
  await knex.schema.withSchema(schema).createTable('failures', (t) => {
    t.bigIncrements('id');
    t.text('job').notNullable();
    t.text('key').notNullable();
    t.text('class').notNullable(); // invalid | rejected | transient
    t.text('reason').notNullable();
    t.integer('status'); // HTTP status for rejected
    t.integer('occurrences').notNullable().defaultTo(1);
    t.text('run_id');
    t.timestamp('first_failed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_failed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('resolved_at', { useTz: true });
  });
  await knex.raw('CREATE UNIQUE INDEX failures_open_key ON ??.failures (job, key) WHERE resolved_at IS NULL', [schema]);
  await knex.raw('CREATE INDEX failures_open_class ON ??.failures (job, class) WHERE resolved_at IS NULL', [schema]);
  await knex.schema.withSchema(schema).createTable('runs', (t) => {
    t.text('id').primary();
    t.text('job').notNullable();
    t.text('mode').notNullable(); // sync | backfill | reconcile | events | replay
    t.text('shard');
    t.text('status').notNullable(); // running | done | halted | fatal | interrupted | failed
    t.boolean('dry_run').notNullable().defaultTo(false);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.bigInteger('read').notNullable().defaultTo(0);
    t.bigInteger('sent').notNullable().defaultTo(0);
    t.bigInteger('skipped').notNullable().defaultTo(0);
    t.bigInteger('invalid').notNullable().defaultTo(0);
    t.bigInteger('rejected').notNullable().defaultTo(0);
    t.bigInteger('retries').notNullable().defaultTo(0);
    t.text('error');
    t.text('host');
    t.integer('pid');
  });
  await knex.raw('CREATE INDEX runs_job_started ON ??.runs (job, started_at DESC)', [schema]);
}

export async function down(knex: Knex, schema: string): Promise<void> {
  for (const table of ['runs', 'failures', 'ledger', 'watermarks']) {
    await knex.schema.withSchema(schema).dropTableIfExists(table);
  }
}
