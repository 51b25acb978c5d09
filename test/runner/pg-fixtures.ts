/** Databases for the runner's integration tests, and ways to compare two of them. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgCluster } from '../harness/postgres';

/** Everything the round trip must carry: schemas, sequences, views, a function, a trigger, odd types and names. */
export const RICH_SCHEMA_SQL = `
CREATE SCHEMA sales;
CREATE SCHEMA "Audit Log";
CREATE SEQUENCE sales.invoice_no START 1000 INCREMENT 7;
CREATE TABLE sales.customers (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  email text UNIQUE,
  tags text[] NOT NULL DEFAULT '{}',
  prefs jsonb,
  avatar bytea,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sales.orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES sales.customers(id),
  invoice integer NOT NULL DEFAULT nextval('sales.invoice_no'),
  total numeric(14,4) NOT NULL,
  scores double precision[],
  placed_at timestamptz NOT NULL,
  updated_at timestamptz
);
CREATE INDEX orders_placed_idx ON sales.orders (placed_at);
CREATE TABLE public.events (id bigint NOT NULL, at timestamptz NOT NULL, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE "Audit Log"."Weird ""Table"".Name" (id int PRIMARY KEY, "Note" text);
CREATE TABLE public.empty_table (id int PRIMARY KEY, x text);
CREATE FUNCTION sales.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON sales.orders FOR EACH ROW EXECUTE FUNCTION sales.touch();
CREATE VIEW sales.order_totals AS
  SELECT c.name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS total
    FROM sales.customers c LEFT JOIN sales.orders o ON o.customer_id = c.id GROUP BY c.name;
`;

export const RICH_DATA_SQL = `
INSERT INTO sales.customers (name, email, tags, prefs, avatar, created_at)
SELECT 'Kunde ' || g || ' – Zoë Ünïcødé 日本 🚀', 'c' || g || '@example.com', ARRAY['t' || (g % 5), 'x"y'],
       jsonb_build_object('n', g, 'nested', jsonb_build_object('a', ARRAY[g, g + 1]), 'nul', null),
       decode(md5(g::text), 'hex'), timestamptz '2026-01-01 00:00:00+00' + g * interval '37 minutes'
  FROM generate_series(1, 300) g;
INSERT INTO sales.orders (customer_id, total, scores, placed_at)
SELECT 1 + g % 300, round((g * 13.3337)::numeric, 4), ARRAY[g / 7.0, -0.5],
       timestamptz '2026-03-01 12:00:00+05:30' + g * interval '1 hour'
  FROM generate_series(1, 2000) g;
UPDATE sales.orders SET total = total + 1 WHERE id % 100 = 0;
INSERT INTO public.events SELECT g, timestamptz '2025-06-01 00:00:00+00' + g * interval '3 hours', jsonb_build_object('k', g)
  FROM generate_series(1, 4000) g;
INSERT INTO "Audit Log"."Weird ""Table"".Name" VALUES (1, 'first'), (2, NULL), (3, E'tab\\there\\nnewline');
SELECT setval('sales.invoice_no', 99999);
`;

/** Every leaf table's content as one md5, by qualified name. */
export async function tableChecksums(pg: PgCluster, database: string): Promise<Record<string, string>> {
  const tables = await pg.query<{ q: string; label: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS q, n.nspname || '.' || c.relname AS label
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2`,
    database,
  );
  const out: Record<string, string> = {};
  for (const t of tables) {
    const r = await pg.query<{ sum: string | null; n: string }>(
      `SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS sum, count(*) AS n FROM ONLY ${t.q} x`,
      database,
    );
    out[t.label] = `${r[0]!.n}:${r[0]!.sum}`;
  }
  return out;
}

/**
 * pg_dump --schema-only of a database (credentials by environment), without the \restrict lines whose key
 * is random per run (PostgreSQL 15.14+).
 */
export function schemaDump(pg: PgCluster, database: string): string {
  const text = execFileSync(path.join(pg.binDir, 'pg_dump'), ['--schema-only', '--no-password'], {
    encoding: 'utf8',
    env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PGDATABASE: database },
  });
  return text.replace(/^\\(un)?restrict .*$/gm, '');
}

/**
 * With the rich fixture, what backup --jobs pieces (at LIFEBOAT_PIECE_KIB=64): a table with a generated and a
 * dropped column, and tables whose names need quoting, with reg* values and foreign keys.
 */
export const PIECED_TABLES_SQL = `
CREATE TABLE public.readings (id bigint PRIMARY KEY, sensor text NOT NULL, gone int, value double precision,
  doubled double precision GENERATED ALWAYS AS (value * 2) STORED, at timestamptz NOT NULL, note text);
INSERT INTO public.readings (id, sensor, gone, value, at, note)
  SELECT i, 'sensor-' || (i % 37), i, i / 7.0, timestamptz '2026-01-01' + i * interval '1 minute',
         CASE WHEN i % 11 = 0 THEN NULL ELSE repeat(E'tab\\there, newline\\n and back\\\\slash ', i % 4) END
    FROM generate_series(1, 20000) i;
ALTER TABLE public.readings DROP COLUMN gone;
CREATE INDEX readings_sensor_idx ON public.readings (sensor, at);
CREATE TABLE public.marks (id int PRIMARY KEY, reading_id bigint NOT NULL REFERENCES public.readings(id));
INSERT INTO public.marks SELECT i, i * 3 FROM generate_series(1, 5000) i;
-- A pieced table whose schema and name both need quoting (pg_restore -j's TRUNCATE before "the table's data"
-- then names it exactly as the entries' COPY does), with reg* values (written schema-qualified only with an empty
-- search_path, as pg_dump's) and a foreign key into it.
CREATE SCHEMA "Big Schema";
CREATE TABLE "Big Schema"."Big ""Table""" (id int PRIMARY KEY, kind regclass NOT NULL, fn regproc, body text);
INSERT INTO "Big Schema"."Big ""Table""" SELECT i, 'public.marks'::regclass, 'pg_catalog.now'::regproc, repeat('b', 40 + i % 50) FROM generate_series(1, 8000) i;
CREATE TABLE "Big Schema".refs (id int PRIMARY KEY, big_id int NOT NULL REFERENCES "Big Schema"."Big ""Table"""(id));
INSERT INTO "Big Schema".refs SELECT i, 8001 - i FROM generate_series(1, 8000) i;
ANALYZE;`;

/**
 * A custom-format archive restored by hand, as a person would: written to a file, then the cluster's own
 * `pg_restore -j 2` into a new database `database`.
 */
export async function pgRestoreJobsFromFile(pg: PgCluster, archive: Buffer, database: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-by-hand-'));
  try {
    writeFileSync(path.join(dir, 'dump'), archive);
    await pg.createDatabase(database);
    execFileSync(path.join(pg.binDir, 'pg_restore'), ['--exit-on-error', '-j', '2', '-d', database, path.join(dir, 'dump')], {
      env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
