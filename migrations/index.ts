/** Every migration in order. Listed here rather than read from disk so the built CLI carries them wherever it runs. */
import type { Knex } from 'knex';
import * as m001 from './001_initial.js';
import * as m002 from './002_ledger_envelope.js';
import * as m003 from './003_order_roads.js';
import * as m004 from './004_monitoring.js';
import * as m005 from './005_import_budget.js';

export interface Migration {
  name: string;
  up(knex: Knex, schema: string): Promise<void>;
  down(knex: Knex, schema: string): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  { name: '001_initial', ...m001 },
  { name: '002_ledger_envelope', ...m002 },
  { name: '003_order_roads', ...m003 },
  { name: '004_monitoring', ...m004 },
  { name: '005_import_budget', ...m005 },
];
