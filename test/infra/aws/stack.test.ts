// The AWS example stack, evaluated offline (synth with mocks) and checked by the whole policy pack.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { synthStack, stackConfig, type SynthResult } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';
import type { RecordedResource } from '../../../infra/synth/recorded';
import { ConfigError, decodeConfigValues, parseConfig } from '../../../infra/config/load';
import { checkAws } from '../../../infra/platforms/aws';

/** The stack file's config with overrides, validated as the program does before building anything. */
function validate(overrides: Record<string, unknown>): void {
  const { config } = stackConfig('aws-prod', { config: overrides });
  checkAws(parseConfig(decodeConfigValues(config), 'aws-prod'));
}

/** The ARN the offline mocks give a resource without a modelled ARN shape (infra/synth/mocks.ts). */
const mockArn = (x: RecordedResource) => `arn:aws:mock:eu-west-1:123456789012:${x.name}`;
const byType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};

describe('Pulumi.aws-prod.yaml', () => {
  let r: SynthResult;
  before(async () => {
    r = await synthStack('aws-prod');
  });

  it('has unique resource names and URNs', () => {
    const urns = r.resources.map((x) => x.urn);
    assert.equal(new Set(urns).size, urns.length);
    const custom = r.resources.filter((x) => x.custom).map((x) => `${x.type}::${x.name}`);
    assert.equal(new Set(custom).size, custom.length);
  });

  it('passes the whole policy pack', async () => {
    const violations = await runPolicies(r.resources);
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });

  it('builds the components under their type tokens', () => {
    const components = r.resources.filter((x) => x.type.startsWith('lifeboat:aws:')).map((x) => `${x.type} ${x.name}`).sort();
    assert.deepEqual(components, [
      'lifeboat:aws:Alerts lifeboat-prod-alerts',
      'lifeboat:aws:BackupBucket lifeboat-prod-backups',
      'lifeboat:aws:BackupBucket lifeboat-prod-backups-dr',
      'lifeboat:aws:BucketReplication lifeboat-prod-replication',
      'lifeboat:aws:ImageReplication lifeboat-prod-image',
      'lifeboat:aws:PitrAlarms lifeboat-prod-pitr-alarms',
      'lifeboat:aws:PitrDrillAccess lifeboat-prod-pitr-drill-access',
      'lifeboat:aws:RdsProtection lifeboat-prod-billing-rds',
      'lifeboat:aws:RdsProtection lifeboat-prod-orders-rds',
      'lifeboat:aws:RunnerRoles lifeboat-prod-runner',
      'lifeboat:aws:RunnerSchedules lifeboat-prod-schedules',
      'lifeboat:aws:RunnerSecrets lifeboat-prod-secrets',
      'lifeboat:aws:RunnerTasks lifeboat-prod-tasks',
    ]);
  });

  it('puts the buckets in two regions with COMPLIANCE lock for the shortest class', () => {
    const primary = one(r, 'lifeboat-prod-backups-bucket');
    const dr = one(r, 'lifeboat-prod-backups-dr-bucket');
    assert.equal(primary.inputs.region, 'eu-west-1');
    assert.equal(primary.inputs.bucket, 'lifeboat-prod-backups-123456789012-eu-west-1');
    assert.equal(dr.inputs.region, 'eu-central-1');
    assert.equal(primary.inputs.objectLockEnabled, true);
    assert.equal(primary.inputs.forceDestroy, false);
    assert.deepEqual(one(r, 'lifeboat-prod-backups-object-lock').inputs.rule, { defaultRetention: { mode: 'COMPLIANCE', days: 7 } });
  });

  it('schedules every task in the stack time zone and wires the drill to the drill identity', () => {
    const schedules = byType(r, 'aws:scheduler/schedule:Schedule');
    assert.deepEqual(schedules.map((s) => s.name).sort(), [
      'lifeboat-prod-schedules-billing-backup',
      'lifeboat-prod-schedules-billing-drill',
      'lifeboat-prod-schedules-billing-pitr-drill',
      'lifeboat-prod-schedules-billing-pitr-heartbeat',
      'lifeboat-prod-schedules-orders-backup',
      'lifeboat-prod-schedules-orders-drill',
      'lifeboat-prod-schedules-orders-pitr-drill',
      'lifeboat-prod-schedules-orders-pitr-heartbeat',
      'lifeboat-prod-schedules-sessions-redis-backup',
    ]);
    for (const s of schedules) assert.equal(s.inputs.scheduleExpressionTimezone, 'Europe/Dublin');
    assert.equal(one(r, 'lifeboat-prod-schedules-orders-backup').inputs.scheduleExpression, 'cron(30 2 * * ? *)');
    const drill = one(r, 'lifeboat-prod-tasks-orders-drill');
    const [container] = JSON.parse(drill.inputs.containerDefinitions as string) as Array<Record<string, unknown>>;
    assert.deepEqual(container!.command, ['drill', '--backup', 'latest', '--rpo', '26h', '--rto', '1h']);
    const scratch = one(r, 'lifeboat-prod-secrets-lifeboat-prod-orders-scratch-url');
    assert.deepEqual(container!.secrets, [{ name: 'LIFEBOAT_SCRATCH_URL', valueFrom: mockArn(scratch) }]);
    assert.ok(drill.dependencies.includes(one(r, 'lifeboat-prod-runner-drill').urn));
    assert.ok(drill.dependencies.includes(scratch.urn), 'the task definition waits for its secret');
  });

  it('creates each runner secret empty (no value in state), replicated to the DR region, by its config name', () => {
    const secrets = byType(r, 'aws:secretsmanager/secret:Secret');
    assert.deepEqual(secrets.map((x) => x.inputs.name).sort(), [
      'lifeboat-prod-billing-database-url',
      'lifeboat-prod-billing-scratch-url',
      'lifeboat-prod-orders-database-url',
      'lifeboat-prod-orders-scratch-url',
      'lifeboat-prod-sessions-redis-url',
    ]);
    for (const x of secrets) {
      assert.deepEqual(x.inputs.replicas, [{ region: 'eu-central-1' }]);
      assert.equal(x.inputs.recoveryWindowInDays, 30);
      assert.equal(x.inputs.secretString, undefined);
    }
    assert.equal(byType(r, 'aws:secretsmanager/secretVersion:SecretVersion').length, 0);
  });

  it('execution roles read exactly the secrets of their tasks, by full ARN', () => {
    const policy = (n: string) => JSON.parse(one(r, n).inputs.policy as string) as { Statement: { Action: string[]; Resource: string[] }[] };
    const arnOf = (secret: string) => mockArn(one(r, `lifeboat-prod-secrets-${secret}`));
    const backup = policy('lifeboat-prod-runner-backup-exec-secrets').Statement;
    assert.deepEqual(backup.map((s) => s.Action), [['secretsmanager:GetSecretValue']]);
    assert.deepEqual(
      backup[0]!.Resource,
      ['lifeboat-prod-billing-database-url', 'lifeboat-prod-orders-database-url', 'lifeboat-prod-sessions-redis-url'].map(arnOf).sort(),
    );
    const drill = policy('lifeboat-prod-runner-drill-exec-secrets').Statement;
    // The PITR drill (drill identity) checks its clone with the database's credentials: DATABASE_URL.
    assert.deepEqual(
      drill[0]!.Resource,
      ['lifeboat-prod-billing-database-url', 'lifeboat-prod-billing-scratch-url', 'lifeboat-prod-orders-database-url', 'lifeboat-prod-orders-scratch-url'].map(arnOf).sort(),
    );
  });

  it('protects RDS: adopted instance imported and kept, created one with managed password', () => {
    const adopted = one(r, 'lifeboat-prod-orders-rds-instance');
    assert.equal(adopted.importId, 'orders-pg');
    assert.equal(adopted.inputs.backupRetentionPeriod, 35);
    assert.equal(adopted.inputs.backupWindow, '01:00-01:30');
    assert.equal(adopted.inputs.deletionProtection, true);
    const created = one(r, 'lifeboat-prod-billing-rds-instance');
    assert.equal(created.inputs.manageMasterUserPassword, true);
    assert.equal(created.inputs.password, undefined);
    assert.equal(one(r, 'lifeboat-prod-billing-rds-dr-backups').inputs.region, 'eu-central-1');
  });

  it('alarms on the five conditions for databases and two for Redis', () => {
    const alarms = byType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm');
    const kinds = (source: string) =>
      alarms.filter((a) => (a.inputs.tags as Record<string, string>)['lifeboat-source'] === source).map((a) => (a.inputs.tags as Record<string, string>)['lifeboat-alert']).sort();
    assert.deepEqual(kinds('orders'), ['backup-failed', 'backup-slow', 'backup-stale', 'backup-too-small', 'drill-failed', 'pitr-drill-failed', 'pitr-drill-missing', 'pitr-heartbeat-failed']);
    assert.deepEqual(kinds('sessions'), ['backup-failed', 'backup-slow', 'backup-stale']);
    for (const a of alarms) assert.equal((a.inputs.alarmActions as string[]).length, 2);
  });

  it('prints a run-now command per task', () => {
    const runNow = r.outputs.runNow as Record<string, string>;
    assert.match(runNow['orders-backup']!, /aws ecs run-task --region eu-west-1 .* --task-definition lifeboat-prod-orders-backup/);
    assert.equal(r.outputs.storageUrl, 's3://lifeboat-prod-backups-123456789012-eu-west-1');
  });
});

