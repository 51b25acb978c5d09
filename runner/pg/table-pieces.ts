/**
 * Which tables `backup --jobs N` dumps with COPY sessions of its own beside pg_dump, and in what pieces. pg_dump
 * dumps a table's rows in one COPY, on one backend: a database dominated by one large table is dumped at the
 * speed of one core whatever -j says. Here the large tables leave pg_dump (--exclude-table-data) and are read by
 * N sessions in the dump's snapshot, each table in ranges of its pages (ctid ranges, which PostgreSQL 14 and
 * later scan as ranges; before 14, a table is one piece). Their rows go into the same archive as TABLE DATA
 * entries of their own (archive-toc.ts).
 *
 * The rows of a piece are what pg_dump would write for them: the same columns (not dropped, not generated), the
 * COPY text format, and the session settings pg_dump sets for output (payload/table-copy.ts).
 */
import type { Client } from 'pg';
import { usageError } from '../errors';
import { quoteIdent } from './connection';
import { quoteTable, type TableRef } from './tables';

/** A table dumped by the COPY sessions, in pieces. */
export interface PiecedTable extends TableRef {
  /** pg_table_size: what its share of the work is judged by. */
  bytes: number;
  /** What pg_restore runs before a piece's rows: `COPY "schema"."name" ("a", "b") FROM stdin;` and a newline. */
  copyStmt: string;
  /** The COPY ... TO STDOUT of each piece, in page order. */
  pieces: string[];
}

export interface PieceOptions {
  /** The backup's --jobs. */
  jobs: number;
  /** Tables of at least this many bytes are pieced, in pieces of about this size (LIFEBOAT_PIECE_KIB). */
  pieceBytes: number;
  /** server_version_num: ctid ranges from 14 on. */
  serverVersionNum: number;
}

/** At most this many pieces per table: each is an archive entry, a frame and a zstd process. */
const MAX_PIECES = 64;

/** The piece size when LIFEBOAT_PIECE_KIB is not set: a fourth of one job's share, within [16 MiB, 256 MiB]. */
export function defaultPieceBytes(databaseBytes: number, jobs: number): number {
  return Math.min(256 << 20, Math.max(16 << 20, Math.floor(databaseBytes / (jobs * 4))));
}

interface Candidate {
  schema: string;
  name: string;
  bytes: string;
  pages: string;
  columns: string[] | null;
}

/**
 * The tables among `tables` (those the backup dumps the rows of) worth piecing, read in the snapshot's session:
 * ordinary tables and partitions that are no extension's and not below a hash-partitioned table, with at least
 * one column pg_dump would copy.
 */
export async function planPiecedTables(client: Pick<Client, 'query'>, tables: readonly TableRef[], opts: PieceOptions): Promise<PiecedTable[]> {
  if (opts.jobs < 2 || tables.length === 0) return [];
  const r = await client.query<Candidate>(
    `SELECT n.nspname AS schema, c.relname AS name, pg_table_size(c.oid) AS bytes,
            pg_relation_size(c.oid, 'main') / current_setting('block_size')::bigint AS pages,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN unnest($1::text[], $2::text[]) AS t(schema, name) ON t.schema = n.nspname AND t.name = c.relname
      WHERE c.relkind = 'r' AND pg_table_size(c.oid) >= $3
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        -- pg_dump loads some partitions of hash-partitioned tables through their root (an enum key): left to it.
        AND NOT (c.relispartition AND EXISTS (SELECT 1 FROM pg_partition_ancestors(c.oid) a
                                               JOIN pg_partitioned_table p ON p.partrelid = a.relid
                                              WHERE p.partstrat = 'h'))
      ORDER BY pg_table_size(c.oid) DESC, 1, 2`,
    [tables.map((t) => t.schema), tables.map((t) => t.name), Math.max(1, opts.pieceBytes)],
  );
  return r.rows
    .filter((c) => c.columns?.length)
    .map((c) => {
      const bytes = Number(c.bytes);
      const count = opts.serverVersionNum >= 140000 ? Math.max(1, Math.min(MAX_PIECES, Math.ceil(bytes / Math.max(1, opts.pieceBytes)), Number(c.pages))) : 1;
      return { schema: c.schema, name: c.name, bytes, copyStmt: copyStatement(c, c.columns!), pieces: pieceQueries(c, c.columns!, Number(c.pages), count) };
    });
}

function copyStatement(t: TableRef, columns: readonly string[]): string {
  return `COPY ${quoteIdent(t.schema)}.${quoteIdent(t.name)} (${columns.map(quoteIdent).join(', ')}) FROM stdin;\n`;
}

/**
 * Each piece's COPY. One piece is the table's own COPY, as pg_dump's. Several cut the pages into equal ranges;
 * the last has no upper bound, so rows on pages the table gained after its size was read are never lost (the
 * snapshot does not see them anyway).
 */
export function pieceQueries(t: TableRef, columns: readonly string[], pages: number, count: number): string[] {
  const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  const cols = columns.map(quoteIdent).join(', ');
  if (count <= 1) return [`COPY ${table} (${cols}) TO STDOUT`];
  const step = Math.ceil(pages / count);
  return Array.from({ length: count }, (_, i) => {
    const from = i * step;
    const conditions = [...(i > 0 ? [`ctid >= '(${from},0)'::tid`] : []), ...(i < count - 1 ? [`ctid < '(${from + step},0)'::tid`] : [])];
    return `COPY (SELECT ${cols} FROM ONLY ${table} WHERE ${conditions.join(' AND ')}) TO STDOUT`;
  });
}

/** LIFEBOAT_PIECE_KIB (0..16777216) in bytes, or the default for the database's size and --jobs. */
export function pieceBytesFromEnv(env: NodeJS.ProcessEnv, databaseBytes: number, jobs: number): number {
  const raw = env.LIFEBOAT_PIECE_KIB;
  if (raw === undefined || raw === '') return defaultPieceBytes(databaseBytes, jobs);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1 << 24) {
    throw usageError('piece_size_invalid', `LIFEBOAT_PIECE_KIB expected a whole number of KiB from 0 to 16777216, got "${raw}"`);
  }
  return n * 1024;
}

/**
 * Locks the pieced tables in the snapshot's session (ACCESS SHARE, held to its COMMIT) and returns the encoding
 * pg_dump must write in. pg_dump's own locks end when it exits, and a TRUNCATE or a table rewrite (not MVCC-safe)
 * committed after that would empty the pieces not yet read; pg_dump is given the server's encoding, the pieces'
 * own, whatever a role or database setting would give its session.
 */
export async function holdPiecedTables(client: Pick<Client, 'query'>, pieced: readonly TableRef[]): Promise<string> {
  await client.query(`LOCK TABLE ${pieced.map((t) => `ONLY ${quoteTable(t)}`).join(', ')} IN ACCESS SHARE MODE`);
  return (await client.query<{ e: string }>(`SELECT current_setting('server_encoding') AS e`)).rows[0]!.e;
}
