/**
 * `backup --jobs N`: the large tables' rows dumped by COPY sessions in pieces, beside pg_dump, into the same
 * archive. Proven the way pg_upgrade's test proves a dump: the database before, backed up, restored every way a
 * backup is restored (streamed, through a file, one table in place, by hand with pg_restore from a pipe and with
 * -j), and compared after, schema and rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { freePort } from '../harness/ports';
import { ManifestSchema, type Manifest } from '../../runner/contract/manifest';
import { readArchiveToc } from '../../runner/pg/archive-scan';
import { encodeDataEntry } from '../../runner/pg/archive-toc';
import { runBackup } from '../../runner/commands/backup';
import { silentLogger } from '../../runner/log';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { defaultSpawner } from '../../runner/pipeline/spawn';
import { LocalStorage } from '../../runner/storage/local';
import { finalEvent, runCli } from './cli-harness';
import { PIECED_TABLES_SQL, pgRestoreJobsFromFile, RICH_DATA_SQL, RICH_SCHEMA_SQL, schemaDump, tableChecksums } from './pg-fixtures';

let pg: PgCluster;
let storage: string;
let manifest: Manifest;
// Pieces of 64 KiB: the test's tables of a few hundred KiB each become several pieces.
const PIECES = { LIFEBOAT_PIECE_KIB: '64' };

function pgTool(name: string, args: string[], input?: Buffer): Buffer {
  return execFileSync(path.join(pg.binDir, name), args, {
    input,
    maxBuffer: 1 << 30,
    env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
  });
}

function payloadFile(m: Manifest): string {
  return path.join(storage, m.class, 'postgres', m.source, m.id, m.payload.object);
}

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL + PIECED_TABLES_SQL, 'shop');
  storage = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-jobs-'));
});
after(async () => {
  await pg?.stop();
  if (storage) rmSync(storage, { recursive: true, force: true });
});

test("an added TABLE DATA entry is byte for byte pg_dump's own entry for the same table", () => {
  // pg_dump to a pipe, as the backup runs it: entries without positions.
  const bytes = execFileSync('sh', ['-c', `"${path.join(pg.binDir, 'pg_dump')}" -Fc -Z0 -t public.marks shop | cat`], {
    maxBuffer: 1 << 28,
    env: { ...process.env, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password },
  });
  const toc = readArchiveToc(bytes)!;
  const data = toc.entries.find((e) => e.desc === 'TABLE DATA' && e.tag === 'marks')!;
  const table = toc.entries.find((e) => e.desc === 'TABLE' && e.tag === 'marks')!;
  const ours = encodeDataEntry({ id: data.id, table, copyStmt: 'COPY public.marks (id, reading_id) FROM stdin;\n', deps: [table.id] }, toc);
  assert.deepEqual(ours, bytes.subarray(data.start, data.end));
});

test('backup --jobs 2 pieces the large tables into the one archive, every piece a frame of the index', async () => {
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--class', 'manual', '--jobs', '2', '--json'], PIECES);
  assert.equal(r.code, 0, r.stderr);
  manifest = ManifestSchema.parse(JSON.parse(r.stdout));
  assert.equal(finalEvent(r.stderr)!.event, 'backup.succeeded');
  assert.equal(manifest.tables.find((t) => t.name === 'readings')!.rows, 20000);
  const archive = execFileSync('zstd', ['-dc', payloadFile(manifest)], { maxBuffer: 1 << 30 });
  assert.equal(archive.length, manifest.payload.rawBytes, 'rawBytes is the whole archive, pieces included');
  const toc = readArchiveToc(archive)!;
  const readings = toc.entries.filter((e) => e.desc === 'TABLE DATA' && e.tag === 'readings');
  assert.ok(readings.length >= 3, `readings in pieces (and the empty entry before them): ${readings.length} entries`);
  const quoted = toc.entries.filter((e) => e.desc === 'TABLE DATA' && e.tag === 'Big "Table"');
  assert.ok(quoted.length >= 3, `the quoted table in pieces: ${quoted.length} entries`);
  // Every data entry has its block in exactly one frame of the index.
  const indexed = manifest.payload.frames!.flatMap((f) => f.blocks).sort((a, b) => a - b);
  assert.deepEqual(indexed, [...toc.dataEntries].sort((a, b) => a - b));
  // pg_restore reads it and lists each piece.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-jobs-list-'));
  try {
    writeFileSync(path.join(dir, 'dump'), archive);
    const list = pgTool('pg_restore', ['-l', path.join(dir, 'dump')]).toString();
    assert.equal(list.match(/TABLE DATA public readings /g)?.length, readings.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(pg.password));
});

test('restore --create (streamed) and restore into an empty database (through a file) give back the same database', async () => {
  const streamed = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_streamed'), '--create', '--jobs', '2']);
  assert.equal(streamed.code, 0, streamed.stderr);
  await pg.createDatabase('shop_file');
  const file = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_file'), '--jobs', '2']);
  assert.equal(file.code, 0, file.stderr);
  const before = await tableChecksums(pg, 'shop');
  for (const db of ['shop_streamed', 'shop_file']) {
    assert.equal(schemaDump(pg, db), schemaDump(pg, 'shop'), db);
    assert.deepEqual(await tableChecksums(pg, db), before, db);
  }
  const v = await runCli(['verify', manifest.id, '--storage', storage]);
  assert.equal(v.code, 0, v.stderr);
});

test('an encrypted --jobs backup: the pieces are encrypted with the rest, and restore (streamed and through a file) gives it all back', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--class', 'manual', '--jobs', '3', '--encrypt-to', recipient, '--json'], PIECES);
  assert.equal(b.code, 0, b.stderr);
  const m = ManifestSchema.parse(JSON.parse(b.stdout));
  assert.equal(m.payload.object, 'dump.pgc.zst.age');
  assert.ok((m.payload.frames?.length ?? 0) > 4, 'indexed, pieces included');
  const streamed = await runCli(['restore', m.id, '--storage', storage, '--target-url', pg.url('shop_age'), '--create', '--jobs', '2'], { LIFEBOAT_AGE_IDENTITY: identity });
  assert.equal(streamed.code, 0, streamed.stderr);
  const v = await runCli(['verify', m.id, '--storage', storage], { LIFEBOAT_AGE_IDENTITY: identity });
  assert.equal(v.code, 0, v.stderr);
  assert.deepEqual(await tableChecksums(pg, 'shop_age'), await tableChecksums(pg, 'shop'));
});

test('by hand: zstd -d | pg_restore from a pipe, and pg_restore -j 2 from a file, restore it all', async () => {
  const archive = execFileSync('zstd', ['-dc', payloadFile(manifest)], { maxBuffer: 1 << 30 });
  await pg.createDatabase('shop_pipe');
  pgTool('pg_restore', ['--exit-on-error', '-d', 'shop_pipe'], archive);
  await pgRestoreJobsFromFile(pg, archive, 'shop_j2');
  const before = await tableChecksums(pg, 'shop');
  for (const db of ['shop_pipe', 'shop_j2']) assert.deepEqual(await tableChecksums(pg, db), before, db);
});

test('restore --table of a pieced table in place replaces its rows, and keeps the foreign key into it', async () => {
  await pg.query('DELETE FROM public.marks WHERE id > 10; DELETE FROM public.readings WHERE id % 2 = 0 AND id > 10000', 'shop_file');
  await pg.query('UPDATE public.readings SET note = NULL', 'shop_file');
  const r = await runCli(['restore', manifest.id, '--storage', storage, '--target-url', pg.url('shop_file'), '--table', 'public.readings', '--clean', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  const restored = await tableChecksums(pg, 'shop_file');
  assert.equal(restored['public.readings'], (await tableChecksums(pg, 'shop'))['public.readings']);
  const fk = await pg.query<{ n: string }>("SELECT count(*) AS n FROM pg_constraint WHERE conname = 'marks_reading_id_fkey'", 'shop_file');
  assert.equal(fk[0]!.n, '1');
});

test('a piece that cannot be dumped whole fails the backup and publishes nothing (row security is never bypassed in silence)', async () => {
  await pg.query(
    `CREATE ROLE dumper LOGIN PASSWORD 'dumper-pw-1';
     GRANT USAGE ON SCHEMA sales, "Audit Log", "Big Schema" TO dumper;
     GRANT SELECT ON ALL TABLES IN SCHEMA public, sales, "Audit Log", "Big Schema" TO dumper;
     GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, sales TO dumper;
     ALTER TABLE public.readings ENABLE ROW LEVEL SECURITY;
     CREATE POLICY readings_some ON public.readings FOR SELECT USING (id % 2 = 0);`,
    'shop',
  );
  try {
    const url = pg.url('shop').replace(`${encodeURIComponent(pg.user)}:${encodeURIComponent(pg.password)}@`, 'dumper:dumper-pw-1@');
    const before = readdirSync(path.join(storage, 'manual', 'postgres', 'shop'));
    const r = await runCli(['backup', '--storage', storage, '--database-url', url, '--class', 'manual', '--jobs', '2', '--source', 'shop'], PIECES);
    assert.equal(r.code, 1, r.stderr);
    const ev = finalEvent(r.stderr)!;
    assert.equal(ev.event, 'backup.failed');
    assert.equal(ev.errorCode, 'table_copy_failed');
    assert.match(String(ev.message), /public\.readings.*row-level security/);
    const now = readdirSync(path.join(storage, 'manual', 'postgres', 'shop'));
    const added = now.filter((d) => !before.includes(d));
    for (const d of added) {
      const files = readdirSync(path.join(storage, 'manual', 'postgres', 'shop', d));
      assert.ok(!files.includes('manifest.json') && !files.includes('dump.pgc.zst'), `${d} holds ${files.join(', ')}`);
    }
    // Its temp folder went with it.
    assert.deepEqual(readdirSync(os.tmpdir()).filter((n) => n.startsWith('lifeboat-pieces-') && n.includes(`-${process.pid}-`)), []);
  } finally {
    await pg.query('DROP POLICY readings_some ON public.readings; ALTER TABLE public.readings DISABLE ROW LEVEL SECURITY', 'shop');
  }
});

test('a bad LIFEBOAT_PIECE_KIB is refused before the database is contacted, naming the key and what it got', async () => {
  const nowhere = `postgres://x:y@127.0.0.1:${await freePort()}/shop`;
  const r = await runCli(['backup', '--storage', storage, '--database-url', nowhere, '--jobs', '2'], { LIFEBOAT_PIECE_KIB: 'lots' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(finalEvent(r.stderr)!.errorCode, 'piece_size_invalid');
  assert.match(r.stderr, /LIFEBOAT_PIECE_KIB expected a whole number of KiB from 0 to 16777216, got "lots"/);
});

test('backup --jobs with a bad value is refused before anything is contacted, naming the flag', async () => {
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--jobs', 'two']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--jobs/);
});

test("pg_dump failing with pieces being read: its own error is reported (before its TOC or after), the copies stop, nothing is published", async () => {
  const ctx = { env: { ...process.env, ...PIECES }, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } };
  const store = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-jobs-fail-'));
  try {
    const cases: [string, RegExp][] = [
      // Before writing anything: the splice sees no TOC, but the cause is pg_dump's.
      ['echo "pg_dump: error: connection to server failed: simulated" >&2; exit 1', /pg_dump exited with code 1: pg_dump: error: connection to server failed: simulated/],
      // After its whole archive: the pieces are stopped, pg_dump's error is the story.
      ['"$0" "$@"; echo "pg_dump: error: query failed: simulated" >&2; exit 1', /pg_dump exited with code 1: pg_dump: error: query failed: simulated/],
    ];
    for (const [script, want] of cases) {
      const spawner: typeof defaultSpawner = (file, args, opts) =>
        /pg_dump$/.test(file) ? defaultSpawner('sh', ['-c', script, file, ...args], opts) : defaultSpawner(file, args, opts);
      await assert.rejects(
        runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: new LocalStorage(store), requestedClass: 'manual', jobs: 2 }, { ctx, spawner }),
        (e: Error & { code?: string }) => e.code === 'dump_failed' && want.test(e.message),
      );
    }
    const left = readdirSync(store, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    assert.deepEqual(left.map((d) => d.name), [], 'no payload, no manifest');
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
});

test("LIFEBOAT_ZSTD_LEVEL sets every compressor's level, pg_dump's and each piece's; such a backup restores; a bad one is refused first", async () => {
  const levels: string[][] = [];
  const spawner: typeof defaultSpawner = (file, args, opts) => {
    if (path.basename(file) === 'zstd' && !args.includes('-d')) levels.push(args.filter((a) => /^-\d+$/.test(a)));
    return defaultSpawner(file, args, opts);
  };
  const ctx = { env: { ...process.env, ...PIECES, LIFEBOAT_ZSTD_LEVEL: '19' }, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } };
  const store = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-jobs-level-'));
  try {
    const b = await runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: new LocalStorage(store), requestedClass: 'manual', jobs: 2 }, { ctx, spawner });
    // pg_dump's compressor and one per piece (the fixture's three pieced tables make several).
    assert.ok(levels.length >= 4, `${levels.length} compressors`);
    assert.deepEqual(new Set(levels.map((l) => l.join(' '))), new Set(['-19']));
    const r = await runCli(['restore', b.manifest.id, '--storage', store, '--target-url', pg.url('shop_level19'), '--create', '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await tableChecksums(pg, 'shop_level19'), await tableChecksums(pg, 'shop'));
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
  const nowhere = `postgres://x:y@127.0.0.1:${await freePort()}/shop`;
  for (const bad of ['0', '20', '3.5', 'fast', ' 3']) {
    const r = await runCli(['backup', '--storage', storage, '--database-url', nowhere], { LIFEBOAT_ZSTD_LEVEL: bad });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(finalEvent(r.stderr)!.errorCode, 'zstd_level_invalid');
    assert.ok(r.stderr.includes(`LIFEBOAT_ZSTD_LEVEL expected a whole number from 1 to 19, got "${bad}"`), r.stderr);
  }
});
