/**
 * PITR on a real cluster and real pgBackRest with a folder repository: init (encrypted, applied), a full
 * backup, rows and heartbeats around a moment T, then a drill and a restore to T that must hold exactly the rows
 * written before it; a drill killed with SIGKILL leaves nothing behind, and one whose watchdog died too is
 * cleaned up by the next drill.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { clusterTempDir, startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { finalEvent, runCli, runCliProcess } from '../runner/cli-harness';
import type { PitrDrillReport } from '../../runner/pitr/report';

let pg: PgCluster;
let base: string;
let storage: string;
let configDir: string;
let tmp: string;
let target: string;
let env: NodeJS.ProcessEnv;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails naming `what` after a generous deadline (a hang, not a timing check). */
async function until(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 120_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`gave up waiting: ${what}`);
    await sleep(100);
  }
}

function drillDirs(): string[] {
  return readdirSync(tmp).filter((n) => n.startsWith('lifeboat-pitr-drill-'));
}

/** Processes whose command line mentions `text` (the drill's folder): servers or pgBackRest left running. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').includes(text)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function archivedUpTo(wal: string): Promise<boolean> {
  const r = await pg.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver');
  return !!r[0]?.w && r[0].w >= wal;
}

/** Switches WAL and waits until the segment holding everything so far is in the repository. */
async function archiveEverything(): Promise<void> {
  const r = await pg.query<{ w: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS w');
  await pg.query('SELECT pg_switch_wal()');
  await until(`WAL ${r[0]!.w} archived`, () => archivedUpTo(r[0]!.w));
}

before(async () => {
  requireOnPath('pgbackrest', 'pgbackrest');
  pg = await startPostgres({ settings: { archive_mode: 'on' } });
  await pg.createDatabase('shop');
  base = clusterTempDir('lifeboat-pitr-test-');
  chmodSync(base, 0o755);
  storage = path.join(base, 'storage');
  configDir = path.join(base, 'config');
  tmp = path.join(base, 'tmp');
  for (const d of [storage, configDir, tmp]) mkdirSync(d, { mode: 0o755 });
  env = { LIFEBOAT_PITR_CONFIG_DIR: configDir, LIFEBOAT_TMPDIR: tmp, DATABASE_URL: pg.url('shop') };
});

after(async () => {
  await pg?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

test('pitr init writes the configuration with the passphrase only in a 0600 part, creates the stanza and proves archiving', async () => {
  const r = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', storage, '--encrypt', '--apply'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(finalEvent(r.stderr)?.event, 'pitr.init.succeeded');
  assert.match(r.stdout, /archiving checked/);
  const cipher = path.join(configDir, 'shop', 'secret', 'cipher.conf');
  assert.equal(statSync(cipher).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(cipher)).mode & 0o777, 0o700);
  const pass = /repo1-cipher-pass=(.+)/.exec(readFileSync(cipher, 'utf8'))![1]!;
  const conf = readFileSync(path.join(configDir, 'shop', 'pgbackrest.conf'), 'utf8');
  assert.ok(!conf.includes(pass) && !r.stdout.includes(pass) && !r.stderr.includes(pass));
  assert.ok(!r.stdout.includes(pg.password) && !r.stderr.includes(pg.password));
  assert.match(conf, /repo1-cipher-type=aes-256-cbc/);
  const cmd = await pg.query<{ c: string }>("SELECT current_setting('archive_command') AS c");
  assert.ok(cmd[0]!.c.includes('archive-push') && !cmd[0]!.c.includes(pass));
  assert.ok(existsSync(path.join(storage, 'pitr', 'shop', 'backup', 'shop', 'backup.info')));
  // The repository is encrypted: its info file names the cipher, and the logs never hold the passphrase.
  for (const f of readdirSync(path.join(configDir, 'shop', 'log'))) assert.ok(!readFileSync(path.join(configDir, 'shop', 'log', f), 'utf8').includes(pass), f);

  const again = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', storage], env);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already set up for source "shop"/);
});

test('pitr init refuses a --pgdata that is not the server\'s, an unsupported storage and plain-HTTP S3 and GCS endpoints', async () => {
  const r = await runCli(['pitr', 'init', '--pgdata', base, '--storage', storage, '--source', 'other'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--pgdata expected the data directory of the server/);
  const az = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', 'azure://container/x', '--source', 'other'], env);
  assert.equal(az.code, 2);
  assert.match(az.stderr, /--storage expected a folder, file:\/\/, s3:\/\/ or gs:\/\/ URL for the pgBackRest repository, got azure:\/\//);
  const gs = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', 'gs://bucket/x', '--source', 'other'], { ...env, STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9' });
  assert.equal(gs.code, 2);
  assert.match(gs.stderr, /pgBackRest speaks only HTTPS to GCS/);
  const plain = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', 's3://bucket/x', '--s3-endpoint', 'http://127.0.0.1:9', '--s3-region', 'us-east-1', '--source', 'other'], env);
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /pgBackRest speaks only HTTPS to S3/);
});

test('pitr init without --apply prints exactly what to set; with two sources configured, --source is needed', async () => {
  const r = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', storage, '--source', 'second'], env);
  assert.equal(r.code, 0, r.stderr);
  const conf = path.join(configDir, 'second', 'pgbackrest.conf');
  assert.ok(r.stdout.includes(`  archive_command = 'pgbackrest --config=${conf} --config-include-path=${path.join(configDir, 'second', 'secret')} --stanza=second archive-push %p'`), r.stdout);
  assert.match(r.stdout, /set these in postgresql\.conf \(or with ALTER SYSTEM\), then restart PostgreSQL:\n {2}archive_mode = 'on'\n/);
  assert.match(r.stdout, /archive_timeout = '60s'/);
  assert.match(r.stdout, /archive_mode is already on: a reload is enough/);
  // Nothing was applied: the server still archives for "shop".
  const cmd = await pg.query<{ c: string }>("SELECT current_setting('archive_command') AS c");
  assert.match(cmd[0]!.c, /--stanza=shop /);

  const b = await runCli(['pitr', 'backup'], env);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--source expected one of second, shop/);
  rmSync(path.join(configDir, 'second'), { recursive: true });
  rmSync(path.join(storage, 'pitr', 'second'), { recursive: true });
});

test('pitr init that fails at stanza-create removes the configuration it wrote and keeps the repository it found', async () => {
  const foreign = path.join(storage, 'pitr', 'other', 'backup', 'other');
  mkdirSync(foreign, { recursive: true });
  writeFileSync(path.join(foreign, 'backup.info'), 'not a pgBackRest info file\n');
  const r = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', storage, '--source', 'other'], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /pgbackrest stanza-create exited with code \d+: ERROR/);
  assert.equal(finalEvent(r.stderr)?.event, 'pitr.init.failed');
  assert.ok(!existsSync(path.join(configDir, 'other')), 'the configuration was removed');
  assert.equal(readFileSync(path.join(foreign, 'backup.info'), 'utf8'), 'not a pgBackRest info file\n');
  rmSync(path.join(storage, 'pitr', 'other'), { recursive: true });
});

test('pitr init --apply by a user that may not ALTER SYSTEM fails and removes the configuration and repository it made', async () => {
  await pg.query("CREATE ROLE reader LOGIN PASSWORD 'reader-pw-1' IN ROLE pg_read_all_settings, pg_monitor");
  const url = pg.url('shop').replace(/\/\/[^@]+@/, '//reader:reader-pw-1@');
  const r = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--storage', storage, '--source', 'third', '--apply', '--database-url', url], env);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /ALTER SYSTEM failed: .*permission denied.*pitr init --apply needs a superuser/);
  assert.ok(!existsSync(path.join(configDir, 'third')), 'the configuration was removed');
  assert.ok(!existsSync(path.join(storage, 'pitr', 'third')), 'the repository folder it made was removed');
  const cmd = await pg.query<{ c: string }>("SELECT current_setting('archive_command') AS c");
  assert.match(cmd[0]!.c, /--stanza=shop /);
  await pg.query('DROP ROLE reader');
});

test('a full backup, then rows and heartbeats on both sides of T', async () => {
  const b = await runCli(['pitr', 'backup', '--type', 'full'], env);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /^\d{8}-\d{6}F\n$/);
  assert.equal(finalEvent(b.stderr)?.event, 'pitr.backup.succeeded');

  await pg.query('CREATE TABLE orders (id int PRIMARY KEY)', 'shop');
  await pg.query('INSERT INTO orders VALUES (1), (2)', 'shop');
  const h1 = await runCli(['pitr', 'heartbeat'], env);
  assert.equal(h1.code, 0, h1.stderr);
  // Heartbeats count as "before" when written at least a second before the target (their commit follows).
  await sleep(1500);
  target = (await pg.query<{ t: Date }>('SELECT clock_timestamp() AS t', 'shop'))[0]!.t.toISOString();
  await sleep(200);
  assert.equal((await runCli(['pitr', 'heartbeat'], env)).code, 0);
  await pg.query('INSERT INTO orders VALUES (3), (4)', 'shop');
  await pg.query('DELETE FROM orders WHERE id = 1', 'shop');
  await archiveEverything();
});

test('pitr drill to T passes: recovery stopped at T, the heartbeat before is there and the one after is not', async () => {
  const r = await runCli(['pitr', 'drill', '--to-time', target], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as PitrDrillReport;
  assert.ok(report.passed, JSON.stringify(report.checks));
  assert.deepEqual(report.checks.filter((c) => !c.ok), []);
  assert.ok(report.recovery?.reachedTarget);
  assert.ok(report.heartbeats.before && report.heartbeats.after);
  assert.ok(report.rto.restoreSeconds! > 0 && report.rto.recoverySeconds! > 0 && report.rto.firstQuerySeconds! >= 0);
  assert.equal(typeof report.rpo.seconds, 'number');
  const stored = JSON.parse(readFileSync(path.join(storage, report.reportKey), 'utf8')) as PitrDrillReport;
  assert.equal(stored.target, target);
  assert.match(report.reportKey, /^drills\/pitr\/shop\/\d{8}T\d{6}Z\.json$/);
  assert.deepEqual(drillDirs(), []);
  const e = finalEvent(r.stderr)!;
  assert.equal(e.event, 'pitr.drill.succeeded');
  assert.equal(e.passed, true);
});

test("a drill run by the cluster's own OS user (no root) passes too", async () => {
  if (process.getuid?.() !== 0) return; // Not root: every other test already runs as the cluster's user.
  // That user's own temp folder, and the drill reports' folder in the storage handed to it.
  const ownTmp = clusterTempDir('lifeboat-pitr-own-tmp-');
  execFileSync('chown', ['-R', 'postgres:postgres', path.join(storage, 'drills')]);
  try {
    const r = await runCliProcess(['pitr', 'drill', '--to-time', target], { ...env, LIFEBOAT_TMPDIR: ownTmp, HOME: ownTmp }, undefined, ['runuser', '-u', 'postgres', '--']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as PitrDrillReport;
    assert.deepEqual(report.checks.filter((c) => !c.ok), []);
    assert.deepEqual(readdirSync(ownTmp).filter((n) => n.startsWith('lifeboat-pitr-')), []);
  } finally {
    rmSync(ownTmp, { recursive: true, force: true });
  }
});

test('pitr restore to T holds exactly the rows written before T; a non-empty folder and a time before the window are refused', async () => {
  const into = path.join(base, 'restored');
  const r = await runCli(['pitr', 'restore', '--to-time', target, '--pgdata', into], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /start it as the folder's owner: .*pg_ctl -D/);
  assert.match(r.stdout, /recovered to .*: the last transaction replayed committed at 2\d{3}-.*; the first one left out at 2\d{3}-/);
  assert.deepEqual(drillDirs(), []);
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('lifeboat-pitr-restore-')), []);
  assert.equal(finalEvent(r.stderr)?.event, 'pitr.restore.succeeded');

  const again = await runCli(['pitr', 'restore', '--to-time', target, '--pgdata', into], env);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /is not empty/);
  const early = await runCli(['pitr', 'restore', '--to-time', '2020-01-01T00:00:00Z', '--pgdata', path.join(base, 'never')], env);
  assert.equal(early.code, 2);
  assert.match(early.stderr, /before the recoverable window of "shop", which starts at/);
  assert.ok(!existsSync(path.join(base, 'never')));
  const noZone = await runCli(['pitr', 'restore', '--to-time', '2026-12-07 14:31', '--pgdata', path.join(base, 'never')], env);
  assert.equal(noZone.code, 2);
  assert.match(noZone.stderr, /with a zone/);

  const copyDir = clusterTempDir();
  const copy = await startPostgres({ dataDir: into, dir: copyDir, password: pg.password });
  try {
    await until('the restored cluster promoted', async () => (await copy.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'))[0]!.r === false);
    const rows = await copy.query<{ id: number }>('SELECT id FROM orders ORDER BY id', 'shop');
    assert.deepEqual(rows.map((x) => x.id), [1, 2]);
    const mode = await copy.query<{ m: string }>("SELECT current_setting('archive_mode') AS m");
    assert.equal(mode[0]!.m, 'off');
  } finally {
    await copy.stop();
    rmSync(copyDir, { recursive: true, force: true });
  }
  // Over a folder that holds a cluster: only with --force (pgBackRest's --delta).
  const forced = await runCli(['pitr', 'restore', '--to-time', target, '--pgdata', into, '--force'], env);
  assert.equal(forced.code, 0, forced.stderr);
});

test('a drill stopped with SIGTERM ends with pitr.drill.failed and leaves nothing behind', async () => {
  const r = await runCliProcess(['pitr', 'drill', '--to-time', target], env, (child) => {
    void (async () => {
      await until('the drill restore started', () => drillDirs().length > 0);
      child.kill('SIGTERM');
    })();
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(finalEvent(r.stderr)?.event, 'pitr.drill.failed');
  assert.match(String(finalEvent(r.stderr)?.message), /interrupted by SIGTERM/);
  assert.deepEqual(drillDirs(), []);
});

test('a drill killed with SIGKILL leaves nothing behind', async () => {
  let drillDir = '';
  const run = runCliProcess(['pitr', 'drill', '--to-time', target], env, (child) => {
    void (async () => {
      // Killed once its server runs: the worst moment, with a restored cluster and a postmaster to clean up.
      await until('the drill server started', () => drillDirs().some((d) => existsSync(path.join(tmp, d, 'server.log'))));
      drillDir = path.join(tmp, drillDirs()[0]!);
      child.kill('SIGKILL');
    })();
  });
  const r = await run;
  assert.equal(r.signal, 'SIGKILL');
  await until('the watchdog removed the drill folder', () => drillDirs().length === 0);
  await until('no process of the drill is left', () => processesMentioning(drillDir).length === 0);
});

test('leftovers of a drill whose watchdog died too are removed by the next drill, which says so', async () => {
  let drillDir = '';
  const run = runCliProcess(['pitr', 'drill', '--to-time', target], env, (child) => {
    void (async () => {
      await until('the drill server started', () => drillDirs().some((d) => existsSync(path.join(tmp, d, 'server.log'))));
      drillDir = path.join(tmp, drillDirs()[0]!);
      // A power loss in miniature: the watchdog goes first, then the runner; the server keeps running.
      for (const pid of processesMentioning(drillDir)) {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('lifeboat-pitr-watchdog')) process.kill(pid, 'SIGKILL');
      }
      child.kill('SIGKILL');
    })();
  });
  await run;
  assert.ok(existsSync(drillDir), 'the folder outlived its drill');
  const r = await runCli(['pitr', 'drill', '--to-time', target], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /removed the leftovers of an earlier drill that was killed/);
  const report = JSON.parse(r.stdout) as PitrDrillReport;
  assert.deepEqual(report.staleRemoved, [drillDir]);
  assert.deepEqual(drillDirs(), []);
  await until('the stale server is gone', () => processesMentioning(drillDir).length === 0);
});

test('a drill to a moment after the archived WAL fails and still cleans up', async () => {
  const r = await runCli(['pitr', 'drill', '--ago', '0s'], env);
  // Nothing was written since the last archived segment: recovery ends before the target.
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as PitrDrillReport;
  assert.equal(report.passed, false);
  const check = report.checks.find((c) => c.name === 'recovery target');
  assert.match(check?.detail ?? '', /the archive ends before the target/);
  assert.doesNotMatch(check!.detail, /starting up/);
  assert.deepEqual(drillDirs(), []);
  assert.equal(finalEvent(r.stderr)?.event, 'pitr.drill.failed');
});


test('status --archiving-url reports archiving health, and is unhealthy once archiving fails', async () => {
  const b = await runCli(['backup', '--storage', storage, '--database-url', pg.url('shop'), '--class', 'manual']);
  assert.equal(b.code, 0, b.stderr);
  await archiveEverything();
  const ok = await runCli(['status', '--storage', storage, '--archiving-url', pg.url('shop'), '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const report = JSON.parse(ok.stdout) as { healthy: boolean; archiving: { healthy: boolean; lastArchivedWal: string; lagSeconds: number; failedCount: number } };
  assert.equal(report.archiving.healthy, true);
  assert.match(report.archiving.lastArchivedWal, /^[0-9A-F]{24}$/);
  assert.equal(typeof report.archiving.lagSeconds, 'number');
  // Archiving alone, for a cluster protected by PITR only: no storage to judge.
  const alone = await runCli(['status', '--archiving-url', pg.url('shop')]);
  assert.equal(alone.code, 0, alone.stdout + alone.stderr);
  assert.match(alone.stdout, /^WAL archiving of 127\.0\.0\.1:\d+\/shop: ok; last archived/);
  assert.match(String(finalEvent(alone.stderr)?.message), /^WAL archiving of .* healthy$/);

  // A stall: nothing archived for longer than the limit.
  await until('a second since the last archived segment', async () => {
    const r = await pg.query<{ s: number }>('SELECT extract(epoch FROM clock_timestamp() - last_archived_time)::float8 AS s FROM pg_stat_archiver');
    return r[0]!.s > 2;
  });
  const stalled = await runCli(['status', '--storage', storage, '--archiving-url', pg.url('shop'), '--max-archive-lag', '1s']);
  assert.equal(stalled.code, 1);
  assert.match(stalled.stdout, /WAL archiving of .*UNHEALTHY \(archiving stalled/);
  assert.equal(finalEvent(stalled.stderr)?.event, 'status.unhealthy');

  // A failure: the archive command stops working.
  await pg.query("ALTER SYSTEM SET archive_command = 'false'");
  await pg.query('SELECT pg_reload_conf()');
  await pg.query('CREATE TABLE more_orders AS SELECT 1 AS id');
  await pg.query('SELECT pg_switch_wal()');
  await until('an archive failure', async () => Number((await pg.query<{ n: string }>('SELECT failed_count AS n FROM pg_stat_archiver'))[0]!.n) > 0);
  const failing = await runCli(['status', '--storage', storage, '--archiving-url', pg.url('shop')]);
  assert.equal(failing.code, 1);
  assert.match(failing.stdout, /UNHEALTHY \(archiving fails: [0-9A-F]{24} could not be archived/);
  assert.match(String(finalEvent(failing.stderr)?.message), /WAL archiving of .* archiving fails/);
});
