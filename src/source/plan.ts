/** Reading a plan from EXPLAIN (FORMAT JSON): what orders the rows, which node scans what, and index columns that would serve a sort. */
import { columnRefs, indexColumn, quoteIdent } from './expr-text.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface PlanNode {
  type: string;
  children: PlanNode[];
  sortKey: string[];
  relation?: string | undefined;
  alias?: string | undefined;
  indexName?: string | undefined;
  rows: number;
  /** The planner's estimated total cost (arbitrary units: a sequential page read is 1). */
  totalCost: number;
  /** The conditions EXPLAIN VERBOSE writes on the node (Filter, Join Filter, Hash Cond, Merge Cond, Index Cond, Recheck Cond). */
  conditions: Partial<Record<Condition, string>>;
}

export type Condition = 'Filter' | 'Join Filter' | 'Hash Cond' | 'Merge Cond' | 'Index Cond' | 'Recheck Cond';
const CONDITIONS: readonly Condition[] = ['Filter', 'Join Filter', 'Hash Cond', 'Merge Cond', 'Index Cond', 'Recheck Cond'];

export function toPlanNode(value: unknown): PlanNode | undefined {
  if (!isRecord(value)) return undefined;
  const text = (key: string): string | undefined => (typeof value[key] === 'string' ? value[key] : undefined);
  const relationName = text('Relation Name');
  const schema = text('Schema');
  const children = Array.isArray(value.Plans) ? (value.Plans as unknown[]).map(toPlanNode).filter((n): n is PlanNode => n !== undefined) : [];
  const sortKey = Array.isArray(value['Sort Key']) ? (value['Sort Key'] as unknown[]).filter((k): k is string => typeof k === 'string') : [];
  const rows = typeof value['Plan Rows'] === 'number' ? value['Plan Rows'] : 0;
  const conditions: Partial<Record<Condition, string>> = {};
  for (const key of CONDITIONS) {
    const condition = text(key);
    if (condition !== undefined) conditions[key] = condition;
  }
  return {
    type: text('Node Type') ?? '?',
    children,
    sortKey,
    relation: relationName === undefined ? undefined : schema === undefined ? quoteIdent(relationName) : `${quoteIdent(schema)}.${quoteIdent(relationName)}`,
    alias: text('Alias'),
    indexName: text('Index Name'),
    rows,
    totalCost: typeof value['Total Cost'] === 'number' ? value['Total Cost'] : 0,
    conditions,
  };
}

/** Nodes that keep their input's order: the ordering of the query is decided below them (a WindowAgg: the running byte total of a page). */
const ORDER_PRESERVING = new Set(['Limit', 'Result', 'Subquery Scan', 'Gather Merge', 'Unique', 'ProjectSet', 'Materialize', 'LockRows', 'WindowAgg']);

/** What produces the query's order: a full Sort, an Incremental Sort over a presorted prefix, or an ordered path (an index). */
export function orderingOf(plan: PlanNode): { kind: 'sort' | 'incremental' | 'ordered'; node: PlanNode } {
  let node = plan;
  for (;;) {
    if (node.type === 'Sort') return { kind: 'sort', node };
    if (node.type === 'Incremental Sort') return { kind: 'incremental', node };
    const child = node.children[0];
    if (!ORDER_PRESERVING.has(node.type) || !child) return { kind: 'ordered', node };
    node = child;
  }
}

export function findNode(node: PlanNode, test: (n: PlanNode) => boolean): PlanNode | undefined {
  if (test(node)) return node;
  for (const child of node.children) {
    const found = findNode(child, test);
    if (found) return found;
  }
  return undefined;
}

/** Every node of the plan, each with the nodes above it (nearest first). */
export function walk(plan: PlanNode, visit: (node: PlanNode, ancestors: readonly PlanNode[]) => void): void {
  const go = (node: PlanNode, ancestors: PlanNode[]) => {
    visit(node, ancestors);
    for (const child of node.children) go(child, [node, ...ancestors]);
  };
  go(plan, []);
}

/** The scans of tables under a node (any scan that names a relation), with their aliases. */
export function relationScans(node: PlanNode): PlanNode[] {
  const found: PlanNode[] = [];
  walk(node, (n) => {
    if (n.relation !== undefined) found.push(n);
  });
  return found;
}

/**
 * The table a sort's keys come from and index columns that would serve it, where every key is a column or an
 * expression of that one table: `(updated_at, id)`, `(updated_at, ('N'::text || number::text))`,
 * `(device_id COLLATE "C")`. Keys of several tables, or of a subquery's output, give only the table (when one is
 * scanned) and no columns: no index can serve them.
 */
export function sortTarget(sort: PlanNode): { table?: string | undefined; columns?: string | undefined } {
  const scans = relationScans(sort);
  const aliases = new Set(sort.sortKey.flatMap((key) => columnRefs(key).map((r) => r.alias)));
  const [alias] = aliases;
  const byAlias = alias === undefined ? undefined : scans.find((n) => n.alias === alias);
  const table = byAlias?.relation ?? (scans.length === 1 ? scans[0]?.relation : undefined);
  if (aliases.size !== 1 || alias === undefined || !byAlias || sort.sortKey.length === 0) return { table };
  return { table, columns: `(${sort.sortKey.map((key) => indexColumn(key, alias)).join(', ')})` };
}
