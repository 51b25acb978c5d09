/**
 * Bad input of every kind: the exit code (2 usage/config, 1 runtime), one clear line on stderr saying what
 * was wrong and what to do, nothing destroyed, and no password anywhere in stdout or stderr.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { freePort } from '../harness/ports';
import { clearRegisteredSecrets } from '../../runner/redact';
import { finalEvent, runCli, runCliProcess, type CliResult } from './cli-harness';
import { tableChecksums } from './pg-fixtures';

let pg: PgCluster;
let storage: string;
let id: string;
let work: string;
const WRONG = 'Wr0ng-Passw0rd-xyz';

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 500) g;', 'shop');
  await pg.createDatabase('busy');
  await pg.query('CREATE TABLE precious (id int PRIMARY KEY); INSERT INTO precious SELECT generate_series(1, 42);', 'busy');
  work = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-bad-'));
  storage = path.join(work, 'store');
  const r = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop')]);
  assert.equal(r.code, 0, r.stderr);
  id = r.stdout.trim();
});
after(async () => {
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Lines a person reads (the structured JSON log lines aside). */
function humanLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
}

function assertNoSecrets(r: CliResult): void {
  const all = r.stdout + r.stderr;
  assert.ok(!all.includes(pg.password), 'the password appears in the output');
  assert.ok(!all.includes(encodeURIComponent(pg.password)), 'the encoded password appears in the output');
  assert.ok(!all.includes(WRONG), 'the wrong password appears in the output');
}

/** Runs a command that must fail: exit code, one line matching `what`, no secrets. */
async function expectFailure(argv: string[], code: 1 | 2, what: RegExp, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  // Registered secrets would mask a leak in the log lines: start without any, as a fresh process would.
  clearRegisteredSecrets();
  const r = await runCli(argv, env);
  assert.equal(r.code, code, `exit code for ${argv.join(' ')}\n${r.stderr}`);
  const lines = humanLines(r);
  assert.equal(lines.length, 1, `one line for a person, got:\n${lines.join('\n')}`);
  assert.match(lines[0]!, /^lifeboat: /);
  assert.match(lines[0]!, what);
  assertNoSecrets(r);
  return r;
}

function urlWithPassword(password: string, database: string, port = pg.port, host = '127.0.0.1'): string {
  return `postgres://${pg.user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
}

test('unknown command and unknown flag: exit 2 naming them (real process)', async () => {
  const a = await runCliProcess(['frobnicate'], { DATABASE_URL: pg.url('shop') });
  assert.equal(a.code, 2);
  assert.deepEqual(humanLines(a), [`lifeboat: unknown command 'frobnicate'; run "lifeboat <command> --help" for usage`]);
  assertNoSecrets({ ...a });
  const b = await runCliProcess(['backup', '--storage', storage, '--databse-url', pg.url('shop')]);
  assert.equal(b.code, 2);
  assert.deepEqual(humanLines(b), [
    `lifeboat: unknown option '--databse-url' (did you mean --database-url?); run "lifeboat <command> --help" for usage`,
  ]);
  // A scheduled run refused for bad usage still ends with its command's failure event.
  assert.equal(finalEvent(b.stderr)?.event, 'backup.failed');
  assert.equal(finalEvent(b.stderr)?.exitCode, 2);
  assertNoSecrets({ ...b });
});

test('missing DATABASE_URL: exit 2 naming --database-url and DATABASE_URL', async () => {
  const r = await expectFailure(['backup', '--storage', storage], 2, /--database-url \(or DATABASE_URL\) expected a postgres:\/\/ URL.*Example/);
  assert.equal(finalEvent(r.stderr)!.event, 'backup.failed');
});

test('a malformed URL: exit 2 without echoing it', async () => {
  await expectFailure(['backup', '--storage', storage, '--database-url', `mysql://u:${WRONG}@h/db`], 2, /expected a postgres:\/\/ or postgresql:\/\/ URL, got scheme "mysql"/);
});

test('unreachable host: exit 1, a retry may help', async () => {
  const closed = await freePort();
  await expectFailure(['backup', '--storage', storage, '--database-url', urlWithPassword(pg.password, 'shop', closed)], 1, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*retry may help/);
});

test('wrong password: exit 2, the password never shown (real process too)', async () => {
  await expectFailure(['backup', '--storage', storage, '--database-url', urlWithPassword(WRONG, 'shop')], 2, /refused user "postgres": wrong password.*Check the user and password/);
  const p = await runCliProcess(['backup', '--storage', storage], { DATABASE_URL: urlWithPassword(WRONG, 'shop') });
  assert.equal(p.code, 2);
  assert.ok(!p.stderr.includes(WRONG) && !p.stdout.includes(WRONG));
  assert.match(p.stderr, /wrong password/);
});

