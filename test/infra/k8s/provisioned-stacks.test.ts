// The Kubernetes example stacks whose bucket the stack provisions on the cluster's cloud (Pulumi.k8s-gke.yaml,
// Pulumi.k8s-eks.yaml), evaluated offline: every Kubernetes object validated against its schema, the runner pointed
// at the provisioned bucket, each job's ServiceAccount bound to its own cloud identity, the whole policy pack
// passing (and failing when the bucket is weakened), and the config errors of the storage section.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { CronJob, type ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { synthStack, stackConfig, type SynthResult } from '../../../infra/synth/synth';
import { runPolicies } from '../../../policies/run';
import { ConfigError, decodeConfigValues, parseConfig } from '../../../infra/config/load';
import { checkKubernetes } from '../../../infra/platforms/kubernetes';
import type { RecordedResource } from '../../../infra/synth/recorded';

const MODELS: Record<string, (o: Record<string, unknown>) => { validate(): void }> = {
  'kubernetes:core/v1:Namespace': (o) => new Namespace(o as never),
  'kubernetes:core/v1:ServiceAccount': (o) => new ServiceAccount(o as never),
  'kubernetes:batch/v1:CronJob': (o) => new CronJob(o as never),
  'kubernetes:monitoring.coreos.com/v1:PrometheusRule': (o) => new PrometheusRule(o as never),
};

const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: SynthResult, name: string): RecordedResource => {
  const found = r.resources.filter((x) => x.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0]!;
};
const annotations = (r: SynthResult, name: string) => (one(r, name).inputs.metadata as { annotations: Record<string, string> }).annotations;
const podOf = (r: SynthResult, name: string) => (one(r, name).inputs as unknown as ICronJob).spec!.jobTemplate.spec!.template.spec!;
const envOf = (r: SynthResult, name: string) => Object.fromEntries((podOf(r, name).containers[0]!.env ?? []).map((e) => [e.name, e]));

/** What both provisioned stacks must satisfy, whatever the cloud. */
function commonChecks(stack: string, prefix: string, get: () => SynthResult): void {
  it('has unique resource names and URNs', () => {
    const r = get();
    const urns = r.resources.map((x) => x.urn);
    assert.equal(new Set(urns).size, urns.length);
    const keys = r.resources.map((x) => `${x.type}::${x.name}`);
    assert.equal(new Set(keys).size, keys.length);
    const k8sNames = r.resources
      .filter((x) => x.type.startsWith('kubernetes:'))
      .map((x) => `${x.type}/${JSON.stringify((x.inputs.metadata as Record<string, unknown>).name)}`);
    assert.equal(new Set(k8sNames).size, k8sNames.length);
  });

  it('validates every Kubernetes object against its schema', () => {
    const objects = get().resources.filter((x) => x.type.startsWith('kubernetes:'));
    // Namespace, 2 ServiceAccounts, 3 runner CronJobs, 3 PITR CronJobs (heartbeat, archiving check, drill), the rule.
    assert.equal(objects.length, 1 + 2 + 3 + 3 + 1, objects.map((o) => o.type).join(', '));
    for (const o of objects) {
      const model = MODELS[o.type];
      assert.ok(model, `no schema for ${o.type}`);
      assert.doesNotThrow(() => model(o.inputs).validate(), `${o.type} ${o.name}`);
    }
  });

  it('passes the whole policy pack', async () => {
    const violations = await runPolicies(get().resources);
    assert.deepEqual(violations.map((v) => `${v.policyName}: ${v.message}`), []);
  });

  it('points every CronJob at the provisioned bucket, with no storage credentials Secret', () => {
    const r = get();
    const url = r.outputs.storageUrl as string;
    assert.match(url, new RegExp(`^(gs|s3)://${r.outputs.bucket as string}$`));
    // The PITR CronJobs read no backup storage: their repository is pgBackRest's (its configuration Secret).
    const jobs = ofType(r, 'kubernetes:batch/v1:CronJob').filter((j) => !/^pitr-/.test((j.inputs.metadata as { labels: Record<string, string> }).labels['lifeboat-task']!));
    assert.equal(jobs.length, 3);
    for (const j of jobs) {
      const pod = (j.inputs as unknown as ICronJob).spec!.jobTemplate.spec!.template.spec!;
      const env = Object.fromEntries((pod.containers[0]!.env ?? []).map((e) => [e.name, e]));
      assert.deepEqual(env.LIFEBOAT_STORAGE, { name: 'LIFEBOAT_STORAGE', value: url }, j.name);
      assert.equal(pod.containers[0]!.envFrom, undefined, `${j.name}: no credentials Secret`);
    }
  });

  it('runs backups as lifeboat-backup and drills as lifeboat-drill, two distinct ServiceAccounts', () => {
    const r = get();
    assert.equal(podOf(r, `${prefix}-cronjobs-orders-backup`).serviceAccountName, 'lifeboat-backup');
    assert.equal(podOf(r, `${prefix}-cronjobs-sessions-redis-backup`).serviceAccountName, 'lifeboat-backup');
    assert.equal(podOf(r, `${prefix}-cronjobs-orders-drill`).serviceAccountName, 'lifeboat-drill');
    assert.deepEqual(envOf(r, `${prefix}-cronjobs-orders-drill`).LIFEBOAT_SCRATCH_URL!.valueFrom, {
      secretKeyRef: { name: `${prefix}-orders-scratch-url`, key: 'value' },
    });
    const sas = ofType(r, 'kubernetes:core/v1:ServiceAccount').map((s) => (s.inputs.metadata as { name: string }).name).sort();
    assert.deepEqual(sas, ['lifeboat-backup', 'lifeboat-drill']);
  });

  it(`${stack}: is refused by the pack without a DR copy in production`, async () => {
    const r = get();
    const withoutDr = r.resources.filter((x) => !/-dr(-|$)/.test(x.name));
    assert.ok(withoutDr.length < r.resources.length);
    const violations = await runPolicies(withoutDr);
    assert.ok(violations.some((v) => v.policyName === 'stack-dr-region'), violations.map((v) => v.policyName).join(', '));
  });
}

