/**
 * PITR of a Cloud SQL instance through Google's typed client (@googleapis/sqladmin) against a local double of
 * the Admin API (test/harness/cloudsql-double.ts) that checks every request against the client's published
 * types: restore (clone with pointInTime, waiting on the operation and the instance, labels, the source
 * untouched), the window and name refusals, a failed clone undone; the drill and its cleanup of a killed
 * drill's clone. The drill's connection goes through its test seam to a database copied at T on a real local
 * PostgreSQL, as in the RDS test.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { auth, sqladmin, type sqladmin_v1 } from '@googleapis/sqladmin';
import { startPostgres, type PgCluster } from '../harness/postgres';
import { startCloudSqlDouble, type CloudSqlDouble } from '../harness/cloudsql-double';
import { parseDatabaseUrl, type ConnInfo } from '../../runner/pg/connection';
import { silentLogger } from '../../runner/log';
import type { RunContext } from '../../runner/context';
import type { LifeboatError } from '../../runner/errors';
import { CloudSqlPitr } from '../../runner/pitr/cloudsql';
import { drillCloneName, DRILL_LABEL, MADE_BY_LABEL, MADE_BY_VALUE } from '../../runner/pitr/managed';
import { runManagedPitrRestore } from '../../runner/commands/pitr-restore';
import { runManagedPitrDrill } from '../../runner/pitr/managed-drill';
import { writeHeartbeat } from '../../runner/pitr/heartbeat';
import { finalEvent, runCliProcess } from '../runner/cli-harness';

const DAY = 86_400_000;
let double: CloudSqlDouble;
let api: sqladmin_v1.Sqladmin;
let pg: PgCluster;
let target: Date;
let oldestBackupEnd: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function testCtx(): RunContext & { lines: string[]; logs: Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = silentLogger();
  logger.info = ((o: Record<string, unknown>, msg?: string) => void logs.push({ ...o, msg })) as typeof logger.info;
  const sink = { write: (s: string) => (lines.push(s), true), isTTY: false };
  return { env: {}, stdout: sink, stderr: sink, logger, now: () => new Date(), signal: new AbortController().signal, lines, logs };
}

const provider = (): CloudSqlPitr => new CloudSqlPitr(api, 'acme-prod', 'shop');
const sourceSnapshot = (): string => JSON.stringify(double.instances.get('shop'));
/** Requests that could change the source: anything but reads, and the clone call (which reads it). */
const writesToSource = (since: number): string[] =>
  double.requests.slice(since).filter((r) => /\/instances\/shop(\/|$)/.test(r.path) && r.method !== 'GET' && !r.path.endsWith('/clone')).map((r) => `${r.method} ${r.path}`);

before(async () => {
  [double, pg] = await Promise.all([startCloudSqlDouble('acme-prod'), startPostgres()]);
  const token = new auth.OAuth2();
  token.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + DAY });
  api = sqladmin({ version: 'v1', rootUrl: double.rootUrl, auth: token });
  const now = Date.now();
  oldestBackupEnd = new Date(now - 2 * DAY).toISOString();
  double.instances.set('shop', {
    kind: 'sql#instance',
    name: 'shop',
    project: 'acme-prod',
    region: 'europe-west1',
    state: 'RUNNABLE',
    databaseVersion: 'POSTGRES_16',
    connectionName: 'acme-prod:europe-west1:shop',
    ipAddresses: [{ type: 'PRIVATE', ipAddress: '10.0.0.5' }],
    settings: {
      tier: 'db-custom-2-7680',
      userLabels: { team: 'shop' },
      backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true, transactionLogRetentionDays: 7 },
    },
  });
  double.backupRuns.set('shop', [
    { kind: 'sql#backupRun', id: '2', status: 'SUCCESSFUL', startTime: new Date(now - DAY - 600_000).toISOString(), endTime: new Date(now - DAY).toISOString() },
    { kind: 'sql#backupRun', id: '1', status: 'SUCCESSFUL', startTime: new Date(now - 2 * DAY - 600_000).toISOString(), endTime: oldestBackupEnd },
    { kind: 'sql#backupRun', id: '0', status: 'FAILED', startTime: new Date(now - 3 * DAY).toISOString() },
  ]);

  await pg.createDatabase('shop');
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 3)', 'shop');
  const s = new Client({ connectionString: pg.url('shop') });
  await s.connect();
  await writeHeartbeat(s);
  await s.end();
  await sleep(1200); // heartbeats count as "before" only a second or more before the target
  target = new Date();
  await pg.query('CREATE DATABASE shop_at_t TEMPLATE shop');
  await sleep(20);
  const s2 = new Client({ connectionString: pg.url('shop') });
  await s2.connect();
  await writeHeartbeat(s2);
  await s2.query('INSERT INTO orders VALUES (4), (5)');
  await s2.end();
  double.recovery.set('shop', { latest: new Date().toISOString() });
});