test('nonexistent database: exit 2 naming it', async () => {
  await expectFailure(['backup', '--storage', storage, '--database-url', pg.url('no_such_db')], 2, /database "no_such_db" does not exist/);
});

test('unknown backup id: exit 2 for restore and verify, pointing at list', async () => {
  await expectFailure(['restore', '20200101T000000Z-dead', '--storage', storage, '--target-url', pg.url('x_new'), '--create'], 2, /backup id "20200101T000000Z-dead" not found.*lifeboat list/);
  await expectFailure(['verify', 'nope', '--storage', storage], 2, /backup id "nope" not found/);
  const dbs = await pg.query<{ d: string }>(`SELECT datname AS d FROM pg_database WHERE datname = 'x_new'`);
  assert.deepEqual(dbs, []);
});

test('storage not writable (a read-only folder): exit 1 naming the storage, no backup published', async () => {
  const ro = path.join(work, 'read-only');
  mkdirSync(ro);
  chmodSync(work, 0o755);
  chmodSync(ro, 0o555);
  const argv = ['backup', '--storage', ro, '--database-url', pg.url('shop')];
  // Root writes through any mode bits: as root, run the CLI as an unprivileged user, as a real process.
  const isRoot = process.getuid?.() === 0;
  const r = isRoot ? await runCliProcess(argv, {}, undefined, ['runuser', '-u', 'nobody', '--']) : await runCli(argv);
  assert.equal(r.code, 1, r.stderr);
  const lines = humanLines(r);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /^lifeboat: storage file:\/\/.*read-only is not writable \(EACCES.*choose another --storage/);
  assertNoSecrets(r);
  assert.equal(finalEvent(r.stderr)!.event, 'backup.failed');
  assert.deepEqual(readdirSync(ro), []);
});

test('storage path that is not a folder: exit 1 naming the storage', async () => {
  const file = path.join(work, 'a-file');
  writeFileSync(file, 'not a folder');
  await expectFailure(['backup', '--storage', path.join(file, 'store'), '--database-url', pg.url('shop')], 1, /storage file:\/\/.*a-file\/store cannot be read \(ENOTDIR/);
});

test('restore into a non-empty target without --clean --yes: exit 2, target untouched', async () => {
  const before = await tableChecksums(pg, 'busy');
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('busy')], 2, /target database "busy" already has 1 user table; nothing was changed.*--create.*--clean --yes/);
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('busy'), '--clean'], 2, /--clean drops .*Add --yes/);
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('busy'), '--create'], 2, /database "busy" already exists on .*; nothing was changed.*Drop --create/);
  assert.deepEqual(await tableChecksums(pg, 'busy'), before);
  // --table into a database that lacks the table (a table lost in production): refused without --clean --yes
  // like any non-empty target; with them it is restored beside the others, which stay untouched; once it is
  // there, a second restore of it without --clean --yes is refused naming it.
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('busy'), '--table', 'items'], 2, /target database "busy" has 1 user table; restoring --table into it needs --clean --yes; nothing was changed/);
  assert.deepEqual(await tableChecksums(pg, 'busy'), before);
  const one = await runCli(['restore', id, '--storage', storage, '--target-url', pg.url('busy'), '--table', 'items', '--clean', '--yes']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal((await tableChecksums(pg, 'busy'))['public.precious'], before['public.precious']);
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('busy'), '--table', 'items'], 2, /target database "busy" already has public\.items; nothing was changed.*--clean --yes/);
});

test('--jobs 0: exit 2 naming the flag', async () => {
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('x_jobs'), '--create', '--jobs', '0'], 2, /--jobs expected a whole number from 1 to 64, got "0"/);
  // Bounded: each job is a session on the target.
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('x_jobs'), '--create', '--jobs', '100000'], 2, /--jobs expected a whole number from 1 to 64, got "100000"/);
});

