// Component-level mock tests: inputs asserted by type token, argument validation, ephemeral variants.
import { describe, it, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { createMocks } from '../../../infra/synth/mocks';
import { DEFAULT_RETENTION_DAYS } from '../../../runner/contract/layout';
import { BackupBucket } from '../../../infra/aws/BackupBucket';
import { RunnerRoles } from '../../../infra/aws/RunnerRoles';
import { RdsProtection, backupWindow } from '../../../infra/aws/RdsProtection';
import { RunnerNamespace } from '../../../infra/k8s/RunnerNamespace';
import { Alerts } from '../../../infra/aws/Alerts';
import { MOCK_SECRET_DATA } from '../../../infra/synth/mocks';
import { synthStack } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';

interface Created {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
let created: Created[] = [];

before(async () => {
  const base = createMocks({ awsRegion: 'eu-west-1' });
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        return base.newResource(args);
      },
      call: base.call,
    },
    'lifeboat',
    'components',
    false,
  );
});
afterEach(async () => {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  created = [];
});

async function settle(): Promise<void> {
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}
const ofType = (t: string) => created.filter((c) => c.type === t);

describe('lifeboat:aws:BackupBucket', () => {
  it('ephemeral: force-destroyable, no Object Lock, still encrypted, private and expiring', async () => {
    new BackupBucket('pr', { region: 'eu-west-1', retentionDays: DEFAULT_RETENTION_DAYS, drillReportDays: 30, forceDestroy: true });
    await settle();
    const bucket = ofType('aws:s3/bucket:Bucket')[0]!;
    assert.equal(bucket.inputs.forceDestroy, true);
    assert.equal(bucket.inputs.objectLockEnabled, false);
    assert.equal(ofType('aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration').length, 0);
    const sse = ofType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')[0]!;
    assert.deepEqual((sse.inputs.rules as Array<Record<string, unknown>>)[0]!.applyServerSideEncryptionByDefault, {
      sseAlgorithm: 'aws:kms',
      kmsMasterKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/pr-key',
    });
    const pab = ofType('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0]!.inputs;
    for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) assert.equal(pab[k], true, k);
    assert.deepEqual(ofType('aws:s3/bucketOwnershipControls:BucketOwnershipControls')[0]!.inputs.rule, { objectOwnership: 'BucketOwnerEnforced' });
    assert.equal((ofType('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration')[0]!.inputs.rules as unknown[]).length, 7);
    const policy = JSON.parse(ofType('aws:s3/bucketPolicy:BucketPolicy')[0]!.inputs.policy as string);
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    assert.equal(ofType('aws:kms/key:Key')[0]!.inputs.enableKeyRotation, true);
  });
  const bad: Array<[string, Partial<ConstructorParameters<typeof BackupBucket>[1]>, RegExp]> = [
    ['a lock on a force-destroyable bucket', { forceDestroy: true, objectLockEnabled: true, lockRetention: { mode: 'COMPLIANCE', days: 7 } }, /cannot be force-destroyed/],
    ['a lock without Object Lock', { objectLockEnabled: false, lockRetention: { mode: 'GOVERNANCE', days: 7 } }, /objectLockEnabled true, got false/],
    ['a bad bucket name', { bucketName: 'Bad_Name' }, /bucketName: expected .* got "Bad_Name"/],
    ['a zero retention', { retentionDays: { ...DEFAULT_RETENTION_DAYS, daily: 0 } }, /class "daily"/],
  ];
  for (const [what, args, re] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => new BackupBucket(`bad-${what.length}`, { region: 'eu-west-1', retentionDays: DEFAULT_RETENTION_DAYS, drillReportDays: 30, ...args }),
        (e: unknown) => e instanceof pulumi.ResourceError && re.test(e.message),
      );
    });
  }
});

describe('lifeboat:aws:RunnerRoles', () => {
  it('IRSA: roles trusted by one service account each, no execution roles, no delete', async () => {
    new RunnerRoles('k8s', {
      bucketArn: 'arn:aws:s3:::b',
      keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      accountId: '123456789012',
      trust: {
        kind: 'irsa',
        oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X',
        namespace: 'lb',
        serviceAccounts: { backup: 'sa-b', drill: 'sa-d' },
      },
    });
    await settle();
    const roles = ofType('aws:iam/role:Role');
    assert.deepEqual(roles.map((r) => r.name).sort(), ['k8s-backup', 'k8s-drill']);
    const trust = JSON.parse(roles.find((r) => r.name === 'k8s-drill')!.inputs.assumeRolePolicy as string);
    assert.equal(trust.Statement[0].Condition.StringEquals['oidc.eks.eu-west-1.amazonaws.com/id/X:sub'], 'system:serviceaccount:lb:sa-d');
    const backup = JSON.parse(ofType('aws:iam/rolePolicy:RolePolicy').find((p) => p.name === 'k8s-backup-storage')!.inputs.policy as string);
    const actions: string[] = backup.Statement.flatMap((s: { Action: string[] }) => s.Action);
    assert.ok(actions.includes('s3:PutObject'));
    assert.ok(!actions.some((a) => /delete/i.test(a)), actions.join(','));
  });
  it('refuses a malformed OIDC provider ARN', () => {
    assert.throws(
      () =>
        new RunnerRoles('bad', {
          bucketArn: 'b',
          keyArn: 'k',
          accountId: '123456789012',
          trust: { kind: 'irsa', oidcProviderArn: 'oidc.eks', namespace: 'lb', serviceAccounts: { backup: 'a', drill: 'b' } },
        }),
      /trust\.oidcProviderArn: expected an IAM OIDC provider ARN/,
    );
  });
});

