import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { synthStack, type SynthResult } from '../../../infra/synth/synth';
import type { RecordedResource } from '../../../infra/synth/recorded';
import { MOCK_SECRET_DATA } from '../../../infra/synth/mocks';
import { ConfigError } from '../../../infra/config/load';
import { EVENTS } from '../../../runner/contract/events';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'Pulumi.pr-123.yaml');
const cache = new Map<string, Promise<SynthResult>>();
function synth(stack: string): Promise<SynthResult> {
  if (!cache.has(stack)) cache.set(stack, synthStack(stack, stack === 'pr-123' ? { stackFile: FIXTURE } : {}));
  return cache.get(stack)!;
}
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: SynthResult, type: string, name: string): RecordedResource => {
  const found = r.resources.find((x) => x.type === type && x.name === name);
  assert.ok(found, `no ${type} named ${name}`);
  return found;
};
const get = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

for (const stack of ['prod', 'staging', 'dr', 'pr-123']) {
  test(`${stack}: resource URNs and cloud names are unique`, async () => {
    const r = await synth(stack);
    const urns = r.resources.map((x) => x.urn);
    assert.equal(new Set(urns).size, urns.length);
    // Mocks do no autonaming: check the names the cloud would see, per type.
    // A SQL user's name is scoped by its instance.
    const cloudNames = r.resources
      .filter((x) => typeof x.inputs.name === 'string')
      .map((x) => `${x.type} ${String(x.inputs.instance ?? '')}/${x.inputs.name as string}`);
    assert.equal(new Set(cloudNames).size, cloudNames.length, cloudNames.filter((n, i) => cloudNames.indexOf(n) !== i).join(', '));
  });

  test(`${stack}: no secret value in any plain input, every secret input marked`, async () => {
    const r = await synth(stack);
    const text = JSON.stringify(r.resources);
    assert.ok(!text.includes(MOCK_SECRET_DATA), 'a secret read from Secret Manager reached the recorded inputs in plain text');
    assert.ok(!/postgres(ql)?:\/\/[^@"]*:[^@"]+@/.test(text), 'a URL with a password appears in an input');
    for (const job of ofType(r, 'gcp:cloudrunv2/job:Job')) {
      const envs = get(job.inputs, 'template', 'template', 'containers') as Array<{ envs: Array<{ name: string; value?: string }> }>;
      for (const e of envs[0]!.envs) {
        if (/URL|IDENTITY|PASSWORD|TOKEN/.test(e.name) && e.name !== 'LIFEBOAT_STORAGE') assert.equal(e.value, undefined, `${job.name} sets ${e.name} as a literal`);
      }
    }
  });

  test(`${stack}: every child is named after its component and parented`, async () => {
    const r = await synth(stack);
    const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
    for (const x of r.resources) {
      if (x.type === 'pulumi:pulumi:Stack') continue;
      const parent = byUrn.get(x.parent!);
      assert.ok(parent, `${x.name} has no recorded parent`);
      if (parent.type.startsWith('lifeboat:gcp:')) assert.ok(x.name.startsWith(`${parent.name}-`), `${x.name} is not named ${parent.name}-<role>`);
    }
  });
}