describe('Pulumi.k8s-gke.yaml (storage.gcp: bucket, DR copy and Workload Identity on GCP)', () => {
  let r: SynthResult;
  before(async () => {
    r = await synthStack('k8s-gke');
  });
  commonChecks('k8s-gke', 'lifeboat-gke', () => r);

  it('creates the locked vault in EUR5 and its DR copy in europe-north1, replicated by Storage Transfer', () => {
    const buckets = ofType(r, 'gcp:storage/bucket:Bucket').map((b) => [b.inputs.name, b.inputs.location, (b.inputs.retentionPolicy as { isLocked: boolean }).isLocked]);
    assert.deepEqual(buckets.sort(), [
      ['acme-prod-lifeboat-gke-backups', 'EUR5', true],
      ['acme-prod-lifeboat-gke-dr-backups', 'europe-north1', true],
    ]);
    assert.equal(r.outputs.storageUrl, 'gs://acme-prod-lifeboat-gke-backups');
    assert.equal(r.outputs.drBucket, 'acme-prod-lifeboat-gke-dr-backups');
    const transfer = ofType(r, 'gcp:storage/transferJob:TransferJob')[0]!.inputs.replicationSpec as Record<string, { bucketName: string }>;
    assert.equal(transfer.gcsDataSource!.bucketName, 'acme-prod-lifeboat-gke-backups');
    assert.equal(transfer.gcsDataSink!.bucketName, 'acme-prod-lifeboat-gke-dr-backups');
  });

  it('binds each GCP account to its KSA (roles/iam.workloadIdentityUser) and annotates the KSA with that account', () => {
    const emails = r.outputs.gcpServiceAccounts as Record<string, string>;
    assert.deepEqual(emails, { backup: 'lifeboat-gke-backup@acme-prod.iam.gserviceaccount.com', drill: 'lifeboat-gke-restore@acme-prod.iam.gserviceaccount.com' });
    for (const [id, email] of Object.entries(emails)) {
      const binding = one(r, `lifeboat-gke-storage-${id}-workload-identity`);
      assert.equal(binding.type, 'gcp:serviceaccount/iAMMember:IAMMember');
      assert.deepEqual(binding.inputs, {
        serviceAccountId: `projects/acme-prod/serviceAccounts/${email}`,
        role: 'roles/iam.workloadIdentityUser',
        member: `serviceAccount:acme-prod.svc.id.goog[lifeboat-gke/lifeboat-${id}]`,
      });
      assert.deepEqual(annotations(r, `lifeboat-gke-namespace-${id}`), { 'iam.gke.io/gcp-service-account': email });
    }
  });

  it('gives the backup account no way to delete, and nothing outside the bucket', () => {
    const backupGrants = ofType(r, 'gcp:storage/bucketIAMMember:BucketIAMMember').filter((g) => String(g.inputs.member).includes('lifeboat-gke-backup@'));
    assert.deepEqual(backupGrants.map((g) => [g.inputs.bucket, g.inputs.role]).sort(), [
      ['acme-prod-lifeboat-gke-backups', 'projects/acme-prod/roles/lifeboat_gke_setObjectRetention'],
      ['acme-prod-lifeboat-gke-backups', 'roles/storage.objectCreator'],
      ['acme-prod-lifeboat-gke-backups', 'roles/storage.objectViewer'],
    ]);
    // The custom role sets object retention (each backup locked for its class) and nothing else: no delete.
    const backupRoles = new Set(backupGrants.map((g) => String(g.inputs.role)));
    const customRoles = ofType(r, 'gcp:projects/iAMCustomRole:IAMCustomRole');
    assert.deepEqual(customRoles.filter((c) => backupRoles.has(`projects/acme-prod/roles/${String(c.inputs.roleId)}`)).map((c) => c.inputs.permissions), [['storage.objects.setRetention']]);
    // (the others are the DR replication agent's, which may neither delete nor change IAM either)
    for (const c of customRoles) assert.ok(!(c.inputs.permissions as string[]).some((p) => /delete|setIamPolicy/.test(p)), String(c.inputs.roleId));
    // Project roles go to the DR replication's Google agents only (Pub/Sub for event-driven transfer), never to
    // a runner account.
    const emails = Object.values(r.outputs.gcpServiceAccounts as Record<string, string>);
    const projectGrants = ofType(r, 'gcp:projects/iAMMember:IAMMember');
    assert.deepEqual(projectGrants.filter((g) => emails.some((e) => String(g.inputs.member).includes(e))).map((g) => g.name), []);
    assert.deepEqual(projectGrants.map((g) => g.inputs.role).sort(), ['roles/pubsub.editor', 'roles/pubsub.publisher']);
    assert.ok(projectGrants.every((g) => /@(storage-transfer-service|gs-project-accounts)\.iam\.gserviceaccount\.com$/.test(String(g.inputs.member))));
    assert.equal(r.resources.filter((x) => x.type === 'gcp:serviceaccount/account:Account' && /sched/.test(x.name)).length, 0);
  });

  it('the pack refuses a DR copy inside the primary dual-region', async () => {
    const overlapping = await synthStack('k8s-gke', { config: { 'lifeboat:drRegion': 'europe-west1' } });
    const violations = await runPolicies(overlapping.resources);
    assert.deepEqual(violations.map((v) => v.policyName), ['stack-dr-region']);
    assert.match(violations[0]!.message, /europe-west1, which overlaps the primary bucket .* in EUR5/);
  });

  it('the pack refuses the same stack with an unlocked retention policy', async () => {
    const unlocked = await synthStack('k8s-gke', { config: { 'lifeboat:retentionLocked': false } });
    const violations = await runPolicies(unlocked.resources);
    assert.deepEqual([...new Set(violations.map((v) => v.policyName))], ['gcs-retention-locked']);
    assert.equal(violations.length, 2);
  });
});