describe('lifeboat:aws:RdsProtection', () => {
  it('ephemeral created instance: no final snapshot, backups go with it, no DR copy without a DR region', async () => {
    new RdsProtection('pr', {
      region: 'eu-west-1',
      instance: { mode: 'create', identifier: 'pr-db', instanceClass: 'db.t4g.micro' },
      backupRetentionDays: 1,
      backupWindowStart: '23:45',
      deletionProtection: false,
      ephemeral: true,
    });
    await settle();
    const db = ofType('aws:rds/instance:Instance')[0]!.inputs;
    assert.equal(db.skipFinalSnapshot, true);
    assert.equal(db.deleteAutomatedBackups, true);
    assert.equal(db.finalSnapshotIdentifier, undefined);
    assert.equal(db.backupWindow, '23:45-00:15');
    assert.equal(db.storageEncrypted, true);
    assert.equal(ofType('aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication').length, 0);
  });
  it('refuses more than 35 days and a DR region equal to the primary', () => {
    const base = { region: 'eu-west-1', instance: { mode: 'adopt' as const, identifier: 'x-db', instanceClass: 'db.t4g.micro' }, backupWindowStart: '01:00' };
    assert.throws(() => new RdsProtection('r36', { ...base, backupRetentionDays: 36 }), /backupRetentionDays: expected 1 to 35.*got 36/);
    assert.throws(() => new RdsProtection('rsame', { ...base, backupRetentionDays: 7, drRegion: 'eu-west-1' }), /drRegion: expected a region other than eu-west-1/);
    assert.throws(() => backupWindow('25:00'), /expected "HH:MM", got "25:00"/);
  });
});

