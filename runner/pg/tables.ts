/**
 * Tables and their exact row counts: what a backup promises and what a restore is checked against.
 *
 * - listBackupTables(client, selected?): the tables whose rows a dump carries: ordinary tables and partitions
 *   (leaf tables), not partitioned parents (they hold no rows themselves), not tables owned by an extension,
 *   not system schemas. With `selected` (["schema.name"]), exactly those tables.
 * - countRows(client, tables): exact count(*) of each table, in the client's current transaction.
 * - compareRowCounts(expected, actual): one row per expected table with ok = counts equal.
 * - parseTableName(text): "name" or "schema.name" (double quotes allowed) → {schema?, name}.
 * - userTableCount(client): how many user tables a database holds (restore refuses non-empty targets).
 */
import type { Client } from 'pg';
import type { TableRowCount } from '../contract/manifest';
import { usageError } from '../errors';
import { quoteIdent } from './connection';

export interface TableRef {
  schema: string;
  name: string;
  /** A partitioned table, named with its partitions (it holds no rows itself); absent for a table with rows. */
  partitioned?: boolean;
}

/** A table whose rows a dump carries, with the partitioned tables it is a partition of, nearest first. */
export interface BackupTable extends TableRef {
  partitionOf?: TableRef[];
}

export interface RowCountComparison {
  schema: string;
  name: string;
  expected: number | null;
  actual: number | null;
  ok: boolean;
  /** Why a count that differs is still ok (rows of a hash partition tree routed again); absent otherwise. */
  note?: string;
}

const SYSTEM_SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/** Leaf user tables, sorted by schema then name; a partition with its partitioned ancestors, nearest first. */
export async function listBackupTables(client: Pick<Client, 'query'>): Promise<BackupTable[]> {
  const r = await client.query<{ schema: string; name: string; partitionOf: TableRef[] | null }>(`
    SELECT n.nspname AS schema, c.relname AS name,
           CASE WHEN c.relispartition THEN
             (SELECT json_agg(json_build_object('schema', an.nspname, 'name', ac.relname) ORDER BY a.level)
                FROM pg_partition_ancestors(c.oid) WITH ORDINALITY AS a(relid, level)
                JOIN pg_class ac ON ac.oid = a.relid JOIN pg_namespace an ON an.oid = ac.relnamespace
               WHERE a.relid <> c.oid)
           END AS "partitionOf"
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND ${SYSTEM_SCHEMA_FILTER}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  return r.rows.map((t) => (t.partitionOf?.length ? { schema: t.schema, name: t.name, partitionOf: t.partitionOf } : { schema: t.schema, name: t.name }));
}

/**
 * `--table` arguments that may name partitioned tables, against the tables with rows (a manifest's, or the
 * database's, with their partitionOf). A partitioned table stands for itself (marked `partitioned`), its
 * partitions below it at every level, and its leaves. Returns what to dump or restore (named tables first,
 * each followed by what it brought) and, of those, the tables with rows.
 */
export function resolveTablesWithPartitions(args: readonly string[], known: readonly BackupTable[], where: string): { tables: TableRef[]; leaves: TableRef[] } {
  const same = (a: TableRef, b: TableRef): boolean => a.schema === b.schema && a.name === b.name;
  const parents: TableRef[] = [];
  for (const t of known) for (const p of t.partitionOf ?? []) if (!parents.some((x) => same(x, p))) parents.push({ schema: p.schema, name: p.name });
  const named = resolveTables(args, [...known.map((t) => ({ schema: t.schema, name: t.name })), ...parents], where);
  const tables: TableRef[] = [];
  const add = (t: TableRef): void => {
    if (!tables.some((x) => same(x, t))) tables.push(t);
  };
  for (const n of named) {
    if (!parents.some((p) => same(p, n))) {
      add(n);
      continue;
    }
    add({ ...n, partitioned: true });
    for (const leaf of known) {
      const level = (leaf.partitionOf ?? []).findIndex((p) => same(p, n));
      if (level < 0) continue;
      for (const mid of leaf.partitionOf!.slice(0, level).reverse()) add({ schema: mid.schema, name: mid.name, partitioned: true });
      add({ schema: leaf.schema, name: leaf.name });
    }
  }
  return { tables, leaves: tables.filter((t) => !t.partitioned) };
}

/** How many user tables (ordinary, partitioned, foreign) a database has. */
export async function userTableCount(client: Pick<Client, 'query'>): Promise<number> {
  const r = await client.query<{ n: string }>(`
    SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'f') AND ${SYSTEM_SCHEMA_FILTER}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`);
  return Number(r.rows[0]!.n);
}

export function qualified(t: TableRef): string {
  return `${t.schema}.${t.name}`;
}

export function quoteTable(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

/**
 * `name`, `schema.name`, or either part in double quotes (`"Odd.Name"`, `"My Schema".orders`). Unquoted parts
 * are taken as written (no case folding): table names here are matched against the catalog exactly.
 */
export function parseTableName(text: string): { schema?: string; name: string } {
  const parts: string[] = [];
  let i = 0;
  const bad = (): never => {
    throw usageError('table_invalid', `--table expected NAME or SCHEMA.NAME, got ${JSON.stringify(text)}`);
  };
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) bad();
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== '.') part += text[i++];
    }
    if (!part) bad();
    parts.push(part);
    if (i === text.length) break;
    if (text[i] !== '.') bad();
    i++;
  }
  if (parts.length === 1) return { name: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, name: parts[1]! };
  return bad();
}

/**
 * Resolves `--table` arguments against a list of known tables (a manifest's, or the database's). A bare name
 * must be unique across schemas. Throws a usage error naming the argument when a table is not there.
 */
export function resolveTables(args: readonly string[], known: readonly TableRef[], where: string): TableRef[] {
  const out: TableRef[] = [];
  for (const arg of args) {
    const want = parseTableName(arg);
    const hits = known.filter((t) => t.name === want.name && (want.schema === undefined || t.schema === want.schema));
    if (hits.length === 0) {
      throw usageError('table_unknown', `--table ${arg}: no such table in ${where}`, `Tables there: ${summarize(known)}`);
    }
    if (hits.length > 1) {
      throw usageError('table_ambiguous', `--table ${arg} matches ${hits.map(qualified).join(', ')} in ${where}`, 'Write it as SCHEMA.NAME');
    }
    if (!out.some((t) => t.schema === hits[0]!.schema && t.name === hits[0]!.name)) out.push(hits[0]!);
  }
  return out;
}

function summarize(tables: readonly TableRef[]): string {
  if (tables.length === 0) return 'none';
  const names = tables.slice(0, 10).map(qualified).join(', ');
  return tables.length > 10 ? `${names}, ... (${tables.length} in all)` : names;
}

/** Exact row counts, one query per table (each a full scan), in the client's current transaction. */
export async function countRows(client: Pick<Client, 'query'>, tables: readonly TableRef[]): Promise<TableRowCount[]> {
  const out: TableRowCount[] = [];
  for (const t of tables) {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${quoteTable(t)}`);
    out.push({ schema: t.schema, name: t.name, rows: Number(r.rows[0]!.n) });
  }
  return out;
}

