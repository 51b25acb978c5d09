/**
 * The streamed restore (runner/restore/stream.ts) against a real server: what a database has besides
 * plain tables (grants, comments, large objects, a materialized view, an expression index, tables of the same
 * name in two schemas, foreign keys between tables of different streams) comes back identical; a failing
 * stream or index build undoes everything; sessions stay within --jobs; a TOC larger than the first head read
 * is still found; row counts of hash partitions routed again are judged by their tree. The payload's frames:
 * what they hold, each stream fetching only its own, a corrupt one caught, and manifests without them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from './cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from './pg-fixtures';
import { resolveBackup, type CompleteBackup } from '../../runner/catalog/catalog';
import { restoreBackup } from '../../runner/commands/restore';
import { prepareStreamRestore } from '../../runner/restore/stream';
import { silentLogger } from '../../runner/log';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { defaultSpawner, type Spawner } from '../../runner/pipeline/spawn';
import { LocalStorage } from '../../runner/storage/local';
import type { ByteRange } from '../../runner/storage/types';

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
const FRAME_PER_TABLE = { LIFEBOAT_FRAME_MIN_KIB: '0' };

let pg: PgCluster;
let storage: string;
let id: string;

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('wide');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL + EXTRA_SQL, 'wide');
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-stream-'));
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('wide'), '--class', 'manual', '--json'], FRAME_PER_TABLE);
  assert.equal(b.code, 0, b.stderr);
  id = (JSON.parse(b.stdout) as { id: string }).id;
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

async function assertSameAsSource(database: string): Promise<void> {
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

test('restore --create --jobs 3 streams in 3 and gives back grants, comments, large objects, views, keys and data', async () => {
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('wide_3'), '--create', '--jobs', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamsLogged(r.stderr), 3);
  assert.match(r.stderr, /3 data streams reading only their own frames of the payload/);
  assert.equal(finalEvent(r.stderr)!.event, 'restore.succeeded');
  await assertSameAsSource('wide_3');
});

test('into an existing empty database it does not stream: the payload is verified before the database is touched', async () => {
  await pg.createDatabase('wide_existing');
  const r = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('wide_existing'), '--jobs', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(streamsLogged(r.stderr), undefined);
  await assertSameAsSource('wide_existing');
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

test("the backup's frames: the head is the archive up to its first data block, each frame decompresses alone, their blocks are the TOC's data entries", async () => {
  const store = new LocalStorage(storage);
  const backup = await resolveBackup(store, id, { engine: 'postgres' });
  const frames = backup.manifest.payload.frames!;
  assert.ok(frames.length >= 4, `${frames.length} frames`);
  const payload = await store.getBytes(backup.payloadKey);
  const whole = execFileSync('zstd', ['-d', '-q', '-c'], { input: payload, maxBuffer: 1 << 30 });
  assert.equal(whole.length, backup.manifest.payload.rawBytes);
  let at = 0;
  let raw = 0;
  for (const f of frames) {
    const part = execFileSync('zstd', ['-d', '-q', '-c'], { input: payload.subarray(at, at + f.bytes), maxBuffer: 1 << 30 });
    assert.ok(part.equals(whole.subarray(raw, raw + f.rawBytes)));
    at += f.bytes;
    raw += f.rawBytes;
  }
  assert.equal(at, payload.length);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-'));
  try {
    writeFileSync(path.join(dir, 'a.pgc'), whole);
    const list = execFileSync(path.join(pg.binDir, 'pg_restore'), ['--list', path.join(dir, 'a.pgc')], { encoding: 'utf8' });
    const data = list.split('\n').filter((l) => / (TABLE DATA|BLOBS) /.test(l)).map((l) => Number(l.split(';')[0]));
    assert.deepEqual(frames.flatMap((f) => f.blocks).sort(), data.sort());
    assert.deepEqual(frames[0]!.blocks, []);
    // The head alone lists: it is the whole header and TOC.
    writeFileSync(path.join(dir, 'head.pgc'), whole.subarray(0, frames[0]!.rawBytes));
    assert.equal(execFileSync(path.join(pg.binDir, 'pg_restore'), ['--list', path.join(dir, 'head.pgc')], { encoding: 'utf8' }), list);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A local storage that counts the payload's bytes read: whole, by range, and by positional reads (Storage.open). */
function countingStorage(root: string): { store: LocalStorage; read: { whole: number; ranged: number; positional: number } } {
  const local = new LocalStorage(root);
  const read = { whole: 0, ranged: 0, positional: 0 };
  const store = Object.assign(Object.create(local) as LocalStorage, {
    get: async (key: string, range?: ByteRange) => {
      const s = await local.get(key, range);
      if (/\/dump\.pgc/.test(key)) s.on('data', (c: Buffer) => (range ? (read.ranged += c.length) : (read.whole += c.length)));
      return s;
    },
    open: async (key: string) => {
      const r = await local.open(key);
      return {
        size: r.size,
        read: async (into: Buffer, length: number, position: number) => {
          const n = await r.read(into, length, position);
          if (/\/dump\.pgc/.test(key)) read.positional += n;
          return n;
        },
        close: () => r.close(),
      };
    },
  });
  return { store, read };
}