describe('lifeboat:aws:Alerts', () => {
  it('PagerDuty endpoint is built from Secrets Manager and kept secret; filters and alarms per source', async () => {
    const alerts = new Alerts('al', {
      region: 'eu-west-1',
      accountId: '123456789012',
      logGroupName: '/lifeboat/x/runner',
      logGroupDisplayName: '/lifeboat/x/runner',
      namespace: 'Lifeboat/x',
      sources: [{ source: 'main', engine: 'postgres', maxAgeHours: 26, drills: true }],
      emails: ['oncall@example.com'],
      pagerdutyKeySecrets: ['pd-key'],
    });
    await settle();
    const pd = ofType('aws:sns/topicSubscription:TopicSubscription').find((x) => x.name === 'al-pagerduty-0')!;
    assert.equal(pd.inputs.protocol, 'https');
    // The endpoint reaches the engine wrapped as a secret (encrypted in state), never as plain text.
    const rpc = require('@pulumi/pulumi/runtime/rpc') as { specialSigKey: string; specialSecretSig: string };
    const endpoint = pd.inputs.endpoint as Record<string, unknown>;
    assert.equal(endpoint[rpc.specialSigKey], rpc.specialSecretSig);
    assert.equal(endpoint.value, `https://events.pagerduty.com/integration/${MOCK_SECRET_DATA}/enqueue`);
    assert.ok(alerts.topic);
    assert.equal(ofType('aws:cloudwatch/logMetricFilter:LogMetricFilter').length, 5);
    assert.deepEqual(ofType('aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.name).sort(), [
      'al-main-backup-failed',
      'al-main-backup-stale',
      'al-main-drill-failed',
    ]);
    const key = JSON.parse(ofType('aws:kms/key:Key')[0]!.inputs.policy as string);
    assert.equal(key.Statement[1].Principal.Service, 'cloudwatch.amazonaws.com');
    // Without a cluster: no task-stopped rules, and the topic keeps its default policy.
    assert.equal(ofType('aws:cloudwatch/eventRule:EventRule').length, 0);
    assert.equal(ofType('aws:sns/topicPolicy:TopicPolicy').length, 0);
  });

  it('with the cluster: tasks that stop without their final event page through the topic', async () => {
    const clusterArn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/lb';
    new Alerts('al', {
      region: 'eu-west-1',
      accountId: '123456789012',
      logGroupName: '/lifeboat/x/runner',
      logGroupDisplayName: '/lifeboat/x/runner',
      namespace: 'Lifeboat/x',
      sources: [{ source: 'main', engine: 'postgres', maxAgeHours: 26, drills: true }],
      clusterArn,
    });
    await settle();
    const rules = ofType('aws:cloudwatch/eventRule:EventRule');
    assert.deepEqual(rules.map((r) => r.inputs.name).sort(), ['al-task-killed', 'al-task-not-started']);
    const pattern = (n: string) => JSON.parse(rules.find((r) => r.inputs.name === n)!.inputs.eventPattern as string);
    assert.deepEqual(pattern('al-task-not-started').detail, { clusterArn: [clusterArn], lastStatus: ['STOPPED'], stopCode: ['TaskFailedToStart'] });
    assert.deepEqual(pattern('al-task-killed').detail.containers, { name: ['runner'], exitCode: [{ 'anything-but': [0, 1, 2] }] });
    const targets = ofType('aws:cloudwatch/eventTarget:EventTarget');
    assert.deepEqual(targets.map((t) => t.inputs.rule).sort(), ['al-task-killed', 'al-task-not-started']);
    for (const t of targets) {
      assert.equal(t.inputs.arn, 'arn:aws:sns:eu-west-1:123456789012:al-topic');
      const tr = t.inputs.inputTransformer as { inputTemplate: string; inputPaths: Record<string, string> };
      assert.match(tr.inputTemplate, /^".*aws ecs describe-tasks --cluster arn:aws:ecs:eu-west-1:123456789012:cluster\/lb --tasks <task>.*"$/);
      for (const placeholder of tr.inputTemplate.match(/<[a-zA-Z]+>/g) ?? []) assert.ok(placeholder.slice(1, -1) in tr.inputPaths, placeholder);
    }
    // EventBridge may publish to the topic only from these two rules, and use its key (without conditions, which its
    // KMS requests cannot satisfy); CloudWatch alarms keep publishing.
    const policy = JSON.parse(ofType('aws:sns/topicPolicy:TopicPolicy')[0]!.inputs.policy as string);
    const bySid = Object.fromEntries(policy.Statement.map((x: { Sid: string }) => [x.Sid, x]));
    assert.deepEqual(bySid.TaskStoppedRulesPublish.Condition, {
      ArnEquals: { 'aws:SourceArn': ['arn:aws:mock:eu-west-1:123456789012:al-task-not-started', 'arn:aws:mock:eu-west-1:123456789012:al-task-killed'] },
    });
    assert.equal(bySid.CloudWatchAlarmsPublish.Principal.Service, 'cloudwatch.amazonaws.com');
    const key = JSON.parse(ofType('aws:kms/key:Key')[0]!.inputs.policy as string);
    const events = key.Statement.find((x: { Sid: string }) => x.Sid === 'EventBridgePublishes');
    assert.deepEqual(events.Action, ['kms:Decrypt', 'kms:GenerateDataKey*']);
    assert.equal(events.Condition, undefined);
  });
});

describe('lifeboat:k8s:RunnerNamespace', () => {
  it('existing namespace, GKE Workload Identity annotations', async () => {
    new RunnerNamespace('gke', {
      namespace: 'backups',
      create: false,
      identity: { kind: 'gcp', serviceAccounts: { backup: 'lb-backup@p.iam.gserviceaccount.com', drill: 'lb-drill@p.iam.gserviceaccount.com' } },
    });
    await settle();
    assert.equal(ofType('kubernetes:core/v1:Namespace').length, 0);
    const sas = ofType('kubernetes:core/v1:ServiceAccount');
    assert.deepEqual(sas.map((s) => (s.inputs.metadata as { annotations: Record<string, string> }).annotations['iam.gke.io/gcp-service-account']).sort(), [
      'lb-backup@p.iam.gserviceaccount.com',
      'lb-drill@p.iam.gserviceaccount.com',
    ]);
    for (const s of sas) {
      assert.equal((s.inputs.metadata as { namespace: string }).namespace, 'backups');
      assert.equal(s.inputs.automountServiceAccountToken, false);
    }
  });
});

describe('ephemeral AWS stack (pull-request variant)', () => {
  it('synthesizes without lock or DR, force-destroyable, and passes the pack as an ephemeral stack', async () => {
    const r = await synthStack('aws-prod', {
      config: { 'lifeboat:ephemeral': true, 'lifeboat:retentionLocked': false, 'lifeboat:drRegion': undefined, 'lifeboat:environment': 'pr-42' },
    });
    const bucket = r.resources.filter((x) => x.type === 'aws:s3/bucket:Bucket');
    assert.equal(bucket.length, 1);
    assert.equal(bucket[0]!.inputs.forceDestroy, true);
    assert.equal((bucket[0]!.inputs.tags as Record<string, string>)['lifeboat-ephemeral'], 'true');
    assert.equal(r.resources.filter((x) => x.type.includes('ObjectLockConfiguration')).length, 0);
    const violations = await runPolicies(r.resources, { stackTags: { 'lifeboat:ephemeral': 'true' } });
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });
});
