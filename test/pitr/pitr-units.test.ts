/** The pure parts of PITR: target times, pgBackRest's info JSON, the recovery log, the window, archiving health, the configuration. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTargetTime, pgTime } from '../../runner/pitr/target-time';
import { errorLines, parseInfo } from '../../runner/pitr/pgbackrest';
import { parseRecoveryLog } from '../../runner/pitr/server';
import { backupForTarget } from '../../runner/pitr/window';
import { archiverProblem, type ArchiverStatus } from '../../runner/pitr/archiver';
import { archiveCommand, pitrPaths, renderPgbackrestConf, PITR_CONFIG_FORMAT_VERSION, type PitrConfig } from '../../runner/pitr/config';
import type { LifeboatError } from '../../runner/errors';

const NOW = new Date('2026-12-07T18:00:00Z');

test('target times need a zone, are not in the future, and reach pgBackRest as "YYYY-MM-DD HH:MM:SS.mmm+00"', () => {
  assert.equal(parseTargetTime('--to-time', '2026-12-07T14:31:00Z', NOW).toISOString(), '2026-12-07T14:31:00.000Z');
  assert.equal(parseTargetTime('--to-time', '2026-12-07 15:31:00+01', NOW).toISOString(), '2026-12-07T14:31:00.000Z');
  assert.equal(parseTargetTime('--to-time', '2026-12-07T15:31:00+01:00', NOW).toISOString(), '2026-12-07T14:31:00.000Z');
  for (const [v, code] of [['2026-12-07 14:31', 'target_time_invalid'], ['yesterday', 'target_time_invalid'], ['2026-12-08T00:00:00Z', 'target_time_future']] as const) {
    assert.throws(() => parseTargetTime('--to-time', v, NOW), (e: LifeboatError) => e.code === code && e.exitCode === 2 && e.message.includes('--to-time'), v);
  }
  assert.equal(pgTime(new Date('2026-12-07T14:31:00.123Z')), '2026-12-07 14:31:00.123+00');
});

const INFO = JSON.stringify([
  {
    name: 'shop',
    status: { code: 0, message: 'ok' },
    cipher: 'aes-256-cbc',
    archive: [{ id: '15-1', min: '000000010000000000000002', max: '000000010000000000000009' }],
    backup: [
      { label: '20261207-100000F', type: 'full', timestamp: { start: 1796637600, stop: 1796637660 }, archive: { start: '000000010000000000000002', stop: '000000010000000000000002' }, info: { size: 100, repository: { size: 40, delta: 40 } } },
      { label: '20261207-100000F_20261207-120000I', type: 'incr', timestamp: { start: 1796644800, stop: 1796644830 }, info: { size: 100, repository: { size: 5 } } },
    ],
  },
]);

test('pgbackrest info --output=json is read into backups and the WAL range', () => {
  const info = parseInfo(INFO, 'shop');
  assert.equal(info.cipher, 'aes-256-cbc');
  assert.equal(info.archiveMax, '000000010000000000000009');
  assert.deepEqual(info.backups.map((b) => [b.label, b.type, b.stoppedAt.toISOString(), b.repoBytes]), [
    ['20261207-100000F', 'full', '2026-12-07T10:01:00.000Z', 40],
    ['20261207-100000F_20261207-120000I', 'incr', '2026-12-07T12:00:30.000Z', 5],
  ]);
  assert.throws(() => parseInfo(INFO, 'other'), /knows no stanza "other"/);
  assert.throws(() => parseInfo('not json', 'shop'), /did not print JSON/);
});

test('the backup for a target is the newest that ended before it; a target before the window names the window', () => {
  const info = parseInfo(INFO, 'shop');
  assert.equal(backupForTarget(info, new Date('2026-12-07T11:00:00Z'), '--to-time').label, '20261207-100000F');
  assert.equal(backupForTarget(info, new Date('2026-12-07T13:00:00Z'), '--to-time').type, 'incr');
  assert.throws(
    () => backupForTarget(info, new Date('2026-12-07T09:00:00Z'), '--to-time'),
    (e: LifeboatError) => e.exitCode === 2 && /before the recoverable window of "shop", which starts at 2026-12-07T10:01:00.000Z/.test(e.message),
  );
  assert.throws(() => backupForTarget({ ...info, backups: [] }, NOW, '--to-time'), /holds no backup yet/);
});

test("the recovery log says where recovery stopped, or why it failed", () => {
  const ok = parseRecoveryLog(`2026-12-07 17:54:00.166 UTC [3640] LOG:  consistent recovery state reached at 0/3000050
2026-12-07 17:54:00.167 UTC [3640] LOG:  recovery stopping before commit of transaction 725, time 2026-12-07 17:53:52.413757+00
2026-12-07 17:54:00.167 UTC [3640] LOG:  last completed transaction was at log time 2026-12-07 17:53:50.358533+00`);
  assert.deepEqual(ok, { reachedTarget: true, stoppedAt: '2026-12-07 17:53:52.413757+00', lastTransactionAt: '2026-12-07 17:53:50.358533+00', failure: null });
  const bad = parseRecoveryLog('2026-12-07 17:54:00.167 UTC [3640] FATAL:  recovery ended before configured recovery target was reached');
  assert.equal(bad.reachedTarget, false);
  assert.equal(bad.failure, 'recovery ended before configured recovery target was reached');
});

test("pgBackRest's error lines are picked out of its output", () => {
  const out = `2026-12-07 17:55:12.000 P00  ERROR: [055]: unable to load info file '/r/backup.info'
       HINT: has a stanza-create been performed?`;
  assert.equal(errorLines(out), "ERROR: [055]: unable to load info file '/r/backup.info' | HINT: has a stanza-create been performed?");
});

function archiver(over: Partial<ArchiverStatus>): ArchiverStatus {
  return {
    archiveMode: 'on', archiveTimeoutSeconds: 60, archivedCount: 3, lastArchivedWal: '000000010000000000000003', lastArchivedAt: new Date(NOW.getTime() - 30_000),
    failedCount: 0, lastFailedWal: null, lastFailedAt: null, now: NOW, lagSeconds: 30, failing: false, ...over,
  };
}

test('archiving is unhealthy when off, failing or stalled beyond three archive_timeouts (at least 5 minutes)', () => {
  assert.equal(archiverProblem(archiver({})), null);
  assert.equal(archiverProblem(archiver({ archiveMode: 'off' })), 'archive_mode is off');
  assert.match(archiverProblem(archiver({ failing: true, failedCount: 2, lastFailedWal: '000000010000000000000004' }))!, /archiving fails: 000000010000000000000004/);
  assert.equal(archiverProblem(archiver({ lagSeconds: 299 })), null);
  assert.match(archiverProblem(archiver({ lagSeconds: 301 }))!, /archiving stalled: .* more than 300s/);
  assert.match(archiverProblem(archiver({ lagSeconds: 901, archiveTimeoutSeconds: 300 }))!, /more than 900s/);
  assert.equal(archiverProblem(archiver({ lagSeconds: 700, archiveTimeoutSeconds: 300 })), null);
  assert.match(archiverProblem(archiver({ lagSeconds: 31 }), 30)!, /more than 30s/);
  assert.equal(archiverProblem(archiver({ lagSeconds: null, lastArchivedWal: null })), 'no WAL segment has been archived yet');
});

const CFG: PitrConfig = {
  formatVersion: PITR_CONFIG_FORMAT_VERSION, source: 'shop', pgdata: '/var/lib/postgresql/15/main', socketDir: '/var/run/postgresql', port: 5432,
  pgUser: 'postgres', database: 'shop', pgMajor: 15, repoPath: '/backups/pitr/shop', storageUrl: 'file:///backups', s3: null, gcs: null, encrypted: true, archiveTimeoutSeconds: 60,
};

test('the configuration names the stanza, the socket and the repository, and never holds the passphrase', () => {
  const paths = pitrPaths('/etc/lifeboat/pitr', 'shop');
  const conf = renderPgbackrestConf(CFG, paths);
  for (const line of ['repo1-path=/backups/pitr/shop', 'repo1-cipher-type=aes-256-cbc', '[shop]', 'pg1-path=/var/lib/postgresql/15/main', 'pg1-socket-path=/var/run/postgresql', 'pg1-port=5432']) {
    assert.ok(conf.includes(line), line);
  }
  assert.doesNotMatch(conf, /cipher-pass/);
  assert.equal(
    archiveCommand(paths, 'shop'),
    'pgbackrest --config=/etc/lifeboat/pitr/shop/pgbackrest.conf --config-include-path=/etc/lifeboat/pitr/shop/secret --stanza=shop archive-push %p',
  );
  assert.throws(() => archiveCommand(pitrPaths("/etc/it's", 'shop'), 'shop'), /may not hold quotes/);
  const s3 = renderPgbackrestConf(
    { ...CFG, repoPath: '/team/pitr/shop', s3: { bucket: 'b', endpoint: 's3.example', port: 9443, endpointUrl: 'https://s3.example:9443', region: 'eu-west-1', uriStyle: 'path', caFile: null, keyType: 'shared' } },
    paths,
  );
  for (const line of ['repo1-type=s3', 'repo1-path=/team/pitr/shop', 'repo1-s3-bucket=b', 'repo1-s3-endpoint=s3.example', 'repo1-s3-port=9443', 'repo1-s3-uri-style=path', 'repo1-s3-key-type=shared']) {
    assert.ok(s3.includes(line), line);
  }
  assert.doesNotMatch(s3, /repo1-s3-key=|key-secret/);
});
