/**
 * Each backup locked for its own class: the lock variables the stacks set on the backup tasks (and only there),
 * the GCS vaults with object retention, and backup identities that may set retention yet still cannot delete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENV } from '../../runner/contract/env';
import { DEFAULT_RETENTION_DAYS } from '../../runner/contract/layout';
import { parseObjectLockMode, parseRetentionDays } from '../../runner/contract/object-lock';
import { backupPolicy, DESTRUCTIVE_S3_ACTIONS } from '../../infra/aws/iamDocuments';
import { OBJECT_RETENTION_PERMISSIONS, objectRetentionRoleId } from '../../infra/gcp/iamGrants';
import { objectLockEnv } from '../../infra/shared/objectLock';
import { runnerTasks } from '../../infra/shared/taskPlan';
import { synthStack, type SynthResult } from '../../infra/synth/synth';
import type { RecordedResource } from '../../infra/synth/recorded';

const days = { ...DEFAULT_RETENTION_DAYS, yearly: 3650 };

test('objectLockEnv: the mode follows the bucket lock; ephemeral stacks lock nothing', () => {
  const cases: Array<[string, Parameters<typeof objectLockEnv>[0], Record<string, string>]> = [
    ['locked stack', { ephemeral: false, retentionLocked: true, retentionDays: days }, { [ENV.objectLock]: 'compliance', [ENV.retentionDays]: 'daily=7,weekly=35,monthly=400,yearly=3650,manual=90' }],
    ['locked, AWS GOVERNANCE', { ephemeral: false, retentionLocked: true, retentionDays: days, lockedMode: 'governance' }, { [ENV.objectLock]: 'governance', [ENV.retentionDays]: 'daily=7,weekly=35,monthly=400,yearly=3650,manual=90' }],
    ['kept, unlocked', { ephemeral: false, retentionLocked: false, retentionDays: DEFAULT_RETENTION_DAYS }, { [ENV.objectLock]: 'governance', [ENV.retentionDays]: 'daily=7,weekly=35,monthly=400,yearly=2557,manual=90' }],
    ['ephemeral', { ephemeral: true, retentionLocked: false, retentionDays: DEFAULT_RETENTION_DAYS }, {}],
  ];
  for (const [name, input, want] of cases) {
    const env = objectLockEnv(input);
    assert.deepEqual(env, want, name);
    // What the stacks set is what the runner parses back.
    if (env[ENV.objectLock]) {
      assert.equal(parseObjectLockMode(env[ENV.objectLock]), env[ENV.objectLock]);
      assert.deepEqual(parseRetentionDays(env[ENV.retentionDays]), input.retentionDays);
    }
  }
});

test('runnerTasks: only the backup and Redis backup tasks get the lock variables', () => {
  const tasks = runnerTasks({
    storageUrl: 's3://b/root',
    ageRecipients: [],
    databases: [{ name: 'shop', schedule: '0 2 * * *', drillSchedule: '0 5 * * 0', rpo: '26h', rto: '1h', amcheck: false, secrets: { databaseUrl: 'd', scratchUrl: 's' } }],
    redis: [{ name: 'cache', urlSecret: 'r', schedule: '15 3 * * *', method: 'rdb' }],
    backupTimeoutSeconds: 3600,
    drillTimeoutSeconds: 7200,
    objectLockEnv: objectLockEnv({ ephemeral: false, retentionLocked: true, retentionDays: days }),
  });
  const locked = tasks.filter((t) => t.env[ENV.objectLock]).map((t) => t.id).sort();
  assert.deepEqual(locked, ['cache-redis-backup', 'shop-backup']);
  assert.equal(tasks.find((t) => t.id === 'shop-drill')!.env[ENV.retentionDays], undefined);
});

test('the AWS backup policy may set retention and still holds no destructive action', () => {
  const doc = backupPolicy({ bucketArn: 'arn:aws:s3:::b', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k', rootPrefix: 'prod' });
  const actions = doc.Statement.flatMap((s) => s.Action);
  assert.ok(actions.includes('s3:PutObjectRetention'));
  assert.deepEqual(actions.filter((a) => /delete|bypass/i.test(a) || (DESTRUCTIVE_S3_ACTIONS as readonly string[]).includes(a)), []);
  assert.equal(doc.Statement.find((s) => s.Sid === 'LockBackups')!.Resource, 'arn:aws:s3:::b/prod/*');
});

test('the GCS custom role holds setRetention only: no delete, no override of an unlocked retention', () => {
  assert.deepEqual([...OBJECT_RETENTION_PERMISSIONS], ['storage.objects.setRetention']);
  for (const [prefix, id] of [['lifeboat-prod', 'lifeboat_prod_setObjectRetention'], ['a'.repeat(60), `${'a'.repeat(45)}_setObjectRetention`]]) {
    const got = objectRetentionRoleId(prefix!);
    assert.equal(got, id);
    assert.match(got, /^[A-Za-z0-9_.]{3,64}$/);
  }
});

/** Env names and values of every backup-like job of a synthesized stack. */
function backupJobEnv(r: SynthResult): Array<{ job: string; env: Record<string, string> }> {
  const out: Array<{ job: string; env: Record<string, string> }> = [];
  const pairs = (list: Array<{ name: string; value?: string }> | undefined) => Object.fromEntries((list ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  for (const x of r.resources) {
    let args: string[] = [];
    let env: Record<string, string> = {};
    if (x.type === 'gcp:cloudrunv2/job:Job') {
      const c = (x.inputs as { template: { template: { containers: Array<{ args?: string[]; envs?: Array<{ name: string; value?: string }> }> } } }).template.template.containers[0]!;
      [args, env] = [c.args ?? [], pairs(c.envs)];
    } else if (x.type === 'aws:ecs/taskDefinition:TaskDefinition') {
      const c = JSON.parse(String(x.inputs.containerDefinitions))[0] as { command?: string[]; environment?: Array<{ name: string; value: string }> };
      [args, env] = [c.command ?? [], pairs(c.environment)];
    } else if (x.type === 'kubernetes:batch/v1:CronJob') {
      const c = (x.inputs as { spec: { jobTemplate: { spec: { template: { spec: { containers: Array<{ args?: string[]; env?: Array<{ name: string; value?: string }> }> } } } } } }).spec.jobTemplate.spec.template.spec.containers[0]!;
      [args, env] = [c.args ?? [], pairs(c.env)];
    } else continue;
    const kind = args[0] === 'redis' ? args.slice(0, 2).join(' ') : args[0];
    if (kind === 'backup' || kind === 'redis backup') out.push({ job: x.name, env });
  }
  return out;
}

const lockOf = (r: SynthResult) => [...new Set(backupJobEnv(r).map((j) => `${j.env[ENV.objectLock] ?? '-'} ${j.env[ENV.retentionDays] ?? '-'}`))];
const buckets = (r: SynthResult): RecordedResource[] => r.resources.filter((x) => x.type === 'gcp:storage/bucket:Bucket');

test('example stacks: backup jobs carry their lock on GCP, AWS and Kubernetes; a review stack carries none', async () => {
  const defaults = 'daily=7,weekly=35,monthly=400,yearly=2557,manual=90';
  const prod = await synthStack('prod');
  assert.ok(backupJobEnv(prod).length >= 3);
  assert.deepEqual(lockOf(prod), [`compliance ${defaults}`]);
  assert.ok(buckets(prod).every((b) => b.inputs.enableObjectRetention === true), 'every GCS backup bucket has object retention');
  assert.deepEqual(lockOf(await synthStack('aws-prod')), [`compliance ${defaults}`]);
  assert.deepEqual(lockOf(await synthStack('k8s-eks')), [`compliance ${defaults}`]);
  const gke = await synthStack('k8s-gke');
  assert.deepEqual(lockOf(gke), [`compliance ${defaults}`]);
  const pr = await synthStack('pr');
  assert.deepEqual(lockOf(pr), ['- -']);
  assert.ok(buckets(pr).every((b) => b.inputs.enableObjectRetention === undefined), 'an ephemeral bucket must stay destroyable');
  assert.equal(pr.resources.filter((x) => x.type === 'gcp:projects/iAMCustomRole:IAMCustomRole').length, 0);
  // k8s-prod creates its own buckets (storage.aws), so its backups are locked too.
  assert.deepEqual(lockOf(await synthStack('k8s-prod')), [`compliance ${defaults}`]);
  const yearly = await synthStack('prod', { config: { 'lifeboat:retentionDays': { yearly: 3650 } } });
  assert.deepEqual(lockOf(yearly), [`compliance ${defaults.replace('2557', '3650')}`]);
});
