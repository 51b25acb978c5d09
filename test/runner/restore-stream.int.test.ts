/**
 * The streamed restore (runner/restore/stream.ts) against a real server: what a database has besides
 * plain tables (grants, comments, large objects, a materialized view, an expression index, tables of the same
 * name in two schemas, foreign keys between tables of different streams) comes back identical; a failing
 * stream or index build undoes everything; sessions stay within --jobs; a TOC larger than the first head read
 * is still found; row counts of hash partitions routed again are judged by their tree. The payload's frames are
 * restore-frames.int.test.ts's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from './cli-harness';
import { schemaDump, tableChecksums } from './pg-fixtures';
import { assertSameAsSource, FRAME_PER_TABLE, startStreamSource } from './stream-source';
import { resolveBackup } from '../../runner/catalog/catalog';
import { restoreBackup } from '../../runner/commands/restore';
import { prepareStreamRestore } from '../../runner/restore/stream';
import { silentLogger } from '../../runner/log';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { defaultSpawner, type Spawner } from '../../runner/pipeline/spawn';
import { LocalStorage } from '../../runner/storage/local';

let pg: PgCluster;
let storage: string;
let id: string;

before(async () => {
  ({ pg, storage, id } = await startStreamSource());
});
after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

function streamsLogged(stderr: string): number | undefined {
  for (const l of stderr.split('\n')) {
    if (!l.startsWith('{')) continue;
    const o = JSON.parse(l) as { streams?: number };
    if (typeof o.streams === 'number') return o.streams;
  }
  return undefined;
}

test('restore --create --jobs 3 streams in 3 and gives back grants, comments, large objects, views, keys and data', async () => {
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('wide_3'), '--create', '--jobs', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamsLogged(r.stderr), 3);
  assert.match(r.stderr, /3 data streams reading only their own frames of the payload/);
  assert.equal(finalEvent(r.stderr)!.event, 'restore.succeeded');
  await assertSameAsSource(pg, 'wide_3');
});

test('into an existing empty database it does not stream: the payload is verified before the database is touched', async () => {
  await pg.createDatabase('wide_existing');
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('wide_existing'), '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamsLogged(r.stderr), undefined);
  await assertSameAsSource(pg, 'wide_existing');
});

test('without sequences: comments on a stream\'s keys and indexes are restored; grants run after the data (a non-superuser owner who revoked its own INSERT)', async () => {
  const appPassword = 'app-' + Math.random().toString(36).slice(2);
  await pg.query(`CREATE ROLE app LOGIN CREATEDB PASSWORD '${appPassword}'`);
  await pg.createDatabase('plain');
  await pg.query(`ALTER DATABASE plain OWNER TO app`);
  const appUrl = (db: string): string => `postgres://app:${encodeURIComponent(appPassword)}@127.0.0.1:${pg.port}/${db}`;
  const { Client } = await import('pg');
  const c = new Client({ connectionString: appUrl('plain') });
  await c.connect();
  try {
    await c.query(`
      CREATE SCHEMA a; CREATE SCHEMA b;
      CREATE TABLE a.t (id int PRIMARY KEY, v text);
      CREATE TABLE b.t (id int PRIMARY KEY, v text);
      CREATE INDEX t_v ON b.t (v);
      INSERT INTO a.t SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
      INSERT INTO b.t SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
      COMMENT ON CONSTRAINT t_pkey ON a.t IS 'the key of a.t';
      COMMENT ON INDEX b.t_v IS 'by v';
      REVOKE INSERT ON a.t FROM app;`);
  } finally {
    await c.end();
  }
  const b = await runCli(['backup', '--storage', storage, '--database-url', appUrl('plain'), '--class', 'manual', '--json'], FRAME_PER_TABLE);
  assert.equal(b.code, 0, b.stderr);
  const plainId = (JSON.parse(b.stdout) as { id: string }).id;
  const r = await runCli(['restore', plainId, '--storage', storage, '--target-url', appUrl('plain_copy'), '--create', '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamsLogged(r.stderr), 2);
  assert.equal(schemaDump(pg, 'plain_copy'), schemaDump(pg, 'plain'));
  assert.deepEqual(await tableChecksums(pg, 'plain_copy'), await tableChecksums(pg, 'plain'));
});

for (const [step, what, why] of [
  ['stream-1.list', 'a data stream whose pg_restore fails', /connection to server lost/],
  ['jobs.list', 'a post-data job that fails', /CONSTRAINT .*syntax error at or near "KEYY"/],
] as const) {
  test(`${what} stops the rest; the created database is dropped and nothing is left running`, async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-stream-tmp-'));
    const children: { file: string; args: readonly string[]; child: ChildProcess }[] = [];
    const spawner: Spawner = (file, args, opts) => {
      // A data stream's pg_restore fails at once, as one would on a broken connection; the post-data jobs' SQL
      // gets a primary key that does not parse.
      const broken = path.basename(file) === 'pg_restore' && args.some((a) => a.endsWith(step));
      const failing = step === 'jobs.list'
        ? ['sh', ['-c', '"$0" "$@" | sed "s/PRIMARY KEY/PRIMARY KEYY/"', file, ...args]] as const
        : ['sh', ['-c', 'echo "pg_restore: error: connection to server lost" >&2; exit 1']] as const;
      const child = broken ? defaultSpawner(failing[0], failing[1], opts) : defaultSpawner(file, args, opts);
      children.push({ file, args, child });
      return child;
    };
    const ctx = { env: { ...process.env, LIFEBOAT_TMPDIR: tmp }, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
    try {
      const store = new LocalStorage(storage);
      await assert.rejects(
        restoreBackup({ storage: store, ref: id, target: parseDatabaseUrl(pg.url('wide_broken')), create: true, jobs: 2 }, { ctx, spawner }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'restore_failed');
          assert.match(e.message, why);
          assert.match(e.message, /the database "wide_broken" it created was dropped/);
          return true;
        },
      );
      assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_broken'`), []);
      assert.ok(children.some((c) => c.args.some((a) => a.endsWith(step))), `the ${step} step ran`);
      assert.equal(children.filter((c) => c.args.some((a) => /stream-\d\.list$/.test(a))).length, 2, 'two data streams were started');
      assert.ok(!children.some((c) => c.args.some((a) => a.endsWith('rest.list'))), 'the last step never ran');
      for (const c of children) assert.ok(c.child.exitCode !== null || c.child.signalCode !== null, `${c.file} still running`);
      assert.deepEqual(readdirSync(tmp), [], 'the temp folder is removed');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('streams and index builds together never hold more sessions than --jobs', async () => {
  for (const jobs of [2, 3]) {
    const running = new Map<ChildProcess, number>();
    let most = 0;
    const spawner: Spawner = (file, args, opts) => {
      const child = defaultSpawner(file, args, opts);
      const list = args.find((a) => a.startsWith('--use-list=')) ?? '';
      // A data stream is one session; an index build as many as its --jobs.
      const sessions = /stream-\d+\.list$/.test(list) ? 1 : /post-\d+\.list$/.test(list) ? Number(args.find((a) => a.startsWith('--jobs='))!.slice(7)) : 0;
      if (sessions) {
        running.set(child, sessions);
        most = Math.max(most, [...running.values()].reduce((a, b) => a + b, 0));
        child.once('exit', () => running.delete(child));
      }
      return child;
    };
    const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
    const r = await restoreBackup({ storage: new LocalStorage(storage), ref: id, target: parseDatabaseUrl(pg.url(`wide_budget_${jobs}`)), create: true, jobs }, { ctx, spawner });
    assert.equal(r.ok, true);
    assert.ok(most >= 1 && most <= jobs, `--jobs ${jobs}: at most ${most} sessions at once`);
  }
});

test('without frames (an older manifest), a TOC larger than the first head read: the head grows until it holds the TOC; past the limit, the temp-file path', async () => {
  const local = new LocalStorage(storage);
  let gets = 0;
  const counting = Object.assign(Object.create(local) as LocalStorage, {
    get: (key: string) => {
      gets++;
      return local.get(key);
    },
  });
  const backup = await resolveBackup(counting, id, { engine: 'postgres' });
  delete backup.manifest.payload.frames;
  const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
  const grown = await prepareStreamRestore({ backup, storage: counting, jobs: 2, head: { first: 64, max: 64 << 12 } }, { ctx });
  assert.ok(grown, 'the TOC was found');
  assert.equal(grown.streams, 2);
  await grown.cleanup();
  assert.ok(gets > 1, `the head was read ${gets} time(s): it had to grow`);

  const none = await prepareStreamRestore({ backup, storage: counting, jobs: 2, head: { first: 64, max: 64 } }, { ctx });
  assert.equal(none, null, 'a TOC past the limit falls back to the temp-file path');
});

test('undoing a restore into an existing empty database removes the large objects it added, and only when there were none', async () => {
  const { scratchState, dropAddedObjects } = await import('../../runner/pg/scratch');
  const { Client } = await import('pg');
  for (const [db, before] of [['undo_lo', 0], ['undo_lo_kept', 1]] as const) {
    await pg.createDatabase(db);
    const c = new Client({ connectionString: pg.url(db) });
    await c.connect();
    try {
      if (before) await c.query(`SELECT lo_from_bytea(0, 'was there before')`);
      const state = await scratchState(c);
      assert.equal(state.largeObjects, before);
      await c.query(`CREATE TABLE added (id int); SELECT lo_from_bytea(0, 'added by the restore')`);
      await dropAddedObjects(c, state);
      const [n] = (await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_largeobject_metadata`)).rows;
      assert.equal(n!.n, before ? '2' : '0', db);
      assert.equal((await c.query(`SELECT to_regclass('added') AS r`)).rows[0].r, null);
    } finally {
      await c.end();
    }
  }
});

test('hash partitions on an enum: rows land in other partitions of the new database; the tree total decides, a real loss still fails', async () => {
  await pg.createDatabase('hashed');
  await pg.query(
    `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
     CREATE TABLE h (id int NOT NULL, m mood NOT NULL) PARTITION BY HASH (m);
     CREATE TABLE h0 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 0);
     CREATE TABLE h1 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 1);
     CREATE TABLE h2 PARTITION OF h FOR VALUES WITH (MODULUS 3, REMAINDER 2);
     INSERT INTO h SELECT g, (ARRAY['sad', 'ok', 'happy']::mood[])[1 + g % 3] FROM generate_series(1, 3000) g;
     INSERT INTO h SELECT g, 'happy' FROM generate_series(1, 500) g;`,
    'hashed',
  );
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('hashed'), '--class', 'manual', '--json'], FRAME_PER_TABLE);
  assert.equal(b.code, 0, b.stderr);
  const hashedId = (JSON.parse(b.stdout) as { id: string }).id;
  for (const create of [true, false]) {
    const db = create ? 'hashed_streamed' : 'hashed_via_file';
    if (!create) await pg.createDatabase(db);
    const r = await runCli(['restore', hashedId, '--storage', storage, '--target-url', pg.url(db), '--jobs', '2', '--json', ...(create ? ['--create'] : [])]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { tables: { name: string; expected: number; actual: number; ok: boolean }[] };
    const leaves = out.tables.filter((t) => /^h\d$/.test(t.name));
    assert.equal(leaves.reduce((a, t) => a + t.actual, 0), 3500);
    assert.ok(leaves.every((t) => t.ok), JSON.stringify(leaves));
  }
  const { compareWithManifest } = await import('../../runner/restore/pg-restore');
  const { planTables } = await import('../../runner/restore/plan');
  const backup = await resolveBackup(new LocalStorage(storage), hashedId, { engine: 'postgres' });
  const plan = { ...planTables(backup, undefined), schemaOnly: false, dataOnly: false, clean: false, jobs: 1, noOwner: false };
  const compareWithManifestOf = (db: string) => compareWithManifest(backup, parseDatabaseUrl(pg.url(db)), plan, '--target-url');
  const { formatComparison } = await import('../../runner/pg/tables');
  const printed = formatComparison((await compareWithManifestOf('hashed_via_file')).comparison!);
  assert.match(printed, /ok\*\n[\s\S]*\* hash partition of h: its rows were routed again on restore; the tree holds all 3500 rows/);
  // A row really lost still fails: the tree's total no longer matches.
  await pg.query('DELETE FROM h WHERE id = 1 AND m = \'ok\'', 'hashed_via_file');
  const lost = await compareWithManifestOf('hashed_via_file');
  assert.equal(lost.ok, false);
  assert.ok(lost.comparison!.filter((r) => /^h\d$/.test(r.name)).some((r) => !r.ok && r.note === undefined));
});
