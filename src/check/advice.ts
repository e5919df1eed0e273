/**
 * From the plan of a page statement to what would make it cheap: the index that serves a keyset sort (expressions
 * included), and for each table read in full on every page, the index or the rewrite that ends it, derived from the
 * plan's own Filter / Hash Cond / Join Filter text and the catalog's facts about the table. Where nothing specific
 * can be derived, the advice says so.
 */
import { anyComparisons, columnRefs, equalities, indexColumn, keyInverse, plainColumn, quoteIdent, stripParens } from '../source/expr-text.js';
import { relationScans, sortTarget, walk, type PlanNode } from '../source/plan.js';
import type { TableFacts } from '../source/probes.js';

/** Below this many rows a table read in full costs little: no advice. */
export const SMALL_TABLE_ROWS = 10_000;

/** What to do, as data: statements to run on the shop's database, and a change to the model's text. */
export interface Fix {
  sql: string[];
  /** Replace the condition (as EXPLAIN writes it) with the replacement, in the model's SQL. */
  rewrite?: { condition: string; replacement: string } | undefined;
}

export interface ScanAdvice {
  /** The scan read in full on every page. */
  node: PlanNode;
  relation: string;
  /** The table's rows (the catalog's count, or the plan's where the table was never analyzed). */
  tableRows: number;
  /** Why the plan reads it, in words: "to join its rows on l.order_id = o.id". */
  reason: string;
  /** What to do, in words, with the SQL; or a plain statement that nothing specific can be named. */
  remedy: string;
  /** Undefined when nothing specific can be derived. */
  fix: Fix | undefined;
}

export interface ScanContext {
  /** Catalog facts of the tables the plan scans. */
  facts: ReadonlyMap<string, TableFacts>;
  /** The values bound to the statement's array parameter (the page's order ids), to tell `= ANY (:order_ids)` from other lists. */
  boundKeys?: readonly string[] | undefined;
  /** The parameter's name in the model's SQL, for rewrites: ':order_ids'. */
  parameter?: string | undefined;
  /** The role the connector reads as (for ALTER ROLE advice). */
  role?: string | undefined;
}

/** The index statement that serves a sort's keys, when they are columns or expressions of one table. */
export function sortIndex(sort: PlanNode): { table: string | undefined; columns: string | undefined; sql: string | undefined } {
  const { table, columns } = sortTarget(sort);
  return { table, columns, sql: table !== undefined && columns !== undefined ? `CREATE INDEX ON ${table} ${columns}` : undefined };
}

/** Sequential scans of tables big enough to matter, each with its advice. `skip`: scans already accounted for. */
export function perPageScans(plan: PlanNode, context: ScanContext, skip: ReadonlySet<PlanNode> = new Set()): ScanAdvice[] {
  const found: ScanAdvice[] = [];
  walk(plan, (node, ancestors) => {
    if (node.type !== 'Seq Scan' || node.relation === undefined || skip.has(node)) return;
    const facts = context.facts.get(node.relation);
    const tableRows = facts && facts.rows >= 0 ? Math.max(facts.rows, node.rows) : node.rows;
    if (tableRows < SMALL_TABLE_ROWS) return;
    found.push({ node, relation: node.relation, tableRows, ...scanAdvice(node, ancestors, facts, context) });
  });
  // The scans with a remedy first: a scan whose remedy is "fix the other side" comes after that side.
  return [...found.filter((s) => s.fix), ...found.filter((s) => !s.fix)];
}

type Advice = Pick<ScanAdvice, 'reason' | 'remedy' | 'fix'>;

function scanAdvice(node: PlanNode, ancestors: readonly PlanNode[], facts: TableFacts | undefined, context: ScanContext): Advice {
  const relation = node.relation ?? '?';
  const alias = node.alias ?? '';
  // 1. Its own filter compares something of this table to the bound list: the list could have been looked up.
  for (const { left, right } of anyComparisons(node.conditions.Filter ?? '')) {
    if (!isBoundList(right, context) || !columnRefs(left).some((r) => r.alias === alias)) continue;
    return listAdvice(node, left, facts, context);
  }
  // 2. It is one side of a join: an index on its join column lets the join look rows up instead.
  const join = ancestors.find((a) => a.type === 'Hash Join' || a.type === 'Merge Join' || a.type === 'Nested Loop');
  const condition = join ? (join.conditions['Hash Cond'] ?? join.conditions['Merge Cond'] ?? join.conditions['Join Filter']) : undefined;
  if (join && condition !== undefined) {
    for (const [a, b] of equalities(condition)) {
      const [mine, other] =
        columnRefs(a).every((r) => r.alias === alias) && columnRefs(a).length > 0
          ? [a, b]
          : columnRefs(b).every((r) => r.alias === alias) && columnRefs(b).length > 0
            ? [b, a]
            : [undefined, undefined];
      if (mine === undefined || other === undefined) continue;
      const otherRows = otherSideRows(join, node);
      return joinAdvice(node, mine, other, otherRows, facts, context);
    }
  }
  const filter = node.conditions.Filter;
  return filter === undefined
    ? {
        reason: 'and no condition of the plan narrows it',
        remedy: `no specific index can be named: look at how the model joins and limits ${relation}`,
        fix: undefined,
      }
    : {
        reason: `to filter its rows (${shorten(filter)})`,
        remedy: 'no specific index can be named from that condition: an index on the columns it compares may serve it',
        fix: undefined,
      };
}