test('--table naming a table not in the backup: exit 2 listing the tables there, nothing restored', async () => {
  await expectFailure(['restore', id, '--storage', storage, '--target-url', pg.url('x_table'), '--create', '--table', 'orders'], 2, /--table orders: no such table in backup .*Tables there: public\.items/);
  const dbs = await pg.query<{ d: string }>(`SELECT datname AS d FROM pg_database WHERE datname = 'x_table'`);
  assert.deepEqual(dbs, []);
  await expectFailure(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--table', 'public.nope'], 2, /--table public\.nope: no such table in database shop/);
  // Malformed names are refused before any server is contacted (this one is unreachable).
  const closed = await freePort();
  await expectFailure(['backup', '--storage', storage, '--database-url', urlWithPassword(pg.password, 'shop', closed), '--table', 'a.b.c'], 2, /--table expected NAME or SCHEMA\.NAME, got "a\.b\.c"/);
});

test('none of the failures left anything that list would show', async () => {
  const r = await runCli(['list', '--storage', storage, '--json']);
  assert.deepEqual((JSON.parse(r.stdout) as { id: string }[]).map((b) => b.id), [id]);
  // Only the one backup folder exists: failed runs left no payloads behind.
  assert.equal(readdirSync(path.join(storage, 'yearly', 'postgres', 'shop')).length, 1);
});

test('pg_dump decides: an error line on its stderr fails the backup even with exit 0, and so does a bad exit code; nothing published', async () => {
  const { runBackup } = await import('../../runner/commands/backup');
  const { defaultSpawner } = await import('../../runner/pipeline/spawn');
  const { parseDatabaseUrl } = await import('../../runner/pg/connection');
  const { LocalStorage } = await import('../../runner/storage/local');
  const { silentLogger } = await import('../../runner/log');
  const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(), signal: new AbortController().signal, stderr: { write: () => true } };
  const store = path.join(work, 'dump-verdict');
  const cases: [string, RegExp][] = [
    ['"$0" "$@"; rc=$?; echo "pg_dump: error: query failed: simulated" >&2; exit $rc', /pg_dump exited with code 0: pg_dump: error: query failed: simulated/],
    ['"$0" "$@"; exit 3', /pg_dump exited with code 3/],
  ];
  for (const [script, want] of cases) {
    // The real pg_dump runs to the end; the wrapper then reports an error the way pg_dump does.
    const spawner: typeof defaultSpawner = (file, args, opts) =>
      /pg_dump$/.test(file) ? defaultSpawner('sh', ['-c', script, file, ...args], opts) : defaultSpawner(file, args, opts);
    await assert.rejects(
      runBackup({ conn: parseDatabaseUrl(pg.url('shop')), storage: new LocalStorage(store), requestedClass: 'manual' }, { ctx, spawner }),
      (e: Error & { code?: string }) => e.code === 'dump_failed' && want.test(e.message),
    );
  }
  const r = await runCli(['list', '--storage', store, '--json']);
  assert.deepEqual(JSON.parse(r.stdout), []);
  const left = readdirSync(store, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  assert.deepEqual(left.map((d) => d.name), [], 'no payload, no partial, no manifest');
});

test('backups of one source in the same second get distinct ids; a repeated suffix is skipped; latest is the one started last', async () => {
  const { runBackup } = await import('../../runner/commands/backup');
  const { parseDatabaseUrl } = await import('../../runner/pg/connection');
  const { LocalStorage } = await import('../../runner/storage/local');
  const { silentLogger } = await import('../../runner/log');
  const { resolveBackup } = await import('../../runner/catalog/catalog');
  const store = new LocalStorage(path.join(work, 'same-second'));
  const t0 = Date.parse('2026-11-21T02:00:00.100Z');
  let t = t0;
  const ctx = { env: process.env, logger: silentLogger(), now: () => new Date(t), signal: new AbortController().signal, stderr: { write: () => true } };
  const suffixes = ['ffff', 'ffff', '0000'];
  const random = (): string => suffixes.shift()!;
  const conn = parseDatabaseUrl(pg.url('shop'));
  const a = await runBackup({ conn, storage: store, requestedClass: 'manual' }, { ctx, random });
  t = t0 + 400; // the same second, later
  const b = await runBackup({ conn, storage: store, requestedClass: 'manual' }, { ctx, random });
  assert.equal(a.manifest.id, '20261121T020000Z-ffff');
  assert.equal(b.manifest.id, '20261121T020000Z-0000', 'the taken id was skipped');
  const l = await runCli(['list', '--storage', store.root, '--json']);
  assert.deepEqual((JSON.parse(l.stdout) as { id: string }[]).map((x) => x.id), [b.manifest.id, a.manifest.id]);
  assert.equal((await resolveBackup(store, 'latest')).id, b.manifest.id);
});

test('restore --create as a user without CREATEDB: exit 2 saying what to grant, nothing created', async () => {
  await pg.query(`CREATE ROLE restorer LOGIN PASSWORD '${WRONG}'`);
  await expectFailure(
    ['restore', id, '--storage', storage, '--target-url', `postgres://restorer:${encodeURIComponent(WRONG)}@127.0.0.1:${pg.port}/x_denied`, '--create'],
    2,
    /user "restorer" may not create database "x_denied".*CREATEDB/,
  );
  assert.deepEqual(await pg.query(`SELECT 1 FROM pg_database WHERE datname = 'x_denied'`), []);
});