test('prod: the backup bucket is hardened and locked, with lifecycle per class', async () => {
  const r = await synth('prod');
  const b = one(r, 'gcp:storage/bucket:Bucket', 'vault-bucket');
  assert.equal(b.inputs.location, 'EUR5');
  assert.equal(b.inputs.uniformBucketLevelAccess, true);
  assert.equal(b.inputs.publicAccessPrevention, 'enforced');
  assert.equal(b.inputs.forceDestroy, false);
  assert.deepEqual(b.inputs.retentionPolicy, { retentionPeriod: '604800', isLocked: true });
  assert.deepEqual(b.inputs.versioning, { enabled: false });
  assert.deepEqual(b.inputs.softDeletePolicy, { retentionDurationSeconds: 604800 });
  assert.equal(b.protect, true);
  const rules = b.inputs.lifecycleRules as Array<{ action: { type: string }; condition: { age: number; matchesPrefixes?: string[] } }>;
  assert.ok(rules.some((x) => x.action.type === 'Delete' && x.condition.matchesPrefixes?.[0] === 'yearly/' && x.condition.age === 2557));
  assert.equal(get(b.inputs, 'labels', 'lifeboat-role'), 'backup-vault');
  const dr = one(r, 'gcp:storage/bucket:Bucket', 'dr-vault-bucket');
  assert.equal(dr.inputs.location, 'europe-north1');
  assert.equal(get(dr.inputs, 'labels', 'lifeboat-role'), 'dr-vault');
  const transfer = one(r, 'gcp:storage/transferJob:TransferJob', 'dr-replication');
  assert.equal(get(transfer.inputs, 'replicationSpec', 'gcsDataSource', 'bucketName'), 'acme-prod-lifeboat-prod-backups');
  assert.equal(get(transfer.inputs, 'replicationSpec', 'transferOptions', 'deleteObjectsUniqueInSink'), false);
  assert.equal(transfer.inputs.name, undefined, 'replication jobs take no custom name');
  // The transfer service agent can set up the event-driven replication before the job exists.
  const sts = 'serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com';
  const stsBuckets = ofType(r, 'gcp:storage/bucketIAMMember:BucketIAMMember').filter((m) => m.inputs.member === sts);
  assert.deepEqual(stsBuckets.map((m) => `${String(m.inputs.bucket)} ${String(m.inputs.role).replace(/_[0-9a-f]{12}$/, '')}`).sort(), [
    'acme-prod-lifeboat-prod-backups projects/acme-prod/roles/lifeboat_replication_source',
    'acme-prod-lifeboat-prod-dr-backups projects/acme-prod/roles/lifeboat_replication_sink',
  ]);
  const projectGrants = ofType(r, 'gcp:projects/iAMMember:IAMMember').map((m) => `${String(m.inputs.member)} ${String(m.inputs.role)}`);
  assert.ok(projectGrants.includes(`${sts} roles/pubsub.editor`));
  assert.ok(projectGrants.includes('serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com roles/pubsub.publisher'));
  const grantUrns = r.resources.filter((x) => x.name.startsWith('dr-sts-') || x.name === 'dr-gcs-publisher').map((x) => x.urn);
  assert.equal(grantUrns.length, 6, 'two custom roles, two bucket grants, two project grants');
  for (const urn of grantUrns.filter((u) => !u.endsWith('-role'))) assert.ok(transfer.dependencies.includes(urn), `the transfer job does not wait for ${urn}`);
});

