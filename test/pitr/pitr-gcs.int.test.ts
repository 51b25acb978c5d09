/**
 * PITR with the pgBackRest repository in a GCS bucket: the Firebase Storage emulator (test/harness/gcs.ts) behind
 * an HTTPS front (pgBackRest speaks only HTTPS to GCS; see test/harness/tls-front.ts), reached through
 * STORAGE_EMULATOR_HOST like Lifeboat's own GCS client, pgBackRest authenticating with the emulator's fixed
 * token from the 0600 part of the configuration, and a drill whose report lands in the same bucket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { clusterTempDir, startPostgres, type PgCluster } from '../harness/postgres';
import { requireOnPath } from '../harness/binaries';
import { startGcsEmulator, type GcsEmulator } from '../harness/gcs';
import { startTlsFront, type TlsFront } from '../harness/tls-front';
import { finalEvent, runCli, runCliProcess } from '../runner/cli-harness';
import type { PitrDrillReport } from '../../runner/pitr/report';

let pg: PgCluster;
let gcs: GcsEmulator;
let front: TlsFront;
let base: string;
let env: NodeJS.ProcessEnv;
const BUCKET = 'pitr-bucket';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every object name under `prefix`, straight from the emulator's JSON API. */
async function objectNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  let pageToken: string | undefined;
  do {
    const q = new URLSearchParams({ prefix, ...(pageToken ? { pageToken } : {}) });
    const r = (await (await fetch(`${gcs.host}/storage/v1/b/${BUCKET}/o?${q}`)).json()) as { items?: { name: string }[]; nextPageToken?: string };
    names.push(...(r.items ?? []).map((i) => i.name));
    pageToken = r.nextPageToken;
  } while (pageToken);
  return names;
}

before(async () => {
  requireOnPath('pgbackrest', 'pgbackrest');
  base = clusterTempDir('lifeboat-pitr-gcs-test-');
  chmodSync(base, 0o755);
  gcs = await startGcsEmulator();
  front = await startTlsFront(Number(new URL(gcs.host).port), base);
  pg = await startPostgres({ settings: { archive_mode: 'on' } });
  await pg.createDatabase('shop');
  for (const d of ['config', 'tmp']) mkdirSync(path.join(base, d), { mode: 0o755 });
  env = {
    ...gcs.env,
    // One endpoint for pgBackRest and Lifeboat's client alike: the HTTPS front, trusted through NODE_EXTRA_CA_CERTS.
    STORAGE_EMULATOR_HOST: front.endpoint,
    NODE_EXTRA_CA_CERTS: front.certFile,
    LIFEBOAT_PITR_CONFIG_DIR: path.join(base, 'config'),
    LIFEBOAT_TMPDIR: path.join(base, 'tmp'),
    LIFEBOAT_STORAGE: `gs://${BUCKET}/team`,
    DATABASE_URL: pg.url('shop'),
  };
  delete env.GOOGLE_APPLICATION_CREDENTIALS;
});

after(async () => {
  await pg?.stop();
  await front?.stop();
  await gcs?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

test('init, backup and a drill with the repository in a GCS bucket', async () => {
  const init = await runCli(['pitr', 'init', '--pgdata', pg.dataDir, '--encrypt', '--apply'], env);
  assert.equal(init.code, 0, init.stderr);
  const gcsConf = path.join(base, 'config', 'shop', 'secret', 'gcs.conf');
  assert.equal(statSync(gcsConf).mode & 0o777, 0o600);
  const conf = readFileSync(path.join(base, 'config', 'shop', 'pgbackrest.conf'), 'utf8');
  assert.match(conf, /repo1-type=gcs\n/);
  assert.match(conf, /repo1-path=\/team\/pitr\/shop\n/);
  assert.match(conf, new RegExp(`repo1-gcs-bucket=${BUCKET}\n`));
  assert.match(conf, new RegExp(`repo1-gcs-endpoint=localhost:${new URL(front.endpoint).port}\n`));
  assert.match(conf, /repo1-gcs-key-type=token\n/);
  assert.doesNotMatch(conf, /repo1-gcs-key=/);
  assert.match(readFileSync(gcsConf, 'utf8'), /repo1-gcs-key=/);

  const backup = await runCli(['pitr', 'backup', '--type', 'full'], env);
  assert.equal(backup.code, 0, backup.stdout + backup.stderr);

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

  // A real process: Lifeboat's own GCS client trusts the front's certificate through NODE_EXTRA_CA_CERTS.
  const drill = await runCliProcess(['pitr', 'drill', '--to-time', target], env);
  assert.equal(drill.code, 0, drill.stdout + drill.stderr);
  const report = JSON.parse(drill.stdout) as PitrDrillReport;
  assert.deepEqual(report.checks.filter((c) => !c.ok), []);
  assert.equal(finalEvent(drill.stderr)?.event, 'pitr.drill.succeeded');
  const keys = await objectNames('team/');
  assert.ok(keys.includes(`team/${report.reportKey}`), keys.join('\n'));
  assert.ok(keys.some((k) => k.startsWith('team/pitr/shop/archive/shop/')));
  assert.ok(keys.some((k) => k.startsWith('team/pitr/shop/backup/shop/')));
});
