/**
 * PITR with the pgBackRest repository in an S3 bucket: moto_server behind an HTTPS front (pgBackRest speaks only
 * HTTPS to S3; see test/harness/tls-front.ts), the access key kept in a 0600 part of the configuration, and a
 * drill whose report lands in the same bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { clusterTempDir, startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { startMoto, type S3Emulator } from '../harness/s3';
import { startTlsFront, type TlsFront } from '../harness/tls-front';
import { finalEvent, runCli, runCliProcess } from '../runner/cli-harness';
import type { PitrDrillReport } from '../../runner/pitr/report';

let pg: PgCluster;
let moto: S3Emulator;
let front: TlsFront;
let base: string;
let env: NodeJS.ProcessEnv;
const BUCKET = 'pitr-bucket';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

before(async () => {
  requireOnPath('pgbackrest', 'pgbackrest');
  base = clusterTempDir('lifeboat-pitr-s3-test-');
  chmodSync(base, 0o755);
  moto = await startMoto();
  await moto.createBucket(BUCKET);
  front = await startTlsFront(Number(new URL(moto.endpoint).port), base);
  pg = await startPostgres({ settings: { archive_mode: 'on' } });
  await pg.createDatabase('shop');
  for (const d of ['config', 'tmp']) mkdirSync(path.join(base, d), { mode: 0o755 });
  env = {
    ...moto.env,
    LIFEBOAT_PITR_CONFIG_DIR: path.join(base, 'config'),
    LIFEBOAT_TMPDIR: path.join(base, 'tmp'),
    LIFEBOAT_STORAGE: `s3://${BUCKET}/team`,
    LIFEBOAT_S3_ENDPOINT: front.endpoint,
    DATABASE_URL: pg.url('shop'),
    AWS_CA_BUNDLE: front.certFile,
    NODE_EXTRA_CA_CERTS: front.certFile,
  };
});

after(async () => {
  await pg?.stop();
  await front?.stop();
  await moto?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

test('init, backup and a drill with the repository in an S3 bucket', async () => {
  const init = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--encrypt', '--apply'], env);
  assert.equal(init.code, 0, init.stderr);
  const s3conf = path.join(base, 'config', 'shop', 'secret', 's3.conf');
  assert.equal(statSync(s3conf).mode & 0o777, 0o600);
  const conf = readFileSync(path.join(base, 'config', 'shop', 'pgbackrest.conf'), 'utf8');
  assert.match(conf, /repo1-type=s3\n/);
  assert.match(conf, /repo1-path=\/team\/pitr\/shop\n/);
  // The key is in the 0600 part only (archive_command runs without the runner's environment).
  assert.match(readFileSync(s3conf, 'utf8'), /repo1-s3-key-secret=/);
  assert.doesNotMatch(conf, /repo1-s3-key=|key-secret/);

  const backup = await runCli(['pitr', 'backup', '--type', 'full'], env);
  assert.equal(backup.code, 0, backup.stderr);

  await pg.query('CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1)', 'shop');
  assert.equal((await runCli(['pitr', 'heartbeat'], env)).code, 0);
  await sleep(1500);
  const target = (await pg.query<{ t: Date }>('SELECT clock_timestamp() AS t'))[0]!.t.toISOString();
  await sleep(200);
  assert.equal((await runCli(['pitr', 'heartbeat'], env)).code, 0);
  const wal = (await pg.query<{ w: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS w'))[0]!.w;
  await pg.query('SELECT pg_switch_wal()');
  for (let i = 0; ; i++) {
    const r = await pg.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver');
    if (r[0]!.w && r[0]!.w >= wal) break;
    assert.ok(i < 1200, `WAL ${wal} was never archived`);
    await sleep(100);
  }

  // A real process: Lifeboat's own S3 client trusts the front's certificate through NODE_EXTRA_CA_CERTS.
  const drill = await runCliProcess(['pitr', 'drill', '--to-time', target], env);
  assert.equal(drill.code, 0, drill.stdout + drill.stderr);
  const report = JSON.parse(drill.stdout) as PitrDrillReport;
  assert.deepEqual(report.checks.filter((c) => !c.ok), []);
  assert.equal(finalEvent(drill.stderr)?.event, 'pitr.drill.succeeded');
  const listed = await moto.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'team/' }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!);
  assert.ok(keys.includes(`team/${report.reportKey}`), keys.join('\n'));
  assert.ok(keys.some((k) => k.startsWith('team/pitr/shop/archive/shop/')));
  assert.ok(keys.some((k) => k.startsWith('team/pitr/shop/backup/shop/')));
});
