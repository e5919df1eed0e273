/** Reading a plan from EXPLAIN (FORMAT JSON): what orders the rows, which node scans what, and index columns that would serve a sort. */

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
}

export function toPlanNode(value: unknown): PlanNode | undefined {
  if (!isRecord(value)) return undefined;
  const text = (key: string): string | undefined => (typeof value[key] === 'string' ? value[key] : undefined);
  const relationName = text('Relation Name');
  const schema = text('Schema');
  const children = Array.isArray(value.Plans) ? (value.Plans as unknown[]).map(toPlanNode).filter((n): n is PlanNode => n !== undefined) : [];
  const sortKey = Array.isArray(value['Sort Key']) ? (value['Sort Key'] as unknown[]).filter((k): k is string => typeof k === 'string') : [];
  const rows = typeof value['Plan Rows'] === 'number' ? value['Plan Rows'] : 0;
  return {
    type: text('Node Type') ?? '?',
    children,
    sortKey,
    relation: relationName === undefined ? undefined : schema === undefined ? relationName : `${schema}.${relationName}`,
    alias: text('Alias'),
    indexName: text('Index Name'),
    rows,
  };
}

/** Nodes that keep their input's order: the ordering of the query is decided below them. */
const ORDER_PRESERVING = new Set(['Limit', 'Result', 'Subquery Scan', 'Gather Merge', 'Unique', 'ProjectSet', 'Materialize', 'LockRows']);

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

interface SortKeyPart {
  alias: string;
  column: string;
  cast?: string | undefined;
  collation?: string | undefined;
}

const IDENT = String.raw`(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")`;
/** `o.updated_at`, `((o.id)::text)`, `c.device_id COLLATE "C"`, `((c.device_id)::text) COLLATE "C"` as EXPLAIN VERBOSE writes sort keys. */
const SORT_KEY = new RegExp(String.raw`^\(*(${IDENT})\.(${IDENT})\)*(?:::([\w ]+?)\)*)?(?:\s+COLLATE\s+(${IDENT}))?$`);

function parseSortKey(key: string): SortKeyPart | undefined {
  const m = SORT_KEY.exec(key.trim());
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { alias: m[1], column: m[2], cast: m[3]?.trim(), collation: m[4] };
}

/** The table the sort keys come from and index columns that would serve them, where the keys are plain columns of one table. */
export function sortTarget(sort: PlanNode): { table?: string | undefined; columns?: string | undefined } {
  const parts = sort.sortKey.map(parseSortKey);
  const first = parts[0];
  const scans = (alias?: string) => {
    const found: PlanNode[] = [];
    const walk = (n: PlanNode) => {
      if (n.relation !== undefined && (alias === undefined || n.alias === alias)) found.push(n);
      n.children.forEach(walk);
    };
    walk(sort);
    return found;
  };
  const byAlias = first ? scans(first.alias)[0] : undefined;
  const all = scans();
  const table = byAlias?.relation ?? (all.length === 1 ? all[0]?.relation : undefined);
  if (!first || !byAlias || parts.some((p) => p === undefined || p.alias !== first.alias)) return { table };
  const columns = parts
    .filter((p): p is SortKeyPart => p !== undefined)
    .map((p) => {
      const base = p.cast === undefined ? p.column : `(${p.column}::${p.cast})`;
      return p.collation === undefined ? base : `${base} COLLATE ${p.collation}`;
    });
  return { table, columns: `(${columns.join(', ')})` };
}

/** "a sequential scan of shop.orders (~20000 rows)", "a hash join (~80000 rows)". */
export function scanText(sort: PlanNode): string {
  const input = sort.children[0];
  if (!input) return 'its input';
  const kind = input.type === 'Seq Scan' ? 'a sequential scan' : `a ${input.type.toLowerCase()}`;
  return `${kind}${input.relation ? ` of ${input.relation}` : ''} (~${Math.round(input.rows)} rows)`;
}