test('prod: identities hold only their roles; nobody can delete backups', async () => {
  const r = await synth('prod');
  const members = ofType(r, 'gcp:storage/bucketIAMMember:BucketIAMMember').filter((m) => m.inputs.bucket === 'acme-prod-lifeboat-prod-backups');
  const backup = members.filter((m) => String(m.inputs.member).includes('lifeboat-prod-backup@')).map((m) => m.inputs.role).sort();
  assert.deepEqual(backup, ['projects/acme-prod/roles/lifeboat_prod_setObjectRetention', 'roles/storage.objectCreator', 'roles/storage.objectViewer']);
  // The custom role lets the backup identity lock each backup for its class, and holds nothing else.
  assert.deepEqual(one(r, 'gcp:projects/iAMCustomRole:IAMCustomRole', 'identity-set-retention').inputs.permissions, ['storage.objects.setRetention']);
  const restoreCreator = members.find((m) => String(m.inputs.member).includes('lifeboat-prod-restore@') && m.inputs.role === 'roles/storage.objectCreator');
  assert.match(String(get(restoreCreator!.inputs, 'condition', 'expression')), /objects\/drills\/"\)$/);
  const all = [...ofType(r, 'gcp:storage/bucketIAMMember:BucketIAMMember'), ...ofType(r, 'gcp:projects/iAMMember:IAMMember')];
  for (const m of all) assert.ok(!['roles/owner', 'roles/editor', 'roles/storage.admin', 'roles/storage.objectAdmin'].includes(String(m.inputs.role)), `${m.name} grants ${String(m.inputs.role)}`);
  const sql = ofType(r, 'gcp:projects/iAMMember:IAMMember').find((m) => m.inputs.role === 'roles/cloudsql.client');
  assert.match(String(get(sql!.inputs, 'condition', 'expression')), /instances\/billing-pg" \|\| .*instances\/orders-pg"/);
  const secretAccess = ofType(r, 'gcp:secretmanager/secretIamMember:SecretIamMember').filter((m) => String(m.inputs.member).includes('-backup@')).map((m) => m.inputs.secretId).sort();
  assert.deepEqual(secretAccess, ['lifeboat-prod-billing-database-url', 'lifeboat-prod-orders-database-url', 'lifeboat-prod-sessions-redis-url']);
  const invokers = ofType(r, 'gcp:cloudrunv2/jobIamMember:JobIamMember');
  assert.ok(invokers.length > 0 && invokers.every((m) => m.inputs.role === 'roles/run.invoker' && String(m.inputs.member).includes('lifeboat-prod-scheduler@')));
});

test('prod: Cloud SQL backups, PITR, deletion protection; adopted instance imported', async () => {
  const r = await synth('prod');
  const orders = one(r, 'gcp:sql/databaseInstance:DatabaseInstance', 'db-orders-instance');
  assert.equal(orders.importId, 'projects/acme-prod/instances/orders-pg');
  const bc = get(orders.inputs, 'settings', 'backupConfiguration') as Record<string, unknown>;
  assert.deepEqual(bc, { enabled: true, startTime: '01:00', pointInTimeRecoveryEnabled: true, transactionLogRetentionDays: 7, backupRetentionSettings: { retainedBackups: 30, retentionUnit: 'COUNT' }, location: 'eu' });
  assert.equal(orders.inputs.deletionProtection, true);
  assert.equal(get(orders.inputs, 'settings', 'deletionProtectionEnabled'), true);
  assert.equal(get(orders.inputs, 'settings', 'retainBackupsOnDelete'), true);
  assert.deepEqual(get(orders.inputs, 'settings', 'finalBackupConfig'), { enabled: true, retentionDays: 30 });
  const billing = one(r, 'gcp:sql/databaseInstance:DatabaseInstance', 'db-billing-instance');
  assert.equal(billing.importId, undefined);
  assert.equal(billing.inputs.databaseVersion, 'POSTGRES_16');
});

test('prod: jobs run the runner with the Cloud SQL socket, secrets by reference, limits and timeouts', async () => {
  const r = await synth('prod');
  const job = one(r, 'gcp:cloudrunv2/job:Job', 'jobs-orders-backup');
  assert.equal(job.inputs.name, 'lifeboat-prod-orders-backup');
  assert.equal(job.inputs.location, 'europe-west1');
  const t = get(job.inputs, 'template', 'template') as Record<string, unknown>;
  assert.equal(t.serviceAccount, 'lifeboat-prod-backup@acme-prod.iam.gserviceaccount.com');
  assert.equal(t.timeout, '10800s');
  assert.equal(t.maxRetries, 1);
  assert.deepEqual(t.volumes, [{ name: 'cloudsql', cloudSqlInstance: { instances: ['acme-prod:europe-west1:orders-pg'] } }]);
  const c = (t.containers as Array<Record<string, unknown>>)[0]!;
  assert.deepEqual(c.args, ['backup']);
  assert.deepEqual(c.resources, { limits: { cpu: '2', memory: '4Gi' } });
  const envs = c.envs as Array<Record<string, unknown>>;
  assert.deepEqual(envs.find((e) => e.name === 'DATABASE_URL'), { name: 'DATABASE_URL', valueSource: { secretKeyRef: { secret: 'lifeboat-prod-orders-database-url', version: 'latest' } } });
  const drill = one(r, 'gcp:cloudrunv2/job:Job', 'jobs-orders-drill');
  assert.equal(get(drill.inputs, 'template', 'template', 'timeout'), '21600s');
  const drillEnv = (get(drill.inputs, 'template', 'template', 'containers') as Array<{ envs: Array<{ name: string }> }>)[0]!.envs.map((e) => e.name);
  assert.ok(drillEnv.includes('LIFEBOAT_AGE_IDENTITY') && drillEnv.includes('LIFEBOAT_SCRATCH_URL'));
});

test('prod: schedules call the Run Admin API with the scheduler token and an explicit time zone', async () => {
  const r = await synth('prod');
  const s = one(r, 'gcp:cloudscheduler/job:Job', 'schedules-orders-backup');
  assert.equal(s.inputs.schedule, '30 2 * * *');
  assert.equal(s.inputs.timeZone, 'Europe/Brussels');
  assert.equal(get(s.inputs, 'httpTarget', 'uri'), 'https://run.googleapis.com/v2/projects/acme-prod/locations/europe-west1/jobs/lifeboat-prod-orders-backup:run');
  assert.equal(get(s.inputs, 'httpTarget', 'httpMethod'), 'POST');
  assert.deepEqual(get(s.inputs, 'httpTarget', 'oauthToken'), { serviceAccountEmail: 'lifeboat-prod-scheduler@acme-prod.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/cloud-platform' });
  assert.equal(one(r, 'gcp:cloudscheduler/job:Job', 'schedules-sessions-redis-backup').inputs.schedule, '15 * * * *');
  // Every source, PostgreSQL and Redis, has its hourly staleness check scheduled.
  for (const source of ['orders', 'billing', 'sessions']) {
    const status = one(r, 'gcp:cloudscheduler/job:Job', `schedules-${source}-status`);
    assert.equal(get(status.inputs, 'httpTarget', 'uri'), `https://run.googleapis.com/v2/projects/acme-prod/locations/europe-west1/jobs/lifeboat-prod-${source}-status:run`);
  }
  const redisStatus = one(r, 'gcp:cloudrunv2/job:Job', 'jobs-sessions-status');
  assert.deepEqual((get(redisStatus.inputs, 'template', 'template', 'containers') as Array<{ args: string[] }>)[0]!.args, ['status', '--engine', 'redis', '--max-age', '2h', '--min-size', '0']);
});

test('prod: log metrics on contract events and the five alert kinds, each with a runbook and channels', async () => {
  const r = await synth('prod');
  const events = one(r, 'gcp:logging/metric:Metric', 'alerts-events');
  for (const e of [EVENTS.backupFailed, EVENTS.backupSucceeded, EVENTS.drillFailed, EVENTS.statusUnhealthy]) assert.ok(String(events.inputs.filter).includes(`"${e}"`));
  const policies = ofType(r, 'gcp:monitoring/alertPolicy:AlertPolicy');
  const kinds = new Set(policies.map((p) => get(p.inputs, 'userLabels', 'lifeboat-alert')));
  assert.deepEqual([...kinds].sort(), ['backup-failed', 'backup-slow', 'backup-small', 'backup-stale', 'drill-failed', 'pitr-drill-failed', 'pitr-drill-missing', 'pitr-heartbeat-failed']);
  for (const p of policies) {
    assert.match(String(get(p.inputs, 'documentation', 'content')), /(gcloud|npm run lifeboat)/);
    assert.equal((p.inputs.notificationChannels as unknown[]).length, 3);
  }
  const small = one(r, 'gcp:monitoring/alertPolicy:AlertPolicy', 'alerts-orders-backup-small');
  assert.match(String(get(small.inputs, 'conditions')?.constructor === Array ? (small.inputs.conditions as Array<{ conditionMatchedLog: { filter: string } }>)[0]!.conditionMatchedLog.filter : ''), /jsonPayload\.bytes<50000000$/);
  // sessions (Redis) has no size floor: no size policy that could never fire; its slowness is still watched.
  assert.ok(!policies.some((p) => p.name === 'alerts-sessions-backup-small'));
  one(r, 'gcp:monitoring/alertPolicy:AlertPolicy', 'alerts-sessions-backup-slow');
  const pd = one(r, 'gcp:monitoring/notificationChannel:NotificationChannel', 'alerts-pagerduty-0');
  assert.deepEqual(pd.secretInputs, ['sensitiveLabels']);
});

test('prod: secrets are replicated to the DR region; the stack outputs what to fill', async () => {
  const r = await synth('prod');
  const s = one(r, 'gcp:secretmanager/secret:Secret', 'secrets-lifeboat-prod-orders-database-url');
  assert.deepEqual(get(s.inputs, 'replication', 'userManaged', 'replicas'), [{ location: 'europe-west1' }, { location: 'europe-north1' }]);
  assert.equal(r.outputs.bucket, 'acme-prod-lifeboat-prod-backups');
  assert.equal(r.outputs.drBucket, 'acme-prod-lifeboat-prod-dr-backups');
  assert.equal(r.outputs.storageUrl, 'gs://acme-prod-lifeboat-prod-backups');
  assert.deepEqual(get(r.outputs, 'jobs', 'orders-backup'), 'lifeboat-prod-orders-backup');
  assert.ok((r.outputs.secretsToFill as string[]).includes('lifeboat-prod-orders-scratch-url'));
  // What a recovery in the DR region reads is there too: the age identity. The application's secret, written during
  // the outage, has its one replica in the DR region (test/infra/gcp/disaster-day.test.ts).
  for (const id of ['lifeboat-prod-age-identity', 'lifeboat-prod-sessions-redis-url']) {
    const secret = one(r, 'gcp:secretmanager/secret:Secret', `secrets-${id}`);
    assert.deepEqual(get(secret.inputs, 'replication', 'userManaged', 'replicas'), [{ location: 'europe-west1' }, { location: 'europe-north1' }], id);
    assert.ok((r.outputs.secretsToFill as string[]).includes(id), id);
  }
  // The bindings on the age identity wait for the secret to exist.
  const ageSecret = one(r, 'gcp:secretmanager/secret:Secret', 'secrets-lifeboat-prod-age-identity');
  const ageAccess = ofType(r, 'gcp:secretmanager/secretIamMember:SecretIamMember').filter((m) => m.inputs.secretId === 'lifeboat-prod-age-identity');
  assert.ok(ageAccess.length > 0 && ageAccess.every((m) => String(m.inputs.member).includes('-restore@')));
  assert.ok(ageAccess.every((m) => m.dependencies.some((d) => d === ageSecret.urn || d.endsWith('::secrets'))));
});

test('staging: no import, zonal instance, shorter retention', async () => {
  const r = await synth('staging');
  const db = one(r, 'gcp:sql/databaseInstance:DatabaseInstance', 'db-orders-instance');
  assert.equal(db.importId, undefined);
  assert.equal(get(db.inputs, 'settings', 'availabilityType'), 'ZONAL');
  const rules = one(r, 'gcp:storage/bucket:Bucket', 'vault-bucket').inputs.lifecycleRules as Array<{ action: { type: string }; condition: { age: number; matchesPrefixes?: string[] } }>;
  assert.ok(rules.some((x) => x.action.type === 'Delete' && x.condition.matchesPrefixes?.[0] === 'monthly/' && x.condition.age === 90));
});

test('dr: recovery instance, generated credentials never in plain inputs, and the one restore command', async () => {
  const r = await synth('dr');
  const inst = one(r, 'gcp:sql/databaseInstance:DatabaseInstance', 'recovery-orders-instance');
  assert.equal(inst.inputs.name, 'orders-pg-dr');
  assert.equal(inst.inputs.region, 'europe-north1');
  assert.ok(!ofType(r, 'gcp:storage/bucket:Bucket').length, 'the dr stack must not create buckets');
  const version = one(r, 'gcp:secretmanager/secretVersion:SecretVersion', 'recovery-orders-url-v1');
  assert.deepEqual(version.secretInputs, ['secretDataWo']);
  const user = one(r, 'gcp:sql/user:User', 'recovery-orders-user');
  assert.deepEqual(user.secretInputs, ['passwordWo']);
  const job = one(r, 'gcp:cloudrunv2/job:Job', 'recovery-jobs-orders-restore');
  const c = (get(job.inputs, 'template', 'template', 'containers') as Array<Record<string, unknown>>)[0]!;
  assert.deepEqual(c.args, ['restore', 'latest', '--create', '--roles']);
  assert.ok((c.envs as Array<{ name: string; value?: string }>).some((e) => e.name === 'LIFEBOAT_STORAGE' && e.value === 'gs://acme-prod-lifeboat-prod-dr-backups'));
  assert.equal(
    r.outputs.restoreCommand,
    'gcloud run jobs execute lifeboat-prod-dr-orders-restore --project acme-prod --region europe-north1 --wait && gcloud run jobs execute lifeboat-prod-dr-billing-restore --project acme-prod --region europe-north1 --wait',
  );
  assert.match(String(get(r.outputs, 'repointApplicationCommands', 'orders')), /--secret lifeboat-prod-dr-orders-application-url .*gcloud secrets versions add orders-app-database-url/);
  // The same restores as data, so scripts never parse command text.
  assert.deepEqual(r.outputs.restoreJobs, {
    orders: {
      job: 'lifeboat-prod-dr-orders-restore', project: 'acme-prod', region: 'europe-north1', database: 'orders',
      connectionName: 'acme-prod:europe-north1:orders-pg-dr', recoveryUrlSecret: 'lifeboat-prod-dr-orders-recovery-url',
      instance: 'orders-pg-dr', applicationSecret: 'orders-app-database-url', applicationRole: 'orders_app',
      applicationUrlSecret: 'lifeboat-prod-dr-orders-application-url',
    },
    billing: {
      job: 'lifeboat-prod-dr-billing-restore', project: 'acme-prod', region: 'europe-north1', database: 'billing',
      connectionName: 'acme-prod:europe-north1:billing-pg-dr', recoveryUrlSecret: 'lifeboat-prod-dr-billing-recovery-url',
      instance: 'billing-pg-dr',
    },
  });
  const jobNames = ofType(r, 'gcp:cloudrunv2/job:Job').map((j) => j.inputs.name).sort();
  assert.deepEqual(jobNames, ['lifeboat-prod-dr-billing-restore', 'lifeboat-prod-dr-orders-restore', 'lifeboat-prod-dr-sessions-redis-restore']);
  const secretIds = ofType(r, 'gcp:secretmanager/secret:Secret').map((x) => x.inputs.secretId).sort();
  assert.deepEqual(secretIds, ['lifeboat-prod-dr-billing-recovery-url', 'lifeboat-prod-dr-orders-application-url', 'lifeboat-prod-dr-orders-recovery-url', 'lifeboat-prod-dr-sessions-recovery-url']);
});

test('ephemeral: destroyable, unlocked, versioned, no DR', async () => {
  const r = await synth('pr-123');
  const b = one(r, 'gcp:storage/bucket:Bucket', 'vault-bucket');
  assert.equal(b.inputs.forceDestroy, true);
  assert.equal(b.inputs.retentionPolicy, undefined);
  assert.deepEqual(b.inputs.versioning, { enabled: true });
  // Old versions left by lifecycle deletes do not pile up for the life of the stack.
  const rules = b.inputs.lifecycleRules as Array<{ action: { type: string }; condition: Record<string, unknown> }>;
  assert.ok(rules.some((x) => x.action.type === 'Delete' && x.condition.daysSinceNoncurrentTime === 7));
  assert.notEqual(b.protect, true);
  const db = one(r, 'gcp:sql/databaseInstance:DatabaseInstance', 'db-orders-instance');
  assert.equal(db.inputs.deletionProtection, false);
  assert.equal(get(db.inputs, 'settings', 'deletionProtectionEnabled'), false);
  assert.ok(!r.resources.some((x) => x.type === 'lifeboat:gcp:DisasterRecovery'));
  for (const j of ofType(r, 'gcp:cloudrunv2/job:Job')) assert.equal(j.inputs.deletionProtection, false);
});

test('bad config rejects the stack with exit 2 before any resource', async () => {
  await assert.rejects(synthStack('prod', { config: { 'lifeboat:databases': [{ name: 'orders', instance: { mode: 'adopt', name: 'o-pg' }, schedule: 'nightly' }] } }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /lifeboat:databases\[0\]\.schedule: expected a 5-field cron/);
    return true;
  });
});
