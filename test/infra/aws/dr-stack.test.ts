// The AWS disaster-recovery path: the `dr` example stack (Pulumi.aws-dr.yaml) evaluated offline, what the primary
// stack prepares for it (the image in the DR region, the DR copy's key, drills reading the copy), and the config
// errors of a DR stack that could not work.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { synthStack, stackConfig, REPO_ROOT, type SynthResult } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';
import type { RecordedResource } from '../../../infra/synth/recorded';
import { ConfigError, decodeConfigValues, parseConfig } from '../../../infra/config/load';
import { checkAws } from '../../../infra/platforms/aws';

const byType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};
const container = (td: RecordedResource) => (JSON.parse(td.inputs.containerDefinitions as string) as Array<Record<string, unknown>>)[0]!;
const stackFile = (stack: string) =>
  (parseYaml(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> }).config;

const DR_BUCKET = 'lifeboat-prod-backups-123456789012-eu-central-1';
const DR_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const DR_IMAGE = '123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat@sha256:0000000000000000000000000000000000000000000000000000000000000000';

describe('Pulumi.aws-dr.yaml (role dr)', () => {
  let r: SynthResult;
  before(async () => {
    r = await synthStack('aws-dr');
  });

  it('passes the whole policy pack', async () => {
    const violations = await runPolicies(r.resources);
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });

  it('creates everything in the DR region and schedules nothing', () => {
    for (const x of r.resources.filter((y) => y.custom && y.type.startsWith('aws:') && 'region' in y.inputs)) {
      assert.equal(x.inputs.region, 'eu-central-1', `${x.type} ${x.name}`);
    }
    assert.equal(byType(r, 'aws:scheduler/schedule:Schedule').length, 0);
    assert.equal(byType(r, 'aws:s3/bucket:Bucket').length, 0, 'the DR copy exists: the dr stack reads it, never owns it');
    assert.equal(one(r, 'lifeboat-prod-dr-recovery-tasks-logs').inputs.name, '/lifeboat/lifeboat-prod-dr/runner');
  });

  it('creates a recovery RDS instance per database with a password only in write-only fields', () => {
    const orders = one(r, 'lifeboat-prod-dr-recovery-orders-instance');
    assert.equal(orders.inputs.identifier, 'orders-pg-dr');
    assert.equal(orders.inputs.instanceClass, 'db.r6g.large');
    assert.equal(orders.inputs.allocatedStorage, 200);
    assert.equal(orders.inputs.dbSubnetGroupName, 'private-db');
    assert.equal(orders.inputs.manageMasterUserPassword, undefined);
    assert.equal(orders.inputs.password, undefined);
    assert.ok(orders.secretInputs?.includes('passwordWo'), 'the password reaches RDS through passwordWo, marked secret');
    assert.equal(orders.inputs.passwordWoVersion, 1);
    assert.equal((orders.inputs.tags as Record<string, string>)['lifeboat-role'], 'recovery-instance');
    assert.equal(orders.inputs.deletionProtection, true);
    assert.equal(orders.inputs.backupRetentionPeriod, 35);
    assert.equal(one(r, 'lifeboat-prod-dr-recovery-billing-instance').inputs.identifier, 'billing-pg-dr');
  });

  it('writes each recovery URL as a secret version (a Pulumi secret), after the instance exists', () => {
    const secret = one(r, 'lifeboat-prod-dr-recovery-orders-url');
    assert.equal(secret.inputs.name, 'lifeboat-prod-dr-orders-recovery-url');
    const version = one(r, 'lifeboat-prod-dr-recovery-orders-url-v1');
    assert.ok(version.secretInputs?.includes('secretString'));
    assert.equal((version.inputs.secretString as { value: unknown }).value, '[secret]');
    assert.ok(version.dependencies.includes(one(r, 'lifeboat-prod-dr-recovery-orders-instance').urn), 'the URL names the instance address');
    assert.ok(version.dependencies.includes(secret.urn));
  });

  it('restores each database with --create --roles and Redis with redis restore, from the DR copy', () => {
    const orders = one(r, 'lifeboat-prod-dr-recovery-tasks-orders-restore');
    const c = container(orders);
    assert.equal(orders.inputs.family, 'lifeboat-prod-dr-orders-restore');
    assert.equal(c.image, DR_IMAGE);
    assert.deepEqual(c.command, ['restore', 'latest', '--create', '--roles']);
    const env = Object.fromEntries((c.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.LIFEBOAT_STORAGE, `s3://${DR_BUCKET}`);
    assert.equal(env.LIFEBOAT_SOURCE, 'orders');
    assert.deepEqual(c.secrets, [{ name: 'LIFEBOAT_TARGET_URL', valueFrom: 'arn:aws:mock:eu-central-1:123456789012:lifeboat-prod-dr-recovery-orders-url' }]);
    const redis = container(one(r, 'lifeboat-prod-dr-recovery-tasks-sessions-redis-restore'));
    assert.deepEqual(redis.command, ['redis', 'restore', 'latest']);
    assert.deepEqual(redis.secrets, [{ name: 'LIFEBOAT_REDIS_URL', valueFrom: 'arn:aws:mock:eu-central-1:123456789012:lifeboat-prod-dr-recovery-sessions-redis-url' }]);
    assert.deepEqual(r.outputs.secretsToFill, ['lifeboat-prod-dr-sessions-recovery-redis-url']);
  });

  it('a restore task cannot start before its URL has a value and its execution role may read it', () => {
    const td = one(r, 'lifeboat-prod-dr-recovery-tasks-orders-restore');
    for (const dep of ['lifeboat-prod-dr-recovery-orders-url-v1', 'lifeboat-prod-dr-recovery-billing-url-v1', 'lifeboat-prod-dr-recovery-restore-exec-secrets']) {
      assert.ok(td.dependencies.includes(one(r, dep).urn), `the task definition waits for ${dep}`);
    }
    assert.equal(td.inputs.taskRoleArn, 'arn:aws:iam::123456789012:role/lifeboat-prod-dr-recovery-restore');
    assert.equal(td.inputs.executionRoleArn, 'arn:aws:iam::123456789012:role/lifeboat-prod-dr-recovery-restore-exec');
  });

  it('the restore role may only list and read the DR bucket and decrypt with its key', () => {
    const policy = JSON.parse(one(r, 'lifeboat-prod-dr-recovery-restore-storage').inputs.policy as string) as { Statement: { Action: string[]; Resource: string }[] };
    assert.deepEqual(
      policy.Statement.map((s) => [s.Action.join(','), s.Resource]),
      [
        ['s3:ListBucket', `arn:aws:s3:::${DR_BUCKET}`],
        ['s3:GetObject', `arn:aws:s3:::${DR_BUCKET}/*`],
        ['kms:Decrypt', DR_KEY],
      ],
    );
    const exec = JSON.parse(one(r, 'lifeboat-prod-dr-recovery-restore-exec-secrets').inputs.policy as string) as { Statement: { Resource: string[] }[] };
    assert.deepEqual(exec.Statement[0]!.Resource, [
      'arn:aws:mock:eu-central-1:123456789012:lifeboat-prod-dr-recovery-billing-url',
      'arn:aws:mock:eu-central-1:123456789012:lifeboat-prod-dr-recovery-orders-url',
      'arn:aws:mock:eu-central-1:123456789012:lifeboat-prod-dr-recovery-sessions-redis-url',
    ]);
  });

  it('prints one command per restore that runs the task in the DR region and fails unless it exits 0', () => {
    const commands = r.outputs.restoreCommands as Record<string, string>;
    assert.deepEqual(Object.keys(commands).sort(), ['billing-restore', 'orders-restore', 'sessions-redis-restore']);
    assert.match(commands['orders-restore']!, /aws ecs run-task --region eu-central-1 --cluster \S+ --launch-type FARGATE --task-definition lifeboat-prod-dr-orders-restore /);
    assert.match(commands['orders-restore']!, /subnets=\[subnet-0c1d2e3f4a5b60718,subnet-0e1f2a3b4c5d69788\]/);
    assert.match(commands['orders-restore']!, /= STOPPED \]; do sleep 30; done && \[ "\$\(aws ecs describe-tasks .*exitCode.*\)" = 0 \]$/);
    // In the stack file's order: databases, then Redis.
    assert.equal(r.outputs.restoreCommand, ['orders-restore', 'billing-restore', 'sessions-redis-restore'].map((k) => commands[k]).join(' && '));
  });

  it('reads the age identity from its replica in the DR region, by full ARN', async () => {
    const withAge = await synthStack('aws-dr', { config: { 'lifeboat:ageIdentitySecret': 'lifeboat-prod-age-identity' } });
    const c = container(one(withAge, 'lifeboat-prod-dr-recovery-tasks-orders-restore'));
    assert.deepEqual(
      (c.secrets as { name: string; valueFrom: string }[]).find((s) => s.name === 'LIFEBOAT_AGE_IDENTITY'),
      { name: 'LIFEBOAT_AGE_IDENTITY', valueFrom: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:lifeboat-prod-age-identity-MoCk01' },
    );
  });
});

describe('Pulumi.aws-prod.yaml prepares the DR stack', () => {
  let prod: SynthResult;
  before(async () => {
    prod = await synthStack('aws-prod');
  });

  it('replicates the runner image repository into the DR region, and the DR example pins that digest there', () => {
    const rep = one(prod, 'lifeboat-prod-image-config');
    assert.equal(rep.parent, one(prod, 'lifeboat-prod-image').urn);
    assert.equal(rep.retainOnDelete, true, 'destroying this stack must not stop the replication another stack relies on');
    assert.equal(rep.inputs.region, 'eu-west-1');
    assert.deepEqual(rep.inputs.replicationConfiguration, {
      rules: [{ destinations: [{ region: 'eu-central-1', registryId: '123456789012' }], repositoryFilters: [{ filter: 'lifeboat', filterType: 'PREFIX_MATCH' }] }],
    });
    assert.equal(prod.outputs.drRunnerImage, DR_IMAGE);
    assert.equal(stackFile('aws-dr')['lifeboat:runnerImage'], prod.outputs.drRunnerImage);
  });

  it('outputs the DR copy and its key as the DR example names them', () => {
    const recovery = stackFile('aws-dr')['lifeboat:recovery'] as Record<string, string>;
    assert.equal(recovery.backupBucket, prod.outputs.drBucket);
    assert.equal(prod.outputs.drBackupKeyArn, 'arn:aws:kms:eu-central-1:123456789012:key/lifeboat-prod-backups-dr-key');
  });

  it('lets the drill role read (never write) the DR copy', () => {
    const policy = JSON.parse(one(prod, 'lifeboat-prod-runner-drill-read-1').inputs.policy as string) as { Statement: { Action: string[]; Resource: string }[] };
    assert.deepEqual(policy.Statement.map((s) => s.Action.join(',')), ['s3:ListBucket', 's3:GetObject', 'kms:Decrypt']);
    assert.equal(policy.Statement[1]!.Resource, `arn:aws:s3:::${DR_BUCKET}/*`);
    assert.equal(policy.Statement[2]!.Resource, prod.outputs.drBackupKeyArn);
    assert.equal(one(prod, 'lifeboat-prod-runner-drill-read-1').inputs.role, 'lifeboat-prod-runner-drill-id', 'on the drill role');
  });

  it('leaves the registry replication alone when imageReplication is false', async () => {
    const { config } = stackConfig('aws-prod');
    const aws = JSON.parse(config['lifeboat:aws']!) as Record<string, unknown>;
    const off = await synthStack('aws-prod', { config: { 'lifeboat:aws': { ...aws, imageReplication: false } } });
    assert.equal(byType(off, 'aws:ecr/replicationConfiguration:ReplicationConfiguration').length, 0);
    assert.equal(off.outputs.drRunnerImage, undefined);
  });
});

describe('after failover: a primary stack for the recovered region', () => {
  /**
   * Names unique worldwide (buckets) or per region (secrets, with their replicas' regions; log groups, task
   * families, RDS identifiers) of the resources a stack creates (an adopted instance is not created).
   */
  function physicalNames(r: SynthResult): Set<string> {
    const names = new Set<string>();
    for (const x of r.resources.filter((y) => y.custom && !y.importId && y.type !== 'aws:iam/rolePolicy:RolePolicy')) {
      const regions = [x.inputs.region, ...((x.inputs.replicas as { region: string }[] | undefined) ?? []).map((p) => p.region)];
      if (typeof x.inputs.bucket === 'string' && x.type === 'aws:s3/bucket:Bucket') names.add(`bucket/${x.inputs.bucket}`);
      for (const key of ['name', 'family', 'identifier']) {
        const v = x.inputs[key];
        if (typeof v === 'string') for (const region of regions) names.add(`${String(region)}/${x.type}/${v}`);
      }
    }
    return names;
  }

  it('adopts the recovery instance and collides with nothing the dr stack or the lost primary created', async () => {
    const { config } = stackConfig('aws-prod');
    const awsSection = JSON.parse(config['lifeboat:aws']!) as Record<string, unknown>;
    const recovered = await synthStack('aws-prod', {
      config: {
        'aws:region': 'eu-central-1',
        'lifeboat:drRegion': 'eu-north-1',
        'lifeboat:namePrefix': 'lifeboat-prod-r1',
        'lifeboat:runnerImage': DR_IMAGE,
        'lifeboat:databases': [
          { name: 'orders', instance: { mode: 'adopt', name: 'orders-pg-dr' }, managedBackup: { retainedBackups: 35 } },
          { name: 'billing', instance: { mode: 'adopt', name: 'billing-pg-dr' } },
        ],
        'lifeboat:aws': { ...awsSection, imageReplication: false },
      },
    });
    const adopted = recovered.resources.filter((x) => x.type === 'aws:rds/instance:Instance' && x.importId).map((x) => x.importId).sort();
    assert.deepEqual(adopted, ['billing-pg-dr', 'orders-pg-dr']);
    const [dr, prod] = await Promise.all([synthStack('aws-dr'), synthStack('aws-prod')]);
    const mine = physicalNames(recovered);
    for (const other of [dr, prod]) {
      const clash = [...physicalNames(other)].filter((n) => mine.has(n));
      assert.deepEqual(clash, [], `${other.stack} already has these`);
    }
    assert.ok(violationsOf(await runPolicies(recovered.resources)).length === 0);
  });
});

const violationsOf = (v: { policyName: string; message: string }[]) => v.map((x) => `${x.policyName}: ${x.message}`);

describe('AWS dr stack config errors', () => {
  function validate(overrides: Record<string, unknown>): void {
    const { config } = stackConfig('aws-dr', { config: overrides });
    checkAws(parseConfig(decodeConfigValues(config), 'aws-dr'));
  }
  const recovery = (extra: Record<string, unknown>) => ({ 'lifeboat:recovery': { backupBucket: DR_BUCKET, backupKeyArn: DR_KEY, ...extra } });
  it('the example stack itself validates', () => validate({}));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['image not pinned by digest', { 'lifeboat:runnerImage': '123456789012.dkr.ecr.eu-central-1.amazonaws.com/lifeboat:latest' }, /lifeboat:runnerImage: expected an image pinned by digest .*got ".*:latest"/],
    ['image only in the lost region', { 'lifeboat:runnerImage': DR_IMAGE.replace('eu-central-1', 'eu-west-1') }, /lifeboat:runnerImage: expected an image in eu-central-1's registry .*got one in eu-west-1/],
    ['no key of the DR copy', { 'lifeboat:recovery': { backupBucket: DR_BUCKET } }, /lifeboat:recovery\.backupKeyArn: expected the DR bucket's KMS key ARN/],
    ['key in another region', recovery({ backupKeyArn: DR_KEY.replace('eu-central-1', 'eu-west-1') }), /lifeboat:recovery\.backupKeyArn: expected a key in eu-central-1 .*got one in eu-west-1/],
    ['key of another account', recovery({ backupKeyArn: DR_KEY.replace('123456789012', '210987654321') }), /lifeboat:recovery\.backupKeyArn: expected a key of account 123456789012/],
    ['not a key ARN', recovery({ backupKeyArn: 'alias/backups' }), /lifeboat:recovery\.backupKeyArn: expected a KMS key ARN/],
    ['no recovery section', { 'lifeboat:recovery': undefined }, /lifeboat:recovery: expected \{ backupBucket \}/],
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
