/**
 * What the role the connector reads the shop with may do beyond reading. The read-only transaction stops what a
 * transaction can stop; a superuser can still write through dblink, run programs with COPY … TO PROGRAM, write
 * files, create replication slots. These probes read the catalogue only (nothing is tried).
 */
import type { Source } from './db.js';

/** Extensions that reach outside a read-only transaction (another connection, the file system). */
export const DANGEROUS_EXTENSIONS = ['dblink', 'postgres_fdw', 'file_fdw', 'adminpack', 'pg_cron', 'plpython3u', 'plperlu', 'pltclu', 'lo'] as const;

export interface RolePrivileges {
  role: string;
  superuser: boolean;
  replication: boolean;
  /** Member of pg_write_server_files (COPY … TO a file on the server). */
  writeServerFiles: boolean;
  /** Member of pg_execute_server_program (COPY … TO PROGRAM: shell commands as the server's user). */
  executeServerProgram: boolean;
  /** Tables (outside the connector's own schema and the system's) this role may INSERT, UPDATE, DELETE or TRUNCATE: count and the first few. */
  writableTables: { count: number; sample: string[] };
  /** Dangerous extensions installed in the shop's database. */
  extensions: string[];
}

export function rolePrivilegesStatement(stateSchema: string): { text: string; values: unknown[] } {
  return {
    text: `WITH w AS (
  SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname <> $1 AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
     AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))
)
SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolreplication AS replication,
       CASE WHEN to_regrole('pg_write_server_files') IS NULL THEN false ELSE pg_has_role(current_user, 'pg_write_server_files', 'USAGE') END AS write_files,
       CASE WHEN to_regrole('pg_execute_server_program') IS NULL THEN false ELSE pg_has_role(current_user, 'pg_execute_server_program', 'USAGE') END AS execute_program,
       (SELECT count(*) FROM w)::int AS writable_count,
       (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM (SELECT name FROM w ORDER BY name LIMIT 5) s) AS writable_sample,
       (SELECT coalesce(array_agg(extname::text ORDER BY extname), '{}') FROM pg_extension WHERE extname = ANY($2::text[])) AS extensions
  FROM pg_roles r
 WHERE r.rolname = current_user`,
    values: [stateSchema, [...DANGEROUS_EXTENSIONS]],
  };
}

type Row = {
  role: string;
  superuser: boolean;
  replication: boolean;
  write_files: boolean;
  execute_program: boolean;
  writable_count: number;
  writable_sample: string[];
  extensions: string[];
};

export async function rolePrivileges(source: Source, stateSchema: string): Promise<RolePrivileges> {
  const rows = await source.query<Row>(rolePrivilegesStatement(stateSchema));
  const row = rows[0];
  if (!row) throw new Error('the role query returned no row');
  return {
    role: row.role,
    superuser: row.superuser,
    replication: row.replication,
    writeServerFiles: row.write_files,
    executeServerProgram: row.execute_program,
    writableTables: { count: row.writable_count, sample: row.writable_sample },
    extensions: row.extensions,
  };
}

/** One sentence per thing the role may do beyond reading (empty: a read-only role). */
export function privilegeFindings(p: RolePrivileges): { refuse: boolean; problem: string }[] {
  const out: { refuse: boolean; problem: string }[] = [];
  if (p.superuser)
    out.push({
      refuse: true,
      problem: `role "${p.role}" is a superuser: it can write through dblink, run programs (COPY … TO PROGRAM) and write files whatever the read-only transaction says`,
    });
  if (p.writableTables.count > 0) {
    const more = p.writableTables.count > p.writableTables.sample.length ? ` and ${p.writableTables.count - p.writableTables.sample.length} more` : '';
    out.push({
      refuse: true,
      problem: `role "${p.role}" may write ${p.writableTables.count} of the shop's tables (${p.writableTables.sample.join(', ')}${more})`,
    });
  }
  if (!p.superuser && p.executeServerProgram)
    out.push({
      refuse: false,
      problem: `role "${p.role}" is a member of pg_execute_server_program: COPY … TO PROGRAM runs shell commands on the database server`,
    });
  if (!p.superuser && p.writeServerFiles)
    out.push({ refuse: false, problem: `role "${p.role}" is a member of pg_write_server_files: it can write files on the database server` });
  if (p.replication) out.push({ refuse: false, problem: `role "${p.role}" has REPLICATION: it can create replication slots (which hold WAL on the server)` });
  if (p.extensions.length > 0)
    out.push({
      refuse: false,
      problem: `extensions that reach outside a read-only transaction are installed in the shop's database: ${p.extensions.join(', ')}`,
    });
  return out;
}
