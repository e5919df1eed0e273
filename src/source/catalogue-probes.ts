/**
 * `check`'s cross-check of the catalogue: the product ids that orders, carts and wishlists name but the products
 * model does not have (PersonaClick would know no such product: no recommendation, no price for a purchase line sent
 * without one), and the ids longer than the catalogue and the events take (they would never match). Built here as
 * statements over the operator's models, never edited, only wrapped.
 */
import { MAX_CATALOGUE_ID_CHARS } from '../payloads/index.js';
import type { Source } from './db.js';
import { orderLinesStatement } from './orders.js';
import { fromModel, type Statement } from './statement.js';

/** Orders whose lines are checked: the most recently changed ones (the items model is read per page of orders). */
export const CROSS_CHECK_ORDERS = 1000;

export interface CrossCheck {
  /** Distinct product ids the model names. */
  referenced: number;
  /** Of those, how many the products model lacks, and a few of them. */
  missing: number;
  examples: string[];
  /** Of those, how many are longer than the catalogue allows. */
  tooLong: number;
}

/** The cross-check of one referencing statement (its rows have an `id` column) against the products model. */
export function crossCheckStatement(references: Statement, productsQuery: string): Statement {
  return {
    text: `WITH refs AS (SELECT DISTINCT r.id::text AS id FROM (
${references.text}
) AS r WHERE r.id IS NOT NULL),
     shop AS (SELECT q.id::text AS id FROM ${fromModel(productsQuery)}),
     lacking AS (SELECT refs.id FROM refs WHERE NOT EXISTS (SELECT 1 FROM shop WHERE shop.id = refs.id))
SELECT (SELECT count(*) FROM refs)::int AS referenced,
       (SELECT count(*) FROM lacking)::int AS missing,
       ARRAY(SELECT left(id, 60) FROM lacking ORDER BY id LIMIT 5) AS examples,
       (SELECT count(*) FROM refs WHERE length(id) > ${MAX_CATALOGUE_ID_CHARS})::int AS too_long`,
    values: references.values,
  };
}

/** A model read whole (carts, wishlists) as the referencing side. */
export function modelReferences(query: string): Statement {
  return { text: `SELECT q.* FROM ${fromModel(query)}`, values: [] };
}

/** The most recently changed orders' ids, whose lines the cross-check reads. */
export function recentOrdersStatement(ordersQuery: string): Statement {
  return { text: `SELECT q.order_id::text AS id FROM ${fromModel(ordersQuery)} ORDER BY q.updated_at DESC LIMIT ${CROSS_CHECK_ORDERS}`, values: [] };
}

export async function crossCheck(source: Source, references: Statement, productsQuery: string): Promise<CrossCheck> {
  const rows = await source.query<{ referenced: number; missing: number; examples: string[]; too_long: number }>(
    crossCheckStatement(references, productsQuery),
  );
  const r = rows[0];
  return { referenced: r?.referenced ?? 0, missing: r?.missing ?? 0, examples: r?.examples ?? [], tooLong: r?.too_long ?? 0 };
}

/** The lines of the most recent orders as the referencing side. */
export async function orderLineReferences(source: Source, ordersQuery: string, itemsQuery: string): Promise<Statement> {
  const ids = (await source.query<{ id: string }>(recentOrdersStatement(ordersQuery))).map((r) => r.id);
  return orderLinesStatement(itemsQuery, ids);
}
