// The Kubernetes disaster-recovery path: the `dr` example stack (Pulumi.k8s-dr.yaml) evaluated offline, every object
// checked against the Kubernetes schemas, and the config errors of a DR stack that could not work.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CronJob, type ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { synthStack, stackConfig, REPO_ROOT, type SynthResult } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';
import { ConfigError, decodeConfigValues, parseConfig } from '../../../infra/config/load';
import { checkKubernetes } from '../../../infra/platforms/kubernetes';
import type { RecordedResource } from '../../../infra/synth/recorded';

const MODELS: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
  'kubernetes:core/v1:Namespace': (o) => new Namespace(o as never),
  'kubernetes:core/v1:ServiceAccount': (o) => new ServiceAccount(o as never),
  'kubernetes:batch/v1:CronJob': (o) => new CronJob(o as never),
};
const one = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};
const stackFile = (stack: string) =>
  (parseYaml(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8')) as { config: Record<string, unknown> }).config;

const DR_BUCKET = 'lifeboat-k8s-backups-123456789012-eu-central-1';
const DR_KEY = 'arn:aws:kms:eu-central-1:123456789012:key/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809';

describe('Pulumi.k8s-dr.yaml (role dr)', () => {
  let r: SynthResult;
  before(async () => {
    r = await synthStack('k8s-dr');
  });

  it('passes the whole policy pack', async () => {
    const violations = await runPolicies(r.resources);
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });

  it('validates every Kubernetes object against its schema: the namespace, one reader ServiceAccount, a CronJob per restore', () => {
    const objects = r.resources.filter((x) => x.type.startsWith('kubernetes:'));
    assert.deepEqual(objects.map((o) => o.type).sort(), [
      'kubernetes:batch/v1:CronJob',
      'kubernetes:batch/v1:CronJob',
      'kubernetes:core/v1:Namespace',
      'kubernetes:core/v1:ServiceAccount',
    ]);
    for (const o of objects) assert.doesNotThrow(() => MODELS[o.type]!(o.inputs).validate(), `${o.type} ${o.name}`);
  });

  it('restores from the DR copy, as the reader, only when started by hand', () => {
    const orders = one(r, 'lifeboat-k8s-dr-restores-orders-restore').inputs as unknown as ICronJob;
    assert.equal(orders.spec!.suspend, true);
    assert.equal(orders.spec!.jobTemplate.spec!.backoffLimit, 0);
    const pod = orders.spec!.jobTemplate.spec!.template.spec!;
    assert.equal(pod.serviceAccountName, 'lifeboat-drill');
    const c = pod.containers[0]!;
    assert.equal(c.image, stackFile('k8s-dr')['lifeboat:runnerImage']);
    assert.deepEqual(c.args, ['restore', 'latest', '--create', '--roles']);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.LIFEBOAT_STORAGE!.value, `s3://${DR_BUCKET}/k8s`);
    assert.deepEqual(env.LIFEBOAT_TARGET_URL!.valueFrom, { secretKeyRef: { name: 'lifeboat-k8s-dr-orders-recovery-url', key: 'value' } });
    const redis = one(r, 'lifeboat-k8s-dr-restores-sessions-redis-restore').inputs as unknown as ICronJob;
    const rc = redis.spec!.jobTemplate.spec!.template.spec!.containers[0]!;
    assert.deepEqual(rc.args, ['redis', 'restore', 'latest']);
    assert.deepEqual(Object.fromEntries((rc.env ?? []).map((e) => [e.name, e])).LIFEBOAT_REDIS_URL!.valueFrom, {
      secretKeyRef: { name: 'lifeboat-k8s-dr-sessions-recovery-redis-url', key: 'value' },
    });
    assert.deepEqual(r.outputs.secretsToFill, ['lifeboat-k8s-dr-orders-recovery-url', 'lifeboat-k8s-dr-sessions-recovery-redis-url']);
  });

  it('the reader role trusts only the restore ServiceAccount of the surviving cluster and may only read the DR copy', () => {
    const role = one(r, 'lifeboat-k8s-dr-dr-access-restore');
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string) as { Statement: { Principal: { Federated: string }; Condition: { StringEquals: Record<string, string> } }[] };
    assert.match(trust.Statement[0]!.Principal.Federated, /oidc\.eks\.eu-central-1\.amazonaws\.com/);
    assert.ok(Object.values(trust.Statement[0]!.Condition.StringEquals).includes('system:serviceaccount:lifeboat-k8s-dr:lifeboat-drill'));
    const policy = JSON.parse(one(r, 'lifeboat-k8s-dr-dr-access-restore-storage').inputs.policy as string) as { Statement: { Action: string[]; Resource: string }[] };
    assert.deepEqual(policy.Statement.map((s) => [s.Action.join(','), s.Resource]), [
      ['s3:ListBucket', `arn:aws:s3:::${DR_BUCKET}`],
      ['s3:GetObject', `arn:aws:s3:::${DR_BUCKET}/k8s/*`],
      ['kms:Decrypt', DR_KEY],
    ]);
    const sa = one(r, 'lifeboat-k8s-dr-namespace-drill');
    assert.deepEqual((sa.inputs.metadata as Record<string, unknown>).annotations, { 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/${role.name}` });
    assert.ok(sa.dependencies.includes(role.urn), 'the ServiceAccount is annotated once the role exists');
    assert.ok(role.provider?.includes('lifeboat-k8s-dr-aws'), 'through the explicit provider of the surviving region');
  });

  it('prints one command per restore that starts its Job and fails when the Job fails', () => {
    const commands = r.outputs.restoreCommands as Record<string, string>;
    assert.deepEqual(Object.keys(commands).sort(), ['orders-restore', 'sessions-redis-restore']);
    assert.match(commands['orders-restore']!, /^J=lifeboat-orders-restore-\$\(date \+%s\) && kubectl -n lifeboat-k8s-dr create job --from=cronjob\/lifeboat-orders-restore \$J && until /);
    assert.match(commands['orders-restore']!, /grep -qE 'Complete\|Failed'; do sleep 15; done && .* \| grep -q Complete$/);
    assert.equal(r.outputs.restoreCommand, ['orders-restore', 'sessions-redis-restore'].map((k) => commands[k]).join(' && '));
  });

  it('names the DR copy and key that k8s-prod outputs', async () => {
    const prod = await synthStack('k8s-prod');
    const recovery = stackFile('k8s-dr')['lifeboat:recovery'] as Record<string, string>;
    assert.equal(recovery.backupBucket, prod.outputs.drBucket);
    assert.equal(stackFile('k8s-dr')['lifeboat:storageRoot'], stackFile('k8s-prod')['lifeboat:storageRoot']);
  });
});

describe('Kubernetes dr stack on GKE: the DR copy by URL, read by the primary\'s drill account', () => {
  it('k8s-gke lets its drill account read the DR copy, and a dr stack in its namespace restores with it', async () => {
    const gke = await synthStack('k8s-gke');
    const accounts = gke.outputs.gcpServiceAccounts as { backup: string; drill: string };
    const drBucket = gke.outputs.drBucket as string;
    const read = gke.resources.filter((x) => x.type === 'gcp:storage/bucketIAMMember:BucketIAMMember' && x.inputs.bucket === drBucket && x.inputs.role === 'roles/storage.objectViewer');
    assert.ok(read.some((x) => x.inputs.member === `serviceAccount:${accounts.drill}`), 'the drill account reads the DR copy');
    assert.ok(!read.some((x) => x.inputs.member === `serviceAccount:${accounts.backup}`), 'the backup account does not');
    const namespace = (gke.outputs.namespace as string) ?? 'lifeboat-gke';
    const r = await synthStack('k8s-dr', {
      config: {
        'lifeboat:namePrefix': 'lifeboat-gke-dr',
        'lifeboat:storageRoot': '',
        'lifeboat:recovery': { backupBucket: drBucket },
        'lifeboat:kubernetes': { namespace, storage: { url: `gs://${drBucket}` }, identity: { gcpServiceAccounts: accounts } },
      },
    });
    assert.deepEqual(await runPolicies(r.resources), []);
    assert.equal(r.resources.filter((x) => x.type.startsWith('aws:')).length, 0);
    const sa = one(r, 'lifeboat-gke-dr-namespace-drill');
    assert.deepEqual((sa.inputs.metadata as Record<string, unknown>).annotations, { 'iam.gke.io/gcp-service-account': accounts.drill });
    assert.equal((sa.inputs.metadata as Record<string, unknown>).namespace, namespace, 'the Workload Identity binding names the primary\'s namespace');
    const job = one(r, 'lifeboat-gke-dr-restores-orders-restore').inputs as unknown as ICronJob;
    const env = Object.fromEntries((job.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.LIFEBOAT_STORAGE!.value, `gs://${drBucket}`);
  });
});

