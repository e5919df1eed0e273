/**
 * The shape rules of a SQL model (docs/model-shape.md): the columns it must give, and one row per key. `check` reports
 * a broken rule as an error finding; a run stops on it (a ModelError, exit 2) before it sends anything.
 */
import type { ModelSpec } from './models.js';
import type { RepeatedKey } from './orders.js';

/** The required columns of `spec` that `columns` lacks, in the spec's order. */
export function missingColumns(spec: ModelSpec, columns: ReadonlySet<string>): string[] {
  return Object.keys(spec.required).filter((c) => !columns.has(c));
}

/** One line for a required column the model lacks: which, why it is needed, and the rule. */
export function missingColumnText(spec: ModelSpec, column: string, columns: ReadonlySet<string>): string {
  const required = Object.keys(spec.required);
  const near = [...columns].find((c) => c.toLowerCase() === column);
  return (
    `missing required column ${column}: ${spec.required[column] ?? ''} (rule: ${spec.shape} with ${required.join(', ')})` +
    (near === undefined ? '' : `; the model has "${near}", which differs only in case: alias it AS ${column}`)
  );
}

/** One line for keys a model gives more than once: the keys (a few), and how to write the model so that it does not. */
export function repeatedKeysText(spec: ModelSpec, keyColumn: string, repeated: readonly RepeatedKey[]): string {
  const keys = repeated.map((r) => `${r.key} (${r.rows} rows)`).join(', ');
  return (
    `gives ${keyColumn} ${keys} more than once: the rule is ${spec.shape}, and a join to payments, shipments or ` +
    `addresses multiplies it; aggregate the joined rows per ${keyColumn} (sum(...) with GROUP BY), keep one with DISTINCT ON (${keyColumn}), ` +
    'or move the join into a subquery (LEFT JOIN LATERAL (...) ON true)'
  );
}
