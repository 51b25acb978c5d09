/**
 * The source database of the streamed-restore tests (restore-stream and restore-frames): the rich fixture plus what
 * a database has besides plain tables (grants, comments, large objects, a materialized view, an expression index,
 * tables of the same name in two schemas, foreign keys between them), backed up with a frame per data block.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { runCli } from './cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from './pg-fixtures';

const EXTRA_SQL = `
CREATE ROLE stream_reader;
CREATE SCHEMA a;
CREATE SCHEMA b;
CREATE FUNCTION a.norm(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT lower($1) $$;
CREATE TABLE a.t (id int PRIMARY KEY, v text);
CREATE TABLE b.t (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a.t (id), v text);
INSERT INTO a.t SELECT g, 'Value ' || repeat('x', g % 50) FROM generate_series(1, 3000) g;
INSERT INTO b.t SELECT g, 1 + g % 3000, md5(g::text) FROM generate_series(1, 1500) g;
CREATE INDEX t_norm ON a.t (a.norm(v));
COMMENT ON TABLE a.t IS 'the a table';
COMMENT ON INDEX a.t_norm IS 'by norm';
GRANT USAGE ON SCHEMA a, b TO stream_reader;
GRANT SELECT ON a.t, b.t TO stream_reader;
CREATE MATERIALIZED VIEW b.counts AS SELECT count(*) AS n FROM b.t;
SELECT lo_from_bytea(424242, 'large object bytes');
COMMENT ON LARGE OBJECT 424242 IS 'a blob';
`;

/** A frame per data block: the tables here are far below the 1 MiB a frame holds by default. */
export const FRAME_PER_TABLE = { LIFEBOAT_FRAME_MIN_KIB: '0' };

export interface StreamSource {
  pg: PgCluster;
  /** The storage folder holding the backup. */
  storage: string;
  /** The backup of database "wide". */
  id: string;
}

/** A server with database "wide" and its backup; the caller stops the server and removes the storage. */
export async function startStreamSource(): Promise<StreamSource> {
  const pg = await startPostgres();
  await pg.createDatabase('wide');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL + EXTRA_SQL, 'wide');
  const storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-stream-'));
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('wide'), '--class', 'manual', '--json'], FRAME_PER_TABLE);
  assert.equal(b.code, 0, b.stderr);
  return { pg, storage, id: (JSON.parse(b.stdout) as { id: string }).id };
}

/** Restored `database` holds what "wide" holds: schema, rows, the large object, the view's data, sequences, grants. */
export async function assertSameAsSource(pg: PgCluster, database: string): Promise<void> {
  assert.equal(schemaDump(pg, database), schemaDump(pg, 'wide'));
  assert.deepEqual(await tableChecksums(pg, database), await tableChecksums(pg, 'wide'));
  const [lo] = await pg.query<{ data: string }>(`SELECT convert_from(lo_get(424242), 'UTF8') AS data`, database);
  assert.equal(lo!.data, 'large object bytes');
  const [mv] = await pg.query<{ n: string }>('SELECT n::text FROM b.counts', database);
  assert.equal(mv!.n, '1500', 'the materialized view was refreshed');
  const [seq] = await pg.query<{ v: string }>('SELECT last_value::text AS v FROM sales.invoice_no', database);
  assert.equal(seq!.v, '99999', 'sequence values are set');
  const [grant] = await pg.query<{ ok: boolean }>(`SELECT has_table_privilege('stream_reader', 'b.t', 'SELECT') AS ok`, database);
  assert.equal(grant!.ok, true);
}