describe('Kubernetes dr stack config errors', () => {
  function validate(overrides: Record<string, unknown>): void {
    const { config } = stackConfig('k8s-dr', { config: overrides });
    checkKubernetes(parseConfig(decodeConfigValues(config), 'k8s-dr'));
  }
  const k8s = (storage: Record<string, unknown>) => ({ 'lifeboat:kubernetes': { storage } });
  it('the example stack itself validates', () => validate({}));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['image not pinned', { 'lifeboat:runnerImage': 'ghcr.io/example/lifeboat:1.2' }, /lifeboat:runnerImage: expected an image pinned by digest .*got "ghcr\.io\/example\/lifeboat:1\.2"/],
    ['no key of the DR copy', { 'lifeboat:recovery': { backupBucket: DR_BUCKET } }, /lifeboat:recovery\.backupKeyArn: expected the DR bucket's KMS key ARN .*with storage\.aws/],
    [
      'key outside the surviving region',
      { 'lifeboat:recovery': { backupBucket: DR_BUCKET, backupKeyArn: DR_KEY.replace('eu-central-1', 'eu-west-1') } },
      /lifeboat:recovery\.backupKeyArn: expected a key in eu-central-1 .*got one in eu-west-1/,
    ],
    ['a URL that is not the DR copy', k8s({ url: 's3://lifeboat-k8s-backups-123456789012-eu-west-1/k8s' }), /lifeboat:kubernetes\.storage\.url: expected the DR copy .*got "s3:\/\/lifeboat-k8s-backups-123456789012-eu-west-1\/k8s"/],
    ['a GCS bucket to create', k8s({ gcp: { project: 'acme-prod', bucketLocation: 'EU' } }), /lifeboat:kubernetes\.storage\.gcp: not available with role dr/],
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
  it('a given URL of the DR copy, with a reader identity, validates', () =>
    validate(k8s({ url: `s3://${DR_BUCKET}/k8s` })));
});