after(async () => {
  await double?.stop();
  await pg?.stop();
});

test('the double refuses what the published API does not declare (so the tests below would notice a wrong request)', async () => {
  const bad = await fetch(`${double.rootUrl}v1/projects/acme-prod/instances/shop/clone?bogus=1`, {
    method: 'POST',
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    body: JSON.stringify({ cloneContext: { destinationInstanceName: 'x', pointInTIme: '2026-01-01T00:00:00Z', preferredZone: 7 } }),
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(double.violations.splice(0), [
    'POST /v1/projects/acme-prod/instances/shop/clone: query parameter bogus is not a parameter of Params$Resource$Instances$Clone',
    'POST /v1/projects/acme-prod/instances/shop/clone: Schema$InstancesCloneRequest.cloneContext.pointInTIme: not a field of Schema$CloneContext',
    'POST /v1/projects/acme-prod/instances/shop/clone: Schema$InstancesCloneRequest.cloneContext.preferredZone: expected a string, got 7',
  ]);
  const unknown = await fetch(`${double.rootUrl}v1/projects/acme-prod/instances/shop/restoreToPointInTime`, { method: 'POST', headers: { authorization: 'Bearer t' } });
  assert.equal(unknown.status, 404);
  assert.equal(double.violations.splice(0).length, 1);
});

test('restore: instances.clone with pointInTime, waited on (operation, then instance), labelled; the source untouched', async () => {
  const before = sourceSnapshot();
  const mark = double.requests.length;
  const ctx = testCtx();
  const t = new Date(Date.now() - 3_600_000);
  const r = await runManagedPitrRestore({ provider: provider(), target: t, into: 'shop-restored', timeoutMs: 60_000, pollMs: 1 }, { ctx });
  assert.equal(r.instance.status, 'RUNNABLE');
  assert.deepEqual(r.instance.endpoint?.port, 5432);
  assert.match(r.instance.endpoint!.host, /^10\.0\.0\.\d+$/);
  const clone = double.requests.slice(mark).filter((x) => x.path.endsWith('/clone'));
  assert.equal(clone.length, 1);
  assert.deepEqual(clone[0]!.body, { cloneContext: { kind: 'sql#cloneContext', destinationInstanceName: 'shop-restored', pointInTime: t.toISOString() } });
  // It waited on the operation through PENDING and RUNNING, then on the instance.
  const statuses = ctx.logs.map((l) => l.status);
  assert.deepEqual(statuses.slice(0, 4), ['operation PENDING', 'operation RUNNING', 'operation DONE', 'RUNNABLE']);
  const made = double.instances.get('shop-restored')!;
  assert.deepEqual(made.settings?.userLabels, { team: 'shop', [MADE_BY_LABEL]: MADE_BY_VALUE, 'lifeboat-restore-of': 'acme-prod-shop', 'lifeboat-restore-to': t.toISOString().toLowerCase().replace(/[^a-z0-9_-]+/g, '-') });
  assert.equal(sourceSnapshot(), before, 'the source is exactly as it was');
  assert.deepEqual(writesToSource(mark), []);
  assert.deepEqual(double.violations, []);
  double.instances.delete('shop-restored');
});

test('restore: a target outside the window (before the oldest backup, or PITR off) is refused before any clone', async () => {
  const requestsBefore = double.requests.length;
  const early = new Date(Date.parse(oldestBackupEnd) - 60_000);
  await assert.rejects(
    runManagedPitrRestore({ provider: provider(), target: early, into: 'shop-early', timeoutMs: 60_000, pollMs: 1 }, { ctx: testCtx() }),
    (e: LifeboatError) =>
      e.code === 'target_time_outside_window' && e.exitCode === 2 && e.message.includes(`which is ${oldestBackupEnd} to `) && e.message.includes('from the end of the oldest backup to the latest recovery time'),
  );
  const src = double.instances.get('shop')!;
  src.settings!.backupConfiguration!.pointInTimeRecoveryEnabled = false;
  try {
    await assert.rejects(
      runManagedPitrRestore({ provider: provider(), target: new Date(Date.now() - 3_600_000), into: 'shop-nopitr', timeoutMs: 60_000, pollMs: 1 }, { ctx: testCtx() }),
      (e: LifeboatError) => e.code === 'pitr_disabled' && e.exitCode === 1 && /point-in-time recovery off/.test(e.message),
    );
  } finally {
    src.settings!.backupConfiguration!.pointInTimeRecoveryEnabled = true;
  }
  assert.equal(double.requests.slice(requestsBefore).filter((x) => x.method !== 'GET').length, 0);
  assert.deepEqual(double.violations, []);
});

test('restore: an existing instance name is refused; a clone whose operation fails is deleted again', async () => {
  double.instances.set('shop-old', { kind: 'sql#instance', name: 'shop-old', state: 'RUNNABLE' });
  await assert.rejects(
    runManagedPitrRestore({ provider: provider(), target: new Date(Date.now() - 3_600_000), into: 'shop-old', timeoutMs: 60_000, pollMs: 1 }, { ctx: testCtx() }),
    (e: LifeboatError) => e.code === 'into_exists' && e.exitCode === 2,
  );
  double.instances.delete('shop-old');
  double.failClones = 'simulated: not enough capacity in the zone';
  try {
    await assert.rejects(
      runManagedPitrRestore({ provider: provider(), target: new Date(Date.now() - 3_600_000), into: 'shop-fails', timeoutMs: 60_000, pollMs: 1 }, { ctx: testCtx() }),
      (e: LifeboatError) => e.code === 'managed_restore_failed' && /INTERNAL_ERROR simulated: not enough capacity/.test(e.message) && e.message.includes('shop-fails was deleted'),
    );
  } finally {
    double.failClones = null;
  }
  assert.equal(double.instances.has('shop-fails'), false);
  assert.deepEqual(double.violations, []);
});

function seamTo(database: string): (endpoint: { host: string; port: number }, conn: ConnInfo) => ConnInfo {
  return (_endpoint, conn) => ({ ...conn, host: pg.host, port: pg.port, database });
}

test('drill: clone to T, heartbeat and row-count checks against the copy, clone labelled then deleted; a killed drill\'s clone is removed', async () => {
  // A drill killed three hours ago, after asking for its clone (not yet labelled: Cloud SQL labels come after), and one still running.
  const killedAt = new Date(Date.now() - 3 * 3_600_000);
  const leftover = drillCloneName('shop', killedAt);
  const p0 = provider();
  const src = await p0.describeSource();
  await p0.startClone(leftover, target, src, {});
  const running = drillCloneName('shop', new Date(Date.now() - 60_000));
  await p0.startClone(running, target, src, {});
  const before = sourceSnapshot();
  const mark = double.requests.length;

  const ctx = testCtx();
  const r = await runManagedPitrDrill(
    {
      provider: provider(),
      source: 'shop',
      target,
      conn: parseDatabaseUrl(pg.url('shop')),
      tables: ['orders'],
      rpoTargetSeconds: null,
      rtoTargetSeconds: 3600,
      timeoutMs: 3_600_000,
      pollMs: 1,
      cloneConnectionSeam: seamTo('shop_at_t'),
    },
    { ctx },
  );
  assert.equal(r.passed, true, JSON.stringify(r.checks, null, 2));
  assert.deepEqual(r.staleRemoved, [leftover]);
  assert.equal(double.instances.has(leftover), false);
  assert.equal(double.instances.has(running), true);
  assert.equal(double.instances.has(r.managed!.clone), false, 'the clone is deleted');
  assert.deepEqual(r.managed!.tables.map((t) => [t.table, t.cloneRows, t.sourceRows]), [['orders', 3, 5]]);
  // The clone was labelled as a drill's before the checks, through instances.patch.
  const patch = double.requests.find((x) => x.method === 'PATCH' && x.path.endsWith(`/instances/${r.managed!.clone}`));
  assert.deepEqual((patch?.body as sqladmin_v1.Schema$DatabaseInstance).settings?.userLabels, { team: 'shop', [DRILL_LABEL]: 'shop', [MADE_BY_LABEL]: MADE_BY_VALUE });
  assert.equal(r.rpo.seconds !== null && r.rpo.seconds >= 0, true);
  assert.equal(sourceSnapshot(), before);
  assert.deepEqual(writesToSource(mark), []);
  assert.deepEqual(double.violations, []);
  double.instances.delete(running);
});

test('CLI: pitr drill --cloudsql reaches the Admin API through Application Default Credentials; without usable ones it fails clearly (exit 1, one pitr.drill.failed)', async () => {
  const r = await runCliProcess(['pitr', 'drill', '--cloudsql', 'acme-prod:shop', '--ago', '1h'], {
    DATABASE_URL: pg.url('shop'),
    GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/lifeboat-test-adc.json',
    LIFEBOAT_PLAIN_ERRORS: '1',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Cloud SQL Admin API instances\.get of acme-prod:shop failed: .*lifeboat-test-adc\.json/);
  const ev = finalEvent(r.stderr)!;
  assert.equal(ev.event, 'pitr.drill.failed');
  assert.equal(ev.source, 'shop');
  assert.equal(ev.provider, 'cloudsql');
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('"event":"pitr.drill.')).length, 1);
});