/** `right` is the statement's bound array: a parameter, or the literal of the page's ids the planner inlined. */
function isBoundList(right: string, context: ScanContext): boolean {
  if (/^\(*\$\d+\)*(::[\w ]+\[\])?$/.test(right)) return true;
  const first = context.boundKeys?.[0];
  return first !== undefined && right.startsWith("'{") && right.includes(first.replace(/'/g, "''"));
}

/** `expr = ANY (:order_ids)` on a table read in full. */
function listAdvice(node: PlanNode, left: string, facts: TableFacts | undefined, context: ScanContext): Advice {
  const relation = node.relation ?? '?';
  const alias = node.alias ?? '';
  const parameter = context.parameter ?? ':order_ids';
  const condition = `${left} = ANY (${parameter})`;
  const column = plainColumn(left);
  if (column) {
    const existing = leadingIndex(facts, column.column);
    if (existing === undefined) {
      const sql = `CREATE INDEX ON ${relation} (${column.column})`;
      return { reason: `to find ${condition}`, remedy: sql, fix: { sql: [sql] } };
    }
    return {
      reason: `to find ${condition}, although index ${existing} leads with ${column.column} (the planner expects ~${count(node.rows)} rows to match)`,
      remedy: costHint(context),
      fix: undefined,
    };
  }
  const expressionIndex = `CREATE INDEX ON ${relation} (${indexColumn(left, alias)})`;
  const analyze = `ANALYZE ${relation}`;
  const reason = `to find ${condition}, an expression no index can look up (the planner guesses ~${count(node.rows)} rows match)`;
  const inverse = keyInverse(left);
  const type = inverse ? facts?.columnTypes.get(unquote(inverse.column.column)) : undefined;
  if (inverse && inverse.column.alias === alias && type !== undefined) {
    const target = `${inverse.column.alias}.${inverse.column.column}`;
    const replacement =
      inverse.fromKey === undefined
        ? `${target} = ANY (${parameter}::${type}[])`
        : `${target} = ANY (ARRAY(SELECT ${inverse.fromKey('x')}::${type} FROM unnest(${parameter}::text[]) AS x))`;
    return {
      reason,
      remedy: `compare the column itself: replace ${condition} with ${replacement} (or index the expression: ${expressionIndex}; ${analyze})`,
      fix: { sql: [], rewrite: { condition, replacement } },
    };
  }
  return { reason, remedy: `index the expression: ${expressionIndex}; ${analyze}`, fix: { sql: [expressionIndex, analyze] } };
}

/** A table read in full on one side of a join. */
function joinAdvice(node: PlanNode, mine: string, other: string, otherRows: number | undefined, facts: TableFacts | undefined, context: ScanContext): Advice {
  const relation = node.relation ?? '?';
  const alias = node.alias ?? '';
  const column = plainColumn(mine);
  const key = column ? column.column : indexColumn(mine, alias);
  const existing = column ? leadingIndex(facts, column.column) : leadingIndex(facts, stripParens(indexColumn(mine, alias)));
  const joined = `${stripParens(mine)} = ${stripParens(other)}`;
  if (existing === undefined) {
    const sql = `CREATE INDEX ON ${relation} (${key})`;
    const statements = column ? [sql] : [sql, `ANALYZE ${relation}`];
    return { reason: `to join its rows on ${joined}`, remedy: statements.join('; '), fix: { sql: statements } };
  }
  const expected = otherRows === undefined ? '' : ` for the ~${count(otherRows)} rows the planner expects from the other side`;
  const reason = `to join its rows on ${joined}${expected}, although index ${existing} could look them up`;
  if (otherRows !== undefined && otherRows * 10 >= node.rows)
    return {
      reason,
      remedy: 'that estimate is the problem: fix what makes the other side look that large first (a warning above names it where it can)',
      fix: undefined,
    };
  return { reason, remedy: `the planner prefers one sequential read to that many index lookups; ${costHint(context)}`, fix: undefined };
}

function costHint(context: ScanContext): string {
  const role = context.role === undefined ? '<the connector role>' : quoteIdent(context.role);
  return `if the shop's data is on SSDs or in memory, ALTER ROLE ${role} SET random_page_cost = 1.1 lets the planner prefer indexes in the connector's sessions`;
}

/** Rows the planner expects from the join's other input. */
function otherSideRows(join: PlanNode, scan: PlanNode): number | undefined {
  const other = join.children.find((child) => !relationScans(child).includes(scan));
  return other?.rows;
}

/** The name of a (non-partial) index whose first column is `column`. */
function leadingIndex(facts: TableFacts | undefined, column: string): string | undefined {
  const wanted = normalise(column);
  return facts?.indexes.find((i) => i.predicate === null && i.columns[0] !== undefined && normalise(i.columns[0]) === wanted)?.name;
}

function normalise(column: string): string {
  return stripParens(column).replace(/\s+/g, ' ');
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A condition for a message: long literals (a bound list of ids) cut short. */
function shorten(condition: string): string {
  return stripParens(condition).replace(/'(?:[^']|''){40,}'/g, "'…'");
}
