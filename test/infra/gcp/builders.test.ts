import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETENTION_DAYS } from '../../../runner/contract/layout';
import { EVENTS } from '../../../runner/contract/events';
import { lifecycleRules, retentionPeriodSeconds, storageClassSteps } from '../../../infra/gcp/lifecycle';
import { backupBucketGrants, cloudSqlCondition, restoreBucketGrants, serviceAccountId, FORBIDDEN_ROLES } from '../../../infra/gcp/iamGrants';
import { eventFilter, metricFilter, runnerLogScope, smallBackupFilter } from '../../../infra/gcp/alertRules';
import { notificationChannelName } from '../../../infra/gcp/Alerts';
import { databaseTasks, redisTasks, storageUrl } from '../../../infra/gcp/taskSpecs';
import { parseConfig } from '../../../infra/config/load';
import { gcpRaw } from '../helpers';

const steps: Array<[number, string[]]> = [
  [7, []],
  [35, []],
  [60, ['NEARLINE@30']],
  [90, ['NEARLINE@30']],
  [180, ['NEARLINE@30', 'COLDLINE@90']],
  [400, ['NEARLINE@30', 'COLDLINE@90']],
  [730, ['NEARLINE@30', 'COLDLINE@90', 'ARCHIVE@365']],
  [2557, ['NEARLINE@30', 'COLDLINE@90', 'ARCHIVE@365']],
];
for (const [days, want] of steps) {
  test(`objects kept ${days} days move through ${want.join(', ') || 'no colder class'}`, () => {
    assert.deepEqual(storageClassSteps(days).map((s) => `${s.storageClass}@${s.afterDays}`), want);
  });
}

test('lifecycle: one Delete per class prefix at its retention, drill reports, abandoned uploads', () => {
  const rules = lifecycleRules({ retentionDays: DEFAULT_RETENTION_DAYS, drillReportRetentionDays: 400, root: '' });
  const deletes = rules.filter((r) => r.action.type === 'Delete').map((r) => `${r.condition.matchesPrefixes?.join()}=${r.condition.age}`);
  assert.deepEqual(deletes, ['daily/=7', 'weekly/=35', 'monthly/=400', 'yearly/=2557', 'manual/=90', 'drills/=400']);
  assert.ok(rules.some((r) => r.action.type === 'AbortIncompleteMultipartUpload' && r.condition.age === 1));
  // Each transition only moves objects out of the class the previous step left them in.
  const yearly = rules.filter((r) => r.action.type === 'SetStorageClass' && r.condition.matchesPrefixes?.[0] === 'yearly/');
  assert.deepEqual(yearly.map((r) => `${r.condition.matchesStorageClasses?.[0]}->${r.action.storageClass}`), ['STANDARD->NEARLINE', 'NEARLINE->COLDLINE', 'COLDLINE->ARCHIVE']);
});

test('lifecycle prefixes include the storage root', () => {
  const rules = lifecycleRules({ retentionDays: DEFAULT_RETENTION_DAYS, drillReportRetentionDays: 30, root: 'prod/' });
  assert.ok(rules.filter((r) => r.condition.matchesPrefixes).every((r) => r.condition.matchesPrefixes![0]!.startsWith('prod/')));
  assert.equal(retentionPeriodSeconds(7), '604800');
});

test('the backup identity can create and read, never delete', () => {
  const roles = backupBucketGrants().map((g) => g.role);
  assert.deepEqual(roles, ['roles/storage.objectCreator', 'roles/storage.objectViewer']);
  assert.ok(roles.every((r) => !FORBIDDEN_ROLES.includes(r)));
});

test('the restore identity writes only drill reports, by condition on the object name', () => {
  const g = restoreBucketGrants('b', 'root');
  assert.equal(g[0]!.role, 'roles/storage.objectViewer');
  assert.equal(g[0]!.condition, undefined);
  assert.equal(g[1]!.role, 'roles/storage.objectCreator');
  assert.equal(g[1]!.condition!.expression, 'resource.name.startsWith("projects/_/buckets/b/objects/root/drills/")');
});

test('Cloud SQL client is limited to the protected instances', () => {
  assert.equal(cloudSqlCondition('p', []), undefined);
  assert.equal(cloudSqlCondition('p', ['b', 'a', 'a'])!.expression, 'resource.name == "projects/p/instances/a" || resource.name == "projects/p/instances/b"');
});