describe('AWS stack config errors', () => {
  it('the example stack itself validates', () => validate({}));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['slack is not available', { 'lifeboat:alerts': { emails: ['a@b.co'], slack: [{ channel: '#ops', authTokenSecret: 'tok' }] } }, /lifeboat:alerts\.slack: not available on aws/],
    ['retained backups above RDS limit', { 'lifeboat:databases': [{ name: 'orders', managedBackup: { retainedBackups: 40 } }] }, /retainedBackups: expected at most 35 on aws.*got 40/],
    ['no aws section', { 'lifeboat:aws': undefined }, /lifeboat:aws: expected the AWS section/],
    ['bad memory for cpu', { 'lifeboat:aws': { accountId: '123456789012', network: { subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] }, task: { cpu: 256, memory: 4096 } } }, /lifeboat:aws\.task\.memory: expected memory for 256 CPU units/],
    ['non-SNS existing channel', { 'lifeboat:alerts': { existingChannels: ['projects/x/notificationChannels/1'] } }, /existingChannels\[0\]: expected an SNS topic ARN/],
    ['max age beyond what CloudWatch evaluates', { 'lifeboat:redis': [{ name: 'cache', maxAge: '8d' }] }, /lifeboat:redis\[0\]\.maxAge: expected at most 7d on aws.*got "8d"/],
    ['secret name that reads as an ARN suffix', { 'lifeboat:databases': [{ name: 'orders', secrets: { scratchUrl: 'orders-secret' } }] }, /lifeboat:databases\[0\]\.secrets\.scratchUrl: expected a secret name that does not end in "-" and six.*got "orders-secret"/],
  ];
  for (const [what, config, re] of cases) {
    it(what, () => {
      assert.throws(() => validate(config), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match((e as Error).message, re);
        return true;
      });
    });
  }
});