/** pg_table_size of each table (heap and TOAST, not indexes), in order; 0 for one that is gone. One round trip. */
export async function tableSizes(client: Pick<Client, 'query'>, tables: readonly TableRef[]): Promise<number[]> {
  if (!tables.length) return [];
  const r = await client.query<{ b: string }>(
    `SELECT coalesce(pg_table_size(to_regclass(u.n)), 0)::text AS b FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY u.i`,
    [tables.map(quoteTable)],
  );
  return r.rows.map((row) => Number(row.b));
}

export function compareRowCounts(expected: readonly TableRowCount[], actual: readonly TableRowCount[]): RowCountComparison[] {
  return expected.map((e) => {
    const a = actual.find((x) => x.schema === e.schema && x.name === e.name);
    const got = a ? a.rows : null;
    return { schema: e.schema, name: e.name, expected: e.rows, actual: got, ok: got !== null && got === e.rows };
  });
}

/** A small fixed-width table for people: table, expected, actual, ok. */
export function formatComparison(rows: readonly RowCountComparison[]): string {
  const header = ['table', 'expected', 'actual', 'ok'];
  const body = rows.map((r) => [
    qualified(r),
    r.expected === null ? '-' : String(r.expected),
    r.actual === null ? 'missing' : String(r.actual),
    r.ok ? (r.note ? 'ok*' : 'ok') : 'MISMATCH',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = [...new Set(rows.filter((r) => r.ok && r.note).map((r) => `* ${r.note}`))];
  return [line(header), ...body.map(line), ...notes].join('\n') + '\n';
}

/** A foreign key of a selected table whose referenced table is not selected. */
export interface ForeignKeyOut {
  constraint: string;
  table: TableRef;
  references: TableRef;
}

/**
 * Foreign keys that a `--table` dump would carry but not the table they reference: its archive could not be
 * restored, verified or drilled ("relation ... does not exist"). Keys inherited from a partitioned parent are not
 * dumped with a partition, so they do not count.
 */
export async function foreignKeysLeavingSelection(client: Pick<Client, 'query'>, selected: readonly TableRef[]): Promise<ForeignKeyOut[]> {
  const r = await client.query<{ constraint: string; schema: string; name: string; rschema: string; rname: string }>(
    `WITH sel AS (SELECT to_regclass(q) AS oid FROM unnest($1::text[]) q)
     SELECT co.conname AS constraint, n.nspname AS schema, c.relname AS name, rn.nspname AS rschema, rc.relname AS rname
       FROM pg_constraint co
       JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_class rc ON rc.oid = co.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE co.contype = 'f' AND co.conparentid = 0
        AND co.conrelid IN (SELECT oid FROM sel) AND co.confrelid NOT IN (SELECT oid FROM sel)
      ORDER BY 2, 3, 1`,
    [selected.map(quoteTable)],
  );
  return r.rows.map((x) => ({ constraint: x.constraint, table: { schema: x.schema, name: x.name }, references: { schema: x.rschema, name: x.rname } }));
}
