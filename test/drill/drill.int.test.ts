import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, writeSync, closeSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { finalEvent, runCli } from '../runner/cli-harness';
import { RICH_DATA_SQL, RICH_SCHEMA_SQL } from '../runner/pg-fixtures';
import { runDrill } from '../../runner/commands/drill';
import { parseDatabaseUrl } from '../../runner/pg/connection';
import { openStorage } from '../../runner/storage/open';
import { silentLogger } from '../../runner/log';
import type { DrillReport } from '../../runner/drill/report';
import { spawn } from 'node:child_process';
import type { LifeboatError } from '../../runner/errors';

let pg: PgCluster;
const dirs: string[] = [];
let storage: string;
let olderId: string;
let newerId: string;

function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function backup(into: string): Promise<string> {
  const r = await runCli(['backup', '--storage', into, '--database-url', pg.url('shop'), '--class', 'manual']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

async function databases(): Promise<string[]> {
  return (await pg.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).map((r) => r.d);
}

function backupDir(root: string, id: string): string {
  return path.join(root, 'manual', 'postgres', 'shop', id);
}

before(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.query(RICH_SCHEMA_SQL + RICH_DATA_SQL, 'shop');
  storage = tempDir('lifeboat-drill-');
  olderId = await backup(storage);
  // Backup ids have second precision: make sure the second one sorts after the first.
  await new Promise((r) => setTimeout(r, 1100));
  newerId = await backup(storage);
});
after(async () => {
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a passing drill: restore, row counts, amcheck, targets met, report stored, scratch dropped', async () => {
  const before = await databases();
  const r = await runCli([
    'drill', '--storage', storage, '--scratch-url', pg.url('postgres'), '--rpo', '24h', '--rto', '30m', '--amcheck',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  assert.equal(report.passed, true);
  assert.equal(report.backup.id, newerId);
  assert.equal(report.newestBackup!.id, newerId);
  assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [
    ['restore', true], ['row counts', true], ['catalog', true], ['database', true], ['amcheck', true], ['rpo', true], ['rto', true],
    ['scratch dropped', true], ['roles', true],
  ]);
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  assert.match(byName.catalog!.detail, /^objects, owners, ACLs and policies as in the source \(.*6 table.*\)$/);
  assert.match(byName.roles!.detail, /had every role the backup names \(1\); none created/);
  assert.equal(report.tables!.length, 6);
  assert.ok(report.tables!.every((t) => t.ok && t.actual === t.expected));
  assert.ok(report.amcheck!.ran && report.amcheck!.indexesChecked >= 5, JSON.stringify(report.amcheck));
  assert.deepEqual(report.amcheck!.failures, []);
  assert.equal(report.rpo.targetSeconds, 86400);
  assert.equal(report.rto.targetSeconds, 1800);
  assert.ok(report.rto.seconds! > 0 && report.rpo.seconds! >= 0);
  assert.match(report.scratch.database, /^lifeboat_drill_\d{8}t\d{6}z_[0-9a-f]{4}$/);
  assert.equal(report.scratch.dropped, true);

  // The report in storage is the one printed.
  assert.match(report.reportKey, /^drills\/postgres\/shop\/\d{8}T\d{6}Z\.json$/);
  const stored = JSON.parse(readFileSync(path.join(storage, report.reportKey), 'utf8')) as DrillReport;
  assert.deepEqual(stored, report);

  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'drill.succeeded');
  assert.equal(ev.passed, true);
  assert.equal(ev.backupId, newerId);
  assert.equal(ev.source, 'shop');
  assert.equal(ev.rpoSeconds, report.rpo.seconds);
  assert.equal(ev.rtoSeconds, report.rto.seconds);
  assert.equal(ev.rpoTargetSeconds, 86400);
  assert.equal(ev.rtoTargetSeconds, 1800);
  assert.deepEqual(await databases(), before, 'the scratch database is gone');
  assert.doesNotMatch(r.stdout + r.stderr + JSON.stringify(stored), new RegExp(pg.password));
});

test('RPO is measured from the newest full backup, even when an older one is drilled, and a missed target fails', async () => {
  const before = await databases();
  const twoDaysLater = 2 * 86400 * 1000;
  const out = await runDrill(
    {
      storage: await openStorage(storage),
      ref: olderId,
      scratch: parseDatabaseUrl(pg.url('postgres'), '--scratch-url'),
      rpoTargetSeconds: 86400,
      rtoTargetSeconds: 1800,
    },
    {
      ctx: {
        env: { PATH: process.env.PATH },
        logger: silentLogger(),
        now: () => new Date(Date.now() + twoDaysLater),
        signal: new AbortController().signal,
        stderr: { write: () => true },
      },
    },
  );
  const r = out.report;
  assert.equal(out.storeError, null);
  assert.equal(r.passed, false);
  assert.equal(r.backup.id, olderId);
  assert.equal(r.newestBackup!.id, newerId);
  const byName = Object.fromEntries(r.checks.map((c) => [c.name, c]));
  assert.equal(byName.rpo!.ok, false, byName.rpo!.detail);
  assert.match(byName.rpo!.detail, new RegExp(`newest full backup ${newerId} is 2d0h0\\dm old \\(target 1d0h00m\\)`));
  assert.ok(r.rpo.seconds! > 2 * 86400 && r.rpo.seconds! < 2 * 86400 + 600, String(r.rpo.seconds));
  for (const name of ['restore', 'row counts', 'rto', 'scratch dropped']) assert.equal(byName[name]!.ok, true, name);
  assert.deepEqual(await databases(), before, 'the scratch database is gone');
  statSync(path.join(storage, r.reportKey));
});

test('a payload whose data differs from its manifest (checksum re-made): the drill fails on row counts', async () => {
  // Storage T holds a backup of shop as it is; then shop loses 7 orders and a backup of that goes to U. T's
  // manifest then gets U's payload and U's checksum and sizes: the checksum passes, the counts cannot.
  const tampered = tempDir('lifeboat-drill-tampered-');
  const other = tempDir('lifeboat-drill-other-');
  cpSync(backupDir(storage, newerId), backupDir(tampered, newerId), { recursive: true });
  await pg.query('DELETE FROM sales.orders WHERE id IN (SELECT id FROM sales.orders ORDER BY id DESC LIMIT 7)', 'shop');
  try {
    const otherId = await backup(other);
    copyFileSync(path.join(backupDir(other, otherId), 'dump.pgc.zst'), path.join(backupDir(tampered, newerId), 'dump.pgc.zst'));
    const theirs = JSON.parse(readFileSync(path.join(backupDir(other, otherId), 'manifest.json'), 'utf8')) as { payload: object };
    const manifestFile = path.join(backupDir(tampered, newerId), 'manifest.json');
    const ours = JSON.parse(readFileSync(manifestFile, 'utf8')) as { payload: object };
    writeFileSync(manifestFile, JSON.stringify({ ...ours, payload: theirs.payload }, null, 2));
  } finally {
    await pg.query(`INSERT INTO sales.orders (customer_id, total, placed_at) SELECT 1, 1, now() FROM generate_series(1, 7)`, 'shop');
  }

  const before = await databases();
  const r = await runCli(['drill', '--storage', tampered, '--scratch-url', pg.url('postgres'), '--json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  assert.equal(byName.restore!.ok, true, 'the checksum passed and the restore ran');
  assert.equal(byName['row counts']!.ok, false);
  assert.match(byName['row counts']!.detail, /1 of 6 tables differ: sales\.orders expected 2000, got 1993/);
  assert.equal(report.passed, false);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'drill.failed');
  assert.equal(ev.passed, false);
  assert.equal(ev.exitCode, 1);
  assert.match(String(ev.message), /row counts: 1 of 6 tables differ/);
  assert.deepEqual(await databases(), before, 'the scratch database is gone');
  assert.ok(!before.includes(report.scratch.database));
  statSync(path.join(tampered, report.reportKey));
});

test('a corrupt payload: the drill fails on the restore (checksum), stores its report, leaves no database', async () => {
  const corrupt = tempDir('lifeboat-drill-corrupt-');
  cpSync(backupDir(storage, newerId), backupDir(corrupt, newerId), { recursive: true });
  const payload = path.join(backupDir(corrupt, newerId), 'dump.pgc.zst');
  const fd = openSync(payload, 'r+');
  const b = Buffer.alloc(1);
  const at = Math.floor(statSync(payload).size / 2);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x40;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);

  const before = await databases();
  const r = await runCli(['drill', '--storage', corrupt, '--scratch-url', pg.url('postgres'), '--rto', '30m']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
  assert.equal(byName.restore!.ok, false);
  assert.match(byName.restore!.detail, /checksum mismatch/);
  assert.equal(byName.rto!.ok, false, 'a restore that failed cannot meet its RTO');
  assert.equal(report.rto.seconds, null);
  // The streamed restore finds the mismatch once the data is loaded, and drops the scratch database; a flip in
  // the archive's TOC is found before anything is created.
  assert.match(byName['scratch dropped']!.detail, /^(never created|lifeboat_drill_\S+ dropped)$/);
  assert.equal(finalEvent(r.stderr)!.event, 'drill.failed');
  assert.deepEqual(await databases(), before);
  statSync(path.join(corrupt, report.reportKey));
});

test('bad flags are usage errors that touch nothing', async () => {
  const before = await databases();
  const rpo = await runCli(['drill', '--storage', storage, '--scratch-url', pg.url('postgres'), '--rpo', 'yesterday']);
  assert.equal(rpo.code, 2);
  assert.match(rpo.stderr, /--rpo expected a duration like 26h/);
  const jobs = await runCli(['drill', '--storage', storage, '--scratch-url', pg.url('postgres'), '--jobs', '0']);
  assert.equal(jobs.code, 2);
  assert.match(jobs.stderr, /--jobs expected a whole number from 1 to 64/);
  const missing = await runCli(['drill', '--storage', storage]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--scratch-url/);
  assert.equal(finalEvent(missing.stderr)!.event, 'drill.failed');
  assert.deepEqual(await databases(), before);
  assert.doesNotMatch(rpo.stderr + jobs.stderr + missing.stderr, new RegExp(pg.password));
});

test('an encrypted backup: no identity fails (exit 1) before anything is created; with it the drill passes', async () => {
  const age = await import('age-encryption');
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  const encrypted = tempDir('lifeboat-drill-age-');
  const keyFile = path.join(encrypted, 'key.txt');
  writeFileSync(keyFile, identity + '\n', { mode: 0o600 });
  const b = await runCli(['backup', '--storage', path.join(encrypted, 'store'), '--database-url', pg.url('shop'), '--encrypt-to', recipient]);
  assert.equal(b.code, 0, b.stderr);

  const before = await databases();
  const without = await runCli(['drill', '--storage', path.join(encrypted, 'store'), '--scratch-url', pg.url('postgres')]);
  assert.equal(without.code, 1, without.stderr);
  assert.match(without.stderr, /encrypted with age; --identity-file/);
  const withKey = await runCli(['drill', '--storage', path.join(encrypted, 'store'), '--scratch-url', pg.url('postgres'), '--identity-file', keyFile]);
  assert.equal(withKey.code, 0, withKey.stderr);
  assert.equal((JSON.parse(withKey.stdout) as DrillReport).passed, true);
  assert.deepEqual(await databases(), before);
  assert.doesNotMatch(without.stderr + withKey.stdout + withKey.stderr, new RegExp(identity));
});

test('an interrupted drill (SIGTERM while pg_restore runs) still drops its scratch database', async () => {
  const before = await databases();
  const controller = new AbortController();
  const run = runDrill(
    { storage: await openStorage(storage), ref: 'latest', scratch: parseDatabaseUrl(pg.url('postgres'), '--scratch-url') },
    {
      ctx: { env: { PATH: process.env.PATH }, logger: silentLogger(), now: () => new Date(), signal: controller.signal, stderr: { write: () => true } },
      // The signal arrives as pg_restore starts: the scratch database exists by then.
      spawner: (file, args, opts) => {
        const child = spawn(file, args, opts);
        if (path.basename(file) === 'pg_restore') controller.abort(new Error('interrupted by SIGTERM'));
        return child;
      },
    },
  );
  await assert.rejects(run, (e: LifeboatError) => {
    assert.equal(e.code, 'interrupted');
    assert.match(e.message, /the scratch database was dropped/);
    return true;
  });
  assert.deepEqual(await databases(), before);
});

test('drill latest drills the newest full backup, not a schema-only backup taken since', async () => {
  const own = tempDir('lifeboat-drill-kinds-');
  const full = await backup(own);
  const schema = await runCli(['backup', '--storage', own, '--database-url', pg.url('shop'), '--class', 'manual', '--kind', 'schema']);
  assert.equal(schema.code, 0, schema.stderr);
  const r = await runCli(['drill', '--storage', own, '--scratch-url', pg.url('postgres')]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  assert.equal(report.backup.id, full);
  assert.equal(report.backup.kind, 'full');
  assert.equal(report.tables!.length, 6);
});

test('a drill on a server that lacks the roles the backup names (owner, grants) still restores the data', async () => {
  const own = tempDir('lifeboat-drill-roles-');
  await pg.query(`CREATE ROLE drill_gone_owner; CREATE ROLE drill_gone_reader`);
  await pg.createDatabase('granted');
  await pg.query(`CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10);
                  ALTER TABLE t OWNER TO drill_gone_owner; GRANT SELECT ON t TO drill_gone_reader;`, 'granted');
  const b = await runCli(['backup', '--storage', own, '--database-url', pg.url('granted'), '--class', 'manual']);
  assert.equal(b.code, 0, b.stderr);
  await pg.query(`DROP DATABASE granted`);
  await pg.query(`DROP ROLE drill_gone_owner; DROP ROLE drill_gone_reader`);
  const r = await runCli(['drill', '--storage', own, '--scratch-url', pg.url('postgres')]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as DrillReport;
  assert.deepEqual(report.tables!.map((t) => [t.name, t.actual]), [['t', 10]]);
});
