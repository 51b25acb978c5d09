/**
 * The benchmark's dataset, built once and cached under bench/.cache/ (gitignored): a PostgreSQL cluster whose
 * data directory lives there, with two databases of realistic mixed data, `bench1x` (~1.2 GB) and `bench4x`
 * (4 times the rows). Each holds pgbench's tables plus `items` (random text from a vocabulary, jsonb, numeric,
 * timestamps, random bytea, three indexes) and `events` (md5 text, jsonb, timestamps, an index): pgbench
 * alone compresses unrealistically well.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../test/harness/postgres';

const DATASET_VERSION = 1;
export const CACHE = path.resolve(__dirname, '.cache');
const CLUSTER_DIR = path.join(CACHE, 'cluster');
const META = path.join(CACHE, 'dataset.json');

interface Meta {
  version: number;
  password: string;
  databases: string[];
}

const WORDS = `'{alpha,backup,carbon,delta,engine,falcon,gamma,harbor,index,jasper,kernel,lumen,matrix,nectar,orbit,pixel,quartz,river,signal,tundra,umbra,vector,willow,xenon,yonder,zephyr}'`;

export function fillSql(factor: number): string {
  const items = 600_000 * factor;
  const events = 1_500_000 * factor;
  return `
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE items (
  id bigint PRIMARY KEY, sku text NOT NULL, title text NOT NULL, body text NOT NULL, attrs jsonb NOT NULL,
  price numeric(12,2) NOT NULL, qty int NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz, thumb bytea);
INSERT INTO items
SELECT g, 'SKU-' || lpad(g::text, 10, '0'),
       initcap(w[1 + g % 26] || ' ' || w[1 + (g / 26) % 26] || ' ' || (g % 997)),
       array_to_string(ARRAY(SELECT w[1 + floor(random() * 26)::int] FROM generate_series(1, 50 + g % 50) WHERE g > 0), ' '),
       jsonb_build_object('color', w[1 + g % 7], 'size', g % 50, 'score', round(random()::numeric, 4),
                          'tags', jsonb_build_array(w[1 + g % 26], w[1 + (g * 3) % 26]), 'ref', md5(g::text)),
       round((random() * 10000)::numeric, 2), (random() * 500)::int,
       timestamptz '2020-01-01' + random() * interval '5 years',
       CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2025-01-01' + random() * interval '300 days' END,
       gen_random_bytes(160 + g % 64)
  FROM generate_series(1, ${items}) g, (SELECT ${WORDS}::text[] AS w) words;
CREATE INDEX items_created ON items (created_at);
CREATE INDEX items_price ON items (price);
CREATE UNIQUE INDEX items_sku ON items (sku);
CREATE TABLE events (id bigint PRIMARY KEY, item_id bigint NOT NULL, kind text NOT NULL, payload jsonb, at timestamptz NOT NULL);
INSERT INTO events
SELECT g, 1 + (g::bigint * 7919) % ${items}, (ARRAY['view','cart','buy','return'])[1 + g % 4],
       jsonb_build_object('session', md5((g * 31)::text), 'ip', '10.' || g % 256 || '.' || (g / 256) % 256 || '.1', 'ms', g % 1000),
       timestamptz '2024-01-01' + g * interval '7 seconds'
  FROM generate_series(1, ${events}) g;
CREATE INDEX events_at ON events (at);
`;
}

export function pgbench(pg: PgCluster, database: string, scale: number): void {
  execFileSync(path.join(pg.binDir, 'pgbench'), ['-i', '-q', '-s', String(scale), database], {
    env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function chownToPostgres(p: string): void {
  if (process.getuid?.() !== 0) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(p, uid, gid);
}

function readMeta(): Meta | null {
  try {
    const m = JSON.parse(readFileSync(META, 'utf8')) as Meta;
    return m.version === DATASET_VERSION && existsSync(path.join(CLUSTER_DIR, 'data', 'PG_VERSION')) ? m : null;
  } catch {
    return null;
  }
}

/** Starts the cached cluster, building it first when the cache is missing or stale. */
export async function datasetCluster(log: (s: string) => void): Promise<PgCluster> {
  const meta = readMeta();
  if (meta) {
    log('dataset: reusing the cached cluster in bench/.cache/');
    return startPostgres({ dir: CLUSTER_DIR, dataDir: path.join(CLUSTER_DIR, 'data'), password: meta.password });
  }
  log('dataset: building (once; cached in bench/.cache/) ...');
  execFileSync('rm', ['-rf', CLUSTER_DIR]);
  mkdirSync(CLUSTER_DIR, { recursive: true });
  chownToPostgres(CACHE);
  chownToPostgres(CLUSTER_DIR);
  const pg = await startPostgres({ dir: CLUSTER_DIR, settings: { max_wal_size: '4GB', maintenance_work_mem: '256MB' } });
  for (const [db, factor] of [['bench1x', 1], ['bench4x', 4]] as const) {
    const t = Date.now();
    await pg.createDatabase(db);
    pgbench(pg, db, 20 * factor);
    await pg.query(fillSql(factor), db);
    await pg.query('VACUUM ANALYZE', db); // not inside the fill's implicit transaction
    const [s] = await pg.query<{ size: string }>(`SELECT pg_size_pretty(pg_database_size('${db}')) AS size`);
    log(`dataset: ${db} built, ${s!.size}, in ${Math.round((Date.now() - t) / 1000)} s`);
  }
  await pg.query('CHECKPOINT');
  writeFileSync(META, JSON.stringify({ version: DATASET_VERSION, password: pg.password, databases: ['bench1x', 'bench4x'] }), { mode: 0o600 });
  return pg;
}
