/**
 * Before a run sends anything: its models have their required columns, and the orders model gives each order
 * of the run's range once. A broken rule stops the run (ModelError, exit 2) with one line naming the model, and nothing
 * is sent or filed: a join that multiplies rows would otherwise send a purchase twice or put one id twice in a
 * `/sync/orders` batch, and a missing column would file every order invalid and let the watermark pass them.
 */
import type { OrdersJobConfig } from '../src/config/index.js';
import { ModelError } from '../src/errors.js';
import type { Source } from '../src/source/db.js';
import { ITEMS_MODEL, ORDERS_MODEL, type ModelSpec } from '../src/source/models.js';
import { orderLinesStatement, repeatedOrders, type OrderRow, type OrderSpan } from '../src/source/orders.js';
import { modelColumns } from '../src/source/probes.js';
import { missingColumns, missingColumnText, repeatedKeysText } from '../src/source/shape.js';

const STOPPED = 'the run stopped before sending anything of it (the watermark stays); fix the model, then run again';

function modelError(spec: ModelSpec, text: string): ModelError {
  return new ModelError(`model error: ${spec.subject} ${text}; ${STOPPED}`);
}

/** A model's columns (read with LIMIT 0, `values` bound as a run binds them), each required one there. */
export async function requireColumns(source: Source, spec: ModelSpec, query: string, values: readonly unknown[] = []): Promise<Set<string>> {
  const have = await modelColumns(source, query, values);
  const missing = missingColumns(spec, have);
  if (missing.length > 0) throw modelError(spec, missing.map((c) => missingColumnText(spec, c, have)).join('; '));
  return have;
}

/** The columns of the orders and items models; returns the orders model's. */
export async function requireOrderColumns(source: Source, job: Pick<OrdersJobConfig, 'query' | 'itemsQuery'>): Promise<Set<string>> {
  const columns = await requireColumns(source, ORDERS_MODEL, job.query);
  const lines = orderLinesStatement(job.itemsQuery, []);
  await requireColumns(source, ITEMS_MODEL, lines.text, lines.values);
  return columns;
}

/** The orders of the range, each once. */
export async function requireOnceEach(source: Source, query: string, range: OrderSpan): Promise<void> {
  const repeated = await repeatedOrders(source, query, range);
  if (repeated.length > 0) throw modelError(ORDERS_MODEL, repeatedKeysText(ORDERS_MODEL, 'order_id', repeated));
}

/** Rows read (a page, or replay's orders by key) that hold one order twice: the same error, before any of them is told. */
export function requireDistinct(rows: readonly OrderRow[]): void {
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.key, (seen.get(r.key) ?? 0) + 1);
  const repeated = [...seen]
    .filter(([, n]) => n > 1)
    .slice(0, 5)
    .map(([key, n]) => ({ key, rows: n }));
  if (repeated.length > 0) throw modelError(ORDERS_MODEL, repeatedKeysText(ORDERS_MODEL, 'order_id', repeated));
}
