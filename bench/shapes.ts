/**
 * The shapes of database the bench compares on (`npm run bench -- --shape ...`), each in a cluster of its own so
 * that pgBackRest, which copies a whole cluster, copies that shape and nothing else. Built once per shape and
 * scale and cached under bench/.cache/shapes/ (gitignored), with WAL archived to a pgBackRest repository beside it.
 *
 * - mixed: the default bench's data (pgbench's tables, `items` with three indexes, `events`), at a quarter of it.
 * - onebig: one table dominating the database, with a primary key and two more indexes, and two small tables.
 * - manysmall: thousands of small tables, each with a primary key and an index, every fifth with a foreign key.
 *
 * Sizes are modest on purpose (scale 1: 150 to 350 MB on disk), so one round of every method takes a few minutes
 * on a shared 2-core machine; `--scale` multiplies them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../test/harness/postgres';
import { freePort } from '../test/harness/ports';
import { CACHE, chownToPostgres, fillSql, pgbench } from './dataset';

export const SHAPES = ['mixed', 'onebig', 'manysmall'] as const;
export type Shape = (typeof SHAPES)[number];

const SHAPES_VERSION = 1;
export const STANZA = 'bench';
/** max_locks_per_transaction of the shape clusters (thousands of tables in one transaction: the fill's, pg_dump's). */
export const MAX_LOCKS = 1024;

function shapeSql(shape: Shape, scale: number): string {
  switch (shape) {
    case 'mixed':
      return fillSql(scale / 4);
    case 'onebig':
      return `
CREATE TABLE big (id bigint PRIMARY KEY, account int NOT NULL, created_at timestamptz NOT NULL, note text NOT NULL, amount numeric(12,2) NOT NULL);
INSERT INTO big SELECT g, (g::bigint * 7919) % 100000, timestamptz '2020-01-01' + g * interval '17 seconds', md5(g::text) || ' ' || (g % 1000), (g % 100000) / 100.0
  FROM generate_series(1, ${Math.round(2_500_000 * scale)}) g;
CREATE INDEX big_account ON big (account);
CREATE INDEX big_created ON big (created_at);
CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO accounts SELECT g, 'account ' || g FROM generate_series(0, 99999) g;
CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes SELECT g, repeat('n', 100) FROM generate_series(1, 1000) g;
`;
    case 'manysmall':
      return `
DO $$
BEGIN
  FOR i IN 1..${Math.round(2000 * scale)} LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, ref int NOT NULL, label text NOT NULL, at timestamptz NOT NULL DEFAULT now())', i);
    EXECUTE format('CREATE INDEX t%s_ref ON t%s (ref)', i, i);
    EXECUTE format('INSERT INTO t%s (id, ref, label) SELECT g, 1 + g %% 50, md5((g * %s)::text) FROM generate_series(1, 200) g', i, i);
    IF i % 5 = 0 THEN
      EXECUTE format('ALTER TABLE t%s ADD FOREIGN KEY (ref) REFERENCES t%s (id)', i, i - 1);
    END IF;
  END LOOP;
END $$;
`;
  }
}

export interface ShapeCluster {
  pg: PgCluster;
  database: string;
  /** pgBackRest's configuration file for this cluster (its stanza is STANZA). */
  pgbackrestConf: string;
  dir: string;
}

function asPostgres(cmd: string, args: string[]): string {
  const root = process.getuid?.() === 0;
  return execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { encoding: 'utf8', cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
}

function writeConf(file: string, dir: string, dataDir: string, port: number, processes: number): void {
  writeFileSync(
    file,
    [
      '[global]',
      `repo1-path=${path.join(dir, 'repo')}`,
      'repo1-retention-full=1',
      'compress-type=zst',
      `process-max=${processes}`,
      'start-fast=y',
      `lock-path=${path.join(dir, 'lock')}`,
      'log-level-console=warn',
      'log-level-file=off',
      '',
      `[${STANZA}]`,
      `pg1-path=${dataDir}`,
      `pg1-socket-path=${dir}`,
      `pg1-port=${port}`,
      'pg1-user=postgres',
      '',
    ].join('\n'),
  );
  chownToPostgres(file);
}

/** Starts the shape's cluster at `scale`, building it first when missing; pgBackRest runs `processes` at once. */
export async function shapeCluster(shape: Shape, scale: number, processes: number, log: (s: string) => void): Promise<ShapeCluster> {
  const dir = path.join(CACHE, 'shapes', `${shape}-${scale}`);
  const dataDir = path.join(dir, 'data');
  const conf = path.join(dir, 'pgbackrest.conf');
  const meta = path.join(dir, 'meta.json');
  const port = await freePort();
  const settings = {
    archive_mode: 'on',
    archive_command: `'pgbackrest --config=${conf} --stanza=${STANZA} archive-push %p'`,
    max_wal_size: '4GB',
    maintenance_work_mem: '256MB',
    max_locks_per_transaction: String(MAX_LOCKS),
    unix_socket_directories: dir,
  };
  const database = `shape_${shape}`;
  let saved: { version: number; password: string } | null = null;
  try {
    saved = JSON.parse(readFileSync(meta, 'utf8')) as { version: number; password: string };
    if (saved.version !== SHAPES_VERSION || !existsSync(path.join(dataDir, 'PG_VERSION'))) saved = null;
  } catch {
    saved = null;
  }
  if (saved) {
    writeConf(conf, dir, dataDir, port, processes);
    const pg = await startPostgres({ dir, dataDir, password: saved.password, port, settings });
    log(`shape ${shape} x${scale}: reusing the cached cluster`);
    return { pg, database, pgbackrestConf: conf, dir };
  }
  log(`shape ${shape} x${scale}: building (once; cached in bench/.cache/shapes/) ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'repo'), { recursive: true });
  mkdirSync(path.join(dir, 'lock'), { recursive: true });
  for (const p of [path.join(CACHE, 'shapes'), dir, path.join(dir, 'repo'), path.join(dir, 'lock')]) chownToPostgres(p);
  writeConf(conf, dir, dataDir, port, processes);
  const pg = await startPostgres({ dir, port, settings });
  const t = Date.now();
  await pg.createDatabase(database);
  if (shape === 'mixed') pgbench(pg, database, Math.max(1, Math.round(5 * scale)));
  await pg.query(shapeSql(shape, scale), database);
  await pg.query('VACUUM ANALYZE', database);
  await pg.query('CHECKPOINT');
  asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, 'stanza-create']);
  const [s] = await pg.query<{ size: string }>(`SELECT pg_size_pretty(pg_database_size('${database}')) AS size`);
  log(`shape ${shape} x${scale}: built, ${s!.size}, in ${Math.round((Date.now() - t) / 1000)} s`);
  writeFileSync(meta, JSON.stringify({ version: SHAPES_VERSION, password: pg.password }), { mode: 0o600 });
  return { pg, database, pgbackrestConf: conf, dir };
}

/** The newest pgBackRest backup's label and stored (repository) bytes. */
export function lastPgbackrestBackup(conf: string): { label: string; storedBytes: number } {
  const info = JSON.parse(asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, '--output=json', 'info'])) as {
    backup: { label: string; info: { repository: { delta: number; size: number } } }[];
  }[];
  const last = info[0]!.backup.at(-1)!;
  return { label: last.label, storedBytes: last.info.repository.delta };
}