test('each stream fetches only its own frames: the payload is read exactly once in all (the head once, kept in memory for every stream)', async () => {
  const { store, read } = countingStorage(storage);
  const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
  const r = await restoreBackup({ storage: store, ref: id, target: parseDatabaseUrl(pg.url('wide_frames')), create: true, jobs: 3 }, { ctx });
  assert.equal(r.ok, true);
  const backup = await resolveBackup(store, id, { engine: 'postgres' });
  assert.equal(read.whole, 0, 'no stream read the whole payload');
  // From a folder, the head and every frame by positional reads into reused buffers (Storage.open), each once.
  assert.equal(read.ranged, 0);
  assert.equal(read.positional, backup.manifest.payload.storedBytes);
  await assertSameAsSource('wide_frames');
});

/**
 * Runs `fn` on a copy of the test storage (to corrupt or rewrite), with the wide backup resolved in it and the
 * path of its payload file; the copy is removed afterwards.
 */
async function onCopy(fn: (copy: { root: string; store: LocalStorage; backup: CompleteBackup; file: string }) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-copy-'));
  try {
    cpSync(storage, root, { recursive: true });
    const store = new LocalStorage(root);
    const backup = await resolveBackup(store, id, { engine: 'postgres' });
    await fn({ root, store, backup, file: path.join(root, ...backup.payloadKey.split('/')) });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a corrupt frame fails its stream with checksum_mismatch naming the frame; the created database is dropped', async () => {
  await onCopy(async ({ root, backup, file }) => {
    const frames = backup.manifest.payload.frames!;
    const k = frames.findIndex((f) => f.blocks.length > 0 && f.bytes > 64);
    const offset = frames.slice(0, k).reduce((a, f) => a + f.bytes, 0) + Math.floor(frames[k]!.bytes / 2);
    const bytes = readFileSync(file);
    bytes[offset] ^= 0x20;
    writeFileSync(file, bytes);
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_corrupt'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const end = finalEvent(r.stderr)!;
    assert.equal(end.errorCode, 'checksum_mismatch');
    assert.match(String(end.message), new RegExp(`\\(frame ${k} of ${frames.length}\\)`));
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_corrupt'`), []);
  });
});

test('a payload cut short: the stream that reads past its end fails with checksum_mismatch, not a read error; nothing is left', async () => {
  await onCopy(async ({ root, file }) => {
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_short'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(finalEvent(r.stderr)!.errorCode, 'checksum_mismatch');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_short'`), []);
  });
});

test('a manifest without frames (an older backup): each stream reads the whole payload, and the restore is the same', async () => {
  await onCopy(async ({ root, store, backup }) => {
    const manifest = JSON.parse((await store.getBytes(backup.manifestKey)).toString()) as { payload: { frames?: unknown } };
    delete manifest.payload.frames;
    await store.putBytes(backup.manifestKey, JSON.stringify(manifest, null, 2));
    const r = await runCli(['restore', id, '--storage', root, '--target-url', pg.url('wide_frameless'), '--create', '--jobs', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 data streams each reading all of the payload/);
    await assertSameAsSource('wide_frameless');
  });
});

test('an encrypted payload is read by frames too: each decrypted from the chunk holding its first byte; a tampered chunk fails and leaves nothing', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const own = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-frames-age-'));
  try {
    const b = await runCli(['backup', '--storage', own, '--database-url', pg.url('wide'), '--class', 'manual', '--encrypt-to', recipient, '--json'], FRAME_PER_TABLE);
    assert.equal(b.code, 0, b.stderr);
    const ageId = (JSON.parse(b.stdout) as { id: string }).id;
    const { store, read } = countingStorage(own);
    const ctx = { env: process.env, logger: silentLogger(), signal: new AbortController().signal, stderr: { write: () => true } };
    const r = await restoreBackup({ storage: store, ref: ageId, target: parseDatabaseUrl(pg.url('wide_age')), create: true, jobs: 3, identityText: identity }, { ctx });
    assert.equal(r.ok, true);
    await assertSameAsSource('wide_age');
    const backup = await resolveBackup(store, ageId, { engine: 'postgres' });
    const { storedBytes, frames } = backup.manifest.payload;
    assert.equal(read.whole, 0, 'no stream read the whole payload');
    assert.equal(read.positional, 0, 'frames to decrypt are read by range');
    // The header read, then every frame once; a frame's first and last 64 KiB chunks may be read twice.
    assert.ok(read.ranged >= storedBytes && read.ranged <= storedBytes + (64 << 10) + frames!.length * 2 * ((64 << 10) + 16), `${read.ranged} bytes read of ${storedBytes}`);

    const file = path.join(own, ...backup.payloadKey.split('/'));
    const bytes = readFileSync(file);
    bytes[bytes.length - 5000] ^= 0x01;
    writeFileSync(file, bytes);
    const restoreBad = () => runCli(['restore', ageId, '--storage', own, '--target-url', pg.url('wide_age_bad'), '--create', '--jobs', '2', '--json'], { LIFEBOAT_AGE_IDENTITY: identity });
    // The stored bytes' checksum names the corruption first, as on the other paths.
    const bad = await restoreBad();
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(finalEvent(bad.stderr)!.errorCode, 'checksum_mismatch');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_age_bad'`), []);
    // With the manifest's checksum rewritten to match, authentication of the chunk still refuses it.
    const manifest = JSON.parse((await store.getBytes(backup.manifestKey)).toString()) as { payload: { sha256: string } };
    manifest.payload.sha256 = createHash('sha256').update(bytes).digest('hex');
    await store.putBytes(backup.manifestKey, JSON.stringify(manifest, null, 2));
    const forged = await restoreBad();
    assert.equal(forged.code, 1, forged.stderr);
    assert.equal(finalEvent(forged.stderr)!.errorCode, 'decrypt_failed');
    assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'wide_age_bad'`), []);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