describe('Pulumi.k8s-eks.yaml (storage.aws: bucket, replica and IRSA roles on AWS)', () => {
  let r: SynthResult;
  const OIDC = 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
  const ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
  before(async () => {
    r = await synthStack('k8s-eks');
  });
  commonChecks('k8s-eks', 'lifeboat-eks', () => r);

  it('creates the locked bucket in eu-west-1 and its replica in eu-central-1', () => {
    const buckets = ofType(r, 'aws:s3/bucket:Bucket').map((b) => [b.inputs.bucket, b.inputs.region, b.inputs.objectLockEnabled]);
    assert.deepEqual(buckets.sort(), [
      ['lifeboat-eks-backups-123456789012-eu-central-1', 'eu-central-1', true],
      ['lifeboat-eks-backups-123456789012-eu-west-1', 'eu-west-1', true],
    ]);
    assert.equal(r.outputs.storageUrl, 's3://lifeboat-eks-backups-123456789012-eu-west-1');
    const locks = ofType(r, 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration');
    assert.deepEqual(locks.map((l) => (l.inputs.rule as { defaultRetention: { mode: string } }).defaultRetention.mode), ['COMPLIANCE', 'COMPLIANCE']);
    assert.equal(ofType(r, 'aws:s3/bucketReplicationConfig:BucketReplicationConfig').length, 1);
  });

  it('creates every AWS resource through one explicit provider in the configured region, limited to the OIDC account', () => {
    const providers = ofType(r, 'pulumi:providers:aws');
    assert.equal(providers.length, 1);
    assert.equal(providers[0]!.inputs.region, 'eu-west-1');
    assert.deepEqual(JSON.parse(providers[0]!.inputs.allowedAccountIds as string), ['123456789012']);
    const awsResources = r.resources.filter((x) => x.type.startsWith('aws:'));
    assert.ok(awsResources.length > 20);
    for (const x of awsResources) assert.ok(x.provider?.startsWith(providers[0]!.urn), `${x.name}: provider ${x.provider ?? 'default'}`);
  });

  it('roles trust the OIDC provider for exactly their KSA, and the KSAs are annotated with those roles', () => {
    const arns = r.outputs.roleArns as Record<string, string>;
    for (const id of ['backup', 'drill']) {
      const role = one(r, `lifeboat-eks-storage-runner-${id}`);
      const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
      assert.deepEqual(trust.Statement, [
        {
          Effect: 'Allow',
          Principal: { Federated: OIDC },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${ISSUER}:sub`]: `system:serviceaccount:lifeboat-eks:lifeboat-${id}`, [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
        },
      ]);
      assert.equal(arns[id], `arn:aws:iam::123456789012:role/lifeboat-eks-storage-runner-${id}`);
      assert.deepEqual(annotations(r, `lifeboat-eks-namespace-${id}`), { 'eks.amazonaws.com/role-arn': arns[id] });
    }
    assert.equal(ofType(r, 'aws:iam/role:Role').filter((x) => x.name.endsWith('-exec')).length, 0);
  });

  it('the pack refuses the same stack with GOVERNANCE Object Lock when COMPLIANCE is required', async () => {
    const unlocked = await synthStack('k8s-eks', { config: { 'lifeboat:retentionLocked': false } });
    assert.deepEqual(await runPolicies(unlocked.resources), []);
    const violations = await runPolicies(unlocked.resources, { config: { 's3-object-lock': { requireComplianceMode: true } } });
    assert.deepEqual([...new Set(violations.map((v) => v.policyName))], ['s3-object-lock']);
    assert.equal(violations.length, 2);
  });
});

describe('ephemeral stacks with a provisioned bucket', () => {
  // The example stacks are production (lifeboat:environment prod), which may never be ephemeral: these review
  // variants name their own environment, as a pull-request copy of the stack would.
  const review = { 'lifeboat:ephemeral': true, 'lifeboat:environment': 'pr-7', 'lifeboat:retentionLocked': false, 'lifeboat:drRegion': undefined };
  it('gke: one destroyable bucket, no DR copy required', async () => {
    const r = await synthStack('k8s-gke', { config: review });
    const buckets = ofType(r, 'gcp:storage/bucket:Bucket');
    assert.equal(buckets.length, 1);
    assert.equal(buckets[0]!.inputs.forceDestroy, true);
    assert.deepEqual(await runPolicies(r.resources), []);
  });
  it('eks: one destroyable bucket without Object Lock, no replica', async () => {
    const r = await synthStack('k8s-eks', { config: review });
    const buckets = ofType(r, 'aws:s3/bucket:Bucket');
    assert.equal(buckets.length, 1);
    assert.equal(buckets[0]!.inputs.forceDestroy, true);
    assert.equal(buckets[0]!.inputs.objectLockEnabled, false);
    assert.deepEqual(await runPolicies(r.resources), []);
  });
});

describe('Kubernetes storage config errors', () => {
  const validate = (stack: string, overrides: Record<string, unknown>) => {
    const { config } = stackConfig(stack, { config: overrides });
    return checkKubernetes(parseConfig(decodeConfigValues(config), stack));
  };
  const k8s = (storage: unknown, extra: Record<string, unknown> = {}) => ({
    'lifeboat:kubernetes': { storage, prometheusOperator: true, ...extra },
  });
  const gcp = { project: 'acme-prod', bucketLocation: 'EUR5' };
  const aws = { region: 'eu-west-1', oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X1' };

  it('both example stacks validate, typed as their storage', () => {
    const g = validate('k8s-gke', {});
    assert.ok('gcp' in g.storage && g.storage.gcp.bucketLocation === 'EUR5' && g.storage.gcp.turboReplication === false);
    const a = validate('k8s-eks', {});
    assert.ok('aws' in a.storage && a.storage.aws.objectLockMode === 'COMPLIANCE');
  });
  it('the given-URL form is unchanged', () => {
    const k = validate('k8s-gke', k8s({ url: 'gs://somebucket/root', credentialsSecret: 'gcs-key' }));
    assert.deepEqual(k.storage, { url: 'gs://somebucket/root', credentialsSecret: 'gcs-key' });
  });

  const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ['url and gcp', 'k8s-gke', k8s({ url: 'gs://bkt', gcp }), /lifeboat:kubernetes\.storage: expected exactly one of url \(a bucket you give\), gcp .* or aws .*; url and gcp given, got \{/],
    ['gcp and aws', 'k8s-gke', k8s({ gcp, aws }), /lifeboat:kubernetes\.storage: expected exactly one of .*; gcp and aws given/],
    ['no storage at all', 'k8s-gke', k8s({}), /lifeboat:kubernetes\.storage: expected exactly one of .*; none given, got \{\}/],
    ['gcp without a project', 'k8s-gke', k8s({ gcp: { bucketLocation: 'EUR5' } }), /lifeboat:kubernetes\.storage\.gcp\.project: expected a GCP project id, got nothing/],
    ['gcp with a single region', 'k8s-gke', k8s({ gcp: { ...gcp, bucketLocation: 'europe-west1' } }), /lifeboat:kubernetes\.storage\.gcp\.bucketLocation: expected one of "US", "EU", "ASIA", "ASIA1", "EUR4", .*, got "europe-west1"/],
    ['gcp with an unknown key', 'k8s-gke', k8s({ gcp: { ...gcp, region: 'europe-west1' } }), /lifeboat:kubernetes\.storage\.gcp: unknown key "region"/],
    ['aws without an OIDC provider', 'k8s-eks', k8s({ aws: { region: 'eu-west-1' } }), /lifeboat:kubernetes\.storage\.aws\.oidcProviderArn: expected the IAM OIDC provider ARN of the cluster, got nothing/],
    ['aws with the issuer URL for the ARN', 'k8s-eks', k8s({ aws: { ...aws, oidcProviderArn: 'https://oidc.eks.eu-west-1.amazonaws.com/id/X1' } }), /storage\.aws\.oidcProviderArn: expected an IAM OIDC provider ARN .*, got "https:\/\/oidc\.eks/],
    ['aws with a bad region', 'k8s-eks', k8s({ aws: { ...aws, region: 'Ireland' } }), /lifeboat:kubernetes\.storage\.aws\.region: expected an AWS region like "eu-west-1", got "Ireland"/],
    ['a credentials Secret with a provisioned bucket', 'k8s-gke', k8s({ gcp, credentialsSecret: 'key' }), /lifeboat:kubernetes\.storage\.credentialsSecret: expected nothing unless storage\.url is set .*, got "key"/],
    ['given identities with a provisioned bucket', 'k8s-eks', k8s({ aws }, { identity: { awsRoleArns: { backup: 'arn:aws:iam::123456789012:role/a', drill: 'arn:aws:iam::123456789012:role/b' } } }), /lifeboat:kubernetes\.identity: expected nothing with storage\.aws \(the stack creates the runner's cloud identities/],
    ['no DR region in production', 'k8s-gke', { 'lifeboat:drRegion': undefined }, /lifeboat:drRegion: expected a region for the DR copy of the bucket this stack creates \(storage\.gcp; required unless ephemeral\), got nothing/],
    ['a DR region equal to the bucket region', 'k8s-eks', { 'lifeboat:drRegion': 'eu-west-1' }, /lifeboat:drRegion: expected a region other than the bucket's \(lifeboat:kubernetes\.storage\.aws\.region "eu-west-1"\), got "eu-west-1"/],
    ['a GCP DR region on AWS', 'k8s-eks', { 'lifeboat:drRegion': 'europe-north1' }, /lifeboat:drRegion: expected an AWS region like "eu-central-1" \(storage\.aws\), got "europe-north1"/],
    ['an AWS DR region on GCP', 'k8s-gke', { 'lifeboat:drRegion': 'eu-central-1' }, /lifeboat:drRegion: expected a GCP region like "europe-north1" .*, got "eu-central-1"/],
  ];
  for (const [what, stack, config, re] of cases) {
    it(what, () => {
      assert.throws(() => validate(stack, config), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match((e as Error).message, re);
        return true;
      });
    });
  }
  it('an ephemeral stack needs no DR region', () => {
    validate('k8s-eks', { 'lifeboat:ephemeral': true, 'lifeboat:environment': 'pr-7', 'lifeboat:retentionLocked': false, 'lifeboat:drRegion': undefined });
  });
  it('the production example stacks cannot be made ephemeral', () => {
    for (const stack of ['k8s-gke', 'k8s-eks']) {
      assert.throws(() => validate(stack, { 'lifeboat:ephemeral': true, 'lifeboat:retentionLocked': false, 'lifeboat:drRegion': undefined }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match((e as Error).message, /lifeboat:ephemeral: expected false in a production environment \(lifeboat:environment "prod"; /);
        return true;
      });
    }
  });
});