const ids: Array<[string, string, string]> = [
  ['lifeboat-prod', 'backup', 'lifeboat-prod-backup'],
  ['lifeboat-production-eu1', 'scheduler', 'lifeboat-produc-f9d7-scheduler'],
  ['lifeboat-a-very-long-prefix', 'restore', 'lifeboat-a-very-l-0fce-restore'],
  ['lifeboat-staging-eu1x', 'scheduler', 'lifeboat-stagin-3f29-scheduler'],
  ['lifeboat-staging-eu1y', 'scheduler', 'lifeboat-stagin-635a-scheduler'],
];
for (const [prefix, role, want] of ids) {
  test(`service account id ${prefix} + ${role} = ${want} (6-30 chars)`, () => {
    const id = serviceAccountId(prefix, role);
    assert.equal(id, want);
    assert.ok(id.length >= 6 && id.length <= 30 && !id.includes('--'));
  });
}

test('prefixes that differ only past the room left by the role still get distinct service accounts', () => {
  const a = serviceAccountId('lifeboat-staging-eu1x', 'scheduler');
  const b = serviceAccountId('lifeboat-staging-eu1y', 'scheduler');
  assert.notEqual(a, b);
});

test('alert filters use the contract event names and fields', () => {
  const scope = runnerLogScope('lifeboat-prod');
  assert.equal(scope, 'resource.type="cloud_run_job" AND resource.labels.job_name=~"^lifeboat-prod-"');
  // With its sources, a stack's scope is its own job names only, not those of a stack whose prefix extends it.
  const own = runnerLogScope('lifeboat-prod', ['orders', 'sessions']);
  assert.equal(own, 'resource.type="cloud_run_job" AND resource.labels.job_name=~"^lifeboat-prod-(orders|sessions)-[a-z-]+$"');
  const re = new RegExp(JSON.parse(own.split('=~')[1]!) as string);
  assert.ok(re.test('lifeboat-prod-orders-backup') && re.test('lifeboat-prod-sessions-redis-backup'));
  assert.ok(!re.test('lifeboat-prod-dr-orders-restore') && !re.test('lifeboat-prod-eu-orders-backup') && !re.test('lifeboat-prod-billing-backup'));
  assert.equal(eventFilter('S', [EVENTS.backupFailed, EVENTS.redisBackupFailed]), 'S AND (jsonPayload.event="backup.failed" OR jsonPayload.event="redis.backup.failed")');
  assert.equal(smallBackupFilter('S', 'orders', 1024, [EVENTS.backupSucceeded]), 'S AND (jsonPayload.event="backup.succeeded") AND jsonPayload.source="orders" AND jsonPayload.bytes<1024');
  assert.equal(
    metricFilter('m', { event: [EVENTS.drillFailed], source: 'x' }),
    'metric.type="logging.googleapis.com/user/m" AND resource.type="cloud_run_job" AND (metric.label.event="drill.failed") AND metric.label.source="x"',
  );
});

test('runner tasks: secrets only by reference, non-secret options on the command line', () => {
  const cfg = parseConfig(gcpRaw({ 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'o-pg' }, rpo: '12h', amcheck: true }], 'lifeboat:redis': [{ name: 'cache', method: 'dump' }] }), 'prod');
  const storage = storageUrl('bkt', '');
  const [backup, drill, status] = databaseTasks(cfg.databases[0]!, storage, ['age1x']);
  assert.deepEqual(backup!.args, ['backup']);
  assert.deepEqual(backup!.secretEnv, { DATABASE_URL: 'lifeboat-prod-orders-database-url' });
  assert.deepEqual(backup!.env, { LIFEBOAT_STORAGE: 'gs://bkt', LIFEBOAT_SOURCE: 'orders', LIFEBOAT_AGE_RECIPIENTS: 'age1x' });
  assert.deepEqual(drill!.args, ['drill', '--backup', 'latest', '--rpo', '12h', '--rto', '1h', '--amcheck']);
  assert.equal(drill!.identity, 'restore');
  assert.deepEqual(status!.args, ['status', '--max-age', '26h', '--min-size', '1024']);
  const [redis, redisStatus] = redisTasks(cfg.redis[0]!, storage, []);
  assert.deepEqual(redis!.args, ['redis', 'backup', '--method', 'dump']);
  assert.deepEqual(redis!.secretEnv, { LIFEBOAT_REDIS_URL: 'lifeboat-prod-cache-redis-url' });
  // Redis staleness is watched like PostgreSQL's: an hourly status of that source, read-only identity, no secret.
  assert.equal(redisStatus!.task, 'status');
  assert.deepEqual(redisStatus!.args, ['status', '--engine', 'redis', '--max-age', '26h', '--min-size', '0']);
  assert.deepEqual(redisStatus!.secretEnv, {});
  assert.equal(redisStatus!.identity, 'restore');
  assert.equal(redisStatus!.env.LIFEBOAT_SOURCE, 'cache');
});

test('existing notification channels: a bare id gets the project, a full name is kept', () => {
  assert.equal(notificationChannelName('acme', '1234567'), 'projects/acme/notificationChannels/1234567');
  assert.equal(notificationChannelName('acme', 'projects/other/notificationChannels/9'), 'projects/other/notificationChannels/9');
});
